//! `bolt logs REF [--follow]`: a run's or step's log lines, page by page, then live.

use super::history::*;
use super::{CliError, Global};
use anyhow::anyhow;
use bolt_shared::client::Client;
use bolt_shared::model::*;
use bolt_shared::protocol::{Event, Request, Response};
use std::io::IsTerminal;

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
