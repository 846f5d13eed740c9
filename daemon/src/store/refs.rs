//! Ids in the store by what people paste: a full id, the short-ref index, the tail of an
//! id; and the work order and run a run or step belongs to.
//!
//! The short-ref index differs by backend: on SQLite it is the `short_refs` FTS5 table (an
//! entry per work order, run and step, migration 0004, written through the fts queue); on
//! PostgreSQL the expression indexes on `right(id, 8)` of each table, which rows join and
//! leave with their table's row (nothing to remove by hand).
//!
//! `table` is always one of bolt's own table names (`work_orders`, `runs`, `steps`), never
//! text from a request.

use super::{StoreError, StoreResult};
use bolt_sql::{Db, DbExt, Dialect, params};

const REMOVE_SHORT_REF: &str = "DELETE FROM short_refs WHERE short_refs MATCH ?1 AND id = ?2";

const LATEST_RUN: &str = "SELECT id FROM runs WHERE work_order_id = ?1 ORDER BY id DESC LIMIT 1";

const WORK_ORDER_OF_RUN: &str = "SELECT work_order_id FROM runs WHERE id = ?1";

const STEP_OWNER: &str =
    "SELECT r.id, r.work_order_id FROM steps s JOIN runs r ON r.id = s.run_id WHERE s.id = ?1";

const WORK_ORDER_OF_STEP: &str =
    "SELECT r.work_order_id FROM steps s JOIN runs r ON r.id = s.run_id WHERE s.id = ?1";

/// The run and work order a step belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOwner {
    pub run_id: String,
    pub work_order_id: String,
}

/// An FTS5 string literal (tokens are hex digits and a letter, but never trust input).
fn quoted(token: &str) -> String {
    format!("\"{}\"", token.replace('"', "\"\""))
}

/// `id` if `table` has a row with that id.
pub fn by_id(db: &dyn Db, table: &str, id: &str) -> StoreResult<Option<String>> {
    Ok(db.query_value(
        &format!("SELECT id FROM {table} WHERE id = ?1"),
        params![id],
    )?)
}

/// The lookup of ids by short ref on SQLite: ?1 the quoted token, ?2 the tail, ?3 the limit.
pub fn short_ref_sql(table: &str) -> String {
    format!(
        "SELECT r.id FROM short_refs r JOIN {table} t ON t.id = r.id
         WHERE short_refs MATCH ?1 AND replace(r.id, '-', '') LIKE '%' || ?2 LIMIT ?3"
    )
}

/// The same lookup on PostgreSQL, through the `right(id, 8)` index: ?1 the tail, ?2 the
/// limit. The token is the table's letter and the tail's last 8 digits, so the table and
/// `right(?1, 8)` say what it says.
fn short_ref_sql_postgres(table: &str) -> String {
    format!(
        "SELECT id FROM {table}
         WHERE right(id, 8) = right(?1, 8) AND replace(id, '-', '') LIKE '%' || ?1 LIMIT ?2"
    )
}

/// Ids of `table` with short ref `token` in the index whose dashless id ends in `tail`
/// (at least 8 digits, the last 8 of them `token`'s), at most `limit` of them. The row
/// must still exist: a cascade (a deleted work order's runs and steps) may have left its
/// `short_refs` entry behind.
pub fn by_short_ref(
    db: &dyn Db,
    table: &str,
    token: &str,
    tail: &str,
    limit: u32,
) -> StoreResult<Vec<String>> {
    let ids = match db.dialect() {
        Dialect::Sqlite => db.query_map(
            &short_ref_sql(table),
            params![quoted(token), tail, limit],
            |r| r.get(0),
        )?,
        Dialect::Postgres => {
            db.query_map(&short_ref_sql_postgres(table), params![tail, limit], |r| {
                r.get(0)
            })?
        }
    };
    Ok(ids)
}

/// Ids of `table` whose dashless id ends in `tail`, at most `limit` of them (reads every
/// id).
pub fn by_tail(db: &dyn Db, table: &str, tail: &str, limit: u32) -> StoreResult<Vec<String>> {
    Ok(db.query_map(
        &format!("SELECT id FROM {table} WHERE replace(id, '-', '') LIKE '%' || ?1 LIMIT ?2"),
        params![tail, limit],
        |r| r.get(0),
    )?)
}

/// Removes the `short_refs` entry `token` of `id` (on PostgreSQL the entry leaves with
/// its row).
pub fn remove_short_ref(db: &dyn Db, token: &str, id: &str) -> StoreResult<()> {
    if db.dialect() == Dialect::Sqlite {
        db.execute(REMOVE_SHORT_REF, params![quoted(token), id])?;
    }
    Ok(())
}

/// The single row `sql` finds for `id`; a missing one is "not found", as the socket
/// handlers report it.
fn one<T>(
    db: &dyn Db,
    sql: &str,
    id: &str,
    map: impl FnOnce(&bolt_sql::Row<'_>) -> bolt_sql::Result<T>,
) -> StoreResult<T> {
    db.query_row(sql, params![id], map)?
        .ok_or_else(|| StoreError::NotFound(format!("the row for {id}")))
}

/// The latest run of work order `work_order_id` (every work order has one).
pub fn latest_run(db: &dyn Db, work_order_id: &str) -> StoreResult<String> {
    one(db, LATEST_RUN, work_order_id, |r| r.get(0))
}

/// The work order run `run_id` belongs to.
pub fn work_order_of_run(db: &dyn Db, run_id: &str) -> StoreResult<String> {
    one(db, WORK_ORDER_OF_RUN, run_id, |r| r.get(0))
}

/// The run and work order step `step_id` belongs to.
pub fn step_owner(db: &dyn Db, step_id: &str) -> StoreResult<StepOwner> {
    one(db, STEP_OWNER, step_id, |r| {
        Ok(StepOwner {
            run_id: r.get(0)?,
            work_order_id: r.get(1)?,
        })
    })
}

/// The work order step `step_id` belongs to.
pub fn work_order_of_step(db: &dyn Db, step_id: &str) -> StoreResult<String> {
    one(db, WORK_ORDER_OF_STEP, step_id, |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite::{on_each_backend, seed};

    const WO: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    /// Same short ref as `WO`, another longer tail.
    const WO_TWIN: &str = "0190a1b2-c3d4-7e5f-8a9b-ffff2e3f4a5b";
    const RUN: &str = "0190a1b2-c3d4-7e5f-8a9b-aaaaaaaa0001";
    const LATER_RUN: &str = "0190a1b2-c3d4-7e5f-8a9b-aaaaaaaa0002";
    const STEP: &str = "0190a1b2-c3d4-7e5f-8a9b-bbbbbbbb0001";

    fn seed_history(db: &dyn Db) {
        seed(
            db,
            &format!(
                "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0);
                 INSERT INTO workflows (id, project_id, key, name, created_at, updated_at) VALUES ('w', 'p', 'w', 'W', 0, 0);
                 INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v', 'w', 1, '{{}}', 'h', 0);
                 INSERT INTO work_orders (id, workflow_id, version_id, origin, state, received_at, last_activity)
                     VALUES ('{WO}', 'w', 'v', 'webhook', 'pending', 0, 0), ('{WO_TWIN}', 'w', 'v', 'webhook', 'pending', 0, 0);
                 INSERT INTO runs (id, work_order_id, version_id, origin, state, created_at)
                     VALUES ('{RUN}', '{WO}', 'v', 'webhook', 'success', 0), ('{LATER_RUN}', '{WO}', 'v', 'retry', 'success', 1);
                 INSERT INTO steps (id, run_id, job_key, job_name, started_at) VALUES ('{STEP}', '{RUN}', 'j', 'J', 0);"
            ),
        );
        if db.dialect() == Dialect::Sqlite {
            // What the fts queue writes for each new row.
            seed(
                db,
                &format!(
                    "INSERT INTO short_refs (ref, id) VALUES ('w2e3f4a5b', '{WO}'), ('w2e3f4a5b', '{WO_TWIN}'),
                         ('raaaa0001', '{RUN}'), ('raaaa0002', '{LATER_RUN}'), ('sbbbb0001', '{STEP}');"
                ),
            );
        }
    }

    fn sorted(mut ids: Vec<String>) -> Vec<String> {
        ids.sort();
        ids
    }

    #[test]
    fn ids_are_found_by_id_short_ref_and_tail() {
        on_each_backend(|db| {
            seed_history(db);
            assert_eq!(by_id(db, "work_orders", WO).unwrap().as_deref(), Some(WO));
            assert_eq!(by_id(db, "runs", WO).unwrap(), None);

            let both = sorted(by_short_ref(db, "work_orders", "w2e3f4a5b", "2e3f4a5b", 4).unwrap());
            assert_eq!(both, [WO, WO_TWIN]);
            let one = by_short_ref(db, "work_orders", "w2e3f4a5b", "0c1d2e3f4a5b", 4).unwrap();
            assert_eq!(one, [WO]);
            assert_eq!(
                by_short_ref(db, "work_orders", "w2e3f4a5b", "2e3f4a5b", 1)
                    .unwrap()
                    .len(),
                1
            );
            // Another table's rows with other digits are not found.
            assert!(
                by_short_ref(db, "runs", "r2e3f4a5b", "2e3f4a5b", 4)
                    .unwrap()
                    .is_empty()
            );
            assert_eq!(
                by_short_ref(db, "steps", "sbbbb0001", "bbbbbbbb0001", 4).unwrap(),
                [STEP]
            );

            assert_eq!(
                sorted(by_tail(db, "work_orders", "4a5b", 4).unwrap()),
                [WO, WO_TWIN]
            );
            assert_eq!(by_tail(db, "runs", "0002", 4).unwrap(), [LATER_RUN]);
            assert_eq!(by_tail(db, "work_orders", "4a5b", 1).unwrap().len(), 1);
            assert!(by_tail(db, "steps", "0002", 4).unwrap().is_empty());
        });
    }

    #[test]
    fn owners_are_found_and_a_missing_row_is_not_found() {
        on_each_backend(|db| {
            seed_history(db);
            assert_eq!(latest_run(db, WO).unwrap(), LATER_RUN);
            assert_eq!(work_order_of_run(db, RUN).unwrap(), WO);
            assert_eq!(work_order_of_step(db, STEP).unwrap(), WO);
            assert_eq!(
                step_owner(db, STEP).unwrap(),
                StepOwner {
                    run_id: RUN.to_string(),
                    work_order_id: WO.to_string(),
                }
            );
            assert!(matches!(
                latest_run(db, WO_TWIN),
                Err(StoreError::NotFound(_))
            ));
            assert!(matches!(
                work_order_of_run(db, "x"),
                Err(StoreError::NotFound(_))
            ));
            assert!(matches!(
                work_order_of_step(db, "x"),
                Err(StoreError::NotFound(_))
            ));
            assert!(matches!(step_owner(db, "x"), Err(StoreError::NotFound(_))));
        });
    }

    #[test]
    fn a_removed_or_deleted_row_leaves_the_short_ref_index() {
        on_each_backend(|db| {
            seed_history(db);
            remove_short_ref(db, "w2e3f4a5b", WO_TWIN).unwrap();
            db.execute("DELETE FROM work_orders WHERE id = ?1", params![WO_TWIN])
                .unwrap();
            assert_eq!(
                by_short_ref(db, "work_orders", "w2e3f4a5b", "2e3f4a5b", 4).unwrap(),
                [WO]
            );
            // A cascade leaves SQLite's entries for the runs behind; they never resolve.
            db.execute("DELETE FROM work_orders WHERE id = ?1", params![WO])
                .unwrap();
            assert!(
                by_short_ref(db, "runs", "raaaa0001", "aaaaaaaa0001", 4)
                    .unwrap()
                    .is_empty()
            );
        });
    }

    #[test]
    fn references_resolve_on_each_backend() {
        on_each_backend(|db| {
            seed_history(db);
            let step = crate::refs::resolve(db, "BBBBBBBB0001").unwrap();
            assert_eq!((step.id.as_str(), step.run_id.as_str()), (STEP, RUN));
            assert_eq!(step.work_order_id, WO);
            let work_order = crate::refs::resolve(db, WO).unwrap();
            assert_eq!(work_order.run_id, LATER_RUN);
            assert!(matches!(
                crate::refs::resolve(db, "2e3f4a5b"),
                Err(StoreError::Invalid(_))
            ));
        });
    }
}
