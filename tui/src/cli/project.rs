//! `bolt project set`: a project's retention and concurrency settings.

use super::history::*;
use super::{CliError, Global};
use anyhow::bail;
use bolt_shared::protocol::{ProjectSettings, Request};

#[derive(clap::Subcommand, Debug)]
pub enum ProjectCommand {
    /// Change retention and concurrency settings of a project.
    Set {
        /// Project name (needed only when there are several).
        #[arg(long)]
        project: Option<String>,
        /// Delete work orders older than this many days ("none" keeps them).
        #[arg(long, value_name = "DAYS|none")]
        history_retention_days: Option<String>,
        /// Wipe input/output bodies older than this many days ("none" keeps them).
        #[arg(long, value_name = "DAYS|none")]
        dataclip_retention_days: Option<String>,
        /// retain_all, or erase_all (zero persistence: inputs wiped once read, outputs never stored).
        #[arg(long)]
        retention_policy: Option<String>,
        /// Runs of this project at once ("none" = no limit).
        #[arg(long, value_name = "N|none")]
        concurrency: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

fn days(text: &Option<String>, flag: &str) -> anyhow::Result<Option<Option<u32>>> {
    match text.as_deref() {
        None => Ok(None),
        Some("none") => Ok(Some(None)),
        Some(n) => match n.parse::<u32>() {
            Ok(n) if n > 0 => Ok(Some(Some(n))),
            _ => bail!("{flag} takes a whole number above 0, or none"),
        },
    }
}

pub fn project(global: &Global, command: &ProjectCommand) -> Result<(), CliError> {
    let ProjectCommand::Set {
        project,
        history_retention_days,
        dataclip_retention_days,
        retention_policy,
        concurrency,
        json,
    } = command;
    let settings = ProjectSettings {
        history_retention_days: days(history_retention_days, "--history-retention-days")?,
        dataclip_retention_days: days(dataclip_retention_days, "--dataclip-retention-days")?,
        retention_policy: retention_policy.clone(),
        concurrency: days(concurrency, "--concurrency")?,
    };
    print_done(
        global,
        Request::SetProjectSettings {
            project: project.clone(),
            settings,
        },
        *json,
        &[("project", project.as_deref().unwrap_or(""))],
    )
}
