//! Ids in the store by what people paste: a full id, the `short_refs` index (an entry per
//! work order, run and step, migration 0004), the tail of an id; and the work order and
//! run a run or step belongs to.
//!
//! `table` is always one of bolt's own table names (`work_orders`, `runs`, `steps`), never
//! text from a request.

use super::StoreResult;
use rusqlite::{Connection, OptionalExtension, params};

const REMOVE_SHORT_REF: &str = "DELETE FROM short_refs WHERE short_refs MATCH ?1 AND id = ?2";

const LATEST_RUN: &str = "SELECT id FROM runs WHERE work_order_id = ?1 ORDER BY id DESC LIMIT 1";

const WORK_ORDER_OF_RUN: &str = "SELECT work_order_id FROM runs WHERE id = ?1";

const STEP_OWNER: &str =
    "SELECT r.id, r.work_order_id FROM steps s JOIN runs r ON r.id = s.run_id WHERE s.id = ?1";

const WORK_ORDER_OF_STEP: &str =
    "SELECT r.work_order_id FROM steps s JOIN runs r ON r.id = s.run_id WHERE s.id = ?1";

/// The run and work order a step belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOwner {
    pub run_id: String,
    pub work_order_id: String,
}

/// An FTS5 string literal (tokens are hex digits and a letter, but never trust input).
fn quoted(token: &str) -> String {
    format!("\"{}\"", token.replace('"', "\"\""))
}

/// `id` if `table` has a row with that id.
pub fn by_id(conn: &Connection, table: &str, id: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached(&format!("SELECT id FROM {table} WHERE id = ?1"))?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

/// The lookup of ids by short ref: ?1 the quoted token, ?2 the tail, ?3 the limit.
pub fn short_ref_sql(table: &str) -> String {
    format!(
        "SELECT r.id FROM short_refs r JOIN {table} t ON t.id = r.id
         WHERE short_refs MATCH ?1 AND replace(r.id, '-', '') LIKE '%' || ?2 LIMIT ?3"
    )
}

/// Ids of `table` with short ref `token` in the index whose dashless id ends in `tail`, at
/// most `limit` of them. The row must still exist: a cascade (a deleted work order's runs
/// and steps) may have left its entry behind.
pub fn by_short_ref(
    conn: &Connection,
    table: &str,
    token: &str,
    tail: &str,
    limit: u32,
) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(&short_ref_sql(table))?;
    let ids = stmt
        .query_map(params![quoted(token), tail, limit], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Ids of `table` whose dashless id ends in `tail`, at most `limit` of them (reads every
/// id).
pub fn by_tail(conn: &Connection, table: &str, tail: &str, limit: u32) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id FROM {table} WHERE replace(id, '-', '') LIKE '%' || ?1 LIMIT ?2"
    ))?;
    let ids = stmt
        .query_map(params![tail, limit], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Removes the `short_refs` entry `token` of `id`.
pub fn remove_short_ref(conn: &Connection, token: &str, id: &str) -> StoreResult<()> {
    conn.prepare_cached(REMOVE_SHORT_REF)?
        .execute(params![quoted(token), id])?;
    Ok(())
}

/// The latest run of work order `work_order_id` (every work order has one).
pub fn latest_run(conn: &Connection, work_order_id: &str) -> StoreResult<String> {
    Ok(conn
        .prepare_cached(LATEST_RUN)?
        .query_row([work_order_id], |r| r.get(0))?)
}

/// The work order run `run_id` belongs to.
pub fn work_order_of_run(conn: &Connection, run_id: &str) -> StoreResult<String> {
    Ok(conn
        .prepare_cached(WORK_ORDER_OF_RUN)?
        .query_row([run_id], |r| r.get(0))?)
}

/// The run and work order step `step_id` belongs to.
pub fn step_owner(conn: &Connection, step_id: &str) -> StoreResult<StepOwner> {
    Ok(conn.prepare_cached(STEP_OWNER)?.query_row([step_id], |r| {
        Ok(StepOwner {
            run_id: r.get(0)?,
            work_order_id: r.get(1)?,
        })
    })?)
}

/// The work order step `step_id` belongs to.
pub fn work_order_of_step(conn: &Connection, step_id: &str) -> StoreResult<String> {
    Ok(conn
        .prepare_cached(WORK_ORDER_OF_STEP)?
        .query_row([step_id], |r| r.get(0))?)
}
