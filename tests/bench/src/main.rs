//! `bolt-bench …`: bolt's benchmarks. They print figures and assert nothing; the targets
//! they are read against are in this crate's README.
//!
//! Kept apart from the product: `bolt` ships without them, and only the daemon crate
//! writes its schema (the history seeder is behind its `seeder` feature).

mod adaptors;
mod cluster;
mod daemon;
mod engine;
mod history;
mod load_gen;
mod memory;
mod percentile;
mod proc_cpu;
mod webhooks;

use clap::Parser;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "bolt-bench",
    about = "bolt's benchmarks: print performance figures"
)]
struct Cli {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(clap::Subcommand, Debug)]
enum BenchCommand {
    /// Engine overhead: in-process runs, cold `bolt execute`, a 10,000-record job
    /// (and the same under Node's @openfn/runtime when --node-dir has it installed).
    Engine {
        /// A directory with @openfn/runtime and @openfn/language-common installed (npm).
        #[arg(long, value_name = "DIR")]
        node_dir: Option<std::path::PathBuf>,
        /// A data dir with @openfn/language-openmrs@5.5.0 installed (`bolt adaptor add
        /// openmrs@5.5.0`), for the npm adaptor figures.
        #[arg(long, value_name = "DIR")]
        adaptors_data_dir: Option<std::path::PathBuf>,
        /// Print the npm adaptor figures only.
        #[arg(long, requires = "adaptors_data_dir")]
        npm_adaptor_only: bool,
        /// The installed npm adaptor the figures are for.
        #[arg(
            long,
            value_name = "NAME@VERSION",
            default_value = "@openfn/language-openmrs@5.5.0"
        )]
        npm_adaptor: String,
    },
    /// Webhook requests acknowledged per second and end-to-end runs per second.
    Webhooks(webhooks::WebhookBenchArgs),
    /// Webhook intake and completed runs per second on SQLite and on PostgreSQL with 1, 2
    /// and 3 boltd nodes sharing one database (all on this machine).
    Cluster(cluster::ClusterBenchArgs),
    /// boltd's resident memory before, at the peak of and after runs that log a lot.
    Memory(memory::MemoryBenchArgs),
    /// Bytes the TUI writes to the terminal per action (120×40 history view).
    Tui,
    /// History at scale: seeds N work orders, then times filter pages, search, show, bulk rerun.
    History(history::HistoryBenchArgs),
    /// Cold install time of npm adaptors from the registry (default: openmrs@5.5.0 and
    /// fhir@5.0.15), each run a new process on a fresh data dir.
    Adaptors(adaptors::AdaptorBenchArgs),
    /// Fills a data directory with N realistic work orders (for `bench history --existing`
    /// or a real boltd).
    Seed(history::SeedArgs),
    /// Run boltd in the foreground (the benchmarks start their daemons with this).
    Daemon(bolt_daemon::process::cli::DaemonArgs),
}

fn main() -> ExitCode {
    let command = match Cli::parse().command {
        BenchCommand::Daemon(args) => return bolt_daemon::process::cli::main(args),
        command => command,
    };
    match run(&command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bolt-bench: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The build the figures come from: "debug" or "release".
fn build_kind() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// The CPUs this process may run on.
fn cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// A binary built beside this one (`cargo build --release` builds them all).
fn sibling_binary(name: &str) -> anyhow::Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name(name);
    anyhow::ensure!(
        path.is_file(),
        "{} is missing: build every binary first (`cargo build --release --bins`)",
        path.display()
    );
    Ok(path)
}

fn run(command: &BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Engine {
            node_dir,
            adaptors_data_dir,
            npm_adaptor_only,
            npm_adaptor,
        } => engine::bench_engine_with(
            node_dir.as_deref(),
            adaptors_data_dir.as_deref(),
            *npm_adaptor_only,
            npm_adaptor,
        )?,
        BenchCommand::Webhooks(args) => webhooks::run(args)?,
        BenchCommand::Cluster(args) => cluster::run(args)?,
        BenchCommand::Memory(args) => memory::run(args)?,
        BenchCommand::Tui => print!("{}", bolt_client::tui::measure_bytes()?),
        BenchCommand::History(args) => history::run(args)?,
        BenchCommand::Seed(args) => history::run_seed(args)?,
        BenchCommand::Adaptors(args) => adaptors::run(args)?,
        BenchCommand::Daemon(_) => anyhow::bail!("`daemon` runs boltd in the foreground"),
    }
    Ok(())
}
