//! Plain subcommands for scripts and runbooks: human text by default, `--json` for machines.

pub mod access;
pub mod adaptor;
pub mod audit;
pub mod backup;
pub mod cancel;
pub mod collections;
pub mod credential;
pub mod daemon_cmd;
pub mod export;
pub mod failures;
pub mod history;
pub mod input;
pub mod install_progress;
pub mod logs;
pub mod man;
pub mod notify;
pub mod open;
pub mod output;
pub mod project;
pub mod projects;
pub mod rerun;
pub mod runs;
pub mod show;
pub mod status;
pub mod stop;
pub mod store;
pub mod terminal;
pub mod trigger;
pub mod up;
pub mod versions;

use bolt_shared::client::{Client, ClientError};
use bolt_shared::paths::{Overrides, Resolved, resolve};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code when no daemon answers, so scripts can tell "down" from "failed".
pub const EXIT_NOT_RUNNING: u8 = 2;

/// Options every subcommand shares. Their environment variables are read by `resolve`, not
/// by clap: clap would print an environment-provided value's flag in every usage line.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Global {
    /// Socket of the boltd to talk to (env: BOLT_SOCKET).
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Config file (env: BOLT_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (env: BOLT_DATA_DIR); the socket defaults to <data-dir>/run/boltd.sock.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Show times in UTC instead of local time (or `[tui] time = "utc"` in bolt.toml).
    #[arg(long, global = true)]
    pub utc: bool,
}

impl Global {
    pub fn resolve(&self) -> anyhow::Result<Resolved> {
        let resolved = resolve(&Overrides {
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
            socket: self.socket.clone(),
            store_url: None,
        })?;
        // Every connection this process makes checks who serves the socket against it.
        bolt_shared::client::trust_daemon_user(resolved.config.daemon_user.clone());
        Ok(resolved)
    }

    /// Chooses the time zone for everything this process prints, before anything is
    /// printed: `--utc`, else `[tui] time` (a config that can't be read is reported by the
    /// command itself).
    pub fn init_times(&self) -> Result<(), String> {
        let configured = resolve(&Overrides {
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
            socket: self.socket.clone(),
            store_url: None,
        })
        .ok()
        .and_then(|resolved| resolved.config.tui.time);
        bolt_shared::time::init(self.utc, configured.as_deref())
    }

    pub fn connect(&self) -> Result<Client, CliError> {
        let resolved = self.resolve().map_err(CliError::Other)?;
        Client::connect(&resolved.socket).map_err(CliError::Client)
    }
}

/// `--limit N`: a whole number above 0 (0 would ask for nothing).
pub fn positive_limit(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(0) => Err("0 would show nothing: give a number above 0, or leave --limit out".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{text}' is not a whole number above 0")),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

/// Prints an error the way every subcommand does and picks the exit code.
pub fn exit_with(result: Result<(), CliError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Client(err)) if err.is_not_running() => {
            crate::say_err!("{err}");
            ExitCode::from(EXIT_NOT_RUNNING)
        }
        Err(err) => {
            crate::say_err!("bolt: {err}");
            ExitCode::FAILURE
        }
    }
}
