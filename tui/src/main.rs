//! bolt: the terminal client of boltd — the TUI and plain subcommands for scripts.

mod cli;

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
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start boltd if it isn't running, deploy the example project into an empty store, open the TUI.
    Up(cli::up::UpArgs),
    /// Show the daemon's version, uptime, data dir, queue and counts.
    Status(cli::status::StatusArgs),
    /// Validate a project.yaml, show what changes, and apply it in one transaction.
    Deploy(cli::projects::DeployArgs),
    /// Write a deployed project back as project.yaml.
    Export(cli::projects::ExportArgs),
    /// List workflows with their webhook URLs and cron schedules.
    Workflows(cli::projects::WorkflowsArgs),
    /// Manage credentials (encrypted at rest; values are never shown).
    #[command(subcommand)]
    Credential(cli::credential::CredentialCommand),
    /// Run boltd in the foreground (same flags as `boltd`).
    Daemon(bolt_daemon::cli::DaemonArgs),
}

fn main() -> ExitCode {
    // `bolt runs | head` should end quietly, like any Unix tool.
    sigpipe::reset();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Up(args)) => cli::exit_with(cli::up::run(&cli.global, &args)),
        Some(Command::Status(args)) => cli::exit_with(cli::status::run(&cli.global, &args)),
        Some(Command::Deploy(args)) => cli::exit_with(cli::projects::deploy(&cli.global, &args)),
        Some(Command::Export(args)) => cli::exit_with(cli::projects::export(&cli.global, &args)),
        Some(Command::Workflows(args)) => {
            cli::exit_with(cli::projects::workflows(&cli.global, &args))
        }
        Some(Command::Credential(command)) => {
            cli::exit_with(cli::credential::run(&cli.global, &command))
        }
        Some(Command::Daemon(args)) => bolt_daemon::cli::main(args),
        None => cli::exit_with(cli::status::run(
            &cli.global,
            &cli::status::StatusArgs { json: false },
        )),
    }
}
