//! `bolt versions`, `bolt diff`, `bolt rollback`: a workflow's version history.

use super::{CliError, Global, output};
use anyhow::anyhow;
use bolt_shared::protocol::{Request, Response};

#[derive(clap::Args, Debug)]
pub struct VersionsArgs {
    /// Workflow name, key or id (PROJECT/WORKFLOW when several projects have one).
    pub workflow: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// Workflow name, key or id (PROJECT/WORKFLOW when several projects have one).
    pub workflow: String,
    /// The older version (default: the one before V2).
    #[arg(value_name = "V1")]
    pub from: Option<i64>,
    /// The newer version (default: the current one).
    #[arg(value_name = "V2")]
    pub to: Option<i64>,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct RollbackArgs {
    /// Workflow name, key or id (PROJECT/WORKFLOW when several projects have one).
    pub workflow: String,
    /// The version to go back to: a new version equal to it is made (runs in flight keep theirs).
    #[arg(long, value_name = "V")]
    pub to: i64,
    /// Only put this job (key or name) back as it was in V; the rest stays as it is.
    #[arg(long, value_name = "JOB")]
    pub job: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub fn versions(global: &Global, args: &VersionsArgs) -> Result<(), CliError> {
    let mut client = global.connect()?;
    let list = match client.request(Request::WorkflowVersions {
        workflow: args.workflow.clone(),
    })? {
        Response::Versions(list) => list,
        other => return Err(anyhow!("unexpected answer: {other:?}").into()),
    };
    if args.json {
        output::print_json(&list)?;
        return Ok(());
    }
    crate::say!(
        "{} / {} — current version {}",
        list.workflow.project,
        list.workflow.name,
        list.current
    );
    let rows: Vec<Vec<String>> = list
        .versions
        .iter()
        .map(|v| {
            vec![
                format!(
                    "{}{}",
                    v.version,
                    if v.version == list.current { "*" } else { "" }
                ),
                bolt_shared::time::rule().when(v.created_at, chrono::Utc::now()),
                v.actor.clone().unwrap_or_else(|| "-".into()),
                v.origin.describe(),
                v.summary.clone(),
            ]
        })
        .collect();
    crate::say!(
        "{}",
        output::table(
            &[
                "VERSION",
                &format!("WHEN ({})", bolt_shared::time::rule().zone_label()),
                "WHO",
                "HOW",
                "WHAT CHANGED"
            ],
            &rows
        )
    );
    Ok(())
}

pub fn diff(global: &Global, args: &DiffArgs) -> Result<(), CliError> {
    let mut client = global.connect()?;
    let diff = match client.request(Request::WorkflowDiff {
        workflow: args.workflow.clone(),
        from: args.from,
        to: args.to,
    })? {
        Response::Diff(diff) => diff,
        other => return Err(anyhow!("unexpected answer: {other:?}").into()),
    };
    if args.json {
        output::print_json(&diff)?;
    } else {
        crate::say!("{}", diff.render().trim_end());
    }
    Ok(())
}

pub fn rollback(global: &Global, args: &RollbackArgs) -> Result<(), CliError> {
    let mut client = global.connect()?;
    let report = match client.request(Request::WorkflowRollback {
        workflow: args.workflow.clone(),
        to: args.to,
        job: args.job.clone(),
    })? {
        Response::RolledBack(report) => report,
        other => return Err(anyhow!("unexpected answer: {other:?}").into()),
    };
    if args.json {
        output::print_json(&report)?;
        return Ok(());
    }
    let what = match &report.job {
        Some(job) => format!("job {job} of {}", report.workflow.name),
        None => report.workflow.name.clone(),
    };
    match report.new_version {
        None => crate::say!(
            "{what} is already as in version {}: nothing to roll back",
            report.to
        ),
        Some(new) => {
            crate::say!(
                "{what} rolled back to version {} as new version {new} (was {}); runs already under way keep their version",
                report.to,
                report.from
            );
            for change in &report.changes {
                crate::say!("  {change}");
            }
        }
    }
    for warning in &report.warnings {
        crate::say_err!("warning: {warning}");
    }
    Ok(())
}
