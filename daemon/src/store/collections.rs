//! Collections and their items in the store (migration 0005).
//!
//! Items are ordered by `created_at`, unique within a collection (a new item created in the
//! same microsecond as the last gets the next one), so a page ends at an exact position and
//! the next page starts right after it, however many items a batch wrote at once. An
//! upsert keeps an item's place; a removed and re-added key goes to the end, as in
//! Lightning. Sizes are the bytes of keys and values, as Lightning counts them.

use super::{StoreResult, new_id};
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub byte_size: i64,
    pub item_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub key: String,
    pub value: String,
    /// Microseconds; also the item's position.
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, project_id, name, byte_size, item_count, created_at, updated_at";

fn collection_row(r: &rusqlite::Row) -> rusqlite::Result<Collection> {
    Ok(Collection {
        id: r.get(0)?,
        project_id: r.get(1)?,
        name: r.get(2)?,
        byte_size: r.get(3)?,
        item_count: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

pub fn find(conn: &Connection, project_id: &str, name: &str) -> StoreResult<Option<Collection>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM collections WHERE project_id = ?1 AND name = ?2"
        ))?
        .query_row(params![project_id, name], collection_row)
        .optional()?)
}

const ELSEWHERE: &str = "SELECT 1 FROM collections WHERE name = ?1 AND project_id <> ?2 LIMIT 1";

/// Whether another project has a collection of this name (Lightning answers 401 then).
pub fn exists_elsewhere(conn: &Connection, project_id: &str, name: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached(ELSEWHERE)?
        .query_row(params![name, project_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// A project's collections, by name.
pub fn list(conn: &Connection, project_id: &str) -> StoreResult<Vec<Collection>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM collections WHERE project_id = ?1 ORDER BY name"
    ))?;
    let rows = stmt.query_map([project_id], collection_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

const CREATE: &str = "INSERT INTO collections (id, project_id, name, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (project_id, name) DO NOTHING";

/// Creates a collection; false when the project has it already.
pub fn create(conn: &Connection, project_id: &str, name: &str, now: i64) -> StoreResult<bool> {
    Ok(conn.execute(CREATE, params![new_id(), project_id, name, now])? == 1)
}

/// Deletes a collection with all its items; returns how many items it held.
pub fn delete(conn: &Connection, project_id: &str, name: &str) -> StoreResult<Option<i64>> {
    let Some(collection) = find(conn, project_id, name)? else {
        return Ok(None);
    };
    conn.execute(
        "DELETE FROM collection_items WHERE collection_id = ?1",
        [&collection.id],
    )?;
    conn.execute("DELETE FROM collections WHERE id = ?1", [&collection.id])?;
    Ok(Some(collection.item_count))
}

fn item_row(r: &rusqlite::Row) -> rusqlite::Result<Item> {
    Ok(Item {
        key: r.get(0)?,
        value: r.get(1)?,
        created_at: r.get(2)?,
        updated_at: r.get(3)?,
    })
}

const GET: &str = "SELECT key, value, created_at, updated_at FROM collection_items
     WHERE collection_id = ?1 AND key = ?2";

pub fn get(conn: &Connection, collection_id: &str, key: &str) -> StoreResult<Option<Item>> {
    Ok(conn
        .prepare_cached(GET)?
        .query_row(params![collection_id, key], item_row)
        .optional()?)
}

/// Which items a page holds: `created_at` and `updated_at` in `[from, before)` (microseconds),
/// keys matching a GLOB pattern if one is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemRange<'a> {
    pub created_from: i64,
    pub created_before: i64,
    pub updated_from: i64,
    pub updated_before: i64,
    pub glob: Option<&'a str>,
}

/// One statement for every range (unbounded ends are the whole range), whose created_at
/// bounds are an index range: a later page seeks straight to its cursor.
const PAGE: &str = "SELECT key, value, created_at, updated_at FROM collection_items
     WHERE collection_id = ?1 AND created_at >= ?2 AND created_at < ?3
       AND updated_at >= ?4 AND updated_at < ?5 AND (?6 IS NULL OR key GLOB ?6)
     ORDER BY created_at LIMIT ?7";

/// Up to `limit` items in `range`, in order.
pub fn page(
    conn: &Connection,
    collection_id: &str,
    range: &ItemRange<'_>,
    limit: usize,
) -> StoreResult<Vec<Item>> {
    let mut stmt = conn.prepare_cached(PAGE)?;
    let rows = stmt.query_map(
        params![
            collection_id,
            range.created_from,
            range.created_before,
            range.updated_from,
            range.updated_before,
            range.glob,
            i64::try_from(limit).unwrap_or(i64::MAX),
        ],
        item_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// An item a collection holds: its row id and the bytes of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredItem {
    pub id: i64,
    pub value_bytes: i64,
}

const STORED: &str = "SELECT id, octet_length(value) FROM collection_items
     WHERE collection_id = ?1 AND key = ?2";

/// For each key, the item the collection holds under it, if any.
pub fn stored_items<'a>(
    conn: &Connection,
    collection_id: &str,
    keys: impl IntoIterator<Item = &'a str>,
) -> StoreResult<Vec<Option<StoredItem>>> {
    let mut lookup = conn.prepare_cached(STORED)?;
    let mut found = Vec::new();
    for key in keys {
        found.push(
            lookup
                .query_row(params![collection_id, key], |r| {
                    Ok(StoredItem {
                        id: r.get(0)?,
                        value_bytes: r.get(1)?,
                    })
                })
                .optional()?,
        );
    }
    Ok(found)
}

/// The bytes of a collection's keys and values.
pub fn byte_size(conn: &Connection, collection_id: &str) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT byte_size FROM collections WHERE id = ?1")?
        .query_row([collection_id], |r| r.get(0))?)
}

const LAST_POSITION: &str = "SELECT MAX(created_at) FROM collection_items WHERE collection_id = ?1";
const UPDATE_ITEM: &str = "UPDATE collection_items SET value = ?2, updated_at = ?3 WHERE id = ?1";
const INSERT_ITEM: &str =
    "INSERT INTO collection_items (collection_id, key, value, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5)";
const GROW: &str =
    "UPDATE collections SET byte_size = byte_size + ?2, item_count = item_count + ?3,
     updated_at = ?4 WHERE id = ?1";

/// Writes `items` (key, value): those in `stored` (as [`stored_items`] found them, in the
/// same order) keep their place, new ones go after the last item. `delta` is the change of
/// the collection's byte size.
pub fn write_items(
    conn: &Connection,
    collection_id: &str,
    items: &[(String, String)],
    stored: &[Option<StoredItem>],
    delta: i64,
    now: i64,
) -> StoreResult<()> {
    let last: Option<i64> = conn
        .prepare_cached(LAST_POSITION)?
        .query_row([collection_id], |r| r.get(0))?;
    let mut next = last.map_or(now, |last| now.max(last.saturating_add(1)));
    let mut added = 0i64;
    let mut update = conn.prepare_cached(UPDATE_ITEM)?;
    let mut insert = conn.prepare_cached(INSERT_ITEM)?;
    for ((key, value), found) in items.iter().zip(stored) {
        match found {
            Some(item) => {
                update.execute(params![item.id, value, now])?;
            }
            None => {
                insert.execute(params![collection_id, key, value, next, now])?;
                next = next.saturating_add(1);
                added += 1;
            }
        }
    }
    conn.prepare_cached(GROW)?
        .execute(params![collection_id, delta, added, now])?;
    Ok(())
}

const DELETE_KEY: &str = "DELETE FROM collection_items WHERE collection_id = ?1 AND key = ?2
     RETURNING octet_length(key) + octet_length(value)";

/// Removes one item by its exact key; false when there was none.
pub fn delete_key(
    conn: &Connection,
    collection_id: &str,
    key: &str,
    now: i64,
) -> StoreResult<bool> {
    let size: Option<i64> = conn
        .prepare_cached(DELETE_KEY)?
        .query_row(params![collection_id, key], |r| r.get(0))
        .optional()?;
    let Some(size) = size else {
        return Ok(false);
    };
    shrink(conn, collection_id, size, 1, now)?;
    Ok(true)
}

const MATCHING_SIZE: &str =
    "SELECT COUNT(*), COALESCE(SUM(octet_length(key) + octet_length(value)), 0)
     FROM collection_items WHERE collection_id = ?1 AND (?2 IS NULL OR key GLOB ?2)";
const DELETE_MATCHING: &str =
    "DELETE FROM collection_items WHERE collection_id = ?1 AND (?2 IS NULL OR key GLOB ?2)";

/// Removes the items whose keys match a GLOB pattern (every item without one); returns how
/// many.
pub fn delete_matching(
    conn: &Connection,
    collection_id: &str,
    glob: Option<&str>,
    now: i64,
) -> StoreResult<u64> {
    let (count, size): (i64, i64) = conn
        .prepare_cached(MATCHING_SIZE)?
        .query_row(params![collection_id, glob], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if count == 0 {
        return Ok(0);
    }
    conn.prepare_cached(DELETE_MATCHING)?
        .execute(params![collection_id, glob])?;
    shrink(conn, collection_id, size, count, now)?;
    Ok(count as u64)
}

const SHRINK: &str = "UPDATE collections SET byte_size = MAX(byte_size - ?2, 0),
     item_count = MAX(item_count - ?3, 0), updated_at = ?4 WHERE id = ?1";

fn shrink(
    conn: &Connection,
    collection_id: &str,
    bytes: i64,
    items: i64,
    now: i64,
) -> StoreResult<()> {
    conn.prepare_cached(SHRINK)?
        .execute(params![collection_id, bytes, items, now])?;
    Ok(())
}
