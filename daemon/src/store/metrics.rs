//! What `/metrics` reads from the store when scraped: runs not yet ended, by state. The
//! queue's partial indexes make these counts cheap (no scan of every run).

use super::StoreResult;
use bolt_sql::{Db, DbExt, params};

const IN_FLIGHT: &str =
    "SELECT state, COUNT(*) FROM runs WHERE state IN ('claimed', 'started') GROUP BY state";

const AVAILABLE: &str = "SELECT COUNT(*) FROM runs WHERE state = 'available'";

/// Runs not yet ended, by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// Waiting for a worker.
    pub available: i64,
    pub claimed: i64,
    pub started: i64,
}

pub fn run_counts(db: &dyn Db) -> StoreResult<RunCounts> {
    let mut counts = RunCounts::default();
    let by_state = db.query_map(IN_FLIGHT, params![], |r| {
        Ok((r.get::<String>(0)?, r.get::<i64>(1)?))
    })?;
    for row in by_state {
        match row {
            (state, n) if state == "claimed" => counts.claimed = n,
            (_, n) => counts.started = n,
        }
    }
    counts.available = db.query_one(AVAILABLE, params![])?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite;

    #[test]
    fn runs_not_yet_ended_are_counted_by_state() {
        suite::on_each_backend(|db| {
            assert_eq!(run_counts(db).unwrap(), RunCounts::default());
            suite::seed(
                db,
                "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0);
                 INSERT INTO workflows (id, project_id, key, name, created_at, updated_at) VALUES ('w', 'p', 'w', 'W', 0, 0);
                 INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v', 'w', 1, '{}', 'h', 0);
                 INSERT INTO work_orders (id, workflow_id, version_id, origin, state, received_at, last_activity)
                   VALUES ('wo', 'w', 'v', 'manual', 'running', 0, 0);
                 INSERT INTO runs (id, work_order_id, version_id, origin, state, created_at) VALUES
                   ('a1', 'wo', 'v', 'manual', 'available', 0), ('a2', 'wo', 'v', 'manual', 'available', 0),
                   ('a3', 'wo', 'v', 'manual', 'available', 0), ('c1', 'wo', 'v', 'manual', 'claimed', 0),
                   ('s1', 'wo', 'v', 'manual', 'started', 0), ('s2', 'wo', 'v', 'manual', 'started', 0),
                   ('done', 'wo', 'v', 'manual', 'success', 0);",
            );
            assert_eq!(
                run_counts(db).unwrap(),
                RunCounts {
                    available: 3,
                    claimed: 1,
                    started: 2,
                }
            );
        });
    }
}
