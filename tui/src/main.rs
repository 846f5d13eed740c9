//! bolt: the terminal client of boltd — the TUI and plain subcommands for scripts.

mod bench_engine;
mod cli;
mod execute;
mod tui;

use clap::{Parser, Subcommand};
use cli::Global;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "bolt",
    version,
    about = "Workflow automation in your terminal: the client of boltd"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(flatten)]
    display: cli::open::DisplayArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start boltd if it isn't running, deploy the example project into an empty store, open the TUI.
    Up(cli::up::UpArgs),
    /// Open the TUI on a work order, run or step (a full id or a short ref), or on a
    /// workflow's job: WORKFLOW[/JOB] (names or keys), a link that can be shared.
    Open {
        #[arg(value_name = "REF|WORKFLOW[/JOB]")]
        reference: String,
    },
    /// Show the daemon's version, uptime, data dir, queue and counts.
    Status(cli::status::StatusArgs),
    /// Stop boltd: no more webhooks or runs; the runs under way finish first (--now: don't wait).
    Stop(cli::stop::StopArgs),
    /// Validate a project.yaml, show what changes, and apply it in one transaction.
    Deploy(cli::projects::DeployArgs),
    /// Write a deployed project back as project.yaml.
    Export(cli::projects::ExportArgs),
    /// List workflows with their webhook URLs and cron schedules.
    Workflows(cli::projects::WorkflowsArgs),
    /// A workflow's versions: number, when, who, how and what changed.
    Versions(cli::versions::VersionsArgs),
    /// What differs between two versions of a workflow (default: the last change).
    Diff(cli::versions::DiffArgs),
    /// Make a new version equal to an older one (or put back one job as it was).
    Rollback(cli::versions::RollbackArgs),
    /// Copy the store while boltd runs (a consistent online copy, with progress).
    Backup(cli::backup::BackupArgs),
    /// Put a backup in place of the store of a stopped data dir.
    Restore(cli::backup::RestoreArgs),
    /// npm adaptors: add (from the registry or files), list, rm, bundle (for offline installs).
    #[command(subcommand)]
    Adaptor(cli::adaptor::AdaptorCommand),
    /// Manage credentials (encrypted at rest; values are never shown).
    #[command(subcommand)]
    Credential(cli::credential::CredentialCommand),
    /// A project's collections: the key-value store jobs use through the collections adaptor.
    Collections(cli::collections::CollectionsArgs),
    /// List work orders, newest first, with filters and full-text search.
    Runs(cli::history::RunsArgs),
    /// Show a work order, run or step: runs, steps, errors, inputs and outputs.
    Show(cli::history::ShowArgs),
    /// Print the log lines of a run or step (--follow while it runs).
    Logs(cli::history::LogsArgs),
    /// Rerun a work order from the start or from a step; or all matching work orders.
    Rerun(cli::history::RerunArgs),
    /// Cancel a queued or running run.
    Cancel {
        /// Work order (its latest run), run, or step.
        reference: String,
    },
    /// Run a workflow by hand.
    Trigger(cli::history::TriggerArgs),
    /// Saved inputs.
    #[command(subcommand)]
    Input(cli::history::InputCommand),
    /// Failed work orders grouped by workflow, job and error: what is broken right now.
    Failures(cli::history::FailuresArgs),
    /// Project settings (retention, zero persistence, concurrency).
    #[command(subcommand)]
    Project(cli::history::ProjectCommand),
    /// Run a job or workflow file locally, like `openfn execute` (no daemon needed).
    Execute(execute::ExecuteArgs),
    /// Print performance figures (engine, store, TUI bytes).
    #[command(subcommand)]
    Bench(cli::bench::BenchCommand),
    /// Run boltd in the foreground (same flags as `boltd`).
    Daemon(bolt_daemon::cli::DaemonArgs),
}

fn main() -> ExitCode {
    // `bolt runs | head` should end quietly, like any Unix tool.
    sigpipe::reset();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Up(args)) => cli::exit_with(cli::up::run(&cli.global, &cli.display, &args)),
        Some(Command::Open { reference }) => {
            cli::exit_with(cli::open::open(&cli.global, &cli.display, Some(reference)))
        }
        Some(Command::Status(args)) => cli::exit_with(cli::status::run(&cli.global, &args)),
        Some(Command::Stop(args)) => cli::exit_with(cli::stop::run(&cli.global, &args)),
        Some(Command::Deploy(args)) => cli::exit_with(cli::projects::deploy(&cli.global, &args)),
        Some(Command::Export(args)) => cli::exit_with(cli::projects::export(&cli.global, &args)),
        Some(Command::Workflows(args)) => {
            cli::exit_with(cli::projects::workflows(&cli.global, &args))
        }
        Some(Command::Versions(args)) => {
            cli::exit_with(cli::versions::versions(&cli.global, &args))
        }
        Some(Command::Diff(args)) => cli::exit_with(cli::versions::diff(&cli.global, &args)),
        Some(Command::Rollback(args)) => {
            cli::exit_with(cli::versions::rollback(&cli.global, &args))
        }
        Some(Command::Backup(args)) => cli::exit_with(cli::backup::backup(&cli.global, &args)),
        Some(Command::Restore(args)) => cli::exit_with(cli::backup::restore(&cli.global, &args)),
        Some(Command::Adaptor(command)) => cli::exit_with(cli::adaptor::run(&cli.global, &command)),
        Some(Command::Credential(command)) => {
            cli::exit_with(cli::credential::run(&cli.global, &command))
        }
        Some(Command::Collections(args)) => {
            cli::exit_with(cli::collections::run(&cli.global, &args))
        }
        Some(Command::Runs(args)) => cli::exit_with(cli::history::runs(&cli.global, &args)),
        Some(Command::Show(args)) => cli::exit_with(cli::history::show(&cli.global, &args)),
        Some(Command::Logs(args)) => cli::exit_with(cli::history::logs(&cli.global, &args)),
        Some(Command::Rerun(args)) => cli::exit_with(cli::history::rerun(&cli.global, &args)),
        Some(Command::Cancel { reference }) => {
            cli::exit_with(cli::history::cancel(&cli.global, &reference))
        }
        Some(Command::Trigger(args)) => cli::exit_with(cli::history::trigger(&cli.global, &args)),
        Some(Command::Input(command)) => cli::exit_with(cli::history::input(&cli.global, &command)),
        Some(Command::Failures(args)) => cli::exit_with(cli::history::failures(&cli.global, &args)),
        Some(Command::Project(command)) => {
            cli::exit_with(cli::history::project(&cli.global, &command))
        }
        Some(Command::Execute(args)) => execute::run(&cli.global, args),
        Some(Command::Daemon(args)) => bolt_daemon::cli::main(args),
        Some(Command::Bench(command)) => cli::exit_with(cli::bench::run(&command)),
        None => cli::exit_with(cli::open::open(&cli.global, &cli.display, None)),
    }
}
