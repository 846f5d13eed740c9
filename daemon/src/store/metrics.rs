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
