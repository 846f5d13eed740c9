//! Alerts as `bolt status` and `bolt notify test` show them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The alert channels and their queues.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NotifyStatus {
    pub channels: Vec<ChannelStatus>,
    /// Events written but not yet matched to channels.
    #[serde(default)]
    pub unsorted: u64,
    /// `boltd_degraded` alerts boltd holds in memory because the store refuses writes.
    #[serde(default)]
    pub degraded_in_memory: u64,
}

impl NotifyStatus {
    /// Deliveries still to make, over every channel.
    pub fn queued(&self) -> u64 {
        self.unsorted
            + self.degraded_in_memory
            + self
                .channels
                .iter()
                .map(|c| c.pending + c.held)
                .sum::<u64>()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ChannelStatus {
    /// Its name, or `#N` (its place in bolt.toml).
    pub channel: String,
    /// command, webhook or email.
    pub kind: String,
    /// The program, URL (without query or password) or address.
    pub target: String,
    pub on: Vec<String>,
    /// Waiting to be sent (first try or a retry).
    pub pending: u64,
    /// Of those, how many failed at least once and wait for a retry.
    pub retrying: u64,
    /// Held back by the rate limit, for the digest at the end of the window.
    pub held: u64,
    /// Given up on after every retry failed.
    pub failed: u64,
    /// Delivered (in the last 7 days).
    pub delivered: u64,
    pub last_delivered_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// What `bolt notify test` got.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NotifyTestReport {
    pub channel: String,
    pub kind: String,
    pub target: String,
    pub delivered: bool,
    /// Why not, when not delivered.
    pub error: Option<String>,
    /// The sample event that was sent.
    pub event: serde_json::Value,
}
