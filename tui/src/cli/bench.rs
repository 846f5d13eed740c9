//! `bolt bench …`: benchmarks that print figures (never timed tests).

use super::CliError;

#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
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
    Webhooks(super::bench_webhooks::WebhookBenchArgs),
    /// boltd's resident memory before, at the peak of and after runs that log a lot.
    Memory(super::bench_memory::MemoryBenchArgs),
    /// Bytes the TUI writes to the terminal per action (120×40 history view).
    Tui,
    /// History at scale: seeds N work orders, then times filter pages, search, show, bulk rerun.
    History(super::bench_history::HistoryBenchArgs),
    /// Cold install time of npm adaptors from the registry (default: openmrs@5.5.0 and
    /// fhir@5.0.15), each run a new process on a fresh data dir.
    Adaptors(super::bench_adaptors::AdaptorBenchArgs),
    /// Fills a data directory with N realistic work orders (for `bench history --existing`
    /// or a real boltd).
    Seed(super::bench_history::SeedArgs),
}

pub fn run(command: &BenchCommand) -> Result<(), CliError> {
    match command {
        BenchCommand::Engine {
            node_dir,
            adaptors_data_dir,
            npm_adaptor_only,
            npm_adaptor,
        } => crate::bench_engine::bench_engine_with(
            node_dir.as_deref(),
            adaptors_data_dir.as_deref(),
            *npm_adaptor_only,
            npm_adaptor,
        )?,
        BenchCommand::Webhooks(args) => super::bench_webhooks::run(args)?,
        BenchCommand::Memory(args) => super::bench_memory::run(args)?,
        BenchCommand::Tui => print!("{}", crate::tui::measure_bytes()?),
        BenchCommand::History(args) => super::bench_history::run(args)?,
        BenchCommand::Seed(args) => super::bench_history::run_seed(args)?,
        BenchCommand::Adaptors(args) => super::bench_adaptors::run(args)?,
    }
    Ok(())
}
