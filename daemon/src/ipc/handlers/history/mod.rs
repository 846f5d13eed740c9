//! Reading the history: work orders, one run in detail, dataclips, logs, failure groups.

pub mod dataclip;
pub mod failures;
pub mod list;
pub mod logs;
pub mod show;
