//! `bolt up`: the one command a newcomer runs. Starts boltd if needed, makes sure there is
//! a project to look at, then opens the TUI; the webhook URLs are printed again once it
//! closes, so they are on screen when they are needed.

use super::{CliError, Global, daemon_cmd, output};
use bolt_shared::client::Client;
use bolt_shared::model::WorkflowView;

/// The example project, built in so `bolt up` works from anywhere.
pub const EXAMPLE_PROJECT: &str = include_str!("../../../config/example-project.yaml");

#[derive(clap::Args, Debug)]
pub struct UpArgs {
    /// Start the daemon and deploy the example, but don't open the TUI.
    #[arg(long)]
    pub no_tui: bool,
    /// Webhook server address for a boltd this starts, e.g. 0.0.0.0:4000 (default: the
    /// config's [http] listen).
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    /// Print what is running and the webhook URLs as JSON (no TUI).
    #[arg(long)]
    pub json: bool,
}

pub fn run(
    global: &Global,
    display: &super::open::DisplayArgs,
    args: &UpArgs,
) -> Result<(), CliError> {
    let resolved = global.resolve()?;
    let (mut client, started) = match Client::connect(&resolved.socket) {
        Ok(client) => {
            crate::say_err!("boltd is already running at {}", resolved.socket.display());
            (client, false)
        }
        Err(err) if err.is_not_running() => {
            crate::say_err!("starting boltd (data dir {})", resolved.data_dir.display());
            (
                daemon_cmd::spawn_background(&resolved, args.http.as_deref())?,
                true,
            )
        }
        Err(err) => return Err(err.into()),
    };
    let status = client.status()?;
    if let Some(wanted) = &args.http
        && !started
        && status.http_listen.as_deref() != Some(wanted.as_str())
    {
        crate::say_err!(
            "bolt: --http {wanted} was not applied: the running boltd listens on {}; `bolt stop` it first to change the address",
            status
                .http_listen
                .as_deref()
                .unwrap_or("nothing (webhooks off)")
        );
    }
    let mut deployed = None;
    if status.projects == 0 {
        let report = super::projects::deploy_text(
            &mut client,
            EXAMPLE_PROJECT.to_string(),
            "config/example-project.yaml (built in)".into(),
            Default::default(),
            false,
        )?;
        let message = format!(
            "deployed the example project `{}` ({} changes)",
            report.project,
            report.changes.len()
        );
        // Standard output stays one JSON document with --json.
        if args.json {
            crate::say_err!("{message}");
        } else {
            crate::say!("{message}");
        }
        deployed = Some(report.project);
    }
    let status = client.status()?;
    let workflows = super::projects::fetch_workflows(&mut client)?;
    if args.json {
        output::print_json(&serde_json::json!({
            "started": started,
            "deployed_example": deployed,
            "status": status,
            "webhooks": webhook_urls(&workflows),
            "workflows": workflows,
        }))?;
        return Ok(());
    }
    crate::say!(
        "{}",
        super::status::fit(&super::status::describe(&status), super::terminal::width())
    );
    print_triggers(&workflows);
    if args.no_tui {
        return Ok(());
    }
    drop(client);
    let result = super::open::open(global, display, None);
    // The TUI's screen is gone: put the addresses back where the user can copy them.
    if let Ok(mut client) = global.connect()
        && let Ok(workflows) = super::projects::fetch_workflows(&mut client)
    {
        print_triggers(&workflows);
    }
    result
}

fn print_triggers(workflows: &[WorkflowView]) {
    for workflow in workflows {
        for trigger in &workflow.triggers {
            let line = format!(
                "  {}: {}",
                workflow.name,
                super::projects::trigger_summary(trigger)
            );
            crate::say!(
                "{}",
                super::terminal::wrap(&line, super::terminal::width(), "    ")
            );
        }
    }
}

/// `{workflow, url}` for each webhook trigger.
fn webhook_urls(workflows: &[WorkflowView]) -> Vec<serde_json::Value> {
    workflows
        .iter()
        .flat_map(|w| {
            w.triggers.iter().filter_map(|t| {
                t.webhook_url.as_ref().map(
                    |url| serde_json::json!({"workflow": w.name, "url": url, "enabled": t.enabled}),
                )
            })
        })
        .collect()
}
