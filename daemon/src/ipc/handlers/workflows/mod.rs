//! Deployed workflows: listing them, one in detail, switching them on and off, editing a
//! job or the constants from the TUI, and their version history.

pub mod diff;
pub mod get;
pub mod list;
pub mod rollback;
pub mod set_constants;
pub mod set_enabled;
pub mod update_job;
pub mod versions;
