//! What `/metrics` reads from the store when scraped: runs not yet ended, by state. The
//! queue's partial indexes make these counts cheap (no scan of every run).

use super::StoreResult;
use rusqlite::Connection;

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

pub fn run_counts(conn: &Connection) -> StoreResult<RunCounts> {
    let mut counts = RunCounts::default();
    let mut by_state = conn.prepare_cached(IN_FLIGHT)?;
    for row in by_state.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        match row? {
            (state, n) if state == "claimed" => counts.claimed = n,
            (_, n) => counts.started = n,
        }
    }
    counts.available = conn
        .prepare_cached(AVAILABLE)?
        .query_row([], |r| r.get(0))?;
    Ok(counts)
}
