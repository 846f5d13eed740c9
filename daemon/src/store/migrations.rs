//! Numbered `.sql` migrations, applied in order; `PRAGMA user_version` records the last one.

use super::{StoreError, StoreResult, schema_version};
use rusqlite::Connection;
use std::path::Path;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_initial.sql")),
    (2, include_str!("../../migrations/0002_history_counts.sql")),
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
