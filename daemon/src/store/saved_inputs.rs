//! Saved inputs in the store: named dataclips (`bolt input save|list|rm`), which retention
//! never wipes.

use super::{StoreResult, from_micros};
use bolt_shared::protocol::SavedInputInfo;
use rusqlite::{Connection, OptionalExtension};

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
pub fn list(conn: &Connection) -> StoreResult<Vec<SavedInputInfo>> {
    let mut stmt = conn.prepare_cached(LIST)?;
    let rows = stmt.query_map([], |r| {
        Ok(SavedInputInfo {
            name: r.get(0)?,
            id: r.get(1)?,
            project: r.get(2)?,
            size_bytes: r.get::<_, Option<i64>>(3)?.map(|n| n.max(0) as u64),
            created_at: from_micros(r.get(4)?),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The dataclip saved as `name`, if there is one.
pub fn by_name(conn: &Connection, name: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached(BY_NAME)?
        .query_row([name], |r| r.get(0))
        .optional()?)
}

/// Whether a work order, run or step refers to dataclip `id`.
pub fn in_use(conn: &Connection, id: &str) -> StoreResult<bool> {
    Ok(conn.prepare_cached(IN_USE)?.query_row([id], |r| r.get(0))?)
}

/// Takes the name off dataclip `id` (it is no longer a saved input).
pub fn unname(conn: &Connection, id: &str) -> StoreResult<()> {
    conn.prepare_cached(UNNAME)?.execute([id])?;
    Ok(())
}

/// Deletes dataclip `id`.
pub fn delete(conn: &Connection, id: &str) -> StoreResult<()> {
    conn.prepare_cached(DELETE)?.execute([id])?;
    Ok(())
}
