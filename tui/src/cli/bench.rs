//! `bolt bench …`: benchmarks that print figures (never timed tests).

use super::CliError;

#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
    /// Bytes the TUI writes to the terminal per action (120×40 history view).
    Tui,
}

pub fn run(command: &BenchCommand) -> Result<(), CliError> {
    match command {
        BenchCommand::Tui => print!("{}", crate::tui::measure_bytes()?),
    }
    Ok(())
}
