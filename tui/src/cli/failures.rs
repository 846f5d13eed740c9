//! `bolt failures`: what is broken now, grouped by workflow, job and error.

use super::history::*;
use super::{CliError, Global, output};
use anyhow::anyhow;
use bolt_shared::protocol::{Request, Response};
use bolt_shared::timespec::parse_time;

#[derive(clap::Args, Debug)]
pub struct FailuresArgs {
    /// Only failures active since then (30m, 2h, 7d, a date). Default: 24h.
    #[arg(long, value_name = "T", default_value = "24h")]
    pub since: String,
    #[arg(long)]
    pub json: bool,
}

pub fn failures(global: &Global, args: &FailuresArgs) -> Result<(), CliError> {
    let since = parse_time(&args.since, chrono::Utc::now()).map_err(|e| anyhow!("--since: {e}"))?;
    let mut client = global.connect()?;
    let groups = expect(
        client.request(Request::Failures { since: Some(since) })?,
        |r| match r {
            Response::Failures { groups } => Some(groups),
            _ => None,
        },
    )?;
    if args.json {
        output::print_json(&groups)?;
        return Ok(());
    }
    if groups.is_empty() {
        crate::say!(
            "no failures since {}",
            bolt_shared::time::rule().stamp(since)
        );
        return Ok(());
    }
    let times = bolt_shared::time::rule();
    let now = chrono::Utc::now();
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            vec![
                g.count.to_string(),
                g.workflow.clone(),
                g.job.clone(),
                g.error_type.clone(),
                times.when_short(g.first_seen, now),
                bolt_shared::time::ago(g.last_seen, now),
                g.example_ref.clone(),
                truncate(g.example_message.as_deref().unwrap_or(""), 50),
            ]
        })
        .collect();
    crate::say!(
        "{}",
        output::table(
            &[
                "COUNT",
                "WORKFLOW",
                "JOB",
                "ERROR",
                &format!("FIRST ({})", times.zone_label()),
                "LAST",
                "EXAMPLE",
                "MESSAGE"
            ],
            &rows
        )
    );
    Ok(())
}
