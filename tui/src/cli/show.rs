//! `bolt show REF`: a work order, run or step with its runs, steps, errors, inputs and outputs.

use super::history::*;
use super::{CliError, Global, output};
use bolt_shared::model::*;
use bolt_shared::protocol::{Request, Response};
use bolt_shared::timespec::format_duration_ms;

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
