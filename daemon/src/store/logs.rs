//! A run's log lines in the store.

use super::StoreResult;
use bolt_shared::model::LogLine;
use rusqlite::{Connection, params};

const INSERT: &str =
    "INSERT INTO log_lines (id, run_id, step_id, source, level, message, timestamp)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// Stores one line (its id given by the daemon's counter).
pub fn insert(conn: &Connection, line: &LogLine) -> StoreResult<()> {
    conn.prepare_cached(INSERT)?.execute(params![
        line.id,
        line.run_id,
        line.step_id,
        line.source,
        line.level.as_str(),
        line.message,
        line.timestamp.timestamp_micros()
    ])?;
    Ok(())
}

/// How many lines of a run are stored.
pub fn count_of_run(conn: &Connection, run_id: &str) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM log_lines WHERE run_id = ?1")?
        .query_row([run_id], |r| r.get(0))?)
}

/// The highest log line id so far (0 without any): ids go on from there.
pub fn max_id(conn: &Connection) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM log_lines")?
        .query_row([], |r| r.get(0))?)
}
