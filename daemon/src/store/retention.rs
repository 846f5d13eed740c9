//! Retention in the store: each project's settings, the work orders and bodies past them,
//! and deleting a work order with what only it refers to.

use super::{StoreResult, fts_queue};
use bolt_sql::{Db, DbExt, Dialect, params};

const POLICIES: &str = "SELECT id, history_retention_days, dataclip_retention_days FROM projects";

const EXPIRED_WORK_ORDERS: &str = "SELECT wo.id FROM work_orders wo JOIN workflows w ON w.id = wo.workflow_id
         WHERE w.project_id = ?1 AND wo.last_activity < ?2 AND wo.state NOT IN ('pending', 'running') LIMIT ?3";

const INPUT_OF_WORK_ORDER: &str = "SELECT dataclip_id FROM work_orders WHERE id = ?1";

const DATACLIPS_OF_RUNS: &str = "SELECT dataclip_id FROM runs WHERE work_order_id = ?1 UNION SELECT final_dataclip_id FROM runs WHERE work_order_id = ?1";

const DATACLIPS_OF_STEPS: &str = "SELECT s.input_dataclip_id FROM steps s JOIN runs r ON r.id = s.run_id WHERE r.work_order_id = ?1
             UNION SELECT s.output_dataclip_id FROM steps s JOIN runs r ON r.id = s.run_id WHERE r.work_order_id = ?1";

const SEARCH_DOCS: &str = "SELECT rowid FROM search_docs WHERE work_order_id = ?1";

const DELETE_SEARCH_DOCS: &str = "DELETE FROM search_docs WHERE work_order_id = ?1";

/// PostgreSQL removes a work order's index entries in one statement (SQLite goes through
/// the fts queue, one rowid at a time, so that inserts queued in the batch are cancelled).
const DELETE_SEARCH_FTS_POSTGRES: &str = "DELETE FROM search_fts WHERE rowid IN (SELECT rowid FROM search_docs WHERE work_order_id = ?1)";

const STEPS_OF_WORK_ORDER: &str =
    "SELECT s.id FROM steps s JOIN runs r ON r.id = s.run_id WHERE r.work_order_id = ?1";

const RUNS_OF_WORK_ORDER: &str = "SELECT id FROM runs WHERE work_order_id = ?1";

const DELETE_WORK_ORDER: &str = "DELETE FROM work_orders WHERE id = ?1";

const DELETE_UNUSED_DATACLIP: &str = "DELETE FROM dataclips WHERE id = ?1 AND name IS NULL
                 AND NOT EXISTS (SELECT 1 FROM work_orders WHERE dataclip_id = ?1)
                 AND NOT EXISTS (SELECT 1 FROM runs WHERE dataclip_id = ?1 OR final_dataclip_id = ?1)
                 AND NOT EXISTS (SELECT 1 FROM steps WHERE input_dataclip_id = ?1 OR output_dataclip_id = ?1)";

const EXPIRED_DATACLIPS: &str = "SELECT id FROM dataclips WHERE project_id = ?1 AND created_at < ?2 AND wiped_at IS NULL AND name IS NULL AND type <> 'global' LIMIT ?3";

/// A project's retention settings (`None`: kept for ever).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRetention {
    pub project_id: String,
    pub history_days: Option<i64>,
    pub dataclip_days: Option<i64>,
}

/// The runs and steps of a work order (deleted with it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkOrderParts {
    pub runs: Vec<String>,
    pub steps: Vec<String>,
}

/// Every project's retention settings.
pub fn policies(db: &dyn Db) -> StoreResult<Vec<ProjectRetention>> {
    Ok(db.query_map(POLICIES, params![], |r| {
        Ok(ProjectRetention {
            project_id: r.get(0)?,
            history_days: r.get(1)?,
            dataclip_days: r.get(2)?,
        })
    })?)
}

/// Up to `limit` finished work orders of `project` last active before `cutoff`.
pub fn expired_work_orders(
    db: &dyn Db,
    project: &str,
    cutoff: i64,
    limit: usize,
) -> StoreResult<Vec<String>> {
    expired(db, EXPIRED_WORK_ORDERS, project, cutoff, limit)
}

/// Up to `limit` bodies of `project` created before `cutoff` that may be wiped: not wiped
/// yet, not named, not global.
pub fn expired_dataclips(
    db: &dyn Db,
    project: &str,
    cutoff: i64,
    limit: usize,
) -> StoreResult<Vec<String>> {
    expired(db, EXPIRED_DATACLIPS, project, cutoff, limit)
}

/// The ids `sql` finds for ?1 the project, ?2 the cutoff and ?3 the limit.
fn expired(
    db: &dyn Db,
    sql: &str,
    project: &str,
    cutoff: i64,
    limit: usize,
) -> StoreResult<Vec<String>> {
    Ok(db.query_map(sql, params![project, cutoff, limit], |r| r.get(0))?)
}

/// The dataclips work order `id`, its runs and their steps refer to (possibly repeated).
pub fn dataclips_of(db: &dyn Db, id: &str) -> StoreResult<Vec<String>> {
    let mut clips = Vec::new();
    for sql in [INPUT_OF_WORK_ORDER, DATACLIPS_OF_RUNS, DATACLIPS_OF_STEPS] {
        let found: Vec<Option<String>> = db.query_map(sql, params![id], |r| r.get(0))?;
        clips.extend(found.into_iter().flatten());
    }
    Ok(clips)
}

/// Removes the indexed documents of work order `id`: their FTS entries (which go with the
/// writer's batch on SQLite) and their rows.
pub fn unindex_work_order(db: &dyn Db, id: &str) -> StoreResult<()> {
    match db.dialect() {
        Dialect::Sqlite => {
            let rowids: Vec<i64> = db.query_map(SEARCH_DOCS, params![id], |r| r.get(0))?;
            for rowid in rowids {
                fts_queue::delete(db, rowid)?;
            }
        }
        Dialect::Postgres => {
            db.execute(DELETE_SEARCH_FTS_POSTGRES, params![id])?;
        }
    }
    db.execute(DELETE_SEARCH_DOCS, params![id])?;
    Ok(())
}

/// The runs and steps of work order `id`.
pub fn parts_of(db: &dyn Db, id: &str) -> StoreResult<WorkOrderParts> {
    let ids = |sql: &str| -> StoreResult<Vec<String>> {
        Ok(db.query_map(sql, params![id], |r| r.get(0))?)
    };
    let steps = ids(STEPS_OF_WORK_ORDER)?;
    let runs = ids(RUNS_OF_WORK_ORDER)?;
    Ok(WorkOrderParts { runs, steps })
}

/// Deletes work order `id` (its runs, steps and log lines go with it).
pub fn delete_work_order(db: &dyn Db, id: &str) -> StoreResult<()> {
    db.execute(DELETE_WORK_ORDER, params![id])?;
    Ok(())
}

/// Deletes dataclip `id` unless it is named (a saved input) or still referred to.
pub fn delete_dataclip_if_unused(db: &dyn Db, id: &str) -> StoreResult<()> {
    db.execute(DELETE_UNUSED_DATACLIP, params![id])?;
    Ok(())
}
