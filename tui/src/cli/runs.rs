//! `bolt runs`: work orders, newest first, filtered and searched; or every match as CSV or
//! JSON lines.

use super::history::*;
use super::{CliError, Global, output};
use anyhow::anyhow;
use bolt_shared::protocol::{Request, Response};
use bolt_shared::timespec::format_duration_ms;

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
