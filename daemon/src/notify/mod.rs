//! Alerts: `[[notify]]` channels in bolt.toml told of failed runs, changed workflows and a
//! degraded boltd.
//!
//! Nothing here ever holds up a run or a change: events are written into the store in the
//! same transaction as what they tell of ([`events`]), and this background task fans them
//! out to the channels, applies the rate limit and digests ([`queue`]), and delivers with
//! retries and exponential backoff ([`deliver`]). Only while the store refuses writes are
//! `boltd_degraded` alerts held in memory ([`degraded`]).

pub mod degraded;
pub mod deliver;
pub mod events;
pub mod queue;
mod sample;

use crate::daemon::Daemon;
use crate::store::from_micros;
use bolt_shared::notify::{ChannelStatus, NotifyStatus, NotifyTestReport};
use bolt_shared::notify_config::NotifyChannel;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How often the queue is looked at when nothing wakes the notifier.
const TICK: Duration = Duration::from_secs(1);
/// Deliveries attempted at once, at most…
const BATCH: usize = 16;
/// …and at most this many to one channel, so a stuck one can't take every slot.
const PER_CHANNEL: usize = 4;
/// Due deliveries looked at per round (oldest first), to find some for every channel.
const LOOK_AHEAD: usize = 256;

/// The notifier's state shared with the rest of the daemon.
#[derive(Default)]
pub struct Notifier {
    wake: tokio::sync::Notify,
    pub degraded: degraded::Held,
    /// Deliveries being attempted now (id → channel), so none is picked twice.
    in_flight: std::sync::Mutex<HashMap<i64, String>>,
}

impl Notifier {
    fn in_flight(&self) -> HashMap<i64, String> {
        self.in_flight.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn take_on(&self, id: i64, channel: &str) {
        if let Ok(mut set) = self.in_flight.lock() {
            set.insert(id, channel.to_string());
        }
    }

    fn done_with(&self, id: i64) {
        if let Ok(mut set) = self.in_flight.lock() {
            set.remove(&id);
        }
        self.wake();
    }

    /// Asks for a look at the queue now (after events were written).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The background task: runs until boltd stops. Deliveries left are sent after the next
/// start (they are in the store).
pub async fn run(daemon: Arc<Daemon>) {
    let mut stopping = daemon.shutdown_signal();
    let mut health = daemon.store.health.subscribe();
    let mut disk = degraded::DiskWatch::new(&daemon.data_dir);
    // The first round also tidies up (channels removed from bolt.toml, old deliveries).
    let mut tidy = true;
    loop {
        degraded::check(&daemon, &mut disk).await;
        if daemon.store.health.writable() {
            if let Err(err) = round(&daemon, tidy).await {
                tracing::warn!(%err, "alerts: could not read or update the delivery queue; trying again");
            } else {
                tidy = false;
            }
        } else {
            degraded::deliver_held(&daemon).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = daemon.notifier.wake.notified() => {}
            _ = health.changed() => {}
            _ = stopping.changed() => break,
        }
    }
}

/// One look at the queue: new events fanned out, ended windows digested, due deliveries made.
async fn round(daemon: &Arc<Daemon>, tidy: bool) -> crate::store::StoreResult<()> {
    let channels = daemon.config.notify.clone();
    degraded::store_held(daemon).await?;
    let pending = {
        let channels = channels.clone();
        daemon
            .store
            .readers
            .read(move |conn| queue::has_work(conn, &channels))
            .await?
    };
    if pending || tidy {
        let channels = channels.clone();
        daemon
            .store
            .writer
            .write(move |tx| queue::fan_out(tx, &channels))
            .await?;
    }
    if channels.is_empty() {
        return Ok(());
    }
    // Each delivery goes on its own: a channel that is slow to answer holds up only its
    // own alerts, never another channel's or the next look at the queue.
    let busy = daemon.notifier.in_flight();
    if busy.len() >= BATCH {
        return Ok(());
    }
    let mut per_channel: HashMap<String, usize> = HashMap::new();
    for channel in busy.values() {
        *per_channel.entry(channel.clone()).or_default() += 1;
    }
    let due = daemon
        .store
        .readers
        .read(|conn| queue::due(conn, LOOK_AHEAD))
        .await?;
    let mut started = busy.len();
    for item in due {
        if started >= BATCH {
            break;
        }
        let taken = per_channel.entry(item.channel.clone()).or_default();
        if busy.contains_key(&item.id) || *taken >= PER_CHANNEL {
            continue;
        }
        *taken += 1;
        started += 1;
        daemon.notifier.take_on(item.id, &item.channel);
        tokio::spawn(attempt(daemon.clone(), item));
    }
    Ok(())
}

/// One try of one delivery, and its outcome written down.
async fn attempt(daemon: Arc<Daemon>, item: queue::Due) {
    let outcome = match find(&daemon.config.notify, &item.channel) {
        Some((index, channel)) => {
            let at = format!("[[notify]] {}", channel.key(index));
            deliver::deliver(&daemon, channel, &at, &item.payload).await
        }
        None => Err("the channel is no longer in bolt.toml".into()),
    };
    if let Err(error) = &outcome {
        tracing::warn!(channel = %item.channel, attempt = item.attempts + 1, %error, "alert not delivered; it is tried again later");
    }
    let id = item.id;
    let recorded = daemon
        .store
        .writer
        .write(move |tx| queue::record_attempt(tx, &item, &outcome))
        .await;
    if let Err(err) = recorded {
        // It stays due: it is sent again once the store takes writes.
        tracing::warn!(%err, "alerts: could not record a delivery attempt");
    }
    daemon.notifier.done_with(id);
}

/// The channel a key names: its `name`, or `#N` / `N` for the N-th `[[notify]]` entry.
pub fn find<'a>(channels: &'a [NotifyChannel], key: &str) -> Option<(usize, &'a NotifyChannel)> {
    if let Some(found) = channels
        .iter()
        .enumerate()
        .find(|(i, c)| c.key(*i) == key || c.name.as_deref() == Some(key))
    {
        return Some(found);
    }
    let number: usize = key.trim_start_matches('#').parse().ok()?;
    let index = number.checked_sub(1)?;
    channels.get(index).map(|c| (index, c))
}

/// `bolt notify test CHANNEL`: a sample event sent through the channel right away (no
/// queue, no rate limit), and how it went.
pub async fn test(daemon: &Arc<Daemon>, key: &str) -> Result<NotifyTestReport, String> {
    let channels = &daemon.config.notify;
    let Some((index, channel)) = find(channels, key) else {
        let known: Vec<String> = channels.iter().enumerate().map(|(i, c)| c.key(i)).collect();
        return Err(if known.is_empty() {
            "no [[notify]] channels are set in boltd's bolt.toml: add one and restart boltd".into()
        } else {
            format!(
                "no [[notify]] channel `{key}`: the channels are {} (a name, or #N for the N-th [[notify]] entry)",
                known.join(", ")
            )
        });
    };
    let event = sample::event(channel);
    let at = format!("[[notify]] {}", channel.key(index));
    let outcome = deliver::deliver(daemon, channel, &at, &event.to_string()).await;
    Ok(NotifyTestReport {
        channel: channel.key(index),
        kind: channel.kind().as_str().into(),
        target: channel.target(),
        delivered: outcome.is_ok(),
        error: outcome.err(),
        event,
    })
}

/// The channels and their queues, for `bolt status`.
pub async fn status(daemon: &Arc<Daemon>) -> NotifyStatus {
    let channels = &daemon.config.notify;
    let degraded_in_memory = daemon.notifier.degraded.len() as u64;
    if channels.is_empty() {
        return NotifyStatus {
            degraded_in_memory,
            ..NotifyStatus::default()
        };
    }
    let (counts, unsorted) = daemon
        .store
        .readers
        .read(|conn| queue::counts(conn))
        .await
        .unwrap_or_else(|err| {
            tracing::warn!(%err, "status: the alert queue could not be read");
            Default::default()
        });
    NotifyStatus {
        channels: channels
            .iter()
            .enumerate()
            .map(|(index, channel)| {
                let key = channel.key(index);
                let counts = counts.get(&key).cloned().unwrap_or_default();
                ChannelStatus {
                    kind: channel.kind().as_str().into(),
                    target: channel.target(),
                    on: channel.on.clone(),
                    pending: counts.pending,
                    retrying: counts.retrying,
                    held: counts.held,
                    failed: counts.failed,
                    delivered: counts.delivered,
                    last_delivered_at: counts.last_delivered.map(from_micros),
                    last_error_at: counts.last_error.as_ref().map(|(at, _)| from_micros(*at)),
                    last_error: counts.last_error.map(|(_, error)| error),
                    channel: key,
                }
            })
            .collect(),
        unsorted,
        degraded_in_memory,
    }
}
