//! What collections and their items must respect, as Lightning has it: names, size limits
//! (a write is taken whole or not at all), and which items a page holds. The rows
//! themselves are in [`crate::store::collections`].

use super::pattern::KeyPattern;
use crate::store::StoreResult;
use crate::store::collections::{self as stored, Collection, ItemRange};
use bolt_sql::Db;
use std::collections::HashSet;

/// Which items a page holds: all bounds optional (microseconds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemQuery {
    pub pattern: Option<KeyPattern>,
    /// Items after this position (a paging cursor).
    pub after: Option<i64>,
    /// `created >= created_after`, as Lightning's `created_after`.
    pub created_after: Option<i64>,
    /// `created < created_before`.
    pub created_before: Option<i64>,
    pub updated_after: Option<i64>,
    pub updated_before: Option<i64>,
}

impl ItemQuery {
    /// The items it asks for, as the store bounds them.
    pub fn range(&self) -> ItemRange<'_> {
        let created_from = match (self.after, self.created_after) {
            (Some(after), Some(from)) => after.saturating_add(1).max(from),
            (Some(after), None) => after.saturating_add(1),
            (None, Some(from)) => from,
            (None, None) => i64::MIN,
        };
        ItemRange {
            created_from,
            created_before: self.created_before.unwrap_or(i64::MAX),
            updated_from: self.updated_after.unwrap_or(i64::MIN),
            updated_before: self.updated_before.unwrap_or(i64::MAX),
            glob: self.pattern.as_ref().map(KeyPattern::glob),
        }
    }
}

/// The size limits a write must respect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub max_value_chars: usize,
    pub max_collection_bytes: u64,
}

impl From<&bolt_shared::config::CollectionsConfig> for Limits {
    fn from(config: &bolt_shared::config::CollectionsConfig) -> Self {
        Limits {
            max_value_chars: config.max_value_chars,
            max_collection_bytes: config.max_collection_bytes,
        }
    }
}

/// Why a write was refused; nothing of it was written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PutError {
    #[error(
        "the value of key `{key}` is {chars} characters long; the limit is {limit} ([collections] max_value_chars in bolt.toml)"
    )]
    ValueTooLong {
        key: String,
        chars: usize,
        limit: usize,
    },
    #[error("key `{0}` appears more than once in one request; send each key once")]
    DuplicateKey(String),
    #[error(
        "collection `{name}` would hold {size} bytes, over its limit of {limit} bytes ([collections] max_collection_bytes in bolt.toml): remove items or raise the limit"
    )]
    CollectionFull { name: String, size: u64, limit: u64 },
}

/// Lightning's rule for collection names: lower-case letters and digits, in words joined by
/// one `-`, `_` or `.` (URL-safe).
pub fn validate_name(name: &str) -> Result<(), String> {
    let words_ok = !name.is_empty()
        && name.split(['-', '_', '.']).all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if words_ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid collection name: use lower-case letters and digits, words joined by one `-`, `_` or `.` (e.g. `patients-cache`)"
        ))
    }
}

/// Inserts or replaces items, all or none. Checks every limit before writing anything, so
/// a refused request leaves the collection as it was. Returns how many were written.
pub fn put_all(
    conn: &dyn Db,
    collection: &Collection,
    items: &[(String, String)],
    limits: &Limits,
    now: i64,
) -> StoreResult<Result<usize, PutError>> {
    let mut seen = HashSet::with_capacity(items.len());
    for (key, value) in items {
        // Bytes bound characters, so most values need no count.
        if value.len() > limits.max_value_chars {
            let chars = value.chars().count();
            if chars > limits.max_value_chars {
                return Ok(Err(PutError::ValueTooLong {
                    key: key.clone(),
                    chars,
                    limit: limits.max_value_chars,
                }));
            }
        }
        if !seen.insert(key.as_str()) {
            return Ok(Err(PutError::DuplicateKey(key.clone())));
        }
    }
    // Which items exist, and how the collection's size changes.
    let existing =
        stored::stored_items(conn, &collection.id, items.iter().map(|(k, _)| k.as_str()))?;
    let delta: i64 = items
        .iter()
        .zip(&existing)
        .map(|((key, value), found)| match found {
            Some(item) => value.len() as i64 - item.value_bytes,
            None => (key.len() + value.len()) as i64,
        })
        .sum();
    let current = stored::byte_size(conn, &collection.id)?;
    let size = (current + delta).max(0) as u64;
    if delta > 0 && size > limits.max_collection_bytes {
        return Ok(Err(PutError::CollectionFull {
            name: collection.name.clone(),
            size,
            limit: limits.max_collection_bytes,
        }));
    }
    stored::write_items(conn, &collection.id, items, &existing, delta, now)?;
    Ok(Ok(items.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::collections::*;
    use crate::store::suite::{on_each_backend, seed};

    /// Runs `test` on each backend with projects p1 and p2.
    fn with_projects(test: impl Fn(&dyn Db)) {
        on_each_backend(|db| {
            seed(
                db,
                "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p1', 'one', 0, 0), ('p2', 'two', 0, 0);",
            );
            test(db);
        });
    }

    const LIMITS: Limits = Limits {
        max_value_chars: 1_000_000,
        max_collection_bytes: 1_000_000,
    };

    fn items(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn keys(conn: &dyn Db, c: &Collection, query: &ItemQuery, limit: usize) -> Vec<String> {
        page(conn, &c.id, &query.range(), limit)
            .unwrap()
            .into_iter()
            .map(|i| i.key)
            .collect()
    }

    #[test]
    fn names_follow_lightnings_rule() {
        for ok in ["patients-cache", "a", "stock.2025_05", "x1-y2"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Patients", "a--b", "-a", "a-", "has space", "a/b", "é"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn upserts_keep_their_place_and_sizes_add_up() {
        with_projects(|conn| {
            assert!(create(conn, "p1", "stock", 10).unwrap());
            assert!(!create(conn, "p1", "stock", 11).unwrap());
            let c = find(conn, "p1", "stock").unwrap().unwrap();
            // One batch, one microsecond: positions still strictly increase.
            let written = put_all(
                conn,
                &c,
                &items(&[("b", "1"), ("a", "22"), ("c", "333")]),
                &LIMITS,
                100,
            )
            .unwrap()
            .unwrap();
            assert_eq!(written, 3);
            let all = page(conn, &c.id, &ItemQuery::default().range(), 10).unwrap();
            assert_eq!(
                all.iter()
                    .map(|i| (i.key.as_str(), i.created_at))
                    .collect::<Vec<_>>(),
                [("b", 100), ("a", 101), ("c", 102)]
            );
            // An update keeps the place; a new key goes last even if the clock went back.
            put_all(conn, &c, &items(&[("a", "x"), ("d", "4")]), &LIMITS, 50)
                .unwrap()
                .unwrap();
            assert_eq!(
                keys(conn, &c, &ItemQuery::default(), 10),
                ["b", "a", "c", "d"]
            );
            let a = get(conn, &c.id, "a").unwrap().unwrap();
            assert_eq!(
                (a.value.as_str(), a.created_at, a.updated_at),
                ("x", 101, 50)
            );
            let c = find(conn, "p1", "stock").unwrap().unwrap();
            assert_eq!(c.item_count, 4);
            assert_eq!(c.byte_size, (1 + 1) + (1 + 1) + (1 + 3) + (1 + 1));
            assert!(delete_key(conn, &c.id, "c", 60).unwrap());
            assert!(!delete_key(conn, &c.id, "c", 60).unwrap());
            let c = find(conn, "p1", "stock").unwrap().unwrap();
            assert_eq!((c.item_count, c.byte_size), (3, 6));
        });
    }

    #[test]
    fn paging_resumes_after_the_cursor_and_filters_apply() {
        with_projects(|conn| {
            create(conn, "p1", "q", 0).unwrap();
            let c = find(conn, "p1", "q").unwrap().unwrap();
            let batch: Vec<(String, String)> = (0..7)
                .map(|i| {
                    (
                        format!("{}:{i}", if i % 2 == 0 { "even" } else { "odd" }),
                        i.to_string(),
                    )
                })
                .collect();
            put_all(conn, &c, &batch, &LIMITS, 1_000).unwrap().unwrap();
            let first = page(conn, &c.id, &ItemQuery::default().range(), 3).unwrap();
            assert_eq!(first.len(), 3);
            let next = ItemQuery {
                after: Some(first[2].created_at),
                ..ItemQuery::default()
            };
            assert_eq!(keys(conn, &c, &next, 3), ["odd:3", "even:4", "odd:5"]);
            let evens = ItemQuery {
                pattern: Some(KeyPattern::new("even:*")),
                ..ItemQuery::default()
            };
            assert_eq!(
                keys(conn, &c, &evens, 10),
                ["even:0", "even:2", "even:4", "even:6"]
            );
            let window = ItemQuery {
                created_after: Some(1_002),
                created_before: Some(1_005),
                ..ItemQuery::default()
            };
            assert_eq!(keys(conn, &c, &window, 10), ["even:2", "odd:3", "even:4"]);
            put_all(conn, &c, &items(&[("odd:5", "changed")]), &LIMITS, 9_000)
                .unwrap()
                .unwrap();
            let updated = ItemQuery {
                updated_after: Some(9_000),
                ..ItemQuery::default()
            };
            assert_eq!(keys(conn, &c, &updated, 10), ["odd:5"]);
            let not_updated = ItemQuery {
                updated_before: Some(9_000),
                ..ItemQuery::default()
            };
            assert_eq!(keys(conn, &c, &not_updated, 10).len(), 6);
        });
    }

    #[test]
    fn deletes_by_pattern_count_and_shrink() {
        with_projects(|conn| {
            create(conn, "p1", "q", 0).unwrap();
            let c = find(conn, "p1", "q").unwrap().unwrap();
            put_all(
                conn,
                &c,
                &items(&[
                    ("foo:123:bar1", "1"),
                    ("foo:234:boo", "2"),
                    ("foo:345:bar2", "3"),
                ]),
                &LIMITS,
                1,
            )
            .unwrap()
            .unwrap();
            assert_eq!(
                delete_matching(conn, &c.id, Some(KeyPattern::new("foo:*:bar*").glob()), 2)
                    .unwrap(),
                2
            );
            assert_eq!(keys(conn, &c, &ItemQuery::default(), 10), ["foo:234:boo"]);
            assert_eq!(delete_matching(conn, &c.id, None, 3).unwrap(), 1);
            let c = find(conn, "p1", "q").unwrap().unwrap();
            assert_eq!((c.item_count, c.byte_size), (0, 0));
        });
    }

    #[test]
    fn limits_refuse_the_whole_write() {
        with_projects(|conn| {
            create(conn, "p1", "q", 0).unwrap();
            let c = find(conn, "p1", "q").unwrap().unwrap();
            let small = Limits {
                max_value_chars: 5,
                max_collection_bytes: 20,
            };
            // Characters, not bytes: five accented letters fit.
            assert!(
                put_all(conn, &c, &items(&[("k", "ééééé")]), &small, 1)
                    .unwrap()
                    .is_ok()
            );
            let err = put_all(
                conn,
                &c,
                &items(&[("ok", "1"), ("long", "123456")]),
                &small,
                2,
            )
            .unwrap()
            .unwrap_err();
            assert!(
                matches!(err, PutError::ValueTooLong { ref key, chars: 6, limit: 5 } if key == "long"),
                "{err:?}"
            );
            assert!(err.to_string().contains("max_value_chars"), "{err}");
            let err = put_all(conn, &c, &items(&[("a", "1"), ("a", "2")]), &small, 3)
                .unwrap()
                .unwrap_err();
            assert_eq!(err, PutError::DuplicateKey("a".into()));
            // 11 bytes held ("k" and five two-byte letters), 12 more would make 23.
            let err = put_all(
                conn,
                &c,
                &items(&[("x", "12345"), ("y", "12345")]),
                &small,
                4,
            )
            .unwrap()
            .unwrap_err();
            assert!(
                matches!(
                    err,
                    PutError::CollectionFull {
                        size: 23,
                        limit: 20,
                        ..
                    }
                ),
                "{err:?}"
            );
            // Nothing of the refused writes is there.
            assert_eq!(keys(conn, &c, &ItemQuery::default(), 10), ["k"]);
            // A write that shrinks a collection is allowed even over the limit.
            assert!(
                put_all(conn, &c, &items(&[("k", "é")]), &small, 5)
                    .unwrap()
                    .is_ok()
            );
        });
    }

    #[test]
    fn collections_are_per_project() {
        with_projects(|conn| {
            create(conn, "p1", "shared-name", 0).unwrap();
            assert!(find(conn, "p2", "shared-name").unwrap().is_none());
            assert!(exists_elsewhere(conn, "p2", "shared-name").unwrap());
            assert!(!exists_elsewhere(conn, "p1", "shared-name").unwrap());
            create(conn, "p2", "shared-name", 0).unwrap();
            let one = find(conn, "p1", "shared-name").unwrap().unwrap();
            put_all(conn, &one, &items(&[("k", "v")]), &LIMITS, 1)
                .unwrap()
                .unwrap();
            let two = find(conn, "p2", "shared-name").unwrap().unwrap();
            assert!(get(conn, &two.id, "k").unwrap().is_none());
            assert_eq!(delete(conn, "p1", "shared-name").unwrap(), Some(1));
            assert_eq!(delete(conn, "p1", "shared-name").unwrap(), None);
            assert_eq!(list(conn, "p2").unwrap().len(), 1);
        });
    }
}
