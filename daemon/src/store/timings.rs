//! How long the store's durable writes take, since boltd started: each write that reached
//! the disk, from being queued to being answered (every write counts: webhook intake, a
//! run's records, deploys; a webhook's 200 waits for one), and each `fdatasync` of the WAL
//! (the disk's share of it). `bolt status` shows both, so a slow or struggling disk is
//! visible without a profiler.

use bolt_shared::model::{Latencies, StoreTimings};
use hdrhistogram::Histogram;
use std::sync::Mutex;
use std::time::Duration;

/// Longest duration kept apart (longer ones count as this): an hour, in microseconds.
const LONGEST_US: u64 = 3_600_000_000;

pub struct Timings {
    writes: Mutex<Histogram<u64>>,
    syncs: Mutex<Histogram<u64>>,
    /// The same durations in buckets, for `GET /metrics`.
    pub prometheus_writes: prometheus::Histogram,
    pub prometheus_syncs: prometheus::Histogram,
}

impl Default for Timings {
    fn default() -> Self {
        let (prometheus_writes, prometheus_syncs) = crate::metrics::store_histograms();
        Timings {
            writes: Mutex::new(histogram()),
            syncs: Mutex::new(histogram()),
            prometheus_writes,
            prometheus_syncs,
        }
    }
}

/// Microseconds from 1 µs to an hour, to 2 significant digits (±1%).
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LONGEST_US, 2).expect("valid histogram bounds")
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

impl Timings {
    /// Records how long each write of a durable batch waited, from being queued to being
    /// answered.
    pub fn record_writes(&self, waits: impl Iterator<Item = Duration>) {
        if let Ok(mut writes) = self.writes.lock() {
            for wait in waits {
                writes.saturating_record(micros(wait).max(1));
                self.prometheus_writes.observe(wait.as_secs_f64());
            }
        }
    }

    /// Records one `fdatasync` of the WAL.
    pub fn record_sync(&self, took: Duration) {
        if let Ok(mut syncs) = self.syncs.lock() {
            syncs.saturating_record(micros(took).max(1));
        }
        self.prometheus_syncs.observe(took.as_secs_f64());
    }

    pub fn summary(&self) -> StoreTimings {
        let latencies = |histogram: &Mutex<Histogram<u64>>| {
            histogram
                .lock()
                .map(|h| Latencies {
                    count: h.len(),
                    p50_us: h.value_at_quantile(0.50),
                    p99_us: h.value_at_quantile(0.99),
                    max_us: h.max(),
                })
                .unwrap_or_default()
        };
        StoreTimings {
            writes: latencies(&self.writes),
            wal_syncs: latencies(&self.syncs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_what_was_recorded() {
        let timings = Timings::default();
        assert_eq!(timings.summary(), StoreTimings::default());
        timings.record_writes((1..=100).map(Duration::from_millis));
        timings.record_sync(Duration::from_micros(700));
        timings.record_sync(Duration::from_secs(7200));
        let summary = timings.summary();
        assert_eq!(summary.writes.count, 100);
        // Two significant digits: within 1% of the exact value.
        assert!(
            (49_500..=50_500).contains(&summary.writes.p50_us),
            "{summary:?}"
        );
        assert!(
            (98_000..=100_000).contains(&summary.writes.p99_us),
            "{summary:?}"
        );
        assert!(
            (99_000..=101_000).contains(&summary.writes.max_us),
            "{summary:?}"
        );
        assert_eq!(summary.wal_syncs.count, 2);
        // Longer than an hour counts as an hour rather than being lost.
        assert!(
            summary.wal_syncs.max_us >= LONGEST_US * 99 / 100,
            "{summary:?}"
        );
    }
}
