//! A run's log lines in the store.

use super::StoreResult;
use bolt_shared::model::LogLine;
use bolt_sql::{Db, DbExt, params};

const INSERT: &str =
    "INSERT INTO log_lines (id, run_id, step_id, source, level, message, timestamp)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// Stores one line (its id given by the daemon's counter).
pub fn insert(db: &dyn Db, line: &LogLine) -> StoreResult<()> {
    db.execute(
        INSERT,
        params![
            line.id,
            line.run_id,
            line.step_id,
            line.source,
            line.level.as_str(),
            line.message,
            line.timestamp.timestamp_micros()
        ],
    )?;
    Ok(())
}

/// How many lines of a run are stored.
pub fn count_of_run(db: &dyn Db, run_id: &str) -> StoreResult<i64> {
    Ok(db.query_one(
        "SELECT COUNT(*) FROM log_lines WHERE run_id = ?1",
        params![run_id],
    )?)
}

/// The highest log line id so far (0 without any): ids go on from there.
pub fn max_id(db: &dyn Db) -> StoreResult<i64> {
    Ok(db.query_one("SELECT COALESCE(MAX(id), 0) FROM log_lines", params![])?)
}
