//! bolt's client of boltd: the TUI (`tui`), the plain subcommands for scripts (`cli`) and
//! `bolt execute`, which runs a job locally without a daemon. `main.rs` only parses the
//! command line and hands over to these.

pub mod cli;
pub mod execute;
pub mod tui;
