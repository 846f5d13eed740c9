//! The full-text index in the store: walking its matches newest document first, whether a
//! work order matched above a page's cursor, and the text of a matching document.
//!
//! SQLite matches with FTS5 (`search_fts MATCH`), PostgreSQL with a tsvector
//! (`text @@ CAST(? AS tsquery)`); `bolt_sql::fts` makes both find the same documents.
//! FTS5 walks its matches lazily; PostgreSQL reads a query's rows all at once, so the walk
//! reads them there in keyset pages that grow as the walk goes on.

use super::StoreResult;
use super::history::match_param;
use bolt_sql::fts::Query;
use bolt_sql::{Db, DbExt, Dialect, Row, Sql, params};

/// ?1 the FTS query, ?2 the rowid below which to walk.
const WALK: &str = "SELECT f.rowid, sd.work_order_id FROM search_fts f CROSS JOIN search_docs sd ON sd.rowid = f.rowid
             WHERE search_fts MATCH ?1 AND f.rowid < ?2 ORDER BY f.rowid DESC";

/// `WALK` on PostgreSQL, one page of it: ?3 the most rows.
const WALK_PAGE_POSTGRES: &str =
    "SELECT f.rowid, sd.work_order_id FROM search_fts f JOIN search_docs sd ON sd.rowid = f.rowid
             WHERE f.text @@ CAST(?1 AS tsquery) AND f.rowid < ?2 ORDER BY f.rowid DESC LIMIT ?3";

/// Rows of the first page of a walk on PostgreSQL; each next page reads twice as many, up
/// to `LAST_WALK_PAGE` (a page of results needs a few dozen matches, its counts up to a
/// few thousand).
const FIRST_WALK_PAGE: i64 = 256;
const LAST_WALK_PAGE: i64 = 16_384;

const DOCS_AT_OR_ABOVE: &str =
    "SELECT rowid FROM search_docs WHERE work_order_id = ?1 AND rowid >= ?2";

const DOC_MATCHES: Sql = Sql::new(
    "SELECT 1 FROM search_fts WHERE search_fts MATCH ?1 AND rowid = ?2",
    "SELECT 1 FROM search_fts WHERE text @@ CAST(?1 AS tsquery) AND rowid = ?2",
);

/// PostgreSQL casts a log document's ref_id only on log rows (it may evaluate a join
/// condition in any order, and a dataclip's id is no number; SQLite's CAST gives 0).
const DOCUMENT: Sql = Sql::new(
    "SELECT sd.source, COALESCE(d.body, l.message) FROM search_docs sd
             LEFT JOIN dataclips d ON sd.source <> 'log' AND d.id = sd.ref_id
             LEFT JOIN log_lines l ON sd.source = 'log' AND l.id = CAST(sd.ref_id AS INTEGER)
             WHERE sd.rowid = ?1",
    "SELECT sd.source, COALESCE(d.body, l.message) FROM search_docs sd
             LEFT JOIN dataclips d ON sd.source <> 'log' AND d.id = sd.ref_id
             LEFT JOIN log_lines l ON sd.source = 'log'
                 AND l.id = CASE WHEN sd.source = 'log' THEN CAST(sd.ref_id AS BIGINT) END
             WHERE sd.rowid = ?1",
);

/// A matching document: its FTS rowid and the work order it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub rowid: i64,
    pub work_order_id: String,
}

/// An indexed document: where it came from (`input`, `output` or `log`) and its text
/// (`None` once wiped or deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub source: String,
    pub text: Option<String>,
}

fn hit(r: &Row<'_>) -> bolt_sql::Result<Hit> {
    Ok(Hit {
        rowid: r.get(0)?,
        work_order_id: r.get(1)?,
    })
}

/// Walks the documents matching `query` with rowids below `below`, newest first, handing
/// each to `visit` until it returns false or the matches run out. The walk stops where
/// `visit` says, so stopping early costs only what was read.
pub fn walk(
    db: &dyn Db,
    query: &Query,
    below: i64,
    mut visit: impl FnMut(Hit) -> StoreResult<bool>,
) -> StoreResult<()> {
    let Some(param) = match_param(query, db.dialect()) else {
        return Ok(());
    };
    match db.dialect() {
        Dialect::Sqlite => walk_lazily(db, &param, below, visit),
        Dialect::Postgres => {
            let mut below = below;
            let mut rows = FIRST_WALK_PAGE;
            loop {
                let page = db.query_map(WALK_PAGE_POSTGRES, params![param, below, rows], hit)?;
                let last_page = (page.len() as i64) < rows;
                for found in page {
                    below = found.rowid;
                    if !visit(found)? {
                        return Ok(());
                    }
                }
                if last_page {
                    return Ok(());
                }
                rows = (rows * 2).min(LAST_WALK_PAGE);
            }
        }
    }
}

/// The walk on SQLite: one FTS5 statement, read only as far as `visit` goes.
fn walk_lazily(
    db: &dyn Db,
    fts5_query: &str,
    below: i64,
    mut visit: impl FnMut(Hit) -> StoreResult<bool>,
) -> StoreResult<()> {
    // `visit`'s own error stops the walk and is returned after it.
    let mut failed = None;
    db.query_while(WALK, params![fts5_query, below], |r| match visit(hit(r)?) {
        Ok(go_on) => Ok(go_on),
        Err(e) => {
            failed = Some(e);
            Ok(false)
        }
    })?;
    failed.map_or(Ok(()), Err)
}

/// Whether a document of work order `work_order_id` with a rowid at or above `from`
/// matches `query`.
pub fn matched_at_or_above(
    db: &dyn Db,
    query: &Query,
    work_order_id: &str,
    from: i64,
) -> StoreResult<bool> {
    let Some(param) = match_param(query, db.dialect()) else {
        return Ok(false);
    };
    let higher: Vec<i64> =
        db.query_map(DOCS_AT_OR_ABOVE, params![work_order_id, from], |r| r.get(0))?;
    let matches = db.sql(&DOC_MATCHES);
    for rowid in higher {
        if db
            .query_row(matches, params![param, rowid], |_| Ok(()))?
            .is_some()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The indexed document with FTS rowid `rowid`, if it is still there.
pub fn document(db: &dyn Db, rowid: i64) -> StoreResult<Option<Document>> {
    Ok(db.query_row(db.sql(&DOCUMENT), params![rowid], |r| {
        Ok(Document {
            source: r.get(0)?,
            text: r.get(1)?,
        })
    })?)
}
