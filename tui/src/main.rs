mod execute;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "bolt")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a job or workflow file locally, like `openfn execute`.
    Execute(execute::ExecuteArgs),
}

fn main() -> std::process::ExitCode {
    match Cli::parse().command {
        Command::Execute(args) => execute::run(args),
    }
}
