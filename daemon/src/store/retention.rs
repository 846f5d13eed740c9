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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::dataclips;
    use crate::store::fts_queue::indexed;
    use crate::store::suite::{on_each_backend, seed};

    /// Project `p1` keeps history 30 days and bodies 7, `p2` keeps everything. In `p1`:
    /// [`WO_OLD`] (finished, last active at 10, input `in-1`, run [`RUN`] with step [`STEP`]
    /// reading `in-1` and writing `out-1`), [`WO_RUNNING`] (also at 10) and [`WO_NEW`] (at
    /// 500, input `in-new`); `p2` has [`WO_OTHER`] at 10. Bodies of `p1` created at 1: `in-1`,
    /// `out-1`, `saved` (named) and `global-1` (global); `in-new` at 500.
    pub(crate) const HISTORY: &str = "
        INSERT INTO projects (id, name, history_retention_days, dataclip_retention_days, created_at, updated_at)
            VALUES ('p1', 'one', 30, 7, 0, 0), ('p2', 'two', NULL, NULL, 0, 0);
        INSERT INTO workflows (id, project_id, key, name, created_at, updated_at)
            VALUES ('w1', 'p1', 'w', 'W', 0, 0), ('w2', 'p2', 'w', 'W', 0, 0);
        INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at)
            VALUES ('v1', 'w1', 1, '{}', 'h', 0), ('v2', 'w2', 1, '{}', 'h', 0);
        INSERT INTO dataclips (id, project_id, type, body, name, created_at) VALUES
            ('in-1', 'p1', 'http_request', '{}', NULL, 1), ('out-1', 'p1', 'step_result', '{}', NULL, 1),
            ('saved', 'p1', 'saved_input', '{}', 'kept', 1), ('global-1', 'p1', 'global', '{}', NULL, 1),
            ('in-new', 'p1', 'http_request', '{}', NULL, 500);
        INSERT INTO work_orders (id, workflow_id, version_id, origin, dataclip_id, state, received_at, last_activity) VALUES
            ('0190a1b2-0000-7000-8000-0000000000a1', 'w1', 'v1', 'webhook', 'in-1', 'success', 10, 10),
            ('0190a1b2-0000-7000-8000-0000000000a2', 'w1', 'v1', 'webhook', NULL, 'running', 10, 10),
            ('0190a1b2-0000-7000-8000-0000000000a3', 'w1', 'v1', 'webhook', 'in-new', 'failed', 500, 500),
            ('0190a1b2-0000-7000-8000-0000000000a4', 'w2', 'v2', 'webhook', NULL, 'success', 10, 10);
        INSERT INTO runs (id, work_order_id, version_id, dataclip_id, final_dataclip_id, origin, state, created_at)
            VALUES ('0190a1b2-0000-7000-8000-0000000000b1', '0190a1b2-0000-7000-8000-0000000000a1', 'v1', 'in-1', 'out-1', 'webhook', 'success', 10);
        INSERT INTO steps (id, run_id, job_key, job_name, input_dataclip_id, output_dataclip_id, started_at)
            VALUES ('0190a1b2-0000-7000-8000-0000000000c1', '0190a1b2-0000-7000-8000-0000000000b1', 'j', 'J', 'in-1', 'out-1', 10);";

    /// The ids in [`HISTORY`] (UUIDs, so that they have short refs).
    pub(crate) const WO_OLD: &str = "0190a1b2-0000-7000-8000-0000000000a1";
    pub(crate) const WO_RUNNING: &str = "0190a1b2-0000-7000-8000-0000000000a2";
    pub(crate) const WO_NEW: &str = "0190a1b2-0000-7000-8000-0000000000a3";
    pub(crate) const WO_OTHER: &str = "0190a1b2-0000-7000-8000-0000000000a4";
    pub(crate) const RUN: &str = "0190a1b2-0000-7000-8000-0000000000b1";
    pub(crate) const STEP: &str = "0190a1b2-0000-7000-8000-0000000000c1";

    fn clips(db: &dyn Db) -> Vec<String> {
        db.query_map("SELECT id FROM dataclips ORDER BY id", params![], |r| {
            r.get(0)
        })
        .unwrap()
    }

    #[test]
    fn policies_and_what_is_past_them() {
        on_each_backend(|db| {
            seed(db, HISTORY);
            let mut all = policies(db).unwrap();
            all.sort_by(|a, b| a.project_id.cmp(&b.project_id));
            assert_eq!(
                all,
                [
                    ProjectRetention {
                        project_id: "p1".into(),
                        history_days: Some(30),
                        dataclip_days: Some(7),
                    },
                    ProjectRetention {
                        project_id: "p2".into(),
                        history_days: None,
                        dataclip_days: None,
                    },
                ]
            );
            assert_eq!(expired_work_orders(db, "p1", 100, 10).unwrap(), [WO_OLD]);
            assert!(expired_work_orders(db, "p1", 10, 10).unwrap().is_empty());
            assert!(expired_work_orders(db, "p1", 100, 0).unwrap().is_empty());
            assert_eq!(expired_work_orders(db, "p2", 100, 10).unwrap(), [WO_OTHER]);

            let mut old = expired_dataclips(db, "p1", 100, 10).unwrap();
            old.sort();
            assert_eq!(old, ["in-1", "out-1"]);
            assert_eq!(expired_dataclips(db, "p1", 100, 1).unwrap().len(), 1);
            assert!(expired_dataclips(db, "p2", 1000, 10).unwrap().is_empty());
        });
    }

    #[test]
    fn a_work_order_is_deleted_with_its_parts_index_and_unused_bodies() {
        on_each_backend(|db| {
            seed(db, HISTORY);
            dataclips::index(db, WO_OLD, "input", "in-1", "alpha words").unwrap();
            dataclips::index(db, WO_OLD, "log", "1", "alpha log line").unwrap();
            dataclips::index(db, WO_NEW, "input", "in-new", "alpha new").unwrap();

            let mut used = dataclips_of(db, WO_OLD).unwrap();
            used.sort();
            assert_eq!(used, ["in-1", "in-1", "in-1", "out-1", "out-1"]);
            assert!(dataclips_of(db, WO_RUNNING).unwrap().is_empty());
            assert_eq!(
                parts_of(db, WO_OLD).unwrap(),
                WorkOrderParts {
                    runs: vec![RUN.to_string()],
                    steps: vec![STEP.to_string()],
                }
            );

            unindex_work_order(db, WO_OLD).unwrap();
            assert_eq!(indexed(db, "alpha").len(), 1);
            let docs: i64 = db
                .query_one("SELECT COUNT(*) FROM search_docs", params![])
                .unwrap();
            assert_eq!(docs, 1);

            // Still referred to by the work order: kept.
            delete_dataclip_if_unused(db, "in-1").unwrap();
            assert!(clips(db).contains(&"in-1".to_string()));
            delete_work_order(db, WO_OLD).unwrap();
            assert_eq!(parts_of(db, WO_OLD).unwrap(), WorkOrderParts::default());
            for clip in ["in-1", "out-1", "saved", "in-new"] {
                delete_dataclip_if_unused(db, clip).unwrap();
            }
            assert_eq!(clips(db), ["global-1", "in-new", "saved"]);
        });
    }
}
