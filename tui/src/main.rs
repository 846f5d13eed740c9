//! bolt: the terminal client of boltd — the TUI and plain subcommands for scripts.

use bolt_client::{cli, execute};
use clap::{CommandFactory, Parser, Subcommand};
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
    /// Who did what: audit events (filters), or `verify` the audit chain.
    Audit(cli::audit::AuditArgs),
    /// Your role on this boltd and what each role may do; `reload` re-reads [access].
    Access(cli::access::AccessArgs),
    /// Copy the store while boltd runs (a consistent online copy, with progress).
    Backup(cli::backup::BackupArgs),
    /// Put a backup in place of the store of a stopped data dir.
    Restore(cli::backup::RestoreArgs),
    /// The store itself: `copy --to URL` moves a stopped data dir's store into PostgreSQL.
    #[command(subcommand)]
    Store(cli::store::StoreCommand),
    /// Alerts ([[notify]] in bolt.toml): `bolt notify test CHANNEL` sends a sample event.
    #[command(subcommand)]
    Notify(cli::notify::NotifyCommand),
    /// npm adaptors: add (from the registry or files), list, rm, bundle (for offline installs).
    #[command(subcommand)]
    Adaptor(cli::adaptor::AdaptorCommand),
    /// Manage credentials (encrypted at rest; values are never shown).
    #[command(subcommand)]
    Credential(cli::credential::CredentialCommand),
    /// A project's collections: the key-value store jobs use through the collections adaptor.
    Collections(cli::collections::CollectionsArgs),
    /// List work orders, newest first, with filters and full-text search.
    Runs(cli::runs::RunsArgs),
    /// Show a work order, run or step: runs, steps, errors, inputs and outputs.
    Show(cli::show::ShowArgs),
    /// Print the log lines of a run or step (--follow while it runs).
    Logs(cli::logs::LogsArgs),
    /// Rerun a work order from the start or from a step; or all matching work orders.
    Rerun(cli::rerun::RerunArgs),
    /// Cancel a queued or running run.
    Cancel(cli::cancel::CancelArgs),
    /// Run a workflow by hand.
    Trigger(cli::trigger::TriggerArgs),
    /// Saved inputs: save, list, rm.
    #[command(subcommand)]
    Input(cli::input::InputCommand),
    /// Failed work orders grouped by workflow, job and error: what is broken right now.
    Failures(cli::failures::FailuresArgs),
    /// Project settings (retention, zero persistence, concurrency).
    #[command(subcommand)]
    Project(cli::project::ProjectCommand),
    /// Run a job or workflow file locally, like `openfn execute` (no daemon needed).
    Execute(execute::ExecuteArgs),
    /// Run boltd in the foreground (same flags as `boltd`).
    Daemon(bolt_daemon::process::cli::DaemonArgs),
    /// Print a shell completion script (e.g. `bolt completions bash > ~/.local/share/bash-completion/completions/bolt`).
    Completions {
        /// bash, zsh or fish (also elvish, powershell).
        shell: clap_complete::Shell,
    },
    /// Print bolt's man page (roff) or a subcommand's, made from this command line
    /// (`bolt man | man -l -`, `bolt man runs`); --dir writes them all.
    Man(cli::man::ManArgs),
}

fn main() -> ExitCode {
    // `bolt runs | head` should end quietly, like any Unix tool.
    sigpipe::reset();
    let cli = Cli::parse();
    if let Err(message) = cli::terminal::init_color(cli.display.color.as_deref())
        .and_then(|()| cli.global.init_times())
    {
        bolt_client::say_err!("bolt: {message}");
        return ExitCode::from(2);
    }
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
        Some(Command::Audit(args)) => cli::exit_with(cli::audit::run(&cli.global, &args)),
        Some(Command::Access(args)) => cli::exit_with(cli::access::run(&cli.global, &args)),
        Some(Command::Backup(args)) => cli::exit_with(cli::backup::backup(&cli.global, &args)),
        Some(Command::Restore(args)) => cli::exit_with(cli::backup::restore(&cli.global, &args)),
        Some(Command::Store(command)) => cli::exit_with(cli::store::run(&cli.global, &command)),
        Some(Command::Notify(command)) => cli::exit_with(cli::notify::run(&cli.global, &command)),
        Some(Command::Adaptor(command)) => cli::exit_with(cli::adaptor::run(&cli.global, &command)),
        Some(Command::Credential(command)) => {
            cli::exit_with(cli::credential::run(&cli.global, &command))
        }
        Some(Command::Collections(args)) => {
            cli::exit_with(cli::collections::run(&cli.global, &args))
        }
        Some(Command::Runs(args)) => cli::exit_with(cli::runs::runs(&cli.global, &args)),
        Some(Command::Show(args)) => cli::exit_with(cli::show::show(&cli.global, &args)),
        Some(Command::Logs(args)) => cli::exit_with(cli::logs::logs(&cli.global, &args)),
        Some(Command::Rerun(args)) => cli::exit_with(cli::rerun::rerun(&cli.global, &args)),
        Some(Command::Cancel(args)) => cli::exit_with(cli::cancel::cancel(&cli.global, &args)),
        Some(Command::Trigger(args)) => cli::exit_with(cli::trigger::trigger(&cli.global, &args)),
        Some(Command::Input(command)) => cli::exit_with(cli::input::input(&cli.global, &command)),
        Some(Command::Failures(args)) => {
            cli::exit_with(cli::failures::failures(&cli.global, &args))
        }
        Some(Command::Project(command)) => {
            cli::exit_with(cli::project::project(&cli.global, &command))
        }
        Some(Command::Execute(args)) => execute::run(&cli.global, args),
        Some(Command::Daemon(args)) => bolt_daemon::process::cli::main(args),
        Some(Command::Completions { shell }) => {
            clap_complete::generate(shell, &mut Cli::command(), "bolt", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Some(Command::Man(args)) => cli::exit_with(cli::man::run(Cli::command(), &args)),
        None => cli::exit_with(cli::open::open(&cli.global, &cli.display, None)),
    }
}
