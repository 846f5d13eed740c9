//! `bolt audit`: who did what, when; `bolt audit verify`: is the chain whole.

use super::{CliError, Global, output};
use anyhow::anyhow;
use bolt_shared::audit::{AuditEvent, AuditFilter};
use bolt_shared::protocol::{Request, Response};
use bolt_shared::timespec::parse_time;

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCommand>,
    #[command(flatten)]
    pub list: AuditListArgs,
}

#[derive(clap::Subcommand, Debug)]
pub enum AuditCommand {
    /// Walk the audit chain; report the first gap or edited event (exit 1 if any).
    Verify {
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args, Debug)]
pub struct AuditListArgs {
    /// Only events since then (30m, 2h, 7d, a date).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Only events until then (30m, 2h, 7d, a date).
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Only events by this Unix user (or `boltd`, `webhook …`).
    #[arg(long, value_name = "USER")]
    pub actor: Option<String>,
    /// Only events about this workflow (name, key or PROJECT/WORKFLOW) and its runs.
    #[arg(long, value_name = "WORKFLOW")]
    pub workflow: Option<String>,
    /// Only events about this credential.
    #[arg(long, value_name = "NAME")]
    pub credential: Option<String>,
    /// Only events of this kind (`credential.updated`) or family (`credential`).
    #[arg(long, value_name = "K")]
    pub kind: Option<String>,
    /// Most events shown, newest first.
    #[arg(long, default_value_t = 200)]
    pub limit: u32,
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &Global, args: &AuditArgs) -> Result<(), CliError> {
    match &args.command {
        Some(AuditCommand::Verify { json }) => verify(global, *json),
        None => list(global, &args.list),
    }
}

fn list(global: &Global, args: &AuditListArgs) -> Result<(), CliError> {
    let now = chrono::Utc::now();
    let time = |flag: &str, value: &Option<String>| -> Result<_, CliError> {
        value
            .as_deref()
            .map(|t| parse_time(t, now).map_err(|e| anyhow!("--{flag}: {e}")))
            .transpose()
            .map_err(CliError::Other)
    };
    let filter = AuditFilter {
        since: time("since", &args.since)?,
        until: time("until", &args.until)?,
        actor: args.actor.clone(),
        workflow: args.workflow.clone(),
        credential: args.credential.clone(),
        kind: args.kind.clone(),
        limit: args.limit,
    };
    let mut client = global.connect()?;
    let events = match client.request(Request::Audit { filter })? {
        Response::Audit { events } => events,
        other => return Err(anyhow!("unexpected answer: {other:?}").into()),
    };
    if args.json {
        output::print_json(&events)?;
        return Ok(());
    }
    if events.is_empty() {
        crate::say!("no audit events match");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = events.iter().map(row).collect();
    crate::say!(
        "{}",
        output::table(&["ID", "WHEN", "WHO", "WHAT", "SUBJECT", "DETAILS"], &rows)
    );
    Ok(())
}

fn row(event: &AuditEvent) -> Vec<String> {
    vec![
        event.id.to_string(),
        event
            .at
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        event.actor.clone(),
        event.kind.clone(),
        event.subject.clone(),
        details(event),
    ]
}

/// Metadata in one line, cut to fit a table.
pub fn details(event: &AuditEvent) -> String {
    let text = match &event.metadata {
        None => return String::new(),
        Some(serde_json::Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        Some(other) => other.to_string(),
    };
    if text.chars().count() > 100 {
        let cut: String = text.chars().take(99).collect();
        format!("{cut}…")
    } else {
        text
    }
}

fn verify(global: &Global, json: bool) -> Result<(), CliError> {
    let mut client = global.connect()?;
    let report = match client.request(Request::AuditVerify)? {
        Response::AuditChain(report) => report,
        other => return Err(anyhow!("unexpected answer: {other:?}").into()),
    };
    if json {
        output::print_json(&report)?;
    }
    match &report.broken {
        None => {
            if !json {
                let range = match (report.first_id, report.last_id) {
                    (Some(first), Some(last)) => format!(" (events {first} to {last})"),
                    _ => String::new(),
                };
                crate::say!(
                    "audit chain intact: {} events checked{range}",
                    report.checked
                );
            }
            Ok(())
        }
        Some(broken) => Err(anyhow!(
            "audit chain broken at event {} ({}): {}; {} events before it verified",
            broken.id,
            broken.problem,
            broken.detail,
            report.checked
        )
        .into()),
    }
}
