//! What the history commands share: the work-order filter flags, states in words and
//! symbols, and reading one kind of answer from boltd.

use super::{CliError, Global, output};
use anyhow::anyhow;
use bolt_shared::model::*;
use bolt_shared::protocol::{Request, Response};
use bolt_shared::timespec::parse_time;

/// The filters shared by `bolt runs` and `bolt rerun --all-matching`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// Work order states, comma-separated: pending, running, success, failed, crashed,
    /// cancelled, killed, exception, lost, rejected.
    #[arg(long, value_delimiter = ',', value_name = "S[,S]")]
    pub status: Vec<String>,
    /// Workflow key, name or id.
    #[arg(long, value_name = "W")]
    pub workflow: Option<String>,
    /// From this time: a duration back from now (30m, 2h, 7d) or a date (2026-11-27, RFC 3339).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Up to this time (same forms as --since).
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Which time --since/--until and the order use: received or activity.
    #[arg(long, value_name = "received|activity")]
    pub by: Option<String>,
    /// Full-text search over step inputs, outputs and logs (every word, whole words;
    /// `word*` matches a prefix), or an id / short ref.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
}

impl FilterArgs {
    pub fn to_filter(&self) -> anyhow::Result<WorkOrderFilter> {
        let now = chrono::Utc::now();
        let states = self
            .status
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| parse_status(s.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(search) = &self.search {
            check_search(search.trim()).map_err(|e| anyhow!("--search: {e}"))?;
        }
        Ok(WorkOrderFilter {
            states,
            workflow: self.workflow.clone(),
            since: self
                .since
                .as_deref()
                .map(|t| parse_time(t, now))
                .transpose()
                .map_err(|e| anyhow!("--since: {e}"))?,
            until: self
                .until
                .as_deref()
                .map(|t| parse_time(t, now))
                .transpose()
                .map_err(|e| anyhow!("--until: {e}"))?,
            by: self
                .by
                .as_deref()
                .map(|b| b.parse::<TimeField>().map_err(|e| anyhow!("--by: {e}")))
                .transpose()?,
            search: self.search.clone(),
        })
    }
}

/// A `--status` value, or an error naming the flag's words and the values it takes.
pub(super) fn parse_status(text: &str) -> anyhow::Result<WorkOrderState> {
    text.parse::<WorkOrderState>().map_err(|_| {
        let names: Vec<&str> = WorkOrderState::ALL.iter().map(|s| s.as_str()).collect();
        anyhow!("unknown status '{text}': use {}", names.join(", "))
    })
}

/// Sends a request answered with a plain message and prints the message (as JSON with
/// `json`, with `about` naming what it acted on).
pub(super) fn print_done(
    global: &Global,
    request: Request,
    json: bool,
    about: &[(&str, &str)],
) -> Result<(), CliError> {
    let mut client = global.connect()?;
    let message = expect(client.request(request)?, |r| match r {
        Response::Done { message } => Some(message),
        _ => None,
    })?;
    output::done(json, &message, about)?;
    Ok(())
}

pub fn state_symbol(state: WorkOrderState) -> &'static str {
    match state {
        WorkOrderState::Success => "✔",
        WorkOrderState::Failed => "✘",
        WorkOrderState::Crashed | WorkOrderState::Killed | WorkOrderState::Exception => "⚠",
        WorkOrderState::Cancelled => "⊘",
        WorkOrderState::Lost => "?",
        WorkOrderState::Running => "●",
        WorkOrderState::Pending => "…",
        WorkOrderState::Rejected => "⛔",
    }
}

pub(super) fn expect<T>(
    response: Response,
    pick: impl FnOnce(Response) -> Option<T>,
) -> Result<T, CliError> {
    let text = format!("{response:?}");
    pick(response).ok_or_else(|| anyhow!("unexpected answer from boltd: {text}").into())
}

pub(super) fn truncate(text: &str, max: usize) -> String {
    let one_line = text.replace('\n', " ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let mut out: String = one_line.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}
