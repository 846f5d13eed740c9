//! Numbered `.sql` migrations, applied in order; `PRAGMA user_version` records the last one.

use super::{StoreError, StoreResult, schema_version};
use rusqlite::Connection;
use std::path::Path;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_initial.sql")),
    (2, include_str!("../../migrations/0002_history_counts.sql")),
    (3, include_str!("../../migrations/0003_search_docs_ref.sql")),
    (4, include_str!("../../migrations/0004_cheaper_intake.sql")),
    (5, include_str!("../../migrations/0005_collections.sql")),
    (6, include_str!("../../migrations/0006_run_log_caps.sql")),
    (
        7,
        include_str!("../../migrations/0007_versions_and_key_check.sql"),
    ),
    (8, include_str!("../../migrations/0008_audit_chain.sql")),
    (9, include_str!("../../migrations/0009_notify.sql")),
    (10, include_str!("../../migrations/0010_nodes.sql")),
];

pub fn latest() -> i64 {
    MIGRATIONS.last().map(|(n, _)| *n).unwrap_or(0)
}

pub fn apply(conn: &mut Connection, path: &Path) -> StoreResult<()> {
    let current = schema_version(conn)?;
    if current > latest() {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: current,
            known: latest(),
        });
    }
    for (number, sql) in MIGRATIONS.iter().filter(|(n, _)| *n > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .and_then(|_| tx.pragma_update(None, "user_version", number))
            .map_err(|source| StoreError::Migration {
                number: *number,
                source,
            })?;
        tx.commit()?;
        tracing::info!(migration = number, "applied store migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{DB_FILE, Store, open_connection};
    use super::*;

    #[test]
    fn counts_buckets_are_filled_from_existing_history_on_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        {
            // A store written by a bolt that knew only migration 1, with some history.
            let conn = open_connection(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0].1).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute_batch(
                "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0);
                 INSERT INTO workflows (id, project_id, key, name, created_at, updated_at) VALUES ('w', 'p', 'w', 'W', 0, 0);
                 INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v', 'w', 1, '{}', 'h', 0);",
            )
            .unwrap();
            for (i, state) in ["success", "failed", "success", "crashed"]
                .iter()
                .enumerate()
            {
                conn.execute(
                    "INSERT INTO work_orders (id, workflow_id, version_id, origin, state, received_at, last_activity)
                     VALUES (?1, 'w', 'v', 'webhook', ?2, ?3, ?3)",
                    rusqlite::params![format!("wo-{i}"), state, i as i64 * 2_000_000_000],
                )
                .unwrap();
            }
        }
        drop(Store::open(dir.path(), 1).unwrap());
        let conn = open_connection(&path).unwrap();
        let buckets: Vec<(i64, String, i64)> = conn
            .prepare("SELECT hour, state, n FROM work_order_counts ORDER BY hour, state")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            buckets,
            [
                (0, "failed".to_string(), 1),
                (0, "success".to_string(), 1),
                (1, "crashed".to_string(), 1),
                (1, "success".to_string(), 1),
            ]
        );
    }
}
