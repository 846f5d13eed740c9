//! Credential requests. Values go in; only names and keys come out.

pub mod list;
pub mod remove;
pub mod rotate_key;
pub mod set;
pub mod show;
pub mod update;
