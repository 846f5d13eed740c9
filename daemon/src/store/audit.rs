//! The audit log in the store: events appended to the chain (the hashing is `audit::chain`'s),
//! the events `bolt audit` lists, retention's purge of the chain's front, and the outbox
//! of events the ATNA syslog collector has yet to take.

use super::{StoreResult, from_micros};
use bolt_shared::audit::{AuditEvent, AuditFilter};
use bolt_sql::{Db, DbExt, Dialect, Row, Sql, Value, ValueRef, params};
use std::ops::ControlFlow;

/// An event as stored, with its link and hash (`None` before it is sealed).
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    /// `subject_type.action`, e.g. `credential.updated` (the `action` column).
    pub kind: String,
    pub subject: String,
    pub metadata: Option<String>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

/// An event's id and hash (`None`: written around boltd, or not sealed yet).
#[derive(Debug, Clone)]
pub struct EventHash {
    pub id: i64,
    pub hash: Option<String>,
}

/// An event to append, already hashed.
pub struct NewAuditEvent<'a> {
    pub id: i64,
    pub at: i64,
    pub actor: &'a str,
    pub kind: &'a str,
    pub subject: &'a str,
    pub metadata: Option<&'a str>,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

/// How many events wait for the syslog collector, and the error the oldest last met.
#[derive(Debug, Clone, Default)]
pub struct OutboxState {
    pub waiting: u64,
    pub last_error: Option<String>,
}

/// PostgreSQL only: the chain's lock, per schema, held until the transaction ends.
const LOCK_CHAIN: &str =
    "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.audit_events'))";
const NEWEST: &str = "SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1";
const APPEND: &str =
    "INSERT INTO audit_events (id, at, actor, action, subject, metadata, prev_hash, hash)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const WORKFLOW_OF_WORK_ORDER: &str =
    "SELECT w.key FROM work_orders wo JOIN workflows w ON w.id = wo.workflow_id WHERE wo.id = ?1";

const LEGACY_THROUGH: &str = "SELECT value FROM store_meta WHERE key = 'audit_legacy_through'";
const UNSEALED_THROUGH: &str = "SELECT COUNT(*) FROM audit_events WHERE hash IS NULL AND id <= ?1";
const ROWS_THROUGH: &str = "SELECT id, at, actor, action, subject, metadata, prev_hash, hash
     FROM audit_events WHERE id <= ?1 ORDER BY id";
const SEAL: &str = "UPDATE audit_events SET prev_hash = ?2, hash = ?3 WHERE id = ?1";

const LAST_CHECKPOINT: &str =
    "SELECT metadata FROM audit_events WHERE action = 'audit.purged' ORDER BY id DESC LIMIT 1";
const NEWEST_BELOW: &str = "SELECT MAX(id) FROM audit_events WHERE id < ?1";
/// One page of the chain's walk: PostgreSQL reads a query's rows all at once.
const ROWS_FROM: &str = "SELECT id, at, actor, action, subject, metadata, prev_hash, hash
     FROM audit_events WHERE id >= ?1 ORDER BY id LIMIT ?2";
const WALK_PAGE: i64 = 1000;

const LIST: &str = "SELECT id, at, actor, action, subject, metadata FROM audit_events";
/// An event about a workflow by its metadata's `workflow` key.
const METADATA_WORKFLOW: Sql = Sql::new(
    "json_extract(metadata, '$.workflow') = ?",
    "CAST(metadata AS jsonb) ->> 'workflow' = ?",
);

const LAST_BEFORE: &str =
    "SELECT id, hash FROM audit_events WHERE at < ?1 AND id < ?2 ORDER BY id DESC LIMIT 1";

const QUEUE: &str = "INSERT INTO audit_outbox (event_id) VALUES (?1)";
const PENDING: &str = "SELECT e.id, e.at, e.actor, e.action, e.subject, e.metadata
     FROM audit_outbox o JOIN audit_events e ON e.id = o.event_id
     ORDER BY o.event_id LIMIT ?1";
const ACKNOWLEDGE: &str = "DELETE FROM audit_outbox WHERE event_id = ?1";
const NOTE_FAILURE: &str =
    "UPDATE audit_outbox SET attempts = attempts + 1, last_error = ?2 WHERE event_id = ?1";
const OUTBOX_STATE: &str = "SELECT COUNT(*),
        (SELECT last_error FROM audit_outbox ORDER BY event_id LIMIT 1) FROM audit_outbox";

fn audit_row(r: &Row<'_>) -> bolt_sql::Result<AuditRow> {
    Ok(AuditRow {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        kind: r.get(3)?,
        subject: r.get(4)?,
        metadata: r.get(5)?,
        prev_hash: r.get(6)?,
        hash: r.get(7)?,
    })
}

/// An event as `bolt audit` and the syslog collector see it (metadata parsed).
fn audit_event(r: &Row<'_>) -> bolt_sql::Result<AuditEvent> {
    let metadata: Option<String> = r.get(5)?;
    Ok(AuditEvent {
        id: r.get(0)?,
        at: from_micros(r.get(1)?),
        actor: r.get(2)?,
        kind: r.get(3)?,
        subject: r.get(4)?,
        metadata: metadata.and_then(|m| serde_json::from_str(&m).ok()),
    })
}

fn event_hash(r: &Row<'_>) -> bolt_sql::Result<EventHash> {
    Ok(EventHash {
        id: r.get(0)?,
        hash: r.get(1)?,
    })
}

// The chain's events.

/// Keeps other connections from appending to the chain until this transaction ends (on
/// PostgreSQL, where several boltd nodes may write; SQLite has one writer at a time).
pub fn lock_chain(db: &dyn Db) -> StoreResult<()> {
    if db.dialect() == Dialect::Postgres {
        db.execute(LOCK_CHAIN, params![])?;
    }
    Ok(())
}

/// The newest event, if there is one.
pub fn newest(db: &dyn Db) -> StoreResult<Option<EventHash>> {
    Ok(db.query_row(NEWEST, params![], event_hash)?)
}

pub fn append(db: &dyn Db, event: &NewAuditEvent<'_>) -> StoreResult<()> {
    db.execute(
        APPEND,
        params![
            event.id,
            event.at,
            event.actor,
            event.kind,
            event.subject,
            event.metadata,
            event.prev_hash,
            event.hash
        ],
    )?;
    Ok(())
}

/// The key of the workflow a work order belongs to.
pub fn workflow_of_work_order(db: &dyn Db, work_order_id: &str) -> StoreResult<Option<String>> {
    Ok(db.query_value(WORKFLOW_OF_WORK_ORDER, params![work_order_id])?)
}

/// The id of the last event written before the chain existed, as the migration that
/// started the chain recorded it (0 when none was).
pub fn legacy_through(db: &dyn Db) -> StoreResult<i64> {
    let through: Option<String> = db.query_value(LEGACY_THROUGH, params![])?;
    Ok(through.and_then(|t| t.parse().ok()).unwrap_or(0))
}

/// How many events up to `through` have no hash.
pub fn unsealed_through(db: &dyn Db, through: i64) -> StoreResult<i64> {
    Ok(db.query_one(UNSEALED_THROUGH, params![through])?)
}

/// The events up to `through`, oldest first.
pub fn rows_through(db: &dyn Db, through: i64) -> StoreResult<Vec<AuditRow>> {
    Ok(db.query_map(ROWS_THROUGH, params![through], audit_row)?)
}

/// Gives an event written before the chain existed its link and hash.
pub fn seal(db: &dyn Db, id: i64, prev_hash: &str, hash: &str) -> StoreResult<()> {
    db.execute(SEAL, params![id, prev_hash, hash])?;
    Ok(())
}

/// The metadata of the last retention purge's checkpoint event, if there was a purge.
pub fn last_checkpoint(db: &dyn Db) -> StoreResult<Option<String>> {
    let metadata: Option<Option<String>> = db.query_value(LAST_CHECKPOINT, params![])?;
    Ok(metadata.flatten())
}

/// The newest event older than `id`, if any.
pub fn newest_below(db: &dyn Db, id: i64) -> StoreResult<Option<i64>> {
    let newest: Option<Option<i64>> = db.query_value(NEWEST_BELOW, params![id])?;
    Ok(newest.flatten())
}

/// Hands the events from `first_id` on to `visit`, oldest first, one at a time (the log
/// may be long: it is read a page at a time), until it breaks.
pub fn each_from(
    db: &dyn Db,
    first_id: i64,
    mut visit: impl FnMut(AuditRow) -> ControlFlow<()>,
) -> StoreResult<()> {
    let mut from = first_id;
    loop {
        let page = db.query_map(ROWS_FROM, params![from, WALK_PAGE], audit_row)?;
        let full = page.len() as i64 == WALK_PAGE;
        let Some(last) = page.last().map(|row| row.id) else {
            return Ok(());
        };
        for row in page {
            if visit(row).is_break() {
                return Ok(());
            }
        }
        if !full {
            return Ok(());
        }
        from = last + 1;
    }
}

/// The events matching `filter`, newest first, at most `limit`. `filter.workflow` is a
/// workflow's key.
pub fn matching(db: &dyn Db, filter: &AuditFilter, limit: u32) -> StoreResult<Vec<AuditEvent>> {
    let mut clauses: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if let Some(since) = filter.since {
        clauses.push("at >= ?".into());
        values.push(Value::Int(since.timestamp_micros()));
    }
    if let Some(until) = filter.until {
        clauses.push("at <= ?".into());
        values.push(Value::Int(until.timestamp_micros()));
    }
    if let Some(actor) = &filter.actor {
        clauses.push("actor = ?".into());
        values.push(Value::Text(actor.clone()));
    }
    if let Some(kind) = &filter.kind {
        clauses.push("(action = ? OR action LIKE ? || '.%')".into());
        values.push(Value::Text(kind.clone()));
        values.push(Value::Text(kind.clone()));
    }
    if let Some(credential) = &filter.credential {
        clauses.push("(action LIKE 'credential.%' AND subject = ?)".into());
        values.push(Value::Text(credential.clone()));
    }
    if let Some(workflow) = &filter.workflow {
        clauses.push(format!(
            "((action LIKE 'workflow.%' AND (subject = ? OR subject LIKE ? || '/%'))
              OR {})",
            db.sql(&METADATA_WORKFLOW)
        ));
        for _ in 0..3 {
            values.push(Value::Text(workflow.clone()));
        }
    }
    let filter_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!("{LIST} {filter_sql} ORDER BY id DESC LIMIT {limit}");
    let params: Vec<ValueRef<'_>> = values.iter().map(Value::as_ref).collect();
    Ok(db.query_map(&sql, &params, audit_event)?)
}

// Retention's purge.

/// The newest event older than `before` (µs) with an id below `below_id`.
pub fn last_before(db: &dyn Db, before: i64, below_id: i64) -> StoreResult<Option<EventHash>> {
    Ok(db.query_row(LAST_BEFORE, params![before, below_id], event_hash)?)
}

/// Deletes the events up to `through_id`: the only delete the append-only triggers let
/// through, under a permit that lives only inside this call. Returns how many went.
pub fn delete_through(db: &dyn Db, through_id: i64) -> StoreResult<usize> {
    db.execute("INSERT INTO audit_purge_permit (id) VALUES (1)", params![])?;
    let deleted = db.execute(
        "DELETE FROM audit_events WHERE id <= ?1",
        params![through_id],
    )?;
    db.execute("DELETE FROM audit_purge_permit", params![])?;
    Ok(deleted as usize)
}

// The ATNA outbox.

/// Queues an event for the syslog collector.
pub fn queue_for_syslog(db: &dyn Db, event_id: i64) -> StoreResult<()> {
    db.execute(QUEUE, params![event_id])?;
    Ok(())
}

/// The oldest event the collector has yet to take (it holds retention back).
pub fn oldest_undelivered(db: &dyn Db) -> StoreResult<Option<i64>> {
    let oldest: Option<Option<i64>> =
        db.query_value("SELECT MIN(event_id) FROM audit_outbox", params![])?;
    Ok(oldest.flatten())
}

/// The oldest undelivered events, at most `limit`.
pub fn pending(db: &dyn Db, limit: i64) -> StoreResult<Vec<AuditEvent>> {
    Ok(db.query_map(PENDING, params![limit], audit_event)?)
}

/// The collector took these events: they leave the outbox.
pub fn acknowledge(db: &dyn Db, ids: &[i64]) -> StoreResult<()> {
    for id in ids {
        db.execute(ACKNOWLEDGE, params![id])?;
    }
    Ok(())
}

/// Counts a failed try to deliver an event, with its error.
pub fn note_failure(db: &dyn Db, event_id: i64, error: &str) -> StoreResult<()> {
    db.execute(NOTE_FAILURE, params![event_id, error])?;
    Ok(())
}

/// Empties the outbox; returns how many events were in it.
pub fn clear_outbox(db: &dyn Db) -> StoreResult<usize> {
    Ok(db.execute("DELETE FROM audit_outbox", params![])? as usize)
}

pub fn outbox_state(db: &dyn Db) -> StoreResult<OutboxState> {
    Ok(db
        .query_row(OUTBOX_STATE, params![], |r| {
            Ok(OutboxState {
                waiting: u64::try_from(r.get::<i64>(0)?).unwrap_or(0),
                last_error: r.get(1)?,
            })
        })?
        .unwrap_or_default())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::suite;
    use chrono::TimeZone;

    /// Appends a chained event as `audit::record` would, with its time given.
    fn add(
        db: &dyn Db,
        at: i64,
        actor: &str,
        kind: &str,
        subject: &str,
        metadata: Option<&str>,
    ) -> i64 {
        let tip = newest(db).unwrap();
        let id = tip.as_ref().map_or(1, |t| t.id + 1);
        let prev = tip.and_then(|t| t.hash).unwrap_or_default();
        let hash = format!("h{id}");
        append(
            db,
            &NewAuditEvent {
                id,
                at,
                actor,
                kind,
                subject,
                metadata,
                prev_hash: &prev,
                hash: &hash,
            },
        )
        .unwrap();
        id
    }

    fn ids(events: &[AuditEvent]) -> Vec<i64> {
        events.iter().map(|e| e.id).collect()
    }

    #[test]
    fn events_are_appended_read_back_and_listed_by_filter() {
        suite::on_each_backend(|db| {
            assert!(newest(db).unwrap().is_none());
            assert_eq!(legacy_through(db).unwrap(), 0);
            add(db, 10, "alice", "credential.updated", "db", None);
            add(db, 20, "bob", "workflow.deployed", "wf", None);
            add(db, 30, "bob", "workflow.job_updated", "wf/job", None);
            add(
                db,
                40,
                "alice",
                "run.cancelled",
                "r1",
                Some(r#"{"workflow":"wf"}"#),
            );
            add(db, 50, "alice", "credential.deleted", "other", None);
            let tip = newest(db).unwrap().unwrap();
            assert_eq!((tip.id, tip.hash.as_deref()), (5, Some("h5")));
            assert_eq!(unsealed_through(db, 5).unwrap(), 0);
            let rows = rows_through(db, 2).unwrap();
            assert_eq!(rows.len(), 2);
            assert_eq!(rows[1].prev_hash.as_deref(), Some("h1"));
            assert_eq!(newest_below(db, 3).unwrap(), Some(2));
            assert_eq!(newest_below(db, 1).unwrap(), None);
            assert_eq!(last_checkpoint(db).unwrap(), None);
            let last = last_before(db, 35, 100).unwrap().unwrap();
            assert_eq!((last.id, last.hash.as_deref()), (3, Some("h3")));
            assert_eq!(last_before(db, 35, 3).unwrap().unwrap().id, 2);
            assert!(last_before(db, 5, 100).unwrap().is_none());

            let list = |filter: AuditFilter, limit| ids(&matching(db, &filter, limit).unwrap());
            assert_eq!(list(AuditFilter::default(), 100), [5, 4, 3, 2, 1]);
            assert_eq!(list(AuditFilter::default(), 2), [5, 4]);
            let at = |micros| chrono::Utc.timestamp_micros(micros).unwrap();
            let window = AuditFilter {
                since: Some(at(20)),
                until: Some(at(40)),
                ..Default::default()
            };
            assert_eq!(list(window, 100), [4, 3, 2]);
            let by_actor = AuditFilter {
                actor: Some("bob".into()),
                ..Default::default()
            };
            assert_eq!(list(by_actor, 100), [3, 2]);
            let by_kind = AuditFilter {
                kind: Some("credential".into()),
                ..Default::default()
            };
            assert_eq!(list(by_kind, 100), [5, 1]);
            let exact_kind = AuditFilter {
                kind: Some("workflow.deployed".into()),
                ..Default::default()
            };
            assert_eq!(list(exact_kind, 100), [2]);
            let by_credential = AuditFilter {
                credential: Some("db".into()),
                ..Default::default()
            };
            assert_eq!(list(by_credential, 100), [1]);
            let by_workflow = AuditFilter {
                workflow: Some("wf".into()),
                ..Default::default()
            };
            assert_eq!(list(by_workflow, 100), [4, 3, 2]);
            let event = matching(db, &AuditFilter::default(), 100)
                .unwrap()
                .remove(1);
            assert_eq!(
                (event.actor.as_str(), event.kind.as_str()),
                ("alice", "run.cancelled")
            );
            assert_eq!(event.at.timestamp_micros(), 40);
            assert_eq!(event.metadata.unwrap()["workflow"], "wf");
        });
    }

    #[test]
    fn an_event_written_before_the_chain_is_sealed_in_place() {
        suite::on_each_backend(|db| {
            suite::seed(
                db,
                "INSERT INTO audit_events (id, at, actor, action, subject) VALUES (1, 1, 'bolt', 'project.deploy', 'p');
                 UPDATE store_meta SET value = '1' WHERE key = 'audit_legacy_through'",
            );
            assert_eq!(legacy_through(db).unwrap(), 1);
            assert_eq!(unsealed_through(db, 1).unwrap(), 1);
            assert_eq!(newest(db).unwrap().unwrap().hash, None);
            seal(db, 1, "", "sealed").unwrap();
            assert_eq!(unsealed_through(db, 1).unwrap(), 0);
            let mut walked = Vec::new();
            each_from(db, 1, |row| {
                walked.push((row.id, row.hash));
                ControlFlow::Continue(())
            })
            .unwrap();
            assert_eq!(walked, [(1, Some("sealed".to_string()))]);
            // Sealed, it is append-only like every other.
            assert!(seal(db, 1, "", "again").is_err());
        });
    }

    #[test]
    fn the_walk_stops_where_the_visitor_breaks() {
        suite::on_each_backend(|db| {
            for at in 1..=4 {
                add(db, at, "a", "run.cancelled", "r", None);
            }
            let mut seen = Vec::new();
            each_from(db, 2, |row| {
                seen.push(row.id);
                if row.id == 3 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
            assert_eq!(seen, [2, 3]);
        });
    }

    #[test]
    fn only_the_purge_deletes_and_its_permit_does_not_outlive_it() {
        suite::on_each_backend(|db| {
            for at in 1..=3 {
                add(db, at, "a", "run.cancelled", "r", None);
            }
            assert!(
                db.execute("DELETE FROM audit_events WHERE id = 1", params![])
                    .is_err()
            );
            let deleted = db.in_transaction(|tx| delete_through(tx, 2)).unwrap();
            assert_eq!(deleted, 2);
            assert_eq!(newest_below(db, 3).unwrap(), None);
            let permits: i64 = db
                .query_one("SELECT COUNT(*) FROM audit_purge_permit", params![])
                .unwrap();
            assert_eq!(permits, 0);
            assert!(db.execute("DELETE FROM audit_events", params![]).is_err());
        });
    }

    #[test]
    fn the_outbox_queues_delivers_counts_failures_and_clears() {
        suite::on_each_backend(|db| {
            for at in 1..=3 {
                let id = add(db, at, "a", "run.cancelled", &format!("r{at}"), None);
                queue_for_syslog(db, id).unwrap();
            }
            let state = outbox_state(db).unwrap();
            assert_eq!((state.waiting, state.last_error), (3, None));
            assert_eq!(oldest_undelivered(db).unwrap(), Some(1));
            assert_eq!(ids(&pending(db, 2).unwrap()), [1, 2]);

            note_failure(db, 1, "connection refused").unwrap();
            let state = outbox_state(db).unwrap();
            assert_eq!(state.last_error.as_deref(), Some("connection refused"));
            let attempts: i64 = db
                .query_one(
                    "SELECT attempts FROM audit_outbox WHERE event_id = 1",
                    params![],
                )
                .unwrap();
            assert_eq!(attempts, 1);

            acknowledge(db, &[1, 2]).unwrap();
            assert_eq!(oldest_undelivered(db).unwrap(), Some(3));
            assert_eq!(ids(&pending(db, 10).unwrap()), [3]);
            assert_eq!(clear_outbox(db).unwrap(), 1);
            assert_eq!(oldest_undelivered(db).unwrap(), None);
            assert_eq!(outbox_state(db).unwrap().waiting, 0);
        });
    }

    #[test]
    fn a_work_order_names_its_workflow() {
        suite::on_each_backend(|db| {
            suite::seed(
                db,
                "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0);
                 INSERT INTO workflows (id, project_id, key, name, created_at, updated_at) VALUES ('w', 'p', 'orders', 'Orders', 0, 0);
                 INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v', 'w', 1, '{}', 'h', 0);
                 INSERT INTO work_orders (id, workflow_id, version_id, origin, state, received_at, last_activity)
                     VALUES ('wo', 'w', 'v', 'webhook', 'success', 0, 0)",
            );
            assert_eq!(
                workflow_of_work_order(db, "wo").unwrap().as_deref(),
                Some("orders")
            );
            assert_eq!(workflow_of_work_order(db, "none").unwrap(), None);
        });
    }
}
