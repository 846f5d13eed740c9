//! boltd's command line, shared by the `boltd` binary and `bolt daemon`.

use bolt_shared::paths::{Overrides, resolve};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// Runs OpenFn-compatible workflows on cron and webhook triggers and keeps every run in SQLite (or PostgreSQL).
#[derive(Parser, Debug, Clone, Default)]
#[command(name = "boltd", version, about)]
pub struct DaemonArgs {
    /// Config file (default: $BOLT_CONFIG, else ~/.config/bolt/bolt.toml if present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory for the store, key file, pidfile and socket (env: BOLT_DATA_DIR).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Local socket path (env: BOLT_SOCKET; default: <data-dir>/run/boltd.sock).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Webhook server address, e.g. 127.0.0.1:4000 ("" turns it off).
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    /// The store: a PostgreSQL URL shared by every node, e.g. postgres://bolt@db.internal/bolt
    /// (env: BOLT_STORE_URL, or `[store] url` in bolt.toml); default: SQLite in the data dir.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Log level or tracing filter (error, warn, info, debug, trace).
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
}

/// Runs boltd in the foreground until SIGTERM/SIGINT; returns the process exit code.
pub fn main(args: DaemonArgs) -> ExitCode {
    // Before any file or thread exists: everything boltd creates is its user's alone.
    crate::files::private_umask();
    let code = run(args);
    crate::logging::flush(std::time::Duration::from_secs(2));
    code
}

fn run(args: DaemonArgs) -> ExitCode {
    let resolved = match resolve(&Overrides {
        config: args.config.clone(),
        data_dir: args.data_dir.clone(),
        socket: args.socket.clone(),
        store_url: args.store.clone(),
    }) {
        Ok(resolved) => resolved,
        Err(err) => {
            crate::logging::print_error(&format!("boltd: {err}"));
            return ExitCode::from(2);
        }
    };
    let level = args
        .log_level
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .or_else(|| resolved.config.log_level.clone())
        .unwrap_or_else(|| "info".into());
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    crate::logging::init(filter);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            crate::logging::print_error(&format!("boltd: cannot start the async runtime: {err}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(crate::process::start::run(resolved, args.http)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            crate::logging::print_error(&format!("boltd: {err:#}"));
            ExitCode::FAILURE
        }
    }
}
