mod bench_engine;
mod execute;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "bolt")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once at start-up
enum Command {
    /// Run a job or workflow file locally, like `openfn execute`.
    Execute(execute::ExecuteArgs),
    /// Temporary: `bolt bench-engine [--node-dir DIR]` (the lead wires `bolt bench engine`).
    #[command(name = "bench-engine")]
    BenchEngine {
        #[arg(long = "node-dir")]
        node_dir: Option<std::path::PathBuf>,
    },
}

fn main() -> std::process::ExitCode {
    match Cli::parse().command {
        Command::Execute(args) => execute::run(args),
        // bench_engine() reads --node-dir itself, as the lead's `bolt bench engine` will call it.
        Command::BenchEngine { node_dir: _ } => match bench_engine::bench_engine() {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bench failed: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}
