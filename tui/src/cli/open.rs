//! Opening the TUI: `bolt`, `bolt up`, `bolt open REF`.

use super::{CliError, Global};
use crate::tui::{ColorMode, TuiOptions};
use anyhow::anyhow;
use std::io::IsTerminal;

/// Display options shared by every way of opening the TUI.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DisplayArgs {
    /// Colours: auto (honours NO_COLOR), full, reduced (the 16 basic colours, for thin
    /// links) or none; for subcommands, auto colours only on a terminal.
    #[arg(long, global = true, value_name = "MODE")]
    pub color: Option<String>,
    /// ASCII symbols instead of Unicode ones.
    #[arg(long, global = true)]
    pub ascii: bool,
}

/// Opens the TUI, at `open_ref` when given. Without a terminal, says so instead.
pub fn open(
    global: &Global,
    display: &DisplayArgs,
    open_ref: Option<String>,
) -> Result<(), CliError> {
    let resolved = global.resolve()?;
    // WORKFLOW[/JOB] opens the workflow screen on that job; anything else is a reference.
    let (open_ref, open_job) = match open_ref {
        Some(target) => match resolve_job(global, &target)? {
            Some(job) => (None, Some(job)),
            None => (Some(target), None),
        },
        None => (None, None),
    };
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(anyhow!("the bolt TUI needs a terminal; for scripts use the subcommands (bolt --help), e.g. bolt status").into());
    }
    let mut options = TuiOptions::from_config(resolved.socket, open_ref, &resolved.config.tui)
        .map_err(|e| anyhow!("[tui] color in bolt.toml: {e}"))?;
    options.open_job = open_job;
    if let Some(text) = &display.color {
        options.color = text
            .parse::<ColorMode>()
            .map_err(|e| anyhow!("--color: {e}"))?;
    }
    options.ascii |= display.ascii;
    crate::tui::run(options)?;
    Ok(())
}

/// `WORKFLOW[/JOB]` (names or keys, any case) as (workflow id, job id); `None` when the
/// text names no workflow and has no `/` (then it is a work order, run or step reference).
fn resolve_job(
    global: &Global,
    target: &str,
) -> Result<Option<(String, Option<String>)>, CliError> {
    let (workflow, job) = match target.split_once('/') {
        Some((workflow, job)) => (workflow, Some(job)),
        None => (target, None),
    };
    // Without boltd a plain reference still opens the TUI (it shows the connection state
    // and retries); a WORKFLOW/JOB link needs the workflow list.
    let listed = global
        .connect()
        .and_then(|mut client| Ok(client.request(bolt_shared::protocol::Request::ListWorkflows)?));
    let workflows = match listed {
        Ok(bolt_shared::protocol::Response::Workflows { workflows }) => workflows,
        Ok(_) => {
            return Err(anyhow!("boltd answered the workflow list with something else").into());
        }
        Err(_) if job.is_none() => return Ok(None),
        Err(err) => return Err(err),
    };
    let named = |name: &str, key: &str, wanted: &str| {
        name.eq_ignore_ascii_case(wanted) || key.eq_ignore_ascii_case(wanted)
    };
    let Some(found) = workflows.iter().find(|w| named(&w.name, &w.key, workflow)) else {
        if job.is_none() {
            return Ok(None);
        }
        let names: Vec<&str> = workflows.iter().map(|w| w.key.as_str()).collect();
        return Err(anyhow!(
            "no workflow named '{workflow}'; the workflows are: {} (bolt open WORKFLOW/JOB)",
            names.join(", ")
        )
        .into());
    };
    let job_id = match job.filter(|j| !j.is_empty()) {
        None => None,
        Some(wanted) => match found.jobs.iter().find(|j| named(&j.name, &j.key, wanted)) {
            Some(job) => Some(job.id.clone()),
            None => {
                let names: Vec<&str> = found.jobs.iter().map(|j| j.key.as_str()).collect();
                return Err(anyhow!(
                    "workflow '{}' has no job '{wanted}'; its jobs are: {}",
                    found.key,
                    names.join(", ")
                )
                .into());
            }
        },
    };
    Ok(Some((found.id.clone(), job_id)))
}
