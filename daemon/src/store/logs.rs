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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::suite;
    use crate::store::work_orders::fixture;
    use bolt_shared::model::LogLevel;
    use chrono::TimeZone;

    fn line(id: i64, run_id: &str) -> LogLine {
        LogLine {
            id,
            run_id: run_id.into(),
            step_id: Some("s1".into()),
            source: "JOB".into(),
            level: LogLevel::Info,
            message: format!("line {id}"),
            timestamp: chrono::Utc.timestamp_micros(1_700_000_000_000_001).unwrap(),
        }
    }

    #[test]
    fn lines_are_stored_under_the_ids_given_and_counted_per_run() {
        suite::on_each_backend(|db| {
            fixture::one_run(db, "started");
            fixture::run(db, "r2", "wo", "w", "started", 1);
            assert_eq!(max_id(db).unwrap(), 0);
            insert(db, &line(7, "r1")).unwrap();
            insert(db, &line(8, "r1")).unwrap();
            insert(db, &line(12, "r2")).unwrap();
            assert_eq!(max_id(db).unwrap(), 12);
            assert_eq!(count_of_run(db, "r1").unwrap(), 2);
            assert_eq!(count_of_run(db, "r2").unwrap(), 1);
            assert_eq!(count_of_run(db, "none").unwrap(), 0);
            let stored: (String, String, String, i64) = db
                .query_row(
                    "SELECT source, level, message, timestamp FROM log_lines WHERE id = 8",
                    params![],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .unwrap()
                .unwrap();
            assert_eq!(
                stored,
                (
                    "JOB".into(),
                    "info".into(),
                    "line 8".into(),
                    1_700_000_000_000_001
                )
            );
            // Ids are boltd's: the same id twice is refused.
            assert!(insert(db, &line(8, "r2")).is_err());
        });
    }
}
