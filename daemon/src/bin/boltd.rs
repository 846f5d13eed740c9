//! boltd: the bolt daemon.

use clap::Parser;

fn main() -> std::process::ExitCode {
    bolt_daemon::process::cli::main(bolt_daemon::process::cli::DaemonArgs::parse())
}
