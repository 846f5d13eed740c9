//! `bolt cancel REF`: a queued or running run.

use super::history::*;
use super::{CliError, Global};
use bolt_shared::protocol::Request;

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
