//! `bolt audit`: events matching a filter, newest first.

use crate::store::{StoreResult, from_micros};
use bolt_shared::audit::{AuditEvent, AuditFilter};
use rusqlite::Connection;
use rusqlite::types::Value;

/// Events returned when the filter sets no limit, and the most ever returned.
const DEFAULT_LIMIT: u32 = 200;
const MAX_LIMIT: u32 = 10_000;

/// The matching events, newest first. `workflow` is a workflow's key.
pub fn list(conn: &Connection, filter: &AuditFilter) -> StoreResult<Vec<AuditEvent>> {
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
    let limit = match filter.limit {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    };
    let filter_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT id, at, actor, action, subject, metadata FROM audit_events {filter_sql}
         ORDER BY id DESC LIMIT {limit}"
    );
    let mut stmt = conn.prepare(&sql)?;
    let events = stmt
        .query_map(rusqlite::params_from_iter(values), |r| {
            let metadata: Option<String> = r.get(5)?;
            Ok(AuditEvent {
                id: r.get(0)?,
                at: from_micros(r.get(1)?),
                actor: r.get(2)?,
                kind: r.get(3)?,
                subject: r.get(4)?,
                metadata: metadata.and_then(|m| serde_json::from_str(&m).ok()),
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(events)
}
