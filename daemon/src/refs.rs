//! Resolving what people paste: a full id or a short ref of a work order, run or step.

use crate::store::refs::{self as store, StepOwner};
use crate::store::{StoreError, StoreResult, fts_queue};
use bolt_shared::model::{RefKind, SHORT_REF_LEN};
use bolt_sql::Db;

pub struct Resolved {
    pub kind: RefKind,
    pub id: String,
    pub work_order_id: String,
    /// The run: the one named, the step's run, or a work order's latest run.
    pub run_id: String,
}

fn find_in(conn: &dyn Db, table: &str, reference: &str) -> StoreResult<Vec<String>> {
    let reference = reference.trim().to_ascii_lowercase();
    if reference.len() == 36 {
        return Ok(store::by_id(conn, table, &reference)?.into_iter().collect());
    }
    if reference.len() < 6 || !reference.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Ok(Vec::new());
    }
    find_by_tail(conn, table, &reference.replace('-', ""), 2)
}

/// The letter a table's short refs carry in the `short_refs` index (migration 0004).
fn ref_letter(table: &str) -> Option<char> {
    match table {
        "work_orders" => Some('w'),
        "runs" => Some('r'),
        "steps" => Some('s'),
        _ => None,
    }
}

/// The `short_refs` token of an id: its table's letter and the id's last 8 hex digits.
fn ref_token(letter: char, id: &str) -> String {
    let tail = &id[id.len().saturating_sub(SHORT_REF_LEN)..];
    format!("{letter}{}", tail.to_ascii_lowercase())
}

/// Makes a new work order, run or step findable by its short ref. Call it in the write
/// that inserts the row (on the store's writer the entry joins the batch's index flush).
pub fn index_new(db: &dyn Db, table: &str, id: &str) -> StoreResult<()> {
    let Some(letter) = ref_letter(table) else {
        return Err(StoreError::Invalid(format!("{table} has no short refs")));
    };
    fts_queue::short_ref(db, ref_token(letter, id), id.to_string())?;
    Ok(())
}

/// Removes the short refs of rows that are being deleted.
pub fn unindex(conn: &dyn Db, table: &str, ids: &[String]) -> StoreResult<()> {
    let Some(letter) = ref_letter(table) else {
        return Ok(());
    };
    for id in ids {
        store::remove_short_ref(conn, &ref_token(letter, id), id)?;
    }
    Ok(())
}

/// Ids of `table` ending in `tail` (hex digits, no dashes), at most `limit` of them.
/// Tails of 8 or more digits (short refs are 8) are looked up in the short-ref index;
/// shorter tails scan every id.
pub fn find_by_tail(
    conn: &dyn Db,
    table: &str,
    tail: &str,
    limit: u32,
) -> StoreResult<Vec<String>> {
    let tail = tail.to_ascii_lowercase();
    if !tail.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(Vec::new());
    }
    match ref_letter(table) {
        Some(letter) if tail.len() >= SHORT_REF_LEN => {
            store::by_short_ref(conn, table, &ref_token(letter, &tail), &tail, limit)
        }
        _ => store::by_tail(conn, table, &tail, limit),
    }
}

pub fn resolve(conn: &dyn Db, reference: &str) -> StoreResult<Resolved> {
    for (table, kind) in [
        ("work_orders", RefKind::WorkOrder),
        ("runs", RefKind::Run),
        ("steps", RefKind::Step),
    ] {
        let found = find_in(conn, table, reference)?;
        if found.len() > 1 {
            return Err(StoreError::Invalid(format!(
                "`{reference}` matches several {table}; give more characters or the full id"
            )));
        }
        let Some(id) = found.into_iter().next() else {
            continue;
        };
        return Ok(match kind {
            RefKind::WorkOrder => Resolved {
                kind,
                work_order_id: id.clone(),
                run_id: store::latest_run(conn, &id)?,
                id,
            },
            RefKind::Run => Resolved {
                kind,
                work_order_id: store::work_order_of_run(conn, &id)?,
                run_id: id.clone(),
                id,
            },
            RefKind::Step => {
                let StepOwner {
                    run_id,
                    work_order_id,
                } = store::step_owner(conn, &id)?;
                Resolved {
                    kind,
                    work_order_id,
                    run_id,
                    id,
                }
            }
        });
    }
    Err(StoreError::Invalid(format!(
        "no work order, run or step matches `{reference}` (use an id or the short ref `bolt runs` shows)"
    )))
}

pub fn resolve_run(conn: &dyn Db, reference: &str) -> StoreResult<Resolved> {
    resolve(conn, reference)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{DB_FILE, Store, open_connection};
    use rusqlite::Connection;

    fn store_with_work_order(id: &str) -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path(), 1).unwrap());
        let conn = open_connection(&dir.path().join(DB_FILE)).unwrap();
        conn.execute_batch(
            "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0);
             INSERT INTO workflows (id, project_id, key, name, created_at, updated_at) VALUES ('w', 'p', 'w', 'W', 0, 0);
             INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v', 'w', 1, '{}', 'h', 0);",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO work_orders (id, workflow_id, version_id, origin, state, received_at, last_activity)
             VALUES (?1, 'w', 'v', 'webhook', 'pending', 0, 0)",
            [id],
        )
        .unwrap();
        (dir, conn)
    }

    #[test]
    fn a_new_row_is_findable_by_its_short_ref_on_each_backend() {
        use crate::store::suite::{on_each_backend, seed};
        let id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        on_each_backend(|db| {
            seed(
                db,
                &format!(
                    "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0);
                     INSERT INTO workflows (id, project_id, key, name, created_at, updated_at) VALUES ('w', 'p', 'w', 'W', 0, 0);
                     INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v', 'w', 1, '{{}}', 'h', 0);
                     INSERT INTO work_orders (id, workflow_id, version_id, origin, state, received_at, last_activity)
                         VALUES ('{id}', 'w', 'v', 'webhook', 'pending', 0, 0);"
                ),
            );
            index_new(db, "work_orders", id).unwrap();
            assert_eq!(
                find_by_tail(db, "work_orders", "2E3F4A5B", 2).unwrap(),
                [id]
            );
            assert!(matches!(
                index_new(db, "projects", "p"),
                Err(StoreError::Invalid(_))
            ));
        });
    }

    #[test]
    fn short_refs_find_the_row_until_it_is_unindexed_or_deleted() {
        let id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        let (_dir, conn) = store_with_work_order(id);
        index_new(&conn, "work_orders", id).unwrap();
        assert_eq!(
            find_by_tail(&conn, "work_orders", "2E3F4A5B", 2).unwrap(),
            [id]
        );
        assert_eq!(
            find_by_tail(&conn, "work_orders", "0c1d2e3f4a5b", 2).unwrap(),
            [id]
        );
        // Same last 8 digits, different longer tail.
        assert!(
            find_by_tail(&conn, "work_orders", "ffff2e3f4a5b", 2)
                .unwrap()
                .is_empty()
        );
        // Another table's ref with the same digits is not this one.
        assert!(
            find_by_tail(&conn, "runs", "2e3f4a5b", 2)
                .unwrap()
                .is_empty()
        );

        unindex(&conn, "work_orders", &[id.to_string()]).unwrap();
        assert!(
            find_by_tail(&conn, "work_orders", "2e3f4a5b", 2)
                .unwrap()
                .is_empty()
        );

        // An entry left behind by a cascade never resolves to a missing row.
        index_new(&conn, "work_orders", id).unwrap();
        conn.execute("DELETE FROM work_orders WHERE id = ?1", [id])
            .unwrap();
        assert!(
            find_by_tail(&conn, "work_orders", "2e3f4a5b", 2)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn stores_from_before_the_short_ref_index_are_backfilled_on_upgrade() {
        let id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        let (dir, conn) = store_with_work_order(id);
        // As a store written before migration 4 would be: no short_refs table (nor what
        // later migrations add).
        conn.execute_batch(
            "DROP INDEX runs_node; ALTER TABLE runs DROP COLUMN node_id; DROP TABLE nodes;
             DROP TABLE notify_windows; DROP TABLE notify_deliveries; DROP TABLE notify_events;
             DROP TRIGGER audit_events_append_only_update;
             DROP TRIGGER audit_events_append_only_delete; DROP TABLE audit_purge_permit;
             DROP TABLE audit_outbox; DROP INDEX audit_events_at;
             ALTER TABLE audit_events DROP COLUMN prev_hash;
             ALTER TABLE audit_events DROP COLUMN hash;
             ALTER TABLE work_orders DROP COLUMN source_address;
             DROP TABLE short_refs; DROP TABLE collection_items; DROP TABLE collections;
             DROP TABLE project_credentials; ALTER TABLE projects DROP COLUMN channels;
             ALTER TABLE runs DROP COLUMN log_lines_dropped;
             ALTER TABLE runs DROP COLUMN log_bytes_dropped;
             DROP TABLE store_meta; ALTER TABLE workflow_versions DROP COLUMN actor;
             ALTER TABLE workflow_versions DROP COLUMN origin;
             PRAGMA user_version = 3;",
        )
        .unwrap();
        conn.execute_batch(
            "CREATE INDEX work_orders_short_ref ON work_orders(substr(id, -8));
             CREATE INDEX runs_short_ref ON runs(substr(id, -8));
             CREATE INDEX steps_short_ref ON steps(substr(id, -8));
             CREATE TRIGGER work_order_counts_insert AFTER INSERT ON work_orders BEGIN SELECT 1; END;
             CREATE TRIGGER work_order_counts_update AFTER UPDATE ON work_orders BEGIN SELECT 1; END;",
        )
        .unwrap();
        drop(conn);
        drop(Store::open(dir.path(), 1).unwrap());
        let conn = open_connection(&dir.path().join(DB_FILE)).unwrap();
        assert_eq!(
            find_by_tail(&conn, "work_orders", "2e3f4a5b", 2).unwrap(),
            [id]
        );
    }
}
