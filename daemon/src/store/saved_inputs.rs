//! Saved inputs in the store: named dataclips (`bolt input save|list|rm`), which retention
//! never wipes.

use super::{StoreResult, from_micros};
use bolt_shared::protocol::SavedInputInfo;
use bolt_sql::{Db, DbExt, params};

const LIST: &str = "SELECT d.name, d.id, p.name, d.size_bytes, d.created_at
         FROM dataclips d LEFT JOIN projects p ON p.id = d.project_id
         WHERE d.name IS NOT NULL ORDER BY d.name";

const BY_NAME: &str = "SELECT id FROM dataclips WHERE name = ?1";

const IN_USE: &str = "SELECT EXISTS (SELECT 1 FROM work_orders WHERE dataclip_id = ?1)
             OR EXISTS (SELECT 1 FROM runs WHERE dataclip_id = ?1 OR final_dataclip_id = ?1)
             OR EXISTS (SELECT 1 FROM steps WHERE input_dataclip_id = ?1 OR output_dataclip_id = ?1)";

const UNNAME: &str = "UPDATE dataclips SET name = NULL WHERE id = ?1";

const DELETE: &str = "DELETE FROM dataclips WHERE id = ?1";

/// Every saved input, by name.
pub fn list(db: &dyn Db) -> StoreResult<Vec<SavedInputInfo>> {
    Ok(db.query_map(LIST, params![], |r| {
        Ok(SavedInputInfo {
            name: r.get(0)?,
            id: r.get(1)?,
            project: r.get(2)?,
            size_bytes: r.get::<Option<i64>>(3)?.map(|n| n.max(0) as u64),
            created_at: from_micros(r.get(4)?),
        })
    })?)
}

/// The dataclip saved as `name`, if there is one.
pub fn by_name(db: &dyn Db, name: &str) -> StoreResult<Option<String>> {
    Ok(db.query_value(BY_NAME, params![name])?)
}

/// Whether a work order, run or step refers to dataclip `id`.
pub fn in_use(db: &dyn Db, id: &str) -> StoreResult<bool> {
    Ok(db.query_one(IN_USE, params![id])?)
}

/// Takes the name off dataclip `id` (it is no longer a saved input).
pub fn unname(db: &dyn Db, id: &str) -> StoreResult<()> {
    db.execute(UNNAME, params![id])?;
    Ok(())
}

/// Deletes dataclip `id`.
pub fn delete(db: &dyn Db, id: &str) -> StoreResult<()> {
    db.execute(DELETE, params![id])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite::{on_each_backend, seed};

    const HISTORY: &str = "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'proj', 0, 0);
         INSERT INTO workflows (id, project_id, key, name, created_at, updated_at) VALUES ('w', 'p', 'w', 'W', 0, 0);
         INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v', 'w', 1, '{}', 'h', 0);
         INSERT INTO dataclips (id, project_id, type, body, name, size_bytes, created_at)
             VALUES ('used', 'p', 'saved_input', '{}', 'b-used', 2, 5);
         INSERT INTO dataclips (id, project_id, type, body, name, size_bytes, created_at)
             VALUES ('free', NULL, 'saved_input', '{}', 'a-free', NULL, 7);
         INSERT INTO dataclips (id, project_id, type, body, created_at)
             VALUES ('plain', 'p', 'http_request', '{}', 9);
         INSERT INTO work_orders (id, workflow_id, version_id, origin, dataclip_id, state, received_at, last_activity)
             VALUES ('wo', 'w', 'v', 'webhook', 'used', 'pending', 0, 0);";

    #[test]
    fn saved_inputs_are_listed_found_unnamed_and_deleted() {
        on_each_backend(|db| {
            seed(db, HISTORY);
            let all = list(db).unwrap();
            let names: Vec<_> = all.iter().map(|i| i.name.as_str()).collect();
            assert_eq!(names, ["a-free", "b-used"]);
            assert_eq!(all[0].project, None);
            assert_eq!(all[0].size_bytes, None);
            assert_eq!(all[1].project.as_deref(), Some("proj"));
            assert_eq!(all[1].size_bytes, Some(2));
            assert_eq!(all[1].created_at, from_micros(5));

            assert_eq!(by_name(db, "b-used").unwrap().as_deref(), Some("used"));
            assert_eq!(by_name(db, "missing").unwrap(), None);
            assert!(in_use(db, "used").unwrap());
            assert!(!in_use(db, "free").unwrap());

            unname(db, "used").unwrap();
            assert_eq!(by_name(db, "b-used").unwrap(), None);
            delete(db, "free").unwrap();
            assert!(list(db).unwrap().is_empty());
            let left: i64 = db
                .query_one("SELECT COUNT(*) FROM dataclips", params![])
                .unwrap();
            assert_eq!(left, 2);
        });
    }
}
