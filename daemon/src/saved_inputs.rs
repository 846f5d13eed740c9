//! Saved inputs (`bolt input save|list|rm`): named dataclips, which retention never wipes.
//! Saving lives with reruns (`reruns::save_input`); this lists and removes them.

use crate::store::{StoreError, StoreResult, from_micros};
use bolt_shared::protocol::SavedInputInfo;
use rusqlite::{Connection, OptionalExtension, params};

pub fn list(conn: &Connection) -> StoreResult<Vec<SavedInputInfo>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.name, d.id, p.name, d.size_bytes, d.created_at
         FROM dataclips d LEFT JOIN projects p ON p.id = d.project_id
         WHERE d.name IS NOT NULL ORDER BY d.name",
    )?;
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

/// What removing a saved input did.
#[derive(Debug, PartialEq, Eq)]
pub enum Removed {
    /// The dataclip is gone.
    Deleted,
    /// Runs used it as their input: it stays in their history, without a name (so
    /// retention may wipe it like any other input).
    Unnamed,
}

pub fn remove(conn: &Connection, name: &str) -> StoreResult<Removed> {
    let id: Option<String> = conn
        .query_row("SELECT id FROM dataclips WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()?;
    let Some(id) = id else {
        return Err(StoreError::Invalid(format!(
            "there is no saved input named `{name}`; see them with `bolt input list`"
        )));
    };
    let used: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM work_orders WHERE dataclip_id = ?1)
             OR EXISTS (SELECT 1 FROM runs WHERE dataclip_id = ?1 OR final_dataclip_id = ?1)
             OR EXISTS (SELECT 1 FROM steps WHERE input_dataclip_id = ?1 OR output_dataclip_id = ?1)",
        [&id],
        |r| r.get(0),
    )?;
    if used {
        conn.execute(
            "UPDATE dataclips SET name = NULL WHERE id = ?1",
            params![id],
        )?;
        Ok(Removed::Unnamed)
    } else {
        conn.execute("DELETE FROM dataclips WHERE id = ?1", params![id])?;
        Ok(Removed::Deleted)
    }
}
