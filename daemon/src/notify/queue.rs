//! The delivery queue: events fanned out to the channels that want them, the rate limit
//! (at most `max_per_window` per workflow per window, the rest held for one digest when the
//! window ends), retries with exponential backoff, and what `bolt status` shows of it.

use crate::store::notify::{FailedAttempt, NewDelivery, QueuedEvent};
use crate::store::{self, StoreResult, from_micros, now_micros};
use bolt_shared::notify_config::NotifyChannel;
use bolt_sql::Db;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Deliveries tried at most this many times before they are given up on (the waits
/// between them double from [`FIRST_RETRY_SECS`] up to [`LONGEST_RETRY_SECS`]: about five
/// hours in all).
pub const MAX_ATTEMPTS: i64 = 12;
const FIRST_RETRY_SECS: i64 = 5;
const LONGEST_RETRY_SECS: i64 = 3600;
/// Finished deliveries are kept this long for `bolt status`.
const KEEP_FINISHED_SECS: i64 = 7 * 24 * 3600;
/// Most held-back events a digest lists one by one (it counts them all).
const DIGEST_ITEMS: usize = 20;

const MICROS: i64 = 1_000_000;

/// Events sorted per transaction of [`fan_out`].
const FAN_OUT_BATCH: i64 = 500;

pub use crate::store::notify::Due;

/// Turns queued events into deliveries and closes ended windows with their digests; one
/// transaction on the writer. Returns whether there is anything new to deliver.
pub fn fan_out(db: &dyn Db, channels: &[NotifyChannel]) -> StoreResult<bool> {
    let now = now_micros();
    let mut queued = close_windows(db, channels, now)?;
    for QueuedEvent {
        id,
        event,
        workflow_key: key,
        workflow_name: name,
        payload,
    } in store::notify::queued_events(db, FAN_OUT_BATCH)?
    {
        let workflow = key.as_deref().zip(name.as_deref());
        for (index, channel) in channels.iter().enumerate() {
            if channel.wants(&event, workflow) {
                admit(
                    db,
                    channel,
                    &channel.key(index),
                    &event,
                    key.as_deref().unwrap_or(""),
                    &payload,
                    now,
                )?;
                queued = true;
            }
        }
        store::notify::delete_event(db, id)?;
    }
    forget_removed_channels(db, channels, now)?;
    store::notify::delete_finished_before(db, now - KEEP_FINISHED_SECS * MICROS)?;
    Ok(queued)
}

/// Whether [`fan_out`] has anything to do: events to sort, or a window that has ended.
pub fn has_work(db: &dyn Db, channels: &[NotifyChannel]) -> StoreResult<bool> {
    if store::notify::any_events(db)? {
        return Ok(true);
    }
    let now = now_micros();
    Ok(store::notify::windows(db)?.iter().any(|open| {
        let window = channels
            .iter()
            .enumerate()
            .find(|(i, c)| c.key(*i) == open.channel)
            .map_or(0, |(_, c)| c.window_secs as i64);
        open.started_at + window * MICROS <= now
    }))
}

/// Queues `event` for the channel at `index` (under the rate limit), bypassing the event
/// table: for alerts boltd held in memory while the store refused writes.
pub fn queue_for(
    db: &dyn Db,
    channels: &[NotifyChannel],
    index: usize,
    event: &str,
    payload: &str,
) -> StoreResult<()> {
    let Some(channel) = channels.get(index) else {
        return Ok(());
    };
    admit(
        db,
        channel,
        &channel.key(index),
        event,
        "",
        payload,
        now_micros(),
    )
}

/// Queues one event for one channel, or holds it for the digest when the channel's window
/// for this workflow is full.
fn admit(
    db: &dyn Db,
    channel: &NotifyChannel,
    key: &str,
    event: &str,
    workflow_key: &str,
    payload: &str,
    now: i64,
) -> StoreResult<()> {
    let window_ends = |started: i64| started + channel.window_secs as i64 * MICROS;
    // A window that can't be read counts as ended: a new one starts.
    let open = store::notify::window(db, key, workflow_key)
        .ok()
        .flatten()
        .filter(|open| window_ends(open.started_at) > now);
    let state = match open {
        Some(open) if open.sent >= i64::from(channel.max_per_window) => "held",
        Some(_) => {
            store::notify::count_sent(db, key, workflow_key)?;
            "pending"
        }
        None => {
            store::notify::open_window(db, key, workflow_key, now)?;
            "pending"
        }
    };
    store::notify::insert_delivery(
        db,
        &NewDelivery {
            channel: key,
            event,
            workflow_key,
            payload,
            state,
            at: now,
        },
    )
}

/// Ends the windows whose time is up; a window that held events back queues one digest of
/// them. Returns whether it queued any.
fn close_windows(db: &dyn Db, channels: &[NotifyChannel], now: i64) -> StoreResult<bool> {
    let mut queued = false;
    for store::notify::Window {
        channel: key,
        workflow_key,
        started_at: started,
        ..
    } in store::notify::windows(db)?
    {
        let channel = channels
            .iter()
            .enumerate()
            .find(|(i, c)| c.key(*i) == key)
            .map(|(_, c)| c);
        let ends = started + channel.map_or(0, |c| c.window_secs as i64 * MICROS);
        if ends > now {
            continue;
        }
        if let Some(channel) = channel {
            queued |= queue_digest(db, channel, &key, &workflow_key, started, now)?;
        }
        store::notify::close_window(db, &key, &workflow_key)?;
    }
    Ok(queued)
}

fn queue_digest(
    db: &dyn Db,
    channel: &NotifyChannel,
    key: &str,
    workflow_key: &str,
    started: i64,
    now: i64,
) -> StoreResult<bool> {
    let held = store::notify::held(db, key, workflow_key)?;
    let (Some(first), Some(last)) = (held.first(), held.last()) else {
        return Ok(false);
    };
    let mut by_event: BTreeMap<String, u64> = BTreeMap::new();
    let mut workflow = Value::Null;
    let mut items = Vec::new();
    for item in &held {
        *by_event.entry(item.event.clone()).or_default() += 1;
        let payload: Value = serde_json::from_str(&item.payload).unwrap_or(Value::Null);
        if workflow.is_null() {
            workflow = payload.get("workflow").cloned().unwrap_or(Value::Null);
        }
        if items.len() < DIGEST_ITEMS {
            items.push(json!({
                "event": item.event,
                "time": from_micros(item.created_at),
                "summary": payload.get("summary").cloned().unwrap_or(Value::Null),
                "run_id": payload.pointer("/run/id").cloned().unwrap_or(Value::Null),
            }));
        }
    }
    let counts: Vec<String> = by_event.iter().map(|(e, n)| format!("{n} {e}")).collect();
    let about = workflow
        .get("name")
        .and_then(Value::as_str)
        .map(|name| format!("workflow {name}"))
        .unwrap_or_else(|| "boltd".into());
    let payload = json!({
        "event": "digest",
        "summary": format!(
            "{} alerts about {about} were held back by the rate limit ({} per {} s): {}",
            held.len(), channel.max_per_window, channel.window_secs, counts.join(", ")
        ),
        "time": from_micros(now),
        "workflow": workflow,
        "window": {
            "started_at": from_micros(started),
            "secs": channel.window_secs,
            "max_per_window": channel.max_per_window,
        },
        "held_back": held.len(),
        "events": by_event,
        "first_at": from_micros(first.created_at),
        "last_at": from_micros(last.created_at),
        "items": items,
    });
    store::notify::insert_delivery(
        db,
        &NewDelivery {
            channel: key,
            event: "digest",
            workflow_key,
            payload: &payload.to_string(),
            state: "pending",
            at: now,
        },
    )?;
    store::notify::mark_digested(db, key, workflow_key, last.id, now)?;
    Ok(true)
}

/// Deliveries of channels no longer in bolt.toml are given up on, so they don't wait forever.
fn forget_removed_channels(db: &dyn Db, channels: &[NotifyChannel], now: i64) -> StoreResult<()> {
    for key in store::notify::channels_waiting(db)? {
        if !channels.iter().enumerate().any(|(i, c)| c.key(i) == key) {
            store::notify::give_up_channel(db, &key, now)?;
        }
    }
    Ok(())
}

/// Deliveries whose time has come, oldest first.
pub fn due(db: &dyn Db, limit: usize) -> StoreResult<Vec<Due>> {
    store::notify::due(db, now_micros(), limit as i64)
}

/// Records how a delivery went: delivered, or failed and retried later (or given up on).
pub fn record_attempt(db: &dyn Db, due: &Due, outcome: &Result<(), String>) -> StoreResult<()> {
    let now = now_micros();
    let attempts = due.attempts + 1;
    match outcome {
        Ok(()) => store::notify::mark_delivered(db, due.id, attempts, now),
        Err(error) => {
            let (state, finished) = if attempts >= MAX_ATTEMPTS {
                ("failed", Some(now))
            } else {
                ("pending", None)
            };
            store::notify::mark_failed_attempt(
                db,
                &FailedAttempt {
                    id: due.id,
                    state,
                    attempts,
                    error,
                    next_attempt_at: now + backoff_secs(attempts) * MICROS,
                    finished_at: finished,
                    at: now,
                },
            )
        }
    }
}

/// The wait before attempt `attempts + 1`: doubling from the first retry, capped.
pub fn backoff_secs(attempts: i64) -> i64 {
    let doublings = (attempts - 1).clamp(0, 20) as u32;
    FIRST_RETRY_SECS
        .saturating_mul(1i64 << doublings)
        .min(LONGEST_RETRY_SECS)
}

/// What `bolt status` shows of one channel's queue.
#[derive(Debug, Clone, Default)]
pub struct ChannelCounts {
    pub pending: u64,
    pub retrying: u64,
    pub held: u64,
    pub failed: u64,
    pub delivered: u64,
    pub last_delivered: Option<i64>,
    /// The latest failed attempt: (when, error).
    pub last_error: Option<(i64, String)>,
}

/// Counts per channel key, from one read.
pub fn counts(db: &dyn Db) -> StoreResult<(BTreeMap<String, ChannelCounts>, u64)> {
    let mut out: BTreeMap<String, ChannelCounts> = BTreeMap::new();
    for store::notify::StateCount {
        channel,
        state,
        count,
        tried,
        last_finished_at: finished,
    } in store::notify::state_counts(db)?
    {
        let entry = out.entry(channel).or_default();
        let count = count as u64;
        match state.as_str() {
            "pending" => {
                entry.pending = count;
                entry.retrying = tried as u64;
            }
            "held" => entry.held = count,
            "failed" => entry.failed = count,
            "delivered" => {
                entry.delivered = count;
                entry.last_delivered = finished;
            }
            _ => {}
        }
    }
    for error in store::notify::last_errors(db)? {
        out.entry(error.channel).or_default().last_error = Some((error.at, error.error));
    }
    Ok((out, store::notify::events_waiting(db)?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::suite;
    use bolt_sql::{DbExt, params};

    fn channel(toml: &str) -> Vec<NotifyChannel> {
        bolt_shared::Config::parse(toml, std::path::Path::new("bolt.toml"))
            .unwrap()
            .notify
    }

    fn failed(conn: &dyn Db, workflow: &str, n: u32) {
        let payload = json!({"event": "run_failed", "summary": format!("failure {n}"),
            "workflow": {"key": workflow, "name": workflow}, "run": {"id": format!("run-{n}")}});
        crate::notify::events::record(conn, "run_failed", Some((workflow, workflow)), &payload)
            .unwrap();
    }

    fn states(conn: &dyn Db) -> Vec<(String, String, String)> {
        conn.query_map(
            "SELECT channel, event, state FROM notify_deliveries ORDER BY id",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
    }

    #[test]
    fn past_the_limit_events_are_held_per_workflow_then_digested_once_the_window_ends() {
        suite::on_each_backend(|conn| {
            let channels = channel(
                "[[notify]]\non = [\"run_failed\"]\ncommand = \"/bin/true\"\nmax_per_window = 2\nwindow_secs = 60\n",
            );
            for n in 0..5 {
                failed(conn, "a", n);
            }
            failed(conn, "b", 9);
            assert!(has_work(conn, &channels).unwrap());
            assert!(fan_out(conn, &channels).unwrap());
            assert!(
                !has_work(conn, &channels).unwrap(),
                "the window is still open"
            );
            let held: Vec<String> = states(conn).into_iter().map(|(_, _, s)| s).collect();
            assert_eq!(
                held,
                ["pending", "pending", "held", "held", "held", "pending"]
            );

            // The window of workflow a ends: one digest of its three held events.
            conn.execute(
                "UPDATE notify_windows SET started_at = started_at - 61000000",
                params![],
            )
            .unwrap();
            assert!(has_work(conn, &channels).unwrap());
            fan_out(conn, &channels).unwrap();
            let after = states(conn);
            assert_eq!(after.iter().filter(|s| s.2 == "digested").count(), 3);
            let digests: Vec<String> = conn
                .query_map(
                    "SELECT payload FROM notify_deliveries WHERE event = 'digest'",
                    params![],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(digests.len(), 1, "workflow b held nothing back: no digest");
            let digest: Value = serde_json::from_str(&digests[0]).unwrap();
            assert_eq!(digest["held_back"], 3);
            assert_eq!(digest["workflow"]["key"], "a");
            assert_eq!(digest["items"][0]["run_id"], "run-2");
            // A new window starts with the next event.
            failed(conn, "a", 10);
            fan_out(conn, &channels).unwrap();
            assert_eq!(states(conn).last().unwrap().2, "pending");
        });
    }

    #[test]
    fn a_failing_delivery_backs_off_then_is_given_up_and_counted() {
        suite::on_each_backend(|conn| {
            let channels = channel(
                "[[notify]]\nname = \"ops\"\non = [\"run_failed\"]\ncommand = \"/bin/true\"\n",
            );
            failed(conn, "a", 1);
            fan_out(conn, &channels).unwrap();
            let mut item = due(conn, 10).unwrap().remove(0);
            for attempt in 1..=MAX_ATTEMPTS {
                record_attempt(conn, &item, &Err("HTTP 500".into())).unwrap();
                item.attempts = attempt;
                assert!(due(conn, 10).unwrap().is_empty(), "waits for its retry");
                conn.execute(
                    "UPDATE notify_deliveries SET next_attempt_at = 0 WHERE state = 'pending'",
                    params![],
                )
                .unwrap();
            }
            let (counts, _) = counts(conn).unwrap();
            let ops = &counts["ops"];
            assert_eq!((ops.pending, ops.failed), (0, 1));
            assert_eq!(ops.last_error.as_ref().unwrap().1, "HTTP 500");
        });
    }

    #[test]
    fn deliveries_of_a_channel_removed_from_the_config_are_given_up() {
        suite::on_each_backend(|conn| {
            let channels = channel(
                "[[notify]]\nname = \"old\"\non = [\"run_failed\"]\ncommand = \"/bin/true\"\n",
            );
            failed(conn, "a", 1);
            fan_out(conn, &channels).unwrap();
            fan_out(conn, &[]).unwrap();
            assert_eq!(states(conn)[0].2, "failed");
        });
    }

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        assert_eq!(backoff_secs(1), 5);
        assert_eq!(backoff_secs(2), 10);
        assert_eq!(backoff_secs(4), 40);
        assert_eq!(backoff_secs(11), 3600);
    }
}
