//! `bolt runs --format csv|jsonl [--with-bodies]`: history for spreadsheets and scripts,
//! streamed page by page (every matching work order, or `--limit` of them), with a count
//! on standard error while it goes when that is a terminal.

use super::CliError;
use anyhow::anyhow;
use bolt_shared::client::Client;
use bolt_shared::model::{DataclipInfo, WorkOrderFilter, WorkOrderRow, WorkOrderView};
use bolt_shared::protocol::{Request, Response};
use serde_json::Value;
use std::io::{IsTerminal, Write};

/// Work orders asked for per request while exporting.
const PAGE: u32 = 500;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Aligned columns for people (one page; --after for the next).
    #[default]
    Table,
    /// Comma-separated values with a header row: every matching work order.
    Csv,
    /// One JSON object per line: every matching work order.
    Jsonl,
}

/// What one exported work order carries besides its row.
struct Bodies {
    /// The work order's input as received (a webhook's body).
    input: Option<Value>,
    /// The output of the latest run's last finished step.
    output: Option<Value>,
}

pub struct Export {
    pub format: Format,
    pub filter: WorkOrderFilter,
    pub after: Option<String>,
    /// Most work orders to write; all when `None`.
    pub limit: Option<u32>,
    pub with_bodies: bool,
}

pub fn export(client: &mut Client, export: &Export) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut sink = Sink::new(export.format, export.with_bodies, stdout.lock())?;
    let progress = Progress::new();
    let mut after = export.after.clone();
    let mut written: u64 = 0;
    let wanted = export.limit.map(u64::from);
    loop {
        let left = wanted.map_or(u64::from(PAGE), |w| w.saturating_sub(written));
        if left == 0 {
            break;
        }
        let page = match client.request(Request::ListWorkOrders {
            filter: export.filter.clone(),
            limit: PAGE.min(u32::try_from(left).unwrap_or(PAGE)),
            after: after.clone(),
        })? {
            Response::WorkOrders(page) => page,
            other => return Err(anyhow!("unexpected answer from boltd: {other:?}").into()),
        };
        for row in &page.rows {
            let bodies = if export.with_bodies {
                Some(bodies_of(client, &row.id)?)
            } else {
                None
            };
            sink.write(row, bodies.as_ref())?;
            written += 1;
            progress.show(written);
        }
        sink.flush()?;
        match page.next_cursor {
            Some(cursor) if !page.rows.is_empty() => after = Some(cursor),
            _ => break,
        }
    }
    progress.done(written);
    Ok(())
}

fn bodies_of(client: &mut Client, id: &str) -> Result<Bodies, CliError> {
    let view = match client.request(Request::Show {
        reference: id.to_string(),
        bodies: true,
    })? {
        Response::Shown(shown) => shown.work_order,
        other => return Err(anyhow!("unexpected answer from boltd: {other:?}").into()),
    };
    Ok(Bodies {
        input: view.input.as_ref().and_then(body_value),
        output: last_output(&view).and_then(body_value),
    })
}

/// The output of the latest run's last step to finish with one.
fn last_output(view: &WorkOrderView) -> Option<&DataclipInfo> {
    let run = view.runs.iter().max_by_key(|r| r.created_at)?;
    run.steps
        .iter()
        .filter(|s| s.output.is_some())
        .max_by_key(|s| s.finished_at)
        .and_then(|s| s.output.as_ref())
}

/// A stored body as JSON; text that isn't JSON stays text; wiped bodies are absent.
fn body_value(info: &DataclipInfo) -> Option<Value> {
    let body = info.body.as_ref()?;
    Some(serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.clone())))
}

const CSV_HEADER: &[&str] = &[
    "id",
    "ref",
    "project",
    "workflow",
    "state",
    "trigger",
    "received_at",
    "last_activity",
    "duration_ms",
    "runs",
    "error_job",
    "error_type",
    "error_message",
];

enum Sink<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Jsonl(W),
}

impl<W: Write> Sink<W> {
    fn new(format: Format, with_bodies: bool, out: W) -> Result<Sink<W>, CliError> {
        match format {
            Format::Csv => {
                let mut writer = csv::Writer::from_writer(out);
                let mut header = CSV_HEADER.to_vec();
                if with_bodies {
                    header.extend(["input", "output"]);
                }
                writer.write_record(&header).map_err(csv_error)?;
                Ok(Sink::Csv(Box::new(writer)))
            }
            Format::Jsonl => Ok(Sink::Jsonl(out)),
            Format::Table => Err(anyhow!("a table is not an export format").into()),
        }
    }

    fn write(&mut self, row: &WorkOrderRow, bodies: Option<&Bodies>) -> Result<(), CliError> {
        match self {
            Sink::Csv(writer) => {
                let error = row.first_error.as_ref();
                let mut record = vec![
                    row.id.clone(),
                    row.short_ref.clone(),
                    row.project.clone(),
                    row.workflow.clone(),
                    row.state.to_string(),
                    row.origin.to_string(),
                    row.received_at.to_rfc3339(),
                    row.last_activity.to_rfc3339(),
                    row.duration_ms.map(|d| d.to_string()).unwrap_or_default(),
                    row.run_count.to_string(),
                    error.map(|e| e.job.clone()).unwrap_or_default(),
                    error.and_then(|e| e.error_type.clone()).unwrap_or_default(),
                    error.and_then(|e| e.message.clone()).unwrap_or_default(),
                ];
                if let Some(bodies) = bodies {
                    let text = |v: &Option<Value>| v.as_ref().map(Value::to_string);
                    record.push(text(&bodies.input).unwrap_or_default());
                    record.push(text(&bodies.output).unwrap_or_default());
                }
                writer.write_record(&record).map_err(csv_error)
            }
            Sink::Jsonl(out) => {
                let mut line = serde_json::to_value(row).map_err(anyhow::Error::from)?;
                if let (Some(bodies), Some(object)) = (bodies, line.as_object_mut()) {
                    object.insert("input".into(), bodies.input.clone().unwrap_or(Value::Null));
                    object.insert(
                        "output".into(),
                        bodies.output.clone().unwrap_or(Value::Null),
                    );
                }
                writeln!(out, "{line}").map_err(|e| anyhow!("cannot write: {e}").into())
            }
        }
    }

    fn flush(&mut self) -> Result<(), CliError> {
        let flushed = match self {
            Sink::Csv(writer) => writer.flush(),
            Sink::Jsonl(out) => out.flush(),
        };
        flushed.map_err(|e| anyhow!("cannot write: {e}").into())
    }
}

fn csv_error(error: csv::Error) -> CliError {
    anyhow!("cannot write CSV: {error}").into()
}

/// "exported 1200 work orders" on one line of a terminal's stderr; nothing on a pipe.
struct Progress {
    on: bool,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            on: std::io::stderr().is_terminal(),
        }
    }

    fn show(&self, written: u64) {
        if self.on && written.is_multiple_of(100) {
            eprint!("\rexported {written} work orders…");
        }
    }

    fn done(&self, written: u64) {
        if self.on {
            eprintln!(
                "\rexported {written} work order{}   ",
                if written == 1 { "" } else { "s" }
            );
        }
    }
}
