//! Opening the TUI: `bolt`, `bolt up`, `bolt open REF`.

use super::{CliError, Global};
use crate::tui::{ColorMode, TuiOptions};
use anyhow::anyhow;
use std::io::IsTerminal;

/// Display options shared by every way of opening the TUI.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DisplayArgs {
    /// Colours: auto (honours NO_COLOR), full, reduced (the 16 basic colours, for thin links) or none.
    #[arg(long, global = true, value_name = "MODE")]
    pub color: Option<String>,
    /// ASCII symbols instead of Unicode ones.
    #[arg(long, global = true)]
    pub ascii: bool,
}

/// Opens the TUI, at `open_ref` when given. Without a terminal, says so instead.
pub fn open(
    global: &Global,
    display: &DisplayArgs,
    open_ref: Option<String>,
) -> Result<(), CliError> {
    let resolved = global.resolve()?;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(anyhow!("the bolt TUI needs a terminal; for scripts use the subcommands (bolt --help), e.g. bolt status").into());
    }
    let mut options = TuiOptions::from_config(resolved.socket, open_ref, &resolved.config.tui)
        .map_err(|e| anyhow!("[tui] color in bolt.toml: {e}"))?;
    if let Some(text) = &display.color {
        options.color = text
            .parse::<ColorMode>()
            .map_err(|e| anyhow!("--color: {e}"))?;
    }
    options.ascii |= display.ascii;
    crate::tui::run(options)?;
    Ok(())
}
