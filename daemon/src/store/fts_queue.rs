//! Full-text index inserts held back until the end of the writer's batch.
//!
//! The writer runs every job in its own savepoint, and FTS5 flushes its pending index data
//! to a new segment at every savepoint: indexing inside each job wrote one tiny segment per
//! webhook and kept FTS5 merging them. The writer thread turns queueing on; `index` then
//! parks the text here, the writer keeps a job's entries only if the job succeeded, and
//! inserts them all once, outside any savepoint, just before the commit. Other threads
//! (tests, tools that write the store directly) insert at once.

use rusqlite::{Connection, params};
use std::cell::RefCell;

thread_local! {
    static PENDING: RefCell<Option<Vec<(i64, String)>>> = const { RefCell::new(None) };
}

/// Makes this thread queue index inserts (the writer thread calls it once).
pub fn queue_on_this_thread() {
    PENDING.with(|p| *p.borrow_mut() = Some(Vec::new()));
}

/// Indexes `text` under `rowid` now, or at the end of the batch on the writer thread.
pub fn insert(conn: &Connection, rowid: i64, text: String) -> rusqlite::Result<()> {
    // The text comes back only when this thread doesn't queue.
    let not_queued = PENDING.with(|p| match p.borrow_mut().as_mut() {
        Some(pending) => {
            pending.push((rowid, text));
            None
        }
        None => Some(text),
    });
    match not_queued {
        Some(text) => insert_now(conn, rowid, &text),
        None => Ok(()),
    }
}

/// Removes `rowid` from the index, including an insert still waiting in the queue.
pub fn delete(conn: &Connection, rowid: i64) -> rusqlite::Result<()> {
    PENDING.with(|p| {
        if let Some(pending) = p.borrow_mut().as_mut() {
            pending.retain(|(id, _)| *id != rowid);
        }
    });
    conn.prepare_cached("DELETE FROM search_fts WHERE rowid = ?1")?
        .execute([rowid])?;
    Ok(())
}

/// Takes what the job that just ran queued (the writer keeps it or drops it).
pub fn take() -> Vec<(i64, String)> {
    PENDING.with(|p| {
        p.borrow_mut()
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    })
}

/// Inserts the batch's queued entries, in the order they were queued.
pub fn insert_all(conn: &Connection, entries: Vec<(i64, String)>) -> rusqlite::Result<()> {
    for (rowid, text) in entries {
        insert_now(conn, rowid, &text)?;
    }
    Ok(())
}

fn insert_now(conn: &Connection, rowid: i64, text: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO search_fts (rowid, text) VALUES (?1, ?2)")?
        .execute(params![rowid, text])?;
    Ok(())
}
