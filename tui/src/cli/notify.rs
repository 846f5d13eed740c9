//! `bolt notify test CHANNEL`: boltd sends a sample event through one `[[notify]]` channel
//! and says whether it got there.

use super::{CliError, Global, output};
use anyhow::anyhow;
use bolt_shared::protocol::{Request, Response};

#[derive(clap::Subcommand, Debug)]
pub enum NotifyCommand {
    /// Send a sample event through a channel now (no queue, no rate limit) and report the result.
    Test {
        /// The channel's `name`, or its place among the [[notify]] entries (1 or #1).
        channel: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(global: &Global, command: &NotifyCommand) -> Result<(), CliError> {
    let NotifyCommand::Test { channel, json } = command;
    let mut client = global.connect()?;
    let report = match client.request(Request::NotifyTest {
        channel: channel.clone(),
    })? {
        Response::NotifyTested(report) => report,
        other => return Err(anyhow!("unexpected answer: {other:?}").into()),
    };
    if *json {
        output::print_json(&report)?;
    } else if report.delivered {
        crate::say!(
            "delivered a sample {} event through {} ({} {})",
            report.event["event"].as_str().unwrap_or("event"),
            report.channel,
            report.kind,
            report.target
        );
    }
    if report.delivered {
        Ok(())
    } else {
        Err(anyhow!(
            "the sample event did not reach {} ({} {}): {}",
            report.channel,
            report.kind,
            report.target,
            report.error.as_deref().unwrap_or("unknown error")
        )
        .into())
    }
}
