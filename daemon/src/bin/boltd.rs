//! boltd: the bolt daemon.

use clap::Parser;

fn main() -> std::process::ExitCode {
    bolt_daemon::cli::main(bolt_daemon::cli::DaemonArgs::parse())
}
