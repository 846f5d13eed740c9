//! Resolving what people paste: a full id or a short ref of a work order, run or step.

use crate::store::{StoreError, StoreResult};
use bolt_shared::model::{RefKind, SHORT_REF_LEN};
use rusqlite::{Connection, OptionalExtension};

pub struct Resolved {
    pub kind: RefKind,
    pub id: String,
    pub work_order_id: String,
    /// The run: the one named, the step's run, or a work order's latest run.
    pub run_id: String,
}

fn find_in(conn: &Connection, table: &str, reference: &str) -> StoreResult<Vec<String>> {
    let reference = reference.trim().to_ascii_lowercase();
    if reference.len() == 36 {
        let found: Option<String> = conn
            .query_row(
                &format!("SELECT id FROM {table} WHERE id = ?1"),
                [&reference],
                |r| r.get(0),
            )
            .optional()?;
        return Ok(found.into_iter().collect());
    }
    if reference.len() < 6 || !reference.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Ok(Vec::new());
    }
    find_by_tail(conn, table, &reference.replace('-', ""), 2)
}

/// Ids of `table` ending in `tail` (hex digits, no dashes), at most `limit` of them.
/// Tails of 8 or more digits (short refs are 8) use the `substr(id, -8)` index; shorter
/// tails scan every id.
pub fn find_by_tail(
    conn: &Connection,
    table: &str,
    tail: &str,
    limit: u32,
) -> StoreResult<Vec<String>> {
    let tail = tail.to_ascii_lowercase();
    if !tail.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(Vec::new());
    }
    let ids = if tail.len() >= SHORT_REF_LEN {
        let last = &tail[tail.len() - SHORT_REF_LEN..];
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id FROM {table} WHERE substr(id, -8) = ?1 AND replace(id, '-', '') LIKE '%' || ?2 LIMIT ?3"
        ))?;
        stmt.query_map(rusqlite::params![last, tail, limit], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    } else {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id FROM {table} WHERE replace(id, '-', '') LIKE '%' || ?1 LIMIT ?2"
        ))?;
        stmt.query_map(rusqlite::params![tail, limit], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
    Ok(ids)
}

pub fn resolve(conn: &Connection, reference: &str) -> StoreResult<Resolved> {
    for (table, kind) in [
        ("work_orders", RefKind::WorkOrder),
        ("runs", RefKind::Run),
        ("steps", RefKind::Step),
    ] {
        let found = find_in(conn, table, reference)?;
        if found.len() > 1 {
            return Err(StoreError::Invalid(format!(
                "`{reference}` matches several {table}; give more characters or the full id"
            )));
        }
        let Some(id) = found.into_iter().next() else {
            continue;
        };
        return Ok(match kind {
            RefKind::WorkOrder => {
                let run_id: String = conn.query_row(
                    "SELECT id FROM runs WHERE work_order_id = ?1 ORDER BY id DESC LIMIT 1",
                    [&id],
                    |r| r.get(0),
                )?;
                Resolved {
                    kind,
                    work_order_id: id.clone(),
                    run_id,
                    id,
                }
            }
            RefKind::Run => {
                let wo: String =
                    conn.query_row("SELECT work_order_id FROM runs WHERE id = ?1", [&id], |r| {
                        r.get(0)
                    })?;
                Resolved {
                    kind,
                    work_order_id: wo,
                    run_id: id.clone(),
                    id,
                }
            }
            RefKind::Step => {
                let (run, wo): (String, String) = conn.query_row(
                    "SELECT r.id, r.work_order_id FROM steps s JOIN runs r ON r.id = s.run_id WHERE s.id = ?1",
                    [&id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                Resolved {
                    kind,
                    work_order_id: wo,
                    run_id: run,
                    id,
                }
            }
        });
    }
    Err(StoreError::Invalid(format!(
        "no work order, run or step matches `{reference}` (use an id or the short ref `bolt runs` shows)"
    )))
}

pub fn resolve_run(conn: &Connection, reference: &str) -> StoreResult<Resolved> {
    resolve(conn, reference)
}
