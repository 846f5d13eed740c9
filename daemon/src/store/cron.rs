//! Cron triggers in the store: which are armed, the one claim per trigger and minute that
//! makes a tick fire once however many times it is looked at, and the input a tick takes.

use super::StoreResult;
use rusqlite::{Connection, OptionalExtension, params};

/// An enabled cron trigger of an enabled workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronTrigger {
    pub id: String,
    pub key: String,
    pub workflow_id: String,
    pub expression: Option<String>,
}

const ARMED: &str = "SELECT t.id, t.key, w.id, t.cron_expression FROM triggers t
     JOIN workflows w ON w.id = t.workflow_id
     WHERE t.type = 'cron' AND t.enabled = 1 AND w.enabled = 1 AND w.deleted_at IS NULL";

const CLAIM_FIRE: &str = "INSERT OR IGNORE INTO cron_fires (trigger_id, minute) VALUES (?1, ?2)";

const LAST_JOB_OUTPUT: &str = "SELECT s.output_dataclip_id FROM work_orders wo
     JOIN runs r ON r.work_order_id = wo.id
     JOIN steps s ON s.run_id = r.id
     JOIN dataclips d ON d.id = s.output_dataclip_id
     WHERE wo.workflow_id = ?1 AND s.job_key = ?2 AND s.exit_reason = 'success' AND d.wiped_at IS NULL
     ORDER BY wo.id DESC, s.finished_at DESC LIMIT 1";

const LAST_SUCCESS_STATE: &str = "SELECT r.final_dataclip_id FROM runs r
     JOIN work_orders wo ON wo.id = r.work_order_id
     JOIN dataclips d ON d.id = r.final_dataclip_id
     WHERE wo.workflow_id = ?1 AND r.state = 'success' AND d.wiped_at IS NULL
     ORDER BY r.finished_at DESC LIMIT 1";

pub fn armed(conn: &Connection) -> StoreResult<Vec<CronTrigger>> {
    let rows = conn
        .prepare_cached(ARMED)?
        .query_map([], |r| {
            Ok(CronTrigger {
                id: r.get(0)?,
                key: r.get(1)?,
                workflow_id: r.get(2)?,
                expression: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Claims the fire of `trigger_id` at `minute` (seconds since the epoch): true for the
/// first claim only.
pub fn claim_fire(conn: &Connection, trigger_id: &str, minute: i64) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached(CLAIM_FIRE)?
        .execute(params![trigger_id, minute])?
        == 1)
}

/// As Lightning with a `cron_cursor_job`: the output of that job's last successful step in
/// this workflow (not wiped). Walks work orders newest first, so it stops at the first hit.
pub fn last_job_output(
    conn: &Connection,
    workflow_id: &str,
    job: &str,
) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached(LAST_JOB_OUTPUT)?
        .query_row(params![workflow_id, job], |r| r.get(0))
        .optional()?)
}

/// As Lightning without one: the final state of the workflow's last successful run (not
/// wiped).
pub fn last_success_state(conn: &Connection, workflow_id: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached(LAST_SUCCESS_STATE)?
        .query_row([workflow_id], |r| r.get(0))
        .optional()?)
}
