//! `bolt input save|list|rm`: named inputs to run workflows with again.

use super::history::*;
use super::{CliError, Global, output};
use bolt_shared::model::*;
use bolt_shared::protocol::{Request, Response};

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
