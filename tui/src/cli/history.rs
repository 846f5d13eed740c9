//! `bolt runs`, `show`, `logs`, `rerun`, `cancel`, `trigger`, `input save|list|rm`, `failures`,
//! `project set`: the on-call person's questions, answered from a script or a shell.

use super::{CliError, Global, output};
use anyhow::{Context, anyhow, bail};
use bolt_shared::client::Client;
use bolt_shared::model::*;
use bolt_shared::protocol::{Event, ManualInput, ProjectSettings, Request, Response};
use bolt_shared::timespec::{format_duration_ms, parse_time};
use std::io::{IsTerminal, Read};
use std::path::PathBuf;

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
fn parse_status(text: &str) -> anyhow::Result<WorkOrderState> {
    text.parse::<WorkOrderState>().map_err(|_| {
        let names: Vec<&str> = WorkOrderState::ALL.iter().map(|s| s.as_str()).collect();
        anyhow!("unknown status '{text}': use {}", names.join(", "))
    })
}

#[derive(clap::Args, Debug)]
pub struct RunsArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Rows per page (default 50); with --format csv|jsonl, the most work orders to export
    /// (default: all that match).
    #[arg(long, value_name = "N", value_parser = super::positive_limit)]
    pub limit: Option<u32>,
    /// Continue after this cursor (printed at the end of the previous page).
    #[arg(long, value_name = "CURSOR")]
    pub after: Option<String>,
    /// table (one page), or export every matching work order as csv or jsonl.
    #[arg(long, value_enum, default_value_t = super::export::Format::Table, conflicts_with = "json")]
    pub format: super::export::Format,
    /// With --format csv|jsonl: add each work order's input and its latest run's output.
    #[arg(long)]
    pub with_bodies: bool,
    #[arg(long)]
    pub json: bool,
}

/// Sends a request answered with a plain message and prints the message (as JSON with
/// `json`, with `about` naming what it acted on).
fn print_done(
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

fn expect<T>(response: Response, pick: impl FnOnce(Response) -> Option<T>) -> Result<T, CliError> {
    let text = format!("{response:?}");
    pick(response).ok_or_else(|| anyhow!("unexpected answer from boltd: {text}").into())
}

pub fn runs(global: &Global, args: &RunsArgs) -> Result<(), CliError> {
    let times = bolt_shared::time::rule();
    let now = chrono::Utc::now();
    let filter = args.filter.to_filter()?;
    if args.with_bodies && args.format == super::export::Format::Table {
        return Err(anyhow!(
            "--with-bodies goes with an export: add --format csv or --format jsonl"
        )
        .into());
    }
    let mut client = global.connect()?;
    if args.format != super::export::Format::Table {
        return super::export::export(
            &mut client,
            &super::export::Export {
                format: args.format,
                filter,
                after: args.after.clone(),
                limit: args.limit,
                with_bodies: args.with_bodies,
            },
        );
    }
    let page = expect(
        client.request(Request::ListWorkOrders {
            filter,
            limit: args.limit.unwrap_or(50),
            after: args.after.clone(),
        })?,
        |r| match r {
            Response::WorkOrders(page) => Some(page),
            _ => None,
        },
    )?;
    if args.json {
        output::print_json(&page)?;
        return Ok(());
    }
    if page.rows.is_empty() {
        crate::say!("no work orders match");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = page
        .rows
        .iter()
        .map(|row| {
            let error = row
                .first_error
                .as_ref()
                .map(|e| {
                    format!(
                        "{}: {}{}",
                        e.job,
                        e.error_type
                            .as_deref()
                            .map(|t| format!("{t} "))
                            .unwrap_or_default(),
                        e.message.as_deref().unwrap_or("")
                    )
                })
                .unwrap_or_default();
            let hit = row
                .hit
                .as_ref()
                .map(|h| format!("in {}: {}", h.source, h.snippet))
                .unwrap_or_default();
            vec![
                row.short_ref.clone(),
                format!(
                    "{} ({})",
                    times.when(row.received_at, now),
                    bolt_shared::time::ago(row.received_at, now)
                ),
                row.workflow.clone(),
                format!("{} {}", state_symbol(row.state), row.state),
                row.duration_ms.map(format_duration_ms).unwrap_or_default(),
                row.origin.to_string(),
                row.run_count.to_string(),
                truncate(if hit.is_empty() { &error } else { &hit }, 70),
            ]
        })
        .collect();
    output::print_table(
        &[
            "REF",
            &format!("RECEIVED ({})", times.zone_label()),
            "WORKFLOW",
            "STATE",
            "DURATION",
            "TRIGGER",
            "RUNS",
            "FIRST ERROR / MATCH",
        ],
        &rows,
        &|column, cell| (column == 3).then(|| output::state_paint(cell)).flatten(),
    );
    if !page.counts.is_empty() {
        let counts: Vec<String> = page
            .counts
            .iter()
            .map(|c| {
                let plus = if page.counts_capped { "+" } else { "" };
                format!("{} {} {}{plus}", state_symbol(c.state), c.state, c.count)
            })
            .collect();
        crate::say!("\n{}", counts.join("   "));
    }
    if let Some(cursor) = page.next_cursor {
        crate::say!("more: bolt runs --after {cursor} (same filters)");
    }
    Ok(())
}

fn truncate(text: &str, max: usize) -> String {
    let one_line = text.replace('\n', " ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let mut out: String = one_line.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// A work order, run or step: full id or short ref.
    pub reference: String,
    /// Print stored bodies exactly as stored instead of pretty JSON.
    #[arg(long)]
    pub raw: bool,
    #[arg(long)]
    pub json: bool,
}

fn body_text(info: &DataclipInfo, raw: bool) -> String {
    if let Some(reason) = info.wipe_reason {
        return match reason {
            WipeReason::TooLarge => format!(
                "(not stored: too large, {} bytes)",
                info.size_bytes.unwrap_or(0)
            ),
            WipeReason::ZeroPersistence => {
                "(wiped: erased after use by the project's zero-persistence policy)".into()
            }
            WipeReason::Retention => {
                "(wiped: erased by the project's data retention policy)".into()
            }
        };
    }
    let Some(body) = &info.body else {
        return "(no body)".into();
    };
    if raw {
        return body.clone();
    }
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.clone())
}

fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| format!("{by}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn show(global: &Global, args: &ShowArgs) -> Result<(), CliError> {
    let mut client = global.connect()?;
    let shown = expect(
        client.request(Request::Show {
            reference: args.reference.clone(),
            bodies: true,
        })?,
        |r| match r {
            Response::Shown(shown) => Some(*shown),
            _ => None,
        },
    )?;
    if args.json {
        output::print_json(&shown)?;
        return Ok(());
    }
    let wo = &shown.work_order;
    let row = &wo.row;
    crate::say!(
        "work order {}  {}  {} {}  received {}  trigger {}",
        row.short_ref,
        row.workflow,
        state_symbol(row.state),
        row.state,
        bolt_shared::time::rule().stamp(row.received_at),
        row.origin
    );
    match &wo.source_address {
        Some(from) => crate::say!("id {}  from {from}", row.id),
        None => crate::say!("id {}", row.id),
    }
    for run in &wo.runs {
        if shown.kind == RefKind::Run && run.id != shown.id {
            continue;
        }
        crate::say!(
            "\nrun {} ({}, attempt {}, version {})  {}{}",
            run.short_ref,
            run.origin,
            run.attempt,
            run.version,
            run.state,
            run.error_type
                .as_deref()
                .map(|e| format!(" — {e}"))
                .unwrap_or_default()
        );
        if run.logs_dropped.lines > 0 {
            crate::say!(
                "  logs: {} line{} ({} bytes) dropped: the run logged more than its log limits ([logs] in bolt.toml); its first and last lines are kept (bolt logs {})",
                run.logs_dropped.lines,
                if run.logs_dropped.lines == 1 { "" } else { "s" },
                run.logs_dropped.bytes,
                run.short_ref
            );
        }
        for step in &run.steps {
            if shown.kind == RefKind::Step && step.id != shown.id {
                continue;
            }
            let exit = step
                .exit_reason
                .map(|e| e.to_string())
                .unwrap_or_else(|| "running".into());
            let duration = step.duration_ms.map(format_duration_ms).unwrap_or_default();
            let attached = if step.attached {
                "  (from an earlier run)"
            } else {
                ""
            };
            crate::say!(
                "  step {}  {}  {exit}  {duration}{attached}",
                step.short_ref,
                step.job
            );
            if step.error_type.is_some() || step.error_message.is_some() {
                crate::say!(
                    "    error: {} {}",
                    step.error_type.as_deref().unwrap_or(""),
                    step.error_message.as_deref().unwrap_or("")
                );
            }
            if let Some(input) = &step.input {
                crate::say!(
                    "    input ({}):\n{}",
                    short_ref(&input.id),
                    indent(&body_text(input, args.raw), "      ")
                );
            }
            if let Some(output) = &step.output {
                crate::say!(
                    "    output ({}):\n{}",
                    short_ref(&output.id),
                    indent(&body_text(output, args.raw), "      ")
                );
            }
        }
    }
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct LogsArgs {
    /// A work order (its latest run), run or step.
    pub reference: String,
    /// Keep printing new lines until the run ends.
    #[arg(long, short)]
    pub follow: bool,
    /// Only lines at or above this level: debug, info, warn, error.
    #[arg(long)]
    pub level: Option<String>,
    /// Print at most this many lines (the first ones), and say so when there are more.
    #[arg(long, value_name = "N", value_parser = super::positive_limit)]
    pub limit: Option<u32>,
    #[arg(long)]
    pub json: bool,
}

fn print_line(line: &LogLine, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(line)?);
    } else {
        crate::say!(
            "{} [{}] {:<7} {}",
            log_time(line.timestamp),
            line.source,
            line.level,
            line.message
        );
    }
    Ok(())
}

/// A log line's time: the time of day (with the date when not today), in the zone the
/// time rule picks; `bolt logs` names the zone once on a terminal.
fn log_time(at: chrono::DateTime<chrono::Utc>) -> String {
    let times = bolt_shared::time::rule();
    let now = chrono::Utc::now();
    let day = times.when_short(at, now);
    let time = times.time_of_day_ms(at);
    match day.split_once(' ') {
        Some((date, _)) => format!("{date} {time}"),
        None => time,
    }
}

/// Prints log lines up to the limit; false once the limit is reached.
struct LinePrinter {
    json: bool,
    limit: Option<u64>,
    printed: u64,
    last_id: i64,
}

impl LinePrinter {
    fn print(&mut self, line: &LogLine) -> anyhow::Result<bool> {
        if self.limit.is_some_and(|limit| self.printed >= limit) {
            return Ok(false);
        }
        print_line(line, self.json)?;
        self.printed += 1;
        self.last_id = line.id;
        Ok(true)
    }

    fn stopped(&self) {
        crate::say_err!(
            "bolt: stopped after {} line{} (--limit); the run has more: run without --limit to see all",
            self.printed,
            if self.printed == 1 { "" } else { "s" }
        );
    }
}

pub fn logs(global: &Global, args: &LogsArgs) -> Result<(), CliError> {
    let level = args
        .level
        .as_deref()
        .map(|l| l.parse::<LogLevel>().map_err(|e| anyhow!(e)))
        .transpose()?;
    let mut client = global.connect()?;
    if !args.json && std::io::stdout().is_terminal() {
        crate::say_err!("(times in {})", bolt_shared::time::rule().zone_label());
    }
    let mut printer = LinePrinter {
        json: args.json,
        limit: args.limit.map(u64::from),
        printed: 0,
        last_id: 0,
    };
    // Subscribed before the lines so far are read, so none falls between the two.
    let followed = if args.follow {
        let (run_id, state) = run_of(&mut client, &args.reference)?;
        let mut watcher = global.connect()?;
        if watcher.subscribe_run(&run_id).is_err() {
            // A boltd older than run subscriptions: everything, filtered here.
            watcher = global.connect()?;
            watcher.subscribe()?;
        }
        Some((watcher, run_id, state))
    } else {
        None
    };
    if !print_stored_lines(&mut client, &args.reference, level, &mut printer)? {
        return Ok(());
    }
    let Some((mut watcher, run_id, state)) = followed else {
        return Ok(());
    };
    if state.is_final() {
        return Ok(());
    }
    loop {
        match watcher.next_event()? {
            Event::Log(line) if line.run_id == run_id && line.id > printer.last_id => {
                if level.is_none_or(|l| line.level.rank() >= l.rank()) && !printer.print(&line)? {
                    printer.stopped();
                    return Ok(());
                }
                printer.last_id = line.id;
            }
            Event::RunChanged { id, state, .. } if id == run_id && state.is_final() => {
                crate::say_err!("run {} ended: {state}", short_ref(&run_id));
                return Ok(());
            }
            Event::Lagged { .. } => {
                // boltd dropped events this terminal didn't take in time: read what was
                // stored meanwhile, and whether the run has ended.
                if !print_stored_lines(&mut client, &args.reference, level, &mut printer)? {
                    return Ok(());
                }
                let (_, state) = run_of(&mut client, &args.reference)?;
                if state.is_final() {
                    crate::say_err!("run {} ended: {state}", short_ref(&run_id));
                    return Ok(());
                }
            }
            _ => {}
        }
    }
}

/// The run a reference means (a work order's latest run) and its state.
fn run_of(client: &mut Client, reference: &str) -> Result<(String, RunState), CliError> {
    let shown = expect(
        client.request(Request::Show {
            reference: reference.to_string(),
            bodies: false,
        })?,
        |r| match r {
            Response::Shown(s) => Some(*s),
            _ => None,
        },
    )?;
    shown
        .work_order
        .runs
        .iter()
        .find(|r| shown.kind != RefKind::Run || r.id == shown.id)
        .map(|r| (r.id.clone(), r.state))
        .ok_or_else(|| anyhow!("work order {reference} has no run yet").into())
}

/// Prints the stored lines after the last one printed, page by page; false once the
/// printer's limit stopped it.
fn print_stored_lines(
    client: &mut Client,
    reference: &str,
    level: Option<LogLevel>,
    printer: &mut LinePrinter,
) -> Result<bool, CliError> {
    loop {
        let (lines, more) = expect(
            client.request(Request::Logs {
                reference: reference.to_string(),
                level,
                after_id: Some(printer.last_id),
            })?,
            |r| match r {
                Response::Logs { lines, more } => Some((lines, more)),
                _ => None,
            },
        )?;
        for line in &lines {
            if !printer.print(line)? {
                printer.stopped();
                return Ok(false);
            }
        }
        if !more || lines.is_empty() {
            return Ok(true);
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct RerunArgs {
    /// The work order, run or step to rerun (not with --all-matching).
    pub reference: Option<String>,
    /// Start at this job with the input it had in the run (upstream steps are attached).
    #[arg(long, value_name = "JOB")]
    pub from: Option<String>,
    /// Rerun every work order matching the filters, oldest first.
    #[arg(long)]
    pub all_matching: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Confirm a bulk rerun.
    #[arg(long)]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn rerun(global: &Global, args: &RerunArgs) -> Result<(), CliError> {
    let mut client = global.connect()?;
    let request = match (&args.reference, args.all_matching) {
        (Some(reference), false) => Request::Rerun {
            reference: reference.clone(),
            from_job: args.from.clone(),
        },
        (None, true) => {
            let filter = args.filter.to_filter()?;
            let count = count_matching(&mut client, &filter)?;
            if !args.yes {
                return Err(anyhow!(
                    "{count} work order{} match; add --yes to rerun {} (oldest first{})",
                    if count == "1" { "" } else { "s" },
                    if count == "1" { "it" } else { "them" },
                    args.from
                        .as_deref()
                        .map(|j| format!(", from job {j}"))
                        .unwrap_or_default()
                )
                .into());
            }
            crate::say_err!("rerunning {count} work orders, oldest first…");
            show_progress(global);
            Request::RerunMatching {
                filter,
                from_job: args.from.clone(),
            }
        }
        (Some(_), true) => {
            return Err(
                anyhow!("give a reference or --all-matching with filters, not both").into(),
            );
        }
        (None, false) => {
            return Err(anyhow!(
                "say what to rerun: a reference (bolt rerun REF) or --all-matching with filters"
            )
            .into());
        }
    };
    let outcomes = expect(client.request(request)?, |r| match r {
        Response::Reruns { outcomes } => Some(outcomes),
        _ => None,
    })?;
    if args.json {
        output::print_json(&outcomes)?;
        return Ok(());
    }
    let queued = outcomes.iter().filter(|o| o.run_id.is_some()).count();
    for outcome in &outcomes {
        match (&outcome.run_id, &outcome.skipped) {
            (Some(run), _) if outcomes.len() == 1 => crate::say!(
                "queued run {} in work order {}",
                short_ref(run),
                short_ref(&outcome.work_order_id)
            ),
            (None, Some(reason)) => {
                crate::say!("skipped {}: {reason}", short_ref(&outcome.work_order_id))
            }
            _ => {}
        }
    }
    if outcomes.len() > 1 || args.all_matching {
        crate::say!("{queued} queued, {} skipped", outcomes.len() - queued);
    }
    if queued == 0 && outcomes.len() == 1 {
        return Err(anyhow!("nothing was rerun").into());
    }
    Ok(())
}

/// Prints the daemon's bulk progress events to stderr while the request runs.
fn show_progress(global: &Global) {
    let Ok(mut watcher) = global.connect() else {
        return;
    };
    if watcher.subscribe().is_err() {
        return;
    }
    std::thread::spawn(move || {
        while let Ok(event) = watcher.next_event() {
            if let Event::BulkProgress { done, total } = event {
                crate::say_err!("  queued {done}/{total}");
                if done >= total {
                    break;
                }
            }
        }
    });
}

/// How many work orders match, as text ("1000+" when a search matched more than boltd counts).
fn count_matching(client: &mut Client, filter: &WorkOrderFilter) -> Result<String, CliError> {
    let page = expect(
        client.request(Request::ListWorkOrders {
            filter: filter.clone(),
            limit: 1,
            after: None,
        })?,
        |r| match r {
            Response::WorkOrders(page) => Some(page),
            _ => None,
        },
    )?;
    let wanted = &filter.states;
    let count: u64 = page
        .counts
        .iter()
        .filter(|c| wanted.is_empty() || wanted.contains(&c.state))
        .map(|c| c.count)
        .sum();
    Ok(format!(
        "{count}{}",
        if page.counts_capped { "+" } else { "" }
    ))
}

#[derive(clap::Args, Debug)]
pub struct CancelArgs {
    /// Work order (its latest run), run, or step.
    pub reference: String,
    #[arg(long)]
    pub json: bool,
}

pub fn cancel(global: &Global, args: &CancelArgs) -> Result<(), CliError> {
    print_done(
        global,
        Request::Cancel {
            reference: args.reference.clone(),
        },
        args.json,
        &[("reference", &args.reference)],
    )
}

#[derive(clap::Args, Debug)]
pub struct TriggerArgs {
    /// Workflow key, name or id.
    pub workflow: String,
    /// Input JSON from a file, or - for standard input (default: {}).
    #[arg(long, value_name = "FILE|-")]
    pub input: Option<PathBuf>,
    /// A saved input (bolt input save).
    #[arg(long, value_name = "NAME", conflicts_with = "input")]
    pub input_name: Option<String>,
    /// Wait for the run to finish and print its final state.
    #[arg(long)]
    pub wait: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn trigger(global: &Global, args: &TriggerArgs) -> Result<(), CliError> {
    let input = match (&args.input, &args.input_name) {
        (Some(path), _) => {
            let text = if path.as_os_str() == "-" {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("reading the input from standard input")?;
                text
            } else {
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?
            };
            let value = serde_json::from_str(&text).map_err(|e| {
                anyhow!(
                    "the input is not valid JSON (line {}, column {}): {e}",
                    e.line(),
                    e.column()
                )
            })?;
            ManualInput::Json { value }
        }
        (None, Some(name)) => ManualInput::Named { name: name.clone() },
        (None, None) => ManualInput::Empty,
    };
    let mut client = global.connect()?;
    let result = expect(
        client.request(Request::Trigger {
            workflow: args.workflow.clone(),
            input,
            wait: args.wait,
        })?,
        |r| match r {
            Response::Triggered(t) => Some(t),
            _ => None,
        },
    )?;
    if args.json {
        output::print_json(&result)?;
    } else {
        crate::say!(
            "work order {} run {}",
            short_ref(&result.work_order_id),
            short_ref(&result.run_id)
        );
        if let Some(state) = result.final_state {
            crate::say!("finished: {state}");
            if let Some(output) = &result.output {
                crate::say!(
                    "{}",
                    serde_json::to_string_pretty(output).map_err(anyhow::Error::from)?
                );
            }
        }
    }
    if result.final_state.is_some_and(|s| s != RunState::Success) {
        return Err(anyhow!(
            "the run did not succeed ({}); see bolt show {}",
            result
                .final_state
                .map(|s| s.to_string())
                .unwrap_or_default(),
            short_ref(&result.work_order_id)
        )
        .into());
    }
    Ok(())
}

#[derive(clap::Subcommand, Debug)]
pub enum InputCommand {
    /// Keep a step's input as a named input that retention never deletes.
    Save {
        /// Work order, run or step.
        reference: String,
        /// The job whose input to keep.
        #[arg(long)]
        step: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// List the saved inputs: name, project, size, when saved.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a saved input (runs that used it keep it in their history).
    Rm {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn input(global: &Global, command: &InputCommand) -> Result<(), CliError> {
    match command {
        InputCommand::Save {
            reference,
            step,
            name,
            json,
        } => print_done(
            global,
            Request::SaveInput {
                reference: reference.clone(),
                step: step.clone(),
                name: name.clone(),
            },
            *json,
            &[("name", name)],
        ),
        InputCommand::List { json } => list_inputs(global, *json),
        InputCommand::Rm { name, json } => print_done(
            global,
            Request::RemoveInput { name: name.clone() },
            *json,
            &[("name", name)],
        ),
    }
}

fn list_inputs(global: &Global, json: bool) -> Result<(), CliError> {
    let mut client = global.connect()?;
    let inputs = expect(client.request(Request::ListInputs)?, |r| match r {
        Response::Inputs { inputs } => Some(inputs),
        _ => None,
    })?;
    if json {
        output::print_json(&inputs)?;
        return Ok(());
    }
    if inputs.is_empty() {
        crate::say!("no saved inputs; keep one with `bolt input save REF --step JOB --name NAME`");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = inputs
        .iter()
        .map(|input| {
            vec![
                input.name.clone(),
                input.project.clone().unwrap_or_default(),
                input
                    .size_bytes
                    .map(|b| format!("{b} B"))
                    .unwrap_or_default(),
                bolt_shared::time::rule().when_short(input.created_at, chrono::Utc::now()),
                short_ref(&input.id),
            ]
        })
        .collect();
    crate::say!(
        "{}",
        output::table(
            &[
                "NAME",
                "PROJECT",
                "SIZE",
                &format!("SAVED ({})", bolt_shared::time::rule().zone_label()),
                "REF"
            ],
            &rows
        )
    );
    Ok(())
}

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

#[derive(clap::Subcommand, Debug)]
pub enum ProjectCommand {
    /// Change retention and concurrency settings of a project.
    Set {
        /// Project name (needed only when there are several).
        #[arg(long)]
        project: Option<String>,
        /// Delete work orders older than this many days ("none" keeps them).
        #[arg(long, value_name = "DAYS|none")]
        history_retention_days: Option<String>,
        /// Wipe input/output bodies older than this many days ("none" keeps them).
        #[arg(long, value_name = "DAYS|none")]
        dataclip_retention_days: Option<String>,
        /// retain_all, or erase_all (zero persistence: inputs wiped once read, outputs never stored).
        #[arg(long)]
        retention_policy: Option<String>,
        /// Runs of this project at once ("none" = no limit).
        #[arg(long, value_name = "N|none")]
        concurrency: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

fn days(text: &Option<String>, flag: &str) -> anyhow::Result<Option<Option<u32>>> {
    match text.as_deref() {
        None => Ok(None),
        Some("none") => Ok(Some(None)),
        Some(n) => match n.parse::<u32>() {
            Ok(n) if n > 0 => Ok(Some(Some(n))),
            _ => bail!("{flag} takes a whole number above 0, or none"),
        },
    }
}

pub fn project(global: &Global, command: &ProjectCommand) -> Result<(), CliError> {
    let ProjectCommand::Set {
        project,
        history_retention_days,
        dataclip_retention_days,
        retention_policy,
        concurrency,
        json,
    } = command;
    let settings = ProjectSettings {
        history_retention_days: days(history_retention_days, "--history-retention-days")?,
        dataclip_retention_days: days(dataclip_retention_days, "--dataclip-retention-days")?,
        retention_policy: retention_policy.clone(),
        concurrency: days(concurrency, "--concurrency")?,
    };
    print_done(
        global,
        Request::SetProjectSettings {
            project: project.clone(),
            settings,
        },
        *json,
        &[("project", project.as_deref().unwrap_or(""))],
    )
}
