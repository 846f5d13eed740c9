//! The audit log in the store: events appended to the chain (the hashing is `audit::chain`'s),
//! the events `bolt audit` lists, retention's purge of the chain's front, and the outbox
//! of events the ATNA syslog collector has yet to take.

use super::{StoreResult, from_micros};
use bolt_shared::audit::{AuditEvent, AuditFilter};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params};
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
const ROWS_FROM: &str = "SELECT id, at, actor, action, subject, metadata, prev_hash, hash
     FROM audit_events WHERE id >= ?1 ORDER BY id";

const LIST: &str = "SELECT id, at, actor, action, subject, metadata FROM audit_events";

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

fn audit_row(r: &Row<'_>) -> rusqlite::Result<AuditRow> {
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
fn audit_event(r: &Row<'_>) -> rusqlite::Result<AuditEvent> {
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

// The chain's events.

/// The newest event, if there is one.
pub fn newest(conn: &Connection) -> StoreResult<Option<EventHash>> {
    Ok(conn
        .prepare_cached(NEWEST)?
        .query_row([], |r| {
            Ok(EventHash {
                id: r.get(0)?,
                hash: r.get(1)?,
            })
        })
        .optional()?)
}

pub fn append(conn: &Connection, event: &NewAuditEvent<'_>) -> StoreResult<()> {
    conn.prepare_cached(APPEND)?.execute(params![
        event.id,
        event.at,
        event.actor,
        event.kind,
        event.subject,
        event.metadata,
        event.prev_hash,
        event.hash
    ])?;
    Ok(())
}

/// The key of the workflow a work order belongs to.
pub fn workflow_of_work_order(
    conn: &Connection,
    work_order_id: &str,
) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached(WORKFLOW_OF_WORK_ORDER)?
        .query_row([work_order_id], |r| r.get(0))
        .optional()?)
}

/// The id of the last event written before the chain existed, as the migration that
/// started the chain recorded it (0 when none was).
pub fn legacy_through(conn: &Connection) -> StoreResult<i64> {
    let through: Option<String> = conn
        .query_row(LEGACY_THROUGH, [], |r| r.get(0))
        .optional()?;
    Ok(through.and_then(|t| t.parse().ok()).unwrap_or(0))
}

/// How many events up to `through` have no hash.
pub fn unsealed_through(conn: &Connection, through: i64) -> StoreResult<i64> {
    Ok(conn.query_row(UNSEALED_THROUGH, [through], |r| r.get(0))?)
}

/// The events up to `through`, oldest first.
pub fn rows_through(conn: &Connection, through: i64) -> StoreResult<Vec<AuditRow>> {
    Ok(conn
        .prepare(ROWS_THROUGH)?
        .query_map([through], audit_row)?
        .collect::<Result<_, _>>()?)
}

/// Gives an event written before the chain existed its link and hash.
pub fn seal(conn: &Connection, id: i64, prev_hash: &str, hash: &str) -> StoreResult<()> {
    conn.execute(SEAL, params![id, prev_hash, hash])?;
    Ok(())
}

/// The metadata of the last retention purge's checkpoint event, if there was a purge.
pub fn last_checkpoint(conn: &Connection) -> StoreResult<Option<String>> {
    Ok(conn
        .query_row(LAST_CHECKPOINT, [], |r| r.get(0))
        .optional()?
        .flatten())
}

/// The newest event older than `id`, if any.
pub fn newest_below(conn: &Connection, id: i64) -> StoreResult<Option<i64>> {
    Ok(conn
        .query_row(NEWEST_BELOW, [id], |r| r.get(0))
        .optional()?
        .flatten())
}

/// Hands the events from `first_id` on to `visit`, oldest first, one at a time (the log
/// may be long), until it breaks.
pub fn each_from(
    conn: &Connection,
    first_id: i64,
    mut visit: impl FnMut(AuditRow) -> ControlFlow<()>,
) -> StoreResult<()> {
    let mut stmt = conn.prepare(ROWS_FROM)?;
    let mut rows = stmt.query([first_id])?;
    while let Some(row) = rows.next()? {
        if visit(audit_row(row)?).is_break() {
            break;
        }
    }
    Ok(())
}

/// The events matching `filter`, newest first, at most `limit`. `filter.workflow` is a
/// workflow's key.
pub fn matching(
    conn: &Connection,
    filter: &AuditFilter,
    limit: u32,
) -> StoreResult<Vec<AuditEvent>> {
    let mut clauses: Vec<&str> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if let Some(since) = filter.since {
        clauses.push("at >= ?");
        values.push(Value::Integer(since.timestamp_micros()));
    }
    if let Some(until) = filter.until {
        clauses.push("at <= ?");
        values.push(Value::Integer(until.timestamp_micros()));
    }
    if let Some(actor) = &filter.actor {
        clauses.push("actor = ?");
        values.push(Value::Text(actor.clone()));
    }
    if let Some(kind) = &filter.kind {
        clauses.push("(action = ? OR action LIKE ? || '.%')");
        values.push(Value::Text(kind.clone()));
        values.push(Value::Text(kind.clone()));
    }
    if let Some(credential) = &filter.credential {
        clauses.push("(action LIKE 'credential.%' AND subject = ?)");
        values.push(Value::Text(credential.clone()));
    }
    if let Some(workflow) = &filter.workflow {
        clauses.push(
            "((action LIKE 'workflow.%' AND (subject = ? OR subject LIKE ? || '/%'))
              OR json_extract(metadata, '$.workflow') = ?)",
        );
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
    let mut stmt = conn.prepare(&sql)?;
    let events = stmt
        .query_map(rusqlite::params_from_iter(values), audit_event)?
        .collect::<Result<_, _>>()?;
    Ok(events)
}

// Retention's purge.

/// The newest event older than `before` (µs) with an id below `below_id`.
pub fn last_before(
    conn: &Connection,
    before: i64,
    below_id: i64,
) -> StoreResult<Option<EventHash>> {
    Ok(conn
        .query_row(LAST_BEFORE, params![before, below_id], |r| {
            Ok(EventHash {
                id: r.get(0)?,
                hash: r.get(1)?,
            })
        })
        .optional()?)
}

/// Deletes the events up to `through_id`: the only delete the append-only triggers let
/// through, under a permit that lives only inside this call. Returns how many went.
pub fn delete_through(conn: &Connection, through_id: i64) -> StoreResult<usize> {
    conn.execute("INSERT INTO audit_purge_permit (id) VALUES (1)", [])?;
    let deleted = conn.execute("DELETE FROM audit_events WHERE id <= ?1", [through_id])?;
    conn.execute("DELETE FROM audit_purge_permit", [])?;
    Ok(deleted)
}

// The ATNA outbox.

/// Queues an event for the syslog collector.
pub fn queue_for_syslog(conn: &Connection, event_id: i64) -> StoreResult<()> {
    conn.prepare_cached(QUEUE)?.execute([event_id])?;
    Ok(())
}

/// The oldest event the collector has yet to take (it holds retention back).
pub fn oldest_undelivered(conn: &Connection) -> StoreResult<Option<i64>> {
    Ok(conn
        .query_row("SELECT MIN(event_id) FROM audit_outbox", [], |r| r.get(0))
        .optional()?
        .flatten())
}

/// The oldest undelivered events, at most `limit`.
pub fn pending(conn: &Connection, limit: i64) -> StoreResult<Vec<AuditEvent>> {
    Ok(conn
        .prepare_cached(PENDING)?
        .query_map([limit], audit_event)?
        .collect::<Result<_, _>>()?)
}

/// The collector took these events: they leave the outbox.
pub fn acknowledge(conn: &Connection, ids: &[i64]) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(ACKNOWLEDGE)?;
    for id in ids {
        stmt.execute([id])?;
    }
    Ok(())
}

/// Counts a failed try to deliver an event, with its error.
pub fn note_failure(conn: &Connection, event_id: i64, error: &str) -> StoreResult<()> {
    conn.prepare_cached(NOTE_FAILURE)?
        .execute(params![event_id, error])?;
    Ok(())
}

/// Empties the outbox; returns how many events were in it.
pub fn clear_outbox(conn: &Connection) -> StoreResult<usize> {
    Ok(conn.execute("DELETE FROM audit_outbox", [])?)
}

pub fn outbox_state(conn: &Connection) -> StoreResult<OutboxState> {
    Ok(conn.prepare_cached(OUTBOX_STATE)?.query_row([], |r| {
        Ok(OutboxState {
            waiting: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
            last_error: r.get(1)?,
        })
    })?)
}
