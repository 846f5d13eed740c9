//! Work orders per state for a filter (the history header). Received-time windows add up
//! the hourly buckets of `work_order_counts` (kept exact by [`record_new`] and
//! [`record_change`], and by a trigger for deletes; migrations 0002 and 0004) and
//! read work orders only in the partial hours at the window's edges; so a 7-day window of
//! a million work orders costs a few hundred bucket rows plus at most two hours of rows.
//! Activity-time windows have no buckets (activity moves) and count the rows themselves.

use super::ResolvedFilter;
use crate::store::history::{self as store, Selection};
use crate::store::{StoreResult, fts_queue};
use bolt_shared::model::*;
use bolt_sql::Db;
use std::collections::BTreeMap;

/// Bucket width: one hour in microseconds (the SQL in migration 0002 uses the same number).
pub const HOUR_MICROS: i64 = 3_600_000_000;

/// Counts a new work order in its bucket. Every insert into `work_orders` must call it,
/// in the same transaction.
pub fn record_new(
    conn: &dyn Db,
    workflow_id: &str,
    received_at: i64,
    state: &str,
) -> StoreResult<()> {
    bump(
        conn,
        workflow_id,
        received_at.div_euclid(HOUR_MICROS),
        state,
        1,
    )
}

/// Moves a work order from one state's bucket to another's. Every change of
/// `work_orders.state` must call it, in the same transaction.
pub fn record_change(
    conn: &dyn Db,
    workflow_id: &str,
    received_at: i64,
    from: &str,
    to: &str,
) -> StoreResult<()> {
    if from == to {
        return Ok(());
    }
    let hour = received_at.div_euclid(HOUR_MICROS);
    bump(conn, workflow_id, hour, from, -1)?;
    bump(conn, workflow_id, hour, to, 1)
}

fn bump(conn: &dyn Db, workflow_id: &str, hour: i64, state: &str, by: i64) -> StoreResult<()> {
    fts_queue::count(conn, workflow_id, hour, state, by)?;
    Ok(())
}

/// Counts by state for a filter without search text, ignoring its state selection.
pub fn state_counts(db: &dyn Db, resolved: &ResolvedFilter) -> StoreResult<Vec<StateCount>> {
    let unfiltered = Selection {
        states: Vec::new(),
        search: None,
        ..resolved.selection()
    };
    if resolved.by_activity {
        return store::count_by_state(db, &unfiltered);
    }
    let (since, until) = (resolved.since, resolved.until);
    // Whole hours inside the window: [first_hour, end_hour).
    let first_hour = since.map(|s| ceil_div(s, HOUR_MICROS));
    let end_hour = until.map(|u| u.div_euclid(HOUR_MICROS));
    if let (Some(first), Some(end)) = (first_hour, end_hour)
        && first >= end
    {
        // Less than an hour or two: read the rows.
        return store::count_by_state(db, &unfiltered);
    }
    let mut totals: BTreeMap<WorkOrderState, u64> = BTreeMap::new();
    let mut add = |counts: Vec<StateCount>| {
        for c in counts {
            *totals.entry(c.state).or_default() += c.count;
        }
    };
    add(store::bucket_counts(
        db,
        resolved.workflow_id.as_deref(),
        first_hour.unwrap_or(i64::MIN),
        end_hour.unwrap_or(i64::MAX),
    )?);
    if let (Some(since), Some(first)) = (since, first_hour)
        && since < first * HOUR_MICROS
    {
        add(store::count_by_state(
            db,
            &window(&unfiltered, since, first * HOUR_MICROS),
        )?);
    }
    if let (Some(until), Some(end)) = (until, end_hour)
        && end * HOUR_MICROS < until
    {
        add(store::count_by_state(
            db,
            &window(&unfiltered, end * HOUR_MICROS, until),
        )?);
    }
    Ok(totals
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(state, count)| StateCount { state, count })
        .collect())
}

fn ceil_div(a: i64, b: i64) -> i64 {
    -((-a).div_euclid(b))
}

/// The selection narrowed to received times in [from, to).
fn window(selection: &Selection, from: i64, to: i64) -> Selection {
    Selection {
        since: Some(from),
        until: Some(to),
        by_activity: false,
        ..selection.clone()
    }
}

/// Counts by reading the matching work orders.
pub fn scan(db: &dyn Db, filter: &WorkOrderFilter) -> StoreResult<Vec<StateCount>> {
    store::count_by_state(db, &super::selection(db, filter)?)
}
