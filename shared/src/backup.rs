//! `bolt backup`: an online copy of the store made by boltd.

use serde::{Deserialize, Serialize};

/// Progress of a backup, sent as progress frames while boltd copies.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum BackupProgress {
    /// `pages` of the store's `total_pages` are in the copy.
    Copied { pages: u64, total_pages: u64 },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BackupReport {
    /// The file written (absolute).
    pub path: String,
    pub pages: u64,
    pub bytes: u64,
    pub millis: u64,
    /// The store's schema version in the copy (what `bolt restore` checks).
    pub schema_version: i64,
    /// Work orders and credentials in the copy.
    pub work_orders: u64,
    pub credentials: u64,
    /// The non-secret fingerprint of the key its credentials need (`None` before any
    /// key was recorded).
    pub key_check: Option<String>,
}
