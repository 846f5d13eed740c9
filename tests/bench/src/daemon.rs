//! The benchmarks' boltd: the end-to-end tests' harness ([`bolt_e2e::Daemon`]) running this
//! binary's `daemon` subcommand, so a benchmark measures the boltd built with it and needs
//! no other binary.

use anyhow::Context;
use bolt_daemon::secrets::KEY_FILE;
use bolt_e2e::{Daemon, Options, Program, ScratchDatabase};
use bolt_shared::client::Client;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;

/// Starts boltd on a temp data dir (removed with it) and connects to it; boltd's warnings
/// and errors go to this process's stderr.
pub fn start() -> anyhow::Result<(Daemon, Client)> {
    let daemon = launch_node(None, None)?;
    let client = Client::connect(&daemon.socket)?;
    Ok((daemon, client))
}

/// Starts boltd on a temp data dir, on `store` (a PostgreSQL database several nodes may
/// share) or else SQLite. A node joining others gets their key file (`key_from`): every
/// node of one database needs the same key.
pub fn launch_node(
    store: Option<Arc<ScratchDatabase>>,
    key_from: Option<&Path>,
) -> anyhow::Result<Daemon> {
    let program = Program {
        path: std::env::current_exe()?,
        args: vec!["daemon".into()],
    };
    let dir = tempfile::tempdir()?;
    if let Some(key) = key_from {
        std::fs::copy(key, dir.path().join(KEY_FILE))
            .with_context(|| format!("copying the key file {}", key.display()))?;
    }
    Daemon::launch(
        dir,
        Options {
            program: Some(program),
            stderr: Some(Stdio::inherit),
            store,
            ..Options::default()
        },
    )
}
