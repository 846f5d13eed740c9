//! The benchmarks' boltd: the end-to-end tests' harness ([`bolt_e2e::Daemon`]) running this
//! binary's `daemon` subcommand, so a benchmark measures the boltd built with it and needs
//! no other binary.

use bolt_e2e::{Daemon, Options, Program};
use bolt_shared::client::Client;
use std::process::Stdio;

/// Starts boltd on a temp data dir (removed with it) and connects to it; boltd's warnings
/// and errors go to this process's stderr.
pub fn start() -> anyhow::Result<(Daemon, Client)> {
    let program = Program {
        path: std::env::current_exe()?,
        args: vec!["daemon".into()],
    };
    let daemon = Daemon::launch(
        tempfile::tempdir()?,
        Options {
            program: Some(program),
            stderr: Some(Stdio::inherit),
            ..Options::default()
        },
    )?;
    let client = Client::connect(&daemon.socket)?;
    Ok((daemon, client))
}
