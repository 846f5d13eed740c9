//! `bolt trigger WORKFLOW`: a run by hand, with an input from a file, stdin or a saved one.

use super::history::*;
use super::{CliError, Global, output};
use anyhow::{Context, anyhow};
use bolt_shared::model::*;
use bolt_shared::protocol::{ManualInput, Request, Response};
use std::io::Read;
use std::path::PathBuf;

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
