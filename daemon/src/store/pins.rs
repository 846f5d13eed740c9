//! The live workflows' current snapshots, for finding the jobs that pin an adaptor version;
//! also read from a data dir's store while boltd is not running.

use super::{DB_FILE, StoreResult};
use bolt_sql::{Db, DbExt, params};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// A live workflow's current snapshot, with its project's name.
#[derive(Debug, Clone)]
pub struct LiveSnapshot {
    pub project: String,
    /// The workflow spec as JSON.
    pub snapshot: String,
}

const LIVE_SNAPSHOTS: &str = "SELECT p.name, v.snapshot FROM workflows w
     JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.version
     JOIN projects p ON p.id = w.project_id
     WHERE w.deleted_at IS NULL
     ORDER BY p.name, w.key";

/// How long the read-only connection waits for a lock another process holds.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Every live workflow's current snapshot, by project name and workflow key.
pub fn live_snapshots(db: &dyn Db) -> StoreResult<Vec<LiveSnapshot>> {
    let rows = db.query_map(LIVE_SNAPSHOTS, params![], |r| {
        Ok(LiveSnapshot {
            project: r.get(0)?,
            snapshot: r.get(1)?,
        })
    })?;
    Ok(rows)
}

/// The same, read from `data_dir`'s store on a read-only connection of its own (no store
/// yet: none).
pub fn live_snapshots_in(data_dir: &Path) -> StoreResult<Vec<LiveSnapshot>> {
    let path = data_dir.join(DB_FILE);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    live_snapshots(&conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite::{on_each_backend, seed};

    #[test]
    fn only_live_workflows_current_snapshots_are_listed() {
        on_each_backend(|db| {
            seed(
                db,
                "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p1', 'alpha', 0, 0);
                 INSERT INTO workflows (id, project_id, key, name, version, created_at, updated_at)
                 VALUES ('w1', 'p1', 'b', 'B', 2, 0, 0), ('w2', 'p1', 'a', 'A', 1, 0, 0);
                 INSERT INTO workflows (id, project_id, key, name, version, deleted_at, created_at, updated_at)
                 VALUES ('w3', 'p1', 'c', 'C', 1, 5, 0, 0);
                 INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at)
                 VALUES ('v1', 'w1', 1, 'b1', 'h', 0), ('v2', 'w1', 2, 'b2', 'h', 0),
                        ('v3', 'w2', 1, 'a1', 'h', 0), ('v4', 'w3', 1, 'c1', 'h', 0);",
            );
            let live = live_snapshots(db).unwrap();
            let seen: Vec<(&str, &str)> = live
                .iter()
                .map(|s| (s.project.as_str(), s.snapshot.as_str()))
                .collect();
            assert_eq!(seen, [("alpha", "a1"), ("alpha", "b2")]);
        });
    }
}
