//! Full-text index inserts held back until the end of the writer's batch (SQLite), or
//! written at once (PostgreSQL).
//!
//! The writer runs every job in its own savepoint, and FTS5 flushes its pending index data
//! to a new segment at every savepoint: indexing inside each job wrote one tiny segment per
//! webhook and kept FTS5 merging them. The writer thread turns queueing on; `insert` and
//! `short_ref` then park their entries here, the writer keeps a job's entries only if the
//! job succeeded, and inserts them all once, outside any savepoint, just before the commit.
//! Other threads (tests, tools that write the store directly) insert at once.
//! Two FTS5 tables are fed this way: `search_fts` (search text) and `short_refs` (refs.rs).
//! The history counts (history/counts.rs) are too: a batch's changes to a bucket add up to
//! one update instead of one per work order.
//!
//! PostgreSQL needs no queue for the index (GIN's pending list batches index inserts, see
//! the header of its schema): on a PostgreSQL connection `insert` stores the ready tsvector
//! ([`bolt_sql::fts::tsvector`]) at once and `short_ref` does nothing (the `right(id, 8)`
//! indexes find short refs). Count changes wait for the end of the PostgreSQL writer's
//! batch too, and are made there in the buckets' order ([`write_all_queued`]): every node
//! changes the same few buckets, and rows locked in the order writes came would deadlock
//! two nodes' batches (one node's write failing on it). Off the writer thread they upsert
//! the bucket at once.

use bolt_sql::{Db, DbExt, Dialect, Sql, fts, params};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;

const INSERT_SEARCH: Sql = Sql::new(
    "INSERT INTO search_fts (rowid, text) VALUES (?1, ?2)",
    "INSERT INTO search_fts (rowid, text) VALUES (?1, CAST(?2 AS tsvector))",
);

/// SQLite only: PostgreSQL has no `short_refs` table.
const INSERT_SHORT_REF: &str = "INSERT INTO short_refs (ref, id) VALUES (?1, ?2)";

/// PostgreSQL's `n` alone would be ambiguous between the row and `excluded`.
const BUMP: Sql = Sql::new(
    "INSERT INTO work_order_counts (workflow_id, hour, state, n) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (workflow_id, hour, state) DO UPDATE SET n = n + excluded.n",
    "INSERT INTO work_order_counts AS c (workflow_id, hour, state, n) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (workflow_id, hour, state) DO UPDATE SET n = c.n + excluded.n",
);

const DELETE_SEARCH: &str = "DELETE FROM search_fts WHERE rowid = ?1";

/// An entry waiting for the end of the batch.
pub enum Entry {
    /// Search text for the `search_docs` row `rowid`.
    Search { rowid: i64, text: String },
    /// A short-ref token and the id it stands for.
    ShortRef { token: String, id: String },
    /// `rowid` was removed from the index: a `Search` entry for it queued earlier in the
    /// batch (even by another write) must not be inserted at the end.
    Forget { rowid: i64 },
    /// A change to a `work_order_counts` bucket.
    Count {
        workflow_id: String,
        hour: i64,
        state: String,
        by: i64,
    },
}

thread_local! {
    static PENDING: RefCell<Option<Vec<Entry>>> = const { RefCell::new(None) };
}

/// Makes this thread queue index inserts (the writer thread calls it once).
pub fn queue_on_this_thread() {
    PENDING.with(|p| *p.borrow_mut() = Some(Vec::new()));
}

/// Indexes `text` under `rowid` now, or at the end of the batch on SQLite's writer thread.
pub fn insert(db: &dyn Db, rowid: i64, text: String) -> bolt_sql::Result<()> {
    add(db, Entry::Search { rowid, text })
}

/// Indexes a short-ref token for `id` now, or at the end of the batch on SQLite's writer
/// thread (nothing to do on PostgreSQL).
pub fn short_ref(db: &dyn Db, token: String, id: String) -> bolt_sql::Result<()> {
    add(db, Entry::ShortRef { token, id })
}

/// Changes a history count bucket now, or at the end of the batch on SQLite's writer
/// thread.
pub fn count(
    db: &dyn Db,
    workflow_id: &str,
    hour: i64,
    state: &str,
    by: i64,
) -> bolt_sql::Result<()> {
    add(
        db,
        Entry::Count {
            workflow_id: workflow_id.to_string(),
            hour,
            state: state.to_string(),
            by,
        },
    )
}

fn add(db: &dyn Db, entry: Entry) -> bolt_sql::Result<()> {
    let not_queued = match (db.dialect(), &entry) {
        (Dialect::Sqlite, _) | (Dialect::Postgres, Entry::Count { .. }) => park(entry),
        (Dialect::Postgres, _) => Some(entry),
    };
    match not_queued {
        Some(entry) => write(db, &entry),
        None => Ok(()),
    }
}

/// Parks `entry` when this thread queues; gives it back when it doesn't.
fn park(entry: Entry) -> Option<Entry> {
    PENDING.with(|p| match p.borrow_mut().as_mut() {
        Some(pending) => {
            pending.push(entry);
            None
        }
        None => Some(entry),
    })
}

/// Removes `rowid` from the search index, including (on SQLite) an insert still waiting
/// for the end of the batch (queued by this write or an earlier one of the batch).
pub fn delete(db: &dyn Db, rowid: i64) -> bolt_sql::Result<()> {
    if db.dialect() == Dialect::Sqlite {
        PENDING.with(|p| {
            if let Some(pending) = p.borrow_mut().as_mut() {
                pending.push(Entry::Forget { rowid });
            }
        });
    }
    db.execute(DELETE_SEARCH, params![rowid])?;
    Ok(())
}

/// Takes what the job that just ran queued (the writer keeps it or drops it).
pub fn take() -> Vec<Entry> {
    PENDING.with(|p| {
        p.borrow_mut()
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    })
}

/// Inserts the batch's queued entries, in the order they were queued (SQLite's writer, at
/// the end of its batch). Count changes to the same bucket are added up first. Every entry
/// is tried even when an earlier one fails; the first error is returned, as SQLite's own
/// error so that the writer tells a disk fault apart.
pub fn insert_all(db: &dyn Db, entries: Vec<Entry>) -> rusqlite::Result<()> {
    write_all(db, entries).map_err(into_sqlite_error)
}

/// Writes the batch's queued entries (PostgreSQL's writer, at the end of its batch): the
/// count changes added up per bucket, in the buckets' order, so that two nodes' batches
/// lock the rows they share in the same order.
pub fn write_all_queued(db: &dyn Db, entries: Vec<Entry>) -> bolt_sql::Result<()> {
    write_all(db, entries)
}

fn write_all(db: &dyn Db, entries: Vec<Entry>) -> bolt_sql::Result<()> {
    let entries = without_forgotten(entries);
    let mut buckets: BTreeMap<(String, i64, String), i64> = BTreeMap::new();
    let mut first_error = None;
    let mut note = |result: bolt_sql::Result<()>| {
        if let Err(err) = result {
            first_error.get_or_insert(err);
        }
    };
    for entry in entries {
        match entry {
            Entry::Count {
                workflow_id,
                hour,
                state,
                by,
            } => *buckets.entry((workflow_id, hour, state)).or_default() += by,
            other => note(write(db, &other)),
        }
    }
    for ((workflow_id, hour, state), by) in buckets {
        if by != 0 {
            note(bump(db, &workflow_id, hour, &state, by));
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// SQLite's error behind `err` (the layer keeps it), or a generic SQLite error with its
/// message.
fn into_sqlite_error(err: bolt_sql::Error) -> rusqlite::Error {
    match err.sqlite_error() {
        Some(rusqlite::Error::SqliteFailure(code, message)) => {
            rusqlite::Error::SqliteFailure(*code, message.clone())
        }
        _ => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(err.to_string()),
        ),
    }
}

/// Drops every search insert that a later `Forget` of the same rowid cancels (a rowid may
/// be forgotten and then used again, so only later ones count).
fn without_forgotten(entries: Vec<Entry>) -> Vec<Entry> {
    let mut forgotten = std::collections::HashSet::new();
    let mut kept: Vec<Entry> = entries
        .into_iter()
        .rev()
        .filter(|entry| match entry {
            Entry::Forget { rowid } => {
                forgotten.insert(*rowid);
                false
            }
            Entry::Search { rowid, .. } => !forgotten.contains(rowid),
            _ => true,
        })
        .collect();
    kept.reverse();
    kept
}

fn bump(db: &dyn Db, workflow_id: &str, hour: i64, state: &str, by: i64) -> bolt_sql::Result<()> {
    db.execute(db.sql(&BUMP), params![workflow_id, hour, state, by])?;
    Ok(())
}

/// Writes one entry to the database.
fn write(db: &dyn Db, entry: &Entry) -> bolt_sql::Result<()> {
    match entry {
        Entry::Search { rowid, text } => {
            // PostgreSQL is given the tokens ready (see bolt_sql::fts).
            let text = match db.dialect() {
                Dialect::Sqlite => Cow::Borrowed(text.as_str()),
                Dialect::Postgres => Cow::Owned(fts::tsvector(text)),
            };
            db.execute(db.sql(&INSERT_SEARCH), params![rowid, text.as_ref()])?;
        }
        Entry::ShortRef { token, id } => {
            // PostgreSQL's right(id, 8) indexes hold every row already.
            if db.dialect() == Dialect::Sqlite {
                db.execute(INSERT_SHORT_REF, params![token, id])?;
            }
        }
        Entry::Count {
            workflow_id,
            hour,
            state,
            by,
        } => bump(db, workflow_id, *hour, state, *by)?,
        // Cancels queued inserts only (see `without_forgotten`); the row itself was
        // deleted from the index when it was forgotten.
        Entry::Forget { .. } => {}
    }
    Ok(())
}

/// The rowids whose indexed text matches `words` (the store's query language), for tests.
#[cfg(test)]
pub fn indexed(db: &dyn Db, words: &str) -> Vec<i64> {
    let query = fts::Query::parse(words).expect("words to search for");
    let found = match db.dialect() {
        Dialect::Sqlite => db.query_map(
            "SELECT rowid FROM search_fts WHERE search_fts MATCH ?1 ORDER BY rowid",
            params![query.fts5()],
            |r| r.get(0),
        ),
        Dialect::Postgres => db.query_map(
            "SELECT rowid FROM search_fts WHERE text @@ CAST(?1 AS tsquery) ORDER BY rowid",
            params![query.tsquery().expect("a token to search for")],
            |r| r.get(0),
        ),
    };
    found.expect("a search of the index")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite::on_each_backend;

    fn bucket(db: &dyn Db, workflow_id: &str, hour: i64, state: &str) -> Option<i64> {
        db.query_value(
            "SELECT n FROM work_order_counts WHERE workflow_id = ?1 AND hour = ?2 AND state = ?3",
            params![workflow_id, hour, state],
        )
        .unwrap()
    }

    /// The short-ref tokens SQLite's index holds (PostgreSQL has no such table).
    fn short_refs(db: &dyn Db) -> Vec<String> {
        match db.dialect() {
            Dialect::Sqlite => db
                .query_map("SELECT ref FROM short_refs ORDER BY ref", params![], |r| {
                    r.get(0)
                })
                .unwrap(),
            Dialect::Postgres => Vec::new(),
        }
    }

    #[test]
    fn off_the_writer_thread_entries_are_written_at_once() {
        on_each_backend(|db| {
            insert(db, 1, "Crème brûlée for user@example.com".into()).unwrap();
            insert(db, 2, "other words".into()).unwrap();
            assert_eq!(indexed(db, "creme"), [1]);
            assert_eq!(indexed(db, "example.com"), [1]);
            assert_eq!(indexed(db, "wor*"), [2]);
            delete(db, 1).unwrap();
            assert!(indexed(db, "creme").is_empty());
            assert_eq!(indexed(db, "other"), [2]);

            count(db, "w", 7, "success", 2).unwrap();
            count(db, "w", 7, "success", -1).unwrap();
            count(db, "w", 7, "failed", 1).unwrap();
            assert_eq!(bucket(db, "w", 7, "success"), Some(1));
            assert_eq!(bucket(db, "w", 7, "failed"), Some(1));

            short_ref(db, "w2e3f4a5b".into(), "id".into()).unwrap();
            match db.dialect() {
                Dialect::Sqlite => assert_eq!(short_refs(db), ["w2e3f4a5b"]),
                Dialect::Postgres => assert!(take().is_empty()),
            }
        });
    }

    /// On a queueing thread SQLite parks entries until `insert_all`; PostgreSQL writes
    /// index entries at once and parks count changes until `write_all_queued`.
    #[test]
    fn a_queueing_thread_parks_entries_and_postgresql_only_count_changes() {
        std::thread::spawn(|| {
            queue_on_this_thread();
            on_each_backend(|db| {
                insert(db, 1, "kept words".into()).unwrap();
                insert(db, 2, "forgotten words".into()).unwrap();
                delete(db, 2).unwrap();
                count(db, "w", 1, "success", 1).unwrap();
                count(db, "w", 1, "success", 1).unwrap();
                short_ref(db, "r00000001".into(), "run".into()).unwrap();
                let parked = take();
                match db.dialect() {
                    Dialect::Sqlite => {
                        assert_eq!(parked.len(), 6);
                        assert!(indexed(db, "words").is_empty());
                        assert_eq!(bucket(db, "w", 1, "success"), None);
                        insert_all(db, parked).unwrap();
                        assert_eq!(short_refs(db), ["r00000001"]);
                    }
                    Dialect::Postgres => {
                        assert_eq!(parked.len(), 2, "the count changes");
                        assert_eq!(indexed(db, "words"), [1]);
                        assert_eq!(bucket(db, "w", 1, "success"), None);
                        write_all_queued(db, parked).unwrap();
                    }
                }
                assert_eq!(indexed(db, "words"), [1]);
                assert_eq!(bucket(db, "w", 1, "success"), Some(2));
            });
        })
        .join()
        .expect("the test thread");
    }

    #[test]
    fn a_failed_batch_entry_reports_sqlites_own_error_and_the_rest_is_written() {
        on_each_backend(|db| {
            if db.dialect() == Dialect::Postgres {
                return; // The batch is SQLite's writer's only.
            }
            db.execute_batch("DROP TABLE short_refs").unwrap();
            let err = insert_all(
                db,
                vec![
                    Entry::ShortRef {
                        token: "w00000001".into(),
                        id: "wo".into(),
                    },
                    Entry::Search {
                        rowid: 2,
                        text: "later".into(),
                    },
                ],
            )
            .unwrap_err();
            assert!(matches!(err, rusqlite::Error::SqliteFailure(..)), "{err:?}");
            assert!(err.to_string().contains("short_refs"), "{err}");
            assert_eq!(indexed(db, "later"), [2]);
        });
    }

    fn search(rowid: i64, text: &str) -> Entry {
        Entry::Search {
            rowid,
            text: text.into(),
        }
    }

    /// A document removed later in the batch (by any write) is not indexed at the end; one
    /// added again under the same rowid after its removal is.
    #[test]
    fn a_removal_cancels_only_the_inserts_queued_before_it() {
        let kept = without_forgotten(vec![
            search(1, "first"),
            search(2, "other"),
            Entry::Forget { rowid: 1 },
            search(1, "again"),
            Entry::Forget { rowid: 3 },
        ]);
        let texts: Vec<(i64, String)> = kept
            .into_iter()
            .map(|entry| match entry {
                Entry::Search { rowid, text } => (rowid, text),
                _ => panic!("only search inserts remain"),
            })
            .collect();
        assert_eq!(texts, vec![(2, "other".into()), (1, "again".into())]);
    }
}
