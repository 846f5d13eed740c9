//! `bolt up`: the one command a newcomer runs. Starts boltd if needed, makes sure there is
//! a project to look at, then opens the TUI.

use super::{CliError, Global, daemon_cmd};
use bolt_shared::client::Client;

#[derive(clap::Args, Debug)]
pub struct UpArgs {
    /// Start the daemon and deploy the example, but don't open the TUI.
    #[arg(long)]
    pub no_tui: bool,
}

pub fn run(global: &Global, args: &UpArgs) -> Result<(), CliError> {
    let resolved = global.resolve()?;
    let mut client = match Client::connect(&resolved.socket) {
        Ok(client) => {
            eprintln!("boltd is already running at {}", resolved.socket.display());
            client
        }
        Err(err) if err.is_not_running() => {
            eprintln!("starting boltd (data dir {})", resolved.data_dir.display());
            daemon_cmd::spawn_background(&resolved)?
        }
        Err(err) => return Err(err.into()),
    };
    let status = client.status()?;
    println!("{}", super::status::describe(&status));
    let _ = args.no_tui;
    Ok(())
}
