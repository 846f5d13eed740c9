//! Alerts in the store: the events waiting for the notifier, the deliveries it made of them
//! per channel (with their retries), and each channel's open rate-limit windows. What to
//! queue, hold back or digest is decided in `notify::queue`; this module reads and writes
//! the rows.

use super::StoreResult;
use bolt_sql::{Db, DbExt, Sql, params};

// Events.

/// An event to queue. `workflow` is (key, name) for per-workflow events.
pub struct NewEvent<'a> {
    pub event: &'a str,
    pub workflow: Option<(&'a str, &'a str)>,
    pub payload: &'a str,
    pub created_at: i64,
}

/// An event waiting to be fanned out to the channels.
#[derive(Debug, Clone)]
pub struct QueuedEvent {
    pub id: i64,
    pub event: String,
    pub workflow_key: Option<String>,
    pub workflow_name: Option<String>,
    pub payload: String,
}

/// What a `run_failed` alert tells of a run.
#[derive(Debug, Clone)]
pub struct EndedRun {
    pub state: String,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub attempt: i64,
    pub work_order_id: String,
    pub workflow_key: String,
    pub workflow_name: String,
    pub project_name: String,
    /// The job of the run's latest step that did not succeed.
    pub failed_job: Option<String>,
}

/// A version of a workflow, as a `workflow_changed` alert tells of it.
#[derive(Debug, Clone)]
pub struct VersionRow {
    pub version: i64,
    /// The workflow's spec (JSON).
    pub snapshot: String,
    pub actor: Option<String>,
    /// How the version was made (JSON).
    pub origin: Option<String>,
    pub created_at: i64,
    pub project_name: String,
}

/// A workflow, as the alert of its removal tells of it.
#[derive(Debug, Clone)]
pub struct WorkflowRow {
    pub key: String,
    pub name: String,
    pub version: i64,
    pub project_name: String,
}

const INSERT_EVENT: &str =
    "INSERT INTO notify_events (event, workflow_key, workflow_name, payload, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5)";
const ENDED_RUN: &str =
    "SELECT r.state, r.error_type, r.error_message, r.started_at, r.finished_at, r.attempt,
        r.work_order_id, w.key, w.name, p.name,
        (SELECT s.job_name FROM run_steps rs JOIN steps s ON s.id = rs.step_id
          WHERE rs.run_id = r.id AND s.exit_reason NOT IN ('success')
          ORDER BY s.started_at DESC LIMIT 1)
     FROM runs r JOIN work_orders wo ON wo.id = r.work_order_id
     JOIN workflows w ON w.id = wo.workflow_id JOIN projects p ON p.id = w.project_id
     WHERE r.id = ?1";
/// The cast gives PostgreSQL one type for `?2` in both places.
const VERSION_AND_PREVIOUS: &str =
    "SELECT v.version, v.snapshot, v.actor, v.origin, v.created_at, p.name
     FROM workflow_versions v JOIN workflows w ON w.id = v.workflow_id
     JOIN projects p ON p.id = w.project_id
     WHERE v.workflow_id = ?1
       AND v.version IN (CAST(?2 AS BIGINT), CAST(?2 AS BIGINT) - 1)
     ORDER BY v.version DESC";
const WORKFLOW: &str = "SELECT w.key, w.name, w.version, p.name FROM workflows w
     JOIN projects p ON p.id = w.project_id WHERE w.id = ?1";
const QUEUED_EVENTS: &str =
    "SELECT id, event, workflow_key, workflow_name, payload FROM notify_events
     ORDER BY id LIMIT ?1";

pub fn insert_event(db: &dyn Db, event: &NewEvent<'_>) -> StoreResult<()> {
    db.execute(
        INSERT_EVENT,
        params![
            event.event,
            event.workflow.map(|w| w.0),
            event.workflow.map(|w| w.1),
            event.payload,
            event.created_at
        ],
    )?;
    Ok(())
}

pub fn ended_run(db: &dyn Db, run_id: &str) -> StoreResult<Option<EndedRun>> {
    Ok(db.query_row(ENDED_RUN, params![run_id], |r| {
        Ok(EndedRun {
            state: r.get(0)?,
            error_type: r.get(1)?,
            error_message: r.get(2)?,
            started_at: r.get(3)?,
            finished_at: r.get(4)?,
            attempt: r.get(5)?,
            work_order_id: r.get(6)?,
            workflow_key: r.get(7)?,
            workflow_name: r.get(8)?,
            project_name: r.get(9)?,
            failed_job: r.get(10)?,
        })
    })?)
}

/// Version `version` of a workflow and the one before it (if they exist), newest first.
pub fn version_and_previous(
    db: &dyn Db,
    workflow_id: &str,
    version: i64,
) -> StoreResult<Vec<VersionRow>> {
    Ok(
        db.query_map(VERSION_AND_PREVIOUS, params![workflow_id, version], |r| {
            Ok(VersionRow {
                version: r.get(0)?,
                snapshot: r.get(1)?,
                actor: r.get(2)?,
                origin: r.get(3)?,
                created_at: r.get(4)?,
                project_name: r.get(5)?,
            })
        })?,
    )
}

pub fn workflow(db: &dyn Db, workflow_id: &str) -> StoreResult<Option<WorkflowRow>> {
    Ok(db.query_row(WORKFLOW, params![workflow_id], |r| {
        Ok(WorkflowRow {
            key: r.get(0)?,
            name: r.get(1)?,
            version: r.get(2)?,
            project_name: r.get(3)?,
        })
    })?)
}

/// The oldest events waiting to be fanned out, at most `limit`.
pub fn queued_events(db: &dyn Db, limit: i64) -> StoreResult<Vec<QueuedEvent>> {
    Ok(db.query_map(QUEUED_EVENTS, params![limit], |r| {
        Ok(QueuedEvent {
            id: r.get(0)?,
            event: r.get(1)?,
            workflow_key: r.get(2)?,
            workflow_name: r.get(3)?,
            payload: r.get(4)?,
        })
    })?)
}

pub fn delete_event(db: &dyn Db, id: i64) -> StoreResult<()> {
    db.execute("DELETE FROM notify_events WHERE id = ?1", params![id])?;
    Ok(())
}

pub fn any_events(db: &dyn Db) -> StoreResult<bool> {
    Ok(db.query_one("SELECT EXISTS (SELECT 1 FROM notify_events)", params![])?)
}

pub fn events_waiting(db: &dyn Db) -> StoreResult<u64> {
    let waiting: i64 = db.query_one("SELECT COUNT(*) FROM notify_events", params![])?;
    Ok(waiting as u64)
}

// Rate-limit windows.

/// A channel's open window for one workflow (`workflow_key` '' for boltd-wide events).
#[derive(Debug, Clone)]
pub struct Window {
    pub channel: String,
    pub workflow_key: String,
    pub started_at: i64,
    /// Events let through in it.
    pub sent: i64,
}

const WINDOWS: &str = "SELECT channel, workflow_key, started_at, sent FROM notify_windows";
const WINDOW: &str =
    "SELECT started_at, sent FROM notify_windows WHERE channel = ?1 AND workflow_key = ?2";
const COUNT_SENT: &str =
    "UPDATE notify_windows SET sent = sent + 1 WHERE channel = ?1 AND workflow_key = ?2";
const OPEN_WINDOW: &str =
    "INSERT INTO notify_windows (channel, workflow_key, started_at, sent) VALUES (?1, ?2, ?3, 1)
     ON CONFLICT (channel, workflow_key) DO UPDATE SET started_at = excluded.started_at, sent = 1";
const CLOSE_WINDOW: &str = "DELETE FROM notify_windows WHERE channel = ?1 AND workflow_key = ?2";

pub fn windows(db: &dyn Db) -> StoreResult<Vec<Window>> {
    Ok(db.query_map(WINDOWS, params![], |r| {
        Ok(Window {
            channel: r.get(0)?,
            workflow_key: r.get(1)?,
            started_at: r.get(2)?,
            sent: r.get(3)?,
        })
    })?)
}

pub fn window(db: &dyn Db, channel: &str, workflow_key: &str) -> StoreResult<Option<Window>> {
    Ok(db.query_row(WINDOW, params![channel, workflow_key], |r| {
        Ok(Window {
            channel: channel.to_string(),
            workflow_key: workflow_key.to_string(),
            started_at: r.get(0)?,
            sent: r.get(1)?,
        })
    })?)
}

/// Counts one more event let through the open window.
pub fn count_sent(db: &dyn Db, channel: &str, workflow_key: &str) -> StoreResult<()> {
    db.execute(COUNT_SENT, params![channel, workflow_key])?;
    Ok(())
}

/// Starts a window at `now` with one event let through (replacing an ended one).
pub fn open_window(db: &dyn Db, channel: &str, workflow_key: &str, now: i64) -> StoreResult<()> {
    db.execute(OPEN_WINDOW, params![channel, workflow_key, now])?;
    Ok(())
}

pub fn close_window(db: &dyn Db, channel: &str, workflow_key: &str) -> StoreResult<()> {
    db.execute(CLOSE_WINDOW, params![channel, workflow_key])?;
    Ok(())
}

// Deliveries.

/// A delivery to queue: `pending`, or `held` for the window's digest.
pub struct NewDelivery<'a> {
    pub channel: &'a str,
    pub event: &'a str,
    pub workflow_key: &'a str,
    pub payload: &'a str,
    pub state: &'a str,
    /// When it is queued (and first due).
    pub at: i64,
}

/// A delivery held back by the rate limit.
#[derive(Debug, Clone)]
pub struct Held {
    pub id: i64,
    pub event: String,
    pub payload: String,
    pub created_at: i64,
}

/// One delivery to make now.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: i64,
    pub channel: String,
    pub payload: String,
    pub attempts: i64,
}

/// A failed attempt, and when to try next (or that it was given up on).
pub struct FailedAttempt<'a> {
    pub id: i64,
    /// `pending` (to retry) or `failed` (given up).
    pub state: &'a str,
    pub attempts: i64,
    pub error: &'a str,
    pub next_attempt_at: i64,
    pub finished_at: Option<i64>,
    pub at: i64,
}

/// The deliveries of one channel in one state.
#[derive(Debug, Clone)]
pub struct StateCount {
    pub channel: String,
    pub state: String,
    pub count: i64,
    /// How many of them were tried at least once.
    pub tried: i64,
    pub last_finished_at: Option<i64>,
}

/// A channel's latest failed attempt.
#[derive(Debug, Clone)]
pub struct LastError {
    pub channel: String,
    pub at: i64,
    pub error: String,
}

const INSERT_DELIVERY: &str = "INSERT INTO notify_deliveries (channel, event, workflow_key, payload, state, next_attempt_at, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";
const HELD: &str = "SELECT id, event, payload, created_at FROM notify_deliveries
     WHERE channel = ?1 AND workflow_key = ?2 AND state = 'held' ORDER BY id";
const MARK_DIGESTED: &str = "UPDATE notify_deliveries SET state = 'digested', finished_at = ?4
     WHERE channel = ?1 AND workflow_key = ?2 AND state = 'held' AND id <= ?3";
const DELETE_FINISHED: &str = "DELETE FROM notify_deliveries
     WHERE state IN ('delivered', 'failed', 'digested') AND finished_at < ?1";
const CHANNELS_WAITING: &str =
    "SELECT DISTINCT channel FROM notify_deliveries WHERE state IN ('pending', 'held')";
const GIVE_UP_CHANNEL: &str = "UPDATE notify_deliveries SET state = 'failed', finished_at = ?2,
        last_error = 'the channel is no longer in bolt.toml'
     WHERE channel = ?1 AND state IN ('pending', 'held')";
const DUE: &str = "SELECT id, channel, payload, attempts FROM notify_deliveries
     WHERE state = 'pending' AND next_attempt_at <= ?1 ORDER BY id LIMIT ?2";
const MARK_DELIVERED: &str = "UPDATE notify_deliveries SET state = 'delivered', attempts = ?2,
        finished_at = ?3, last_attempt_at = ?3 WHERE id = ?1";
const MARK_FAILED_ATTEMPT: &str =
    "UPDATE notify_deliveries SET state = ?2, attempts = ?3, last_error = ?4,
        next_attempt_at = ?5, finished_at = ?6, last_attempt_at = ?7 WHERE id = ?1";
const STATE_COUNTS: &str = "SELECT channel, state, COUNT(*),
        SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), MAX(finished_at)
     FROM notify_deliveries GROUP BY channel, state";
/// SQLite takes `last_error` from the row holding the MAX; PostgreSQL picks that row with
/// `DISTINCT ON`.
const LAST_ERRORS: Sql = Sql::new(
    "SELECT channel, MAX(last_attempt_at), last_error FROM notify_deliveries
     WHERE last_error IS NOT NULL AND last_attempt_at IS NOT NULL GROUP BY channel",
    "SELECT DISTINCT ON (channel) channel, last_attempt_at, last_error FROM notify_deliveries
     WHERE last_error IS NOT NULL AND last_attempt_at IS NOT NULL
     ORDER BY channel, last_attempt_at DESC",
);

pub fn insert_delivery(db: &dyn Db, delivery: &NewDelivery<'_>) -> StoreResult<()> {
    db.execute(
        INSERT_DELIVERY,
        params![
            delivery.channel,
            delivery.event,
            delivery.workflow_key,
            delivery.payload,
            delivery.state,
            delivery.at
        ],
    )?;
    Ok(())
}

/// The deliveries the rate limit held back for a channel and workflow, oldest first.
pub fn held(db: &dyn Db, channel: &str, workflow_key: &str) -> StoreResult<Vec<Held>> {
    Ok(db.query_map(HELD, params![channel, workflow_key], |r| {
        Ok(Held {
            id: r.get(0)?,
            event: r.get(1)?,
            payload: r.get(2)?,
            created_at: r.get(3)?,
        })
    })?)
}

/// Marks the held deliveries up to `through_id` as summed up in a digest.
pub fn mark_digested(
    db: &dyn Db,
    channel: &str,
    workflow_key: &str,
    through_id: i64,
    now: i64,
) -> StoreResult<()> {
    db.execute(
        MARK_DIGESTED,
        params![channel, workflow_key, through_id, now],
    )?;
    Ok(())
}

/// Forgets the deliveries that finished before `cutoff`.
pub fn delete_finished_before(db: &dyn Db, cutoff: i64) -> StoreResult<()> {
    db.execute(DELETE_FINISHED, params![cutoff])?;
    Ok(())
}

/// The channels with deliveries still to make (pending or held).
pub fn channels_waiting(db: &dyn Db) -> StoreResult<Vec<String>> {
    Ok(db.query_map(CHANNELS_WAITING, params![], |r| r.get(0))?)
}

/// Gives up the deliveries still to make of a channel that is no longer configured.
pub fn give_up_channel(db: &dyn Db, channel: &str, now: i64) -> StoreResult<()> {
    db.execute(GIVE_UP_CHANNEL, params![channel, now])?;
    Ok(())
}

/// Pending deliveries due at `now`, oldest first, at most `limit`.
pub fn due(db: &dyn Db, now: i64, limit: i64) -> StoreResult<Vec<Due>> {
    Ok(db.query_map(DUE, params![now, limit], |r| {
        Ok(Due {
            id: r.get(0)?,
            channel: r.get(1)?,
            payload: r.get(2)?,
            attempts: r.get(3)?,
        })
    })?)
}

pub fn mark_delivered(db: &dyn Db, id: i64, attempts: i64, now: i64) -> StoreResult<()> {
    db.execute(MARK_DELIVERED, params![id, attempts, now])?;
    Ok(())
}

pub fn mark_failed_attempt(db: &dyn Db, attempt: &FailedAttempt<'_>) -> StoreResult<()> {
    db.execute(
        MARK_FAILED_ATTEMPT,
        params![
            attempt.id,
            attempt.state,
            attempt.attempts,
            attempt.error,
            attempt.next_attempt_at,
            attempt.finished_at,
            attempt.at
        ],
    )?;
    Ok(())
}

/// The deliveries per channel and state.
pub fn state_counts(db: &dyn Db) -> StoreResult<Vec<StateCount>> {
    Ok(db.query_map(STATE_COUNTS, params![], |r| {
        Ok(StateCount {
            channel: r.get(0)?,
            state: r.get(1)?,
            count: r.get(2)?,
            tried: r.get(3)?,
            last_finished_at: r.get(4)?,
        })
    })?)
}

/// Each channel's latest failed attempt.
pub fn last_errors(db: &dyn Db) -> StoreResult<Vec<LastError>> {
    Ok(db.query_map(db.sql(&LAST_ERRORS), params![], |r| {
        Ok(LastError {
            channel: r.get(0)?,
            at: r.get(1)?,
            error: r.get(2)?,
        })
    })?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::suite;

    const WORKFLOW_WITH_A_FAILED_RUN: &str = "
        INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'Shop', 0, 0);
        INSERT INTO workflows (id, project_id, key, name, version, created_at, updated_at)
            VALUES ('w', 'p', 'orders', 'Orders', 2, 0, 0);
        INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at, actor, origin)
            VALUES ('v1', 'w', 1, '{\"a\":1}', 'h1', 10, NULL, NULL),
                   ('v2', 'w', 2, '{\"a\":2}', 'h2', 20, 'alice', '{\"kind\":\"deploy\"}');
        INSERT INTO work_orders (id, workflow_id, version_id, origin, state, received_at, last_activity)
            VALUES ('wo', 'w', 'v2', 'webhook', 'failed', 0, 0);
        INSERT INTO runs (id, work_order_id, version_id, origin, state, error_type, error_message,
                attempt, created_at, started_at, finished_at)
            VALUES ('r', 'wo', 'v2', 'webhook', 'failed', 'RuntimeError', 'boom', 2, 0, 100, 200);
        INSERT INTO steps (id, run_id, job_key, job_name, exit_reason, started_at)
            VALUES ('s1', 'r', 'fetch', 'Fetch', 'success', 110),
                   ('s2', 'r', 'store', 'Store', 'fail', 120);
        INSERT INTO run_steps (run_id, step_id) VALUES ('r', 's1'), ('r', 's2');";

    #[test]
    fn what_an_alert_tells_is_read_from_the_run_and_the_workflow() {
        suite::on_each_backend(|db| {
            suite::seed(db, WORKFLOW_WITH_A_FAILED_RUN);
            let run = ended_run(db, "r").unwrap().unwrap();
            assert_eq!(
                (
                    run.state.as_str(),
                    run.attempt,
                    run.started_at,
                    run.finished_at
                ),
                ("failed", 2, Some(100), Some(200))
            );
            assert_eq!(run.error_message.as_deref(), Some("boom"));
            assert_eq!(
                (run.workflow_key.as_str(), run.workflow_name.as_str()),
                ("orders", "Orders")
            );
            assert_eq!(run.project_name, "Shop");
            assert_eq!(run.failed_job.as_deref(), Some("Store"));
            assert!(ended_run(db, "none").unwrap().is_none());

            let versions = version_and_previous(db, "w", 2).unwrap();
            let numbers: Vec<i64> = versions.iter().map(|v| v.version).collect();
            assert_eq!(numbers, [2, 1]);
            assert_eq!(versions[0].actor.as_deref(), Some("alice"));
            assert_eq!(versions[0].snapshot, r#"{"a":2}"#);
            assert_eq!(versions[1].origin, None);
            assert_eq!(version_and_previous(db, "w", 1).unwrap().len(), 1);

            let workflow = workflow(db, "w").unwrap().unwrap();
            assert_eq!(
                (
                    workflow.key.as_str(),
                    workflow.version,
                    workflow.project_name.as_str()
                ),
                ("orders", 2, "Shop")
            );
            assert!(super::workflow(db, "none").unwrap().is_none());
        });
    }

    #[test]
    fn events_queue_in_order_and_leave_once_fanned_out() {
        suite::on_each_backend(|db| {
            assert!(!any_events(db).unwrap());
            for (event, workflow) in [
                ("run_failed", Some(("orders", "Orders"))),
                ("boltd_degraded", None),
            ] {
                insert_event(
                    db,
                    &NewEvent {
                        event,
                        workflow,
                        payload: "{}",
                        created_at: 1,
                    },
                )
                .unwrap();
            }
            assert!(any_events(db).unwrap());
            assert_eq!(events_waiting(db).unwrap(), 2);
            let queued = queued_events(db, 10).unwrap();
            assert_eq!(queued.len(), 2);
            assert_eq!(queued[0].workflow_name.as_deref(), Some("Orders"));
            assert_eq!(queued[1].workflow_key, None);
            assert_eq!(queued_events(db, 1).unwrap().len(), 1);
            delete_event(db, queued[0].id).unwrap();
            assert_eq!(events_waiting(db).unwrap(), 1);
            assert_eq!(queued_events(db, 10).unwrap()[0].event, "boltd_degraded");
        });
    }

    #[test]
    fn a_window_opens_counts_reopens_and_closes() {
        suite::on_each_backend(|db| {
            assert!(window(db, "ops", "orders").unwrap().is_none());
            open_window(db, "ops", "orders", 100).unwrap();
            count_sent(db, "ops", "orders").unwrap();
            let open = window(db, "ops", "orders").unwrap().unwrap();
            assert_eq!((open.started_at, open.sent), (100, 2));
            open_window(db, "ops", "orders", 500).unwrap();
            open_window(db, "ops", "", 600).unwrap();
            let mut all = windows(db).unwrap();
            all.sort_by(|a, b| a.workflow_key.cmp(&b.workflow_key));
            let all: Vec<(&str, i64, i64)> = all
                .iter()
                .map(|w| (w.workflow_key.as_str(), w.started_at, w.sent))
                .collect();
            assert_eq!(all, [("", 600, 1), ("orders", 500, 1)]);
            close_window(db, "ops", "orders").unwrap();
            assert!(window(db, "ops", "orders").unwrap().is_none());
            assert_eq!(windows(db).unwrap().len(), 1);
        });
    }

    fn deliver(db: &dyn Db, channel: &str, event: &str, state: &str, at: i64) {
        insert_delivery(
            db,
            &NewDelivery {
                channel,
                event,
                workflow_key: "orders",
                payload: "{}",
                state,
                at,
            },
        )
        .unwrap();
    }

    #[test]
    fn deliveries_are_due_retried_delivered_digested_given_up_and_counted() {
        suite::on_each_backend(|db| {
            deliver(db, "ops", "run_failed", "pending", 10);
            deliver(db, "ops", "run_failed", "pending", 10);
            deliver(db, "ops", "run_failed", "held", 11);
            deliver(db, "ops", "run_failed", "held", 12);
            deliver(db, "dev", "run_failed", "pending", 50);

            let due_now = due(db, 10, 10).unwrap();
            assert_eq!(due_now.len(), 2);
            assert_eq!(due(db, 100, 1).unwrap().len(), 1);
            assert_eq!(
                (due_now[0].channel.as_str(), due_now[0].attempts),
                ("ops", 0)
            );

            mark_delivered(db, due_now[0].id, 1, 20).unwrap();
            mark_failed_attempt(
                db,
                &FailedAttempt {
                    id: due_now[1].id,
                    state: "pending",
                    attempts: 1,
                    error: "HTTP 500",
                    next_attempt_at: 40,
                    finished_at: None,
                    at: 21,
                },
            )
            .unwrap();
            mark_failed_attempt(
                db,
                &FailedAttempt {
                    id: due_now[1].id,
                    state: "failed",
                    attempts: 2,
                    error: "HTTP 503",
                    next_attempt_at: 40,
                    finished_at: Some(41),
                    at: 41,
                },
            )
            .unwrap();
            assert!(due(db, 30, 10).unwrap().is_empty());

            let held_back = held(db, "ops", "orders").unwrap();
            assert_eq!(held_back.len(), 2);
            assert_eq!(held_back[1].created_at, 12);
            mark_digested(db, "ops", "orders", held_back[0].id, 60).unwrap();
            assert_eq!(held(db, "ops", "orders").unwrap().len(), 1);

            let mut waiting = channels_waiting(db).unwrap();
            waiting.sort();
            assert_eq!(waiting, ["dev", "ops"]);
            give_up_channel(db, "dev", 70).unwrap();
            assert_eq!(channels_waiting(db).unwrap(), ["ops"]);

            let mut counts: Vec<(String, String, i64, i64, Option<i64>)> = state_counts(db)
                .unwrap()
                .into_iter()
                .map(|c| (c.channel, c.state, c.count, c.tried, c.last_finished_at))
                .collect();
            counts.sort();
            let expected: Vec<(String, String, i64, i64, Option<i64>)> = [
                ("dev", "failed", 1, 0, Some(70)),
                ("ops", "delivered", 1, 1, Some(20)),
                ("ops", "digested", 1, 0, Some(60)),
                ("ops", "failed", 1, 1, Some(41)),
                ("ops", "held", 1, 0, None),
            ]
            .into_iter()
            .map(|(c, s, n, t, f)| (c.to_string(), s.to_string(), n, t, f))
            .collect();
            assert_eq!(counts, expected);

            let errors = last_errors(db).unwrap();
            assert_eq!(errors.len(), 1, "dev's give-up was never an attempt");
            assert_eq!(
                (
                    errors[0].channel.as_str(),
                    errors[0].at,
                    errors[0].error.as_str()
                ),
                ("ops", 41, "HTTP 503")
            );

            delete_finished_before(db, 50).unwrap();
            let left: i64 = db
                .query_one("SELECT COUNT(*) FROM notify_deliveries", params![])
                .unwrap();
            assert_eq!(left, 3, "the delivered and the failed before 50 are gone");
        });
    }
}
