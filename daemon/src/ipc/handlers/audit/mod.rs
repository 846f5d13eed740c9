//! `bolt audit` and `bolt audit verify`: the audit log and its hash chain.

pub mod list;
pub mod verify;
