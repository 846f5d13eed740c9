//! `bolt access`: your role and what each role may do; `bolt access reload` (admin).

use super::{CliError, Global, output};
use anyhow::anyhow;
use bolt_shared::access::AccessView;
use bolt_shared::protocol::{Request, Response};

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AccessArgs {
    #[command(subcommand)]
    pub command: Option<AccessCommand>,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Subcommand, Debug)]
pub enum AccessCommand {
    /// Re-read [access] from boltd's bolt.toml (admins only).
    Reload {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(global: &Global, args: &AccessArgs) -> Result<(), CliError> {
    let (request, json) = match &args.command {
        Some(AccessCommand::Reload { json }) => (Request::AccessReload, *json),
        None => (Request::Access, args.json),
    };
    let reload = matches!(request, Request::AccessReload);
    let mut client = global.connect()?;
    let view = match client.request(request)? {
        Response::Access(view) => view,
        other => return Err(anyhow!("unexpected answer: {other:?}").into()),
    };
    if json {
        output::print_json(&view)?;
        return Ok(());
    }
    if reload {
        crate::say!("[access] reloaded from bolt.toml");
    }
    crate::say!("{}", render(&view));
    Ok(())
}

fn render(view: &AccessView) -> String {
    let role = match view.role {
        Some(role) => format!("you are {} ({role})", view.user),
        None => format!("you are {}, with no role", view.user),
    };
    let mut text = role;
    if view.configured {
        let list = |l: &[String]| {
            if l.is_empty() {
                "-".to_string()
            } else {
                l.join(", ")
            }
        };
        text.push_str(&format!(
            "\nviewers: {}\neditors: {}\nadmins:  {} (and boltd's own user and root)",
            list(&view.viewers),
            list(&view.editors),
            list(&view.admins)
        ));
        if let Some(group) = &view.group {
            text.push_str(&format!("\nsocket group: {group}"));
        }
    } else {
        text.push_str(
            "\nbolt.toml has no [access]: only boltd's own user (and root) can reach the socket, as admin",
        );
    }
    let rows: Vec<Vec<String>> = view
        .table
        .iter()
        .map(|(kind, role)| {
            let needs = role.map(|r| r.name()).unwrap_or("anyone");
            let allowed = match role {
                None => true,
                Some(needed) => view.role.is_some_and(|r| r >= *needed),
            };
            vec![
                kind.clone(),
                needs.to_string(),
                if allowed { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    text.push('\n');
    text.push_str(&output::table(&["REQUEST", "NEEDS", "YOU MAY"], &rows));
    text
}
