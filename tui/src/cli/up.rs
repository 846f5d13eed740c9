//! `bolt up`: the one command a newcomer runs. Starts boltd if needed, makes sure there is
//! a project to look at, then opens the TUI.

use super::{CliError, Global, daemon_cmd};
use bolt_shared::client::Client;

/// The example project, built in so `bolt up` works from anywhere.
pub const EXAMPLE_PROJECT: &str = include_str!("../../../config/example-project.yaml");

#[derive(clap::Args, Debug)]
pub struct UpArgs {
    /// Start the daemon and deploy the example, but don't open the TUI.
    #[arg(long)]
    pub no_tui: bool,
}

pub fn run(
    global: &Global,
    display: &super::open::DisplayArgs,
    args: &UpArgs,
) -> Result<(), CliError> {
    let resolved = global.resolve()?;
    let mut client = match Client::connect(&resolved.socket) {
        Ok(client) => {
            crate::say_err!("boltd is already running at {}", resolved.socket.display());
            client
        }
        Err(err) if err.is_not_running() => {
            crate::say_err!("starting boltd (data dir {})", resolved.data_dir.display());
            daemon_cmd::spawn_background(&resolved)?
        }
        Err(err) => return Err(err.into()),
    };
    let status = client.status()?;
    if status.projects == 0 {
        let report = super::projects::deploy_text(
            &mut client,
            EXAMPLE_PROJECT.to_string(),
            "config/example-project.yaml (built in)".into(),
            Default::default(),
            false,
        )?;
        crate::say!(
            "deployed the example project `{}` ({} changes)",
            report.project,
            report.changes.len()
        );
    }
    let status = client.status()?;
    crate::say!("{}", super::status::describe(&status));
    for workflow in super::projects::fetch_workflows(&mut client)? {
        for trigger in &workflow.triggers {
            crate::say!(
                "  {}: {}",
                workflow.name,
                super::projects::trigger_summary(trigger)
            );
        }
    }
    if args.no_tui {
        return Ok(());
    }
    drop(client);
    super::open::open(global, display, None)
}
