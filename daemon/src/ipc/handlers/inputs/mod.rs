//! Saved inputs: `bolt input save|list|rm`.

pub mod list;
pub mod remove;
pub mod save;
