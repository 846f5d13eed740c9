//! Collections and their items in the store (migration 0005).
//!
//! Items are ordered by `created_at`, unique within a collection (a new item created in the
//! same microsecond as the last gets the next one), so a page ends at an exact position and
//! the next page starts right after it, however many items a batch wrote at once. An
//! upsert keeps an item's place; a removed and re-added key goes to the end, as in
//! Lightning. Sizes are the bytes of keys and values, as Lightning counts them.
//!
//! Key patterns are SQLite GLOB patterns; on PostgreSQL the same pattern runs as the
//! regular expression [`super::glob`] makes of it.

use super::{StoreError, StoreResult, glob, new_id};
use bolt_sql::{Db, DbExt, Dialect, Row, Sql, params};

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

fn collection_row(r: &Row<'_>) -> bolt_sql::Result<Collection> {
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

pub fn find(db: &dyn Db, project_id: &str, name: &str) -> StoreResult<Option<Collection>> {
    Ok(db.query_row(
        &format!("SELECT {COLUMNS} FROM collections WHERE project_id = ?1 AND name = ?2"),
        params![project_id, name],
        collection_row,
    )?)
}

const ELSEWHERE: &str = "SELECT 1 FROM collections WHERE name = ?1 AND project_id <> ?2 LIMIT 1";

/// Whether another project has a collection of this name (Lightning answers 401 then).
pub fn exists_elsewhere(db: &dyn Db, project_id: &str, name: &str) -> StoreResult<bool> {
    Ok(db
        .query_value::<i64>(ELSEWHERE, params![name, project_id])?
        .is_some())
}

/// A project's collections, by name.
pub fn list(db: &dyn Db, project_id: &str) -> StoreResult<Vec<Collection>> {
    Ok(db.query_map(
        &format!("SELECT {COLUMNS} FROM collections WHERE project_id = ?1 ORDER BY name"),
        params![project_id],
        collection_row,
    )?)
}

const CREATE: &str = "INSERT INTO collections (id, project_id, name, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (project_id, name) DO NOTHING";

/// Creates a collection; false when the project has it already.
pub fn create(db: &dyn Db, project_id: &str, name: &str, now: i64) -> StoreResult<bool> {
    Ok(db.execute(CREATE, params![new_id(), project_id, name, now])? == 1)
}

/// Deletes a collection with all its items; returns how many items it held.
pub fn delete(db: &dyn Db, project_id: &str, name: &str) -> StoreResult<Option<i64>> {
    let Some(collection) = find(db, project_id, name)? else {
        return Ok(None);
    };
    db.execute(
        "DELETE FROM collection_items WHERE collection_id = ?1",
        params![collection.id],
    )?;
    db.execute(
        "DELETE FROM collections WHERE id = ?1",
        params![collection.id],
    )?;
    Ok(Some(collection.item_count))
}

fn item_row(r: &Row<'_>) -> bolt_sql::Result<Item> {
    Ok(Item {
        key: r.get(0)?,
        value: r.get(1)?,
        created_at: r.get(2)?,
        updated_at: r.get(3)?,
    })
}

const GET: &str = "SELECT key, value, created_at, updated_at FROM collection_items
     WHERE collection_id = ?1 AND key = ?2";

pub fn get(db: &dyn Db, collection_id: &str, key: &str) -> StoreResult<Option<Item>> {
    Ok(db.query_row(GET, params![collection_id, key], item_row)?)
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

/// A GLOB pattern as this backend's statements take it (`key GLOB ?` / `key ~ ?`).
fn key_pattern(db: &dyn Db, glob: Option<&str>) -> Option<String> {
    glob.map(|glob| match db.dialect() {
        Dialect::Sqlite => glob.to_string(),
        Dialect::Postgres => glob::to_regex(glob),
    })
}

/// One statement for every range (unbounded ends are the whole range), whose created_at
/// bounds are an index range: a later page seeks straight to its cursor.
const PAGE: Sql = Sql::new(
    "SELECT key, value, created_at, updated_at FROM collection_items
     WHERE collection_id = ?1 AND created_at >= ?2 AND created_at < ?3
       AND updated_at >= ?4 AND updated_at < ?5 AND (?6 IS NULL OR key GLOB ?6)
     ORDER BY created_at LIMIT ?7",
    "SELECT key, value, created_at, updated_at FROM collection_items
     WHERE collection_id = ?1 AND created_at >= ?2 AND created_at < ?3
       AND updated_at >= ?4 AND updated_at < ?5
       AND (CAST(?6 AS TEXT) IS NULL OR key ~ CAST(?6 AS TEXT))
     ORDER BY created_at LIMIT ?7",
);

/// Up to `limit` items in `range`, in order.
pub fn page(
    db: &dyn Db,
    collection_id: &str,
    range: &ItemRange<'_>,
    limit: usize,
) -> StoreResult<Vec<Item>> {
    Ok(db.query_map(
        db.sql(&PAGE),
        params![
            collection_id,
            range.created_from,
            range.created_before,
            range.updated_from,
            range.updated_before,
            key_pattern(db, range.glob),
            i64::try_from(limit).unwrap_or(i64::MAX),
        ],
        item_row,
    )?)
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
    db: &dyn Db,
    collection_id: &str,
    keys: impl IntoIterator<Item = &'a str>,
) -> StoreResult<Vec<Option<StoredItem>>> {
    let mut found = Vec::new();
    for key in keys {
        found.push(db.query_row(STORED, params![collection_id, key], |r| {
            Ok(StoredItem {
                id: r.get(0)?,
                value_bytes: r.get(1)?,
            })
        })?);
    }
    Ok(found)
}

/// The bytes of a collection's keys and values.
pub fn byte_size(db: &dyn Db, collection_id: &str) -> StoreResult<i64> {
    db.query_value(
        "SELECT byte_size FROM collections WHERE id = ?1",
        params![collection_id],
    )?
    .ok_or_else(|| StoreError::NotFound(format!("collection {collection_id}")))
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
    db: &dyn Db,
    collection_id: &str,
    items: &[(String, String)],
    stored: &[Option<StoredItem>],
    delta: i64,
    now: i64,
) -> StoreResult<()> {
    let last: Option<i64> = db.query_one(LAST_POSITION, params![collection_id])?;
    let mut next = last.map_or(now, |last| now.max(last.saturating_add(1)));
    let mut added = 0i64;
    for ((key, value), found) in items.iter().zip(stored) {
        match found {
            Some(item) => {
                db.execute(UPDATE_ITEM, params![item.id, value, now])?;
            }
            None => {
                db.execute(INSERT_ITEM, params![collection_id, key, value, next, now])?;
                next = next.saturating_add(1);
                added += 1;
            }
        }
    }
    db.execute(GROW, params![collection_id, delta, added, now])?;
    Ok(())
}

const DELETE_KEY: &str = "DELETE FROM collection_items WHERE collection_id = ?1 AND key = ?2
     RETURNING octet_length(key) + octet_length(value)";

/// Removes one item by its exact key; false when there was none.
pub fn delete_key(db: &dyn Db, collection_id: &str, key: &str, now: i64) -> StoreResult<bool> {
    let size: Option<i64> = db.query_value(DELETE_KEY, params![collection_id, key])?;
    let Some(size) = size else {
        return Ok(false);
    };
    shrink(db, collection_id, size, 1, now)?;
    Ok(true)
}

const MATCHING_SIZE: Sql = Sql::new(
    "SELECT COUNT(*), COALESCE(SUM(octet_length(key) + octet_length(value)), 0)
     FROM collection_items WHERE collection_id = ?1 AND (?2 IS NULL OR key GLOB ?2)",
    "SELECT COUNT(*), COALESCE(SUM(octet_length(key) + octet_length(value)), 0)
     FROM collection_items
     WHERE collection_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR key ~ CAST(?2 AS TEXT))",
);
const DELETE_MATCHING: Sql = Sql::new(
    "DELETE FROM collection_items WHERE collection_id = ?1 AND (?2 IS NULL OR key GLOB ?2)",
    "DELETE FROM collection_items
     WHERE collection_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR key ~ CAST(?2 AS TEXT))",
);

/// Removes the items whose keys match a GLOB pattern (every item without one); returns how
/// many.
pub fn delete_matching(
    db: &dyn Db,
    collection_id: &str,
    glob: Option<&str>,
    now: i64,
) -> StoreResult<u64> {
    let pattern = key_pattern(db, glob);
    let (count, size): (i64, i64) = db
        .query_row(
            db.sql(&MATCHING_SIZE),
            params![collection_id, pattern],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .unwrap_or((0, 0));
    if count == 0 {
        return Ok(0);
    }
    db.execute(db.sql(&DELETE_MATCHING), params![collection_id, pattern])?;
    shrink(db, collection_id, size, count, now)?;
    Ok(count as u64)
}

const SHRINK: Sql = Sql::new(
    "UPDATE collections SET byte_size = MAX(byte_size - ?2, 0),
     item_count = MAX(item_count - ?3, 0), updated_at = ?4 WHERE id = ?1",
    "UPDATE collections SET byte_size = GREATEST(byte_size - ?2, 0),
     item_count = GREATEST(item_count - ?3, 0), updated_at = ?4 WHERE id = ?1",
);

fn shrink(db: &dyn Db, collection_id: &str, bytes: i64, items: i64, now: i64) -> StoreResult<()> {
    db.execute(db.sql(&SHRINK), params![collection_id, bytes, items, now])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite::{on_each_backend, seed};

    const KEYS: [&str; 7] = ["a*b", "a?b", "a%b", "a_b", "a[b", "axb", "A_B"];

    fn keys_matching(db: &dyn Db, collection_id: &str, glob: &str) -> Vec<String> {
        let range = ItemRange {
            created_from: i64::MIN,
            created_before: i64::MAX,
            updated_from: i64::MIN,
            updated_before: i64::MAX,
            glob: Some(glob),
        };
        page(db, collection_id, &range, 100)
            .unwrap()
            .into_iter()
            .map(|item| item.key)
            .collect()
    }

    #[test]
    fn globs_find_and_delete_the_same_tricky_keys_on_each_backend() {
        on_each_backend(|db| {
            seed(
                db,
                "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0)",
            );
            assert!(create(db, "p", "c", 0).unwrap());
            let c = find(db, "p", "c").unwrap().unwrap();
            let items: Vec<(String, String)> = KEYS
                .iter()
                .map(|k| (k.to_string(), "v".to_string()))
                .collect();
            let stored = stored_items(db, &c.id, KEYS).unwrap();
            assert!(stored.iter().all(Option::is_none));
            write_items(db, &c.id, &items, &stored, 7 * 4, 10).unwrap();
            assert_eq!(byte_size(db, &c.id).unwrap(), 28);

            assert_eq!(keys_matching(db, &c.id, "a[*]b"), ["a*b"]);
            assert_eq!(keys_matching(db, &c.id, "a[?]b"), ["a?b"]);
            assert_eq!(keys_matching(db, &c.id, "a%b"), ["a%b"]);
            assert_eq!(keys_matching(db, &c.id, "a_b"), ["a_b"]);
            assert_eq!(keys_matching(db, &c.id, "a[[]b"), ["a[b"]);
            assert_eq!(keys_matching(db, &c.id, "a?b"), KEYS[..6]);
            assert_eq!(keys_matching(db, &c.id, "*_*"), ["a_b", "A_B"]);
            assert!(keys_matching(db, &c.id, "a[b").is_empty());

            assert_eq!(delete_matching(db, &c.id, Some("a[%_]b"), 20).unwrap(), 2);
            assert_eq!(delete_matching(db, &c.id, Some("a[%_]b"), 21).unwrap(), 0);
            let c = find(db, "p", "c").unwrap().unwrap();
            assert_eq!((c.item_count, c.byte_size, c.updated_at), (5, 20, 20));
            assert!(!exists_elsewhere(db, "p", "c").unwrap());
            assert!(matches!(
                byte_size(db, "missing"),
                Err(StoreError::NotFound(_))
            ));
        });
    }
}
