//! Workflow versions in the store: the immutable snapshots every change writes and runs pin.

use super::{StoreError, StoreResult};
use bolt_sql::{Db, DbExt, params};

/// A version to write.
#[derive(Debug, Clone, Copy)]
pub struct NewVersion<'a> {
    pub id: &'a str,
    pub workflow_id: &'a str,
    pub version: i64,
    /// The workflow spec as JSON.
    pub snapshot: &'a str,
    pub hash: &'a str,
    pub created_at: i64,
    pub actor: &'a str,
    /// How it was made (a `VersionOrigin` as JSON).
    pub origin: &'a str,
}

/// A stored version, as `bolt versions` lists it.
#[derive(Debug, Clone)]
pub struct VersionRow {
    pub version: i64,
    pub hash: String,
    pub created_at: i64,
    pub actor: Option<String>,
    pub origin: Option<String>,
    pub snapshot: String,
}

/// A version's number and snapshot.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub version: i64,
    pub snapshot: String,
}

/// The first and last version numbers of a workflow (`None` without any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub first: Option<i64>,
    pub last: Option<i64>,
}

const INSERT: &str = "INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash,
        created_at, actor, origin)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

const BY_ID: &str = "SELECT version, snapshot FROM workflow_versions WHERE id = ?1";

const ALL: &str = "SELECT version, hash, created_at, actor, origin, snapshot FROM workflow_versions
     WHERE workflow_id = ?1 ORDER BY version";

const SNAPSHOT: &str =
    "SELECT snapshot FROM workflow_versions WHERE workflow_id = ?1 AND version = ?2";

const RANGE: &str =
    "SELECT MIN(version), MAX(version) FROM workflow_versions WHERE workflow_id = ?1";

pub fn insert(db: &dyn Db, new: &NewVersion) -> StoreResult<()> {
    db.execute(
        INSERT,
        params![
            new.id,
            new.workflow_id,
            new.version,
            new.snapshot,
            new.hash,
            new.created_at,
            new.actor,
            new.origin
        ],
    )?;
    Ok(())
}

/// The version with this id (a run's or work order's pinned version); not found without one.
pub fn by_id(db: &dyn Db, version_id: &str) -> StoreResult<Snapshot> {
    db.query_row(BY_ID, params![version_id], |r| {
        Ok(Snapshot {
            version: r.get(0)?,
            snapshot: r.get(1)?,
        })
    })?
    .ok_or_else(|| StoreError::NotFound(format!("workflow version {version_id}")))
}

/// Every version of a workflow, oldest first.
pub fn all(db: &dyn Db, workflow_id: &str) -> StoreResult<Vec<VersionRow>> {
    let rows = db.query_map(ALL, params![workflow_id], |r| {
        Ok(VersionRow {
            version: r.get(0)?,
            hash: r.get(1)?,
            created_at: r.get(2)?,
            actor: r.get(3)?,
            origin: r.get(4)?,
            snapshot: r.get(5)?,
        })
    })?;
    Ok(rows)
}

/// Version `version`'s snapshot of a workflow, if it has one.
pub fn snapshot(db: &dyn Db, workflow_id: &str, version: i64) -> StoreResult<Option<String>> {
    Ok(db.query_value(SNAPSHOT, params![workflow_id, version])?)
}

pub fn range(db: &dyn Db, workflow_id: &str) -> StoreResult<Range> {
    let range = db.query_row(RANGE, params![workflow_id], |r| {
        Ok(Range {
            first: r.get(0)?,
            last: r.get(1)?,
        })
    })?;
    // An aggregate without GROUP BY always gives one row.
    Ok(range.unwrap_or(Range {
        first: None,
        last: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite::{on_each_backend, seed};

    fn version<'a>(id: &'a str, number: i64, snapshot: &'a str) -> NewVersion<'a> {
        NewVersion {
            id,
            workflow_id: "w1",
            version: number,
            snapshot,
            hash: "abc123",
            created_at: 100 + number,
            actor: "ann",
            origin: r#"{"deploy":{}}"#,
        }
    }

    #[test]
    fn versions_are_written_and_read_back() {
        on_each_backend(|db| {
            seed(
                db,
                "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p1', 'alpha', 0, 0);
                 INSERT INTO workflows (id, project_id, key, name, version, created_at, updated_at)
                 VALUES ('w1', 'p1', 'wf', 'Wf', 2, 0, 0);",
            );
            assert_eq!(
                range(db, "w1").unwrap(),
                Range {
                    first: None,
                    last: None
                }
            );
            assert!(all(db, "w1").unwrap().is_empty());
            insert(db, &version("v1", 1, "{\"one\":1}")).unwrap();
            insert(db, &version("v2", 2, "{\"two\":2}")).unwrap();

            let found = by_id(db, "v2").unwrap();
            assert_eq!((found.version, found.snapshot.as_str()), (2, "{\"two\":2}"));
            assert!(matches!(by_id(db, "v9"), Err(StoreError::NotFound(_))));

            let listed = all(db, "w1").unwrap();
            assert_eq!(listed.iter().map(|v| v.version).collect::<Vec<_>>(), [1, 2]);
            assert_eq!(listed[0].hash, "abc123");
            assert_eq!(listed[0].created_at, 101);
            assert_eq!(listed[0].actor.as_deref(), Some("ann"));
            assert_eq!(listed[0].origin.as_deref(), Some(r#"{"deploy":{}}"#));
            assert_eq!(listed[0].snapshot, "{\"one\":1}");

            assert_eq!(
                snapshot(db, "w1", 1).unwrap().as_deref(),
                Some("{\"one\":1}")
            );
            assert_eq!(snapshot(db, "w1", 3).unwrap(), None);
            assert_eq!(
                range(db, "w1").unwrap(),
                Range {
                    first: Some(1),
                    last: Some(2)
                }
            );
        });
    }
}
