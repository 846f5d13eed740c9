//! `boltd_degraded`: the store refusing writes, or the data dir's disk nearly full.
//!
//! A nearly full disk still takes writes, so its alert goes through the queue like any
//! other. A store refusing writes can't queue anything: that alert is held in memory and
//! sent from there (with the same backoff) until every channel has it or the store takes
//! writes again, when what is left moves into the queue.

use super::{deliver, queue};
use crate::daemon::Daemon;
use crate::store::{from_micros, now_micros};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Nearly full: less than this share of the filesystem is free…
const NEARLY_FULL_PERCENT: u64 = 5;
/// …or less than this many bytes.
const NEARLY_FULL_BYTES: u64 = 1024 * 1024 * 1024;
/// Test hook: the free bytes under which the disk counts as nearly full (instead of the
/// two limits above).
pub const ENV_NEARLY_FULL_BYTES: &str = "BOLT_NOTIFY_NEARLY_FULL_BYTES";
/// How often free space is looked at.
const DISK_CHECK: Duration = Duration::from_secs(60);

/// An alert waiting in memory, and the channels (by index) that still need it.
struct HeldAlert {
    payload: Value,
    channels: Vec<usize>,
    attempts: i64,
    next: Instant,
}

/// `boltd_degraded` alerts held in memory while the store refuses writes.
#[derive(Default)]
pub struct Held {
    alerts: Mutex<Vec<HeldAlert>>,
    /// The store fault count last alerted on, so one fault gives one alert.
    alerted_fault: Mutex<u64>,
}

impl Held {
    /// Deliveries still held.
    pub fn len(&self) -> usize {
        self.alerts
            .lock()
            .map(|a| a.iter().map(|h| h.channels.len()).sum())
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Free space of the data dir's filesystem, looked at now and then.
pub struct DiskWatch {
    dir: PathBuf,
    last: Option<Instant>,
    /// Alerted and not yet back above twice the limit.
    alerted: bool,
}

impl DiskWatch {
    pub fn new(dir: &Path) -> DiskWatch {
        DiskWatch {
            dir: dir.to_path_buf(),
            last: None,
            alerted: false,
        }
    }
}

/// Looks at the store's health and the disk; queues or holds an alert when either turns bad.
pub async fn check(daemon: &Arc<Daemon>, disk: &mut DiskWatch) {
    let wanted: Vec<usize> = daemon
        .config
        .notify
        .iter()
        .enumerate()
        .filter(|(_, c)| c.wants("boltd_degraded", None))
        .map(|(i, _)| i)
        .collect();
    if wanted.is_empty() {
        return;
    }
    if let Some(refusal) = daemon.store.health.refusal() {
        let faults = daemon.store.health.faults();
        let held = &daemon.notifier.degraded;
        let new_fault = held
            .alerted_fault
            .lock()
            .map(|mut seen| {
                let new = *seen != faults;
                *seen = faults;
                new
            })
            .unwrap_or(false);
        if new_fault {
            let payload = json!({
                "event": "boltd_degraded",
                "summary": format!("boltd refuses writes: {}", refusal.explain()),
                "time": from_micros(now_micros()),
                "reason": "store_refusing_writes",
                "since": refusal.since,
                "detail": refusal.explain(),
                "advice": refusal.advice,
                "data_dir": daemon.data_dir.display().to_string(),
            });
            if let Ok(mut alerts) = held.alerts.lock() {
                alerts.push(HeldAlert {
                    payload,
                    channels: wanted.clone(),
                    attempts: 0,
                    next: Instant::now(),
                });
            }
        }
    }
    if disk.last.is_some_and(|at| at.elapsed() < DISK_CHECK) {
        return;
    }
    disk.last = Some(Instant::now());
    let Some((free, total)) = free_space(&disk.dir) else {
        return;
    };
    let limit = nearly_full_limit(total);
    if free >= limit.saturating_mul(2) {
        disk.alerted = false;
    }
    if free >= limit || disk.alerted || !daemon.store.health.writable() {
        return;
    }
    let payload = json!({
        "event": "boltd_degraded",
        "summary": format!(
            "the disk of boltd's data dir is nearly full: {} MiB free of {} MiB",
            free / (1024 * 1024), total / (1024 * 1024)
        ),
        "time": from_micros(now_micros()),
        "reason": "disk_nearly_full",
        "free_bytes": free,
        "total_bytes": total,
        "data_dir": daemon.data_dir.display().to_string(),
        "advice": format!("free space on the filesystem of {} (`df -h {}`): boltd stops storing anything when it is full", disk.dir.display(), disk.dir.display()),
    });
    let recorded = daemon
        .store
        .writer
        .write(move |tx| super::events::record(tx, "boltd_degraded", None, &payload))
        .await;
    match recorded {
        Ok(()) => disk.alerted = true,
        Err(err) => tracing::warn!(%err, "alerts: could not queue the nearly-full-disk alert"),
    }
}

/// The free bytes under which the disk is nearly full.
fn nearly_full_limit(total: u64) -> u64 {
    if let Some(limit) = std::env::var(ENV_NEARLY_FULL_BYTES)
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return limit;
    }
    (total / 100 * NEARLY_FULL_PERCENT).min(NEARLY_FULL_BYTES)
}

/// (bytes free to unprivileged users, bytes in all) of the filesystem holding `dir`.
fn free_space(dir: &Path) -> Option<(u64, u64)> {
    let stat = nix::sys::statvfs::statvfs(dir).ok()?;
    let block = stat.fragment_size() as u64;
    Some((
        (stat.blocks_available() as u64).saturating_mul(block),
        (stat.blocks() as u64).saturating_mul(block),
    ))
}

/// While the store refuses writes: sends the held alerts that are due.
pub async fn deliver_held(daemon: &Arc<Daemon>) {
    let due: Vec<(usize, Value, Vec<usize>)> = match daemon.notifier.degraded.alerts.lock() {
        Ok(alerts) => alerts
            .iter()
            .enumerate()
            .filter(|(_, a)| a.next <= Instant::now())
            .map(|(i, a)| (i, a.payload.clone(), a.channels.clone()))
            .collect(),
        Err(_) => return,
    };
    for (slot, payload, channels) in due {
        let body = payload.to_string();
        let mut left = Vec::new();
        for index in channels {
            let Some(channel) = daemon.config.notify.get(index) else {
                continue;
            };
            let at = format!("[[notify]] {}", channel.key(index));
            if let Err(error) = deliver::deliver(daemon, channel, &at, &body).await {
                tracing::warn!(channel = %channel.key(index), %error, "boltd_degraded alert not delivered; tried again later");
                left.push(index);
            }
        }
        if let Ok(mut alerts) = daemon.notifier.degraded.alerts.lock()
            && let Some(alert) = alerts.get_mut(slot)
        {
            alert.attempts += 1;
            alert.channels = left;
            alert.next =
                Instant::now() + Duration::from_secs(queue::backoff_secs(alert.attempts) as u64);
        }
    }
    if let Ok(mut alerts) = daemon.notifier.degraded.alerts.lock() {
        alerts.retain(|a| !a.channels.is_empty() && a.attempts < queue::MAX_ATTEMPTS);
    }
}

/// Once the store takes writes again: moves what is still held into the queue.
pub async fn store_held(daemon: &Arc<Daemon>) -> crate::store::StoreResult<()> {
    let held: Vec<HeldAlert> = match daemon.notifier.degraded.alerts.lock() {
        Ok(mut alerts) if !alerts.is_empty() => std::mem::take(&mut *alerts),
        _ => return Ok(()),
    };
    let channels = daemon.config.notify.clone();
    let items: Vec<(Vec<usize>, String)> = held
        .iter()
        .map(|a| (a.channels.clone(), a.payload.to_string()))
        .collect();
    let stored = daemon
        .store
        .writer
        .write(move |tx| {
            for (indices, payload) in &items {
                for index in indices {
                    queue::queue_for(tx, &channels, *index, "boltd_degraded", payload)?;
                }
            }
            Ok(())
        })
        .await;
    if stored.is_err()
        && let Ok(mut alerts) = daemon.notifier.degraded.alerts.lock()
    {
        alerts.extend(held);
    }
    stored
}
