//! The full-text index in the store: walking its matches newest document first, whether a
//! work order matched above a page's cursor, and the text of a matching document.

use super::StoreResult;
use rusqlite::{Connection, OptionalExtension, params};

/// ?1 the FTS query, ?2 the rowid below which to walk.
const WALK: &str = "SELECT f.rowid, sd.work_order_id FROM search_fts f CROSS JOIN search_docs sd ON sd.rowid = f.rowid
             WHERE search_fts MATCH ?1 AND f.rowid < ?2 ORDER BY f.rowid DESC";

const DOCS_AT_OR_ABOVE: &str =
    "SELECT rowid FROM search_docs WHERE work_order_id = ?1 AND rowid >= ?2";

const DOC_MATCHES: &str = "SELECT 1 FROM search_fts WHERE search_fts MATCH ?1 AND rowid = ?2";

const DOCUMENT: &str = "SELECT sd.source, COALESCE(d.body, l.message) FROM search_docs sd
             LEFT JOIN dataclips d ON sd.source <> 'log' AND d.id = sd.ref_id
             LEFT JOIN log_lines l ON sd.source = 'log' AND l.id = CAST(sd.ref_id AS INTEGER)
             WHERE sd.rowid = ?1";

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

/// Walks the documents matching FTS query `query` with rowids below `below`, newest
/// first, handing each to `visit` until it returns false or the matches run out. FTS5
/// walks lazily, so stopping early costs only what was read.
pub fn walk(
    conn: &Connection,
    query: &str,
    below: i64,
    mut visit: impl FnMut(Hit) -> StoreResult<bool>,
) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(WALK)?;
    let mut hits = stmt.query(params![query, below])?;
    while let Some(hit) = hits.next()? {
        let hit = Hit {
            rowid: hit.get(0)?,
            work_order_id: hit.get(1)?,
        };
        if !visit(hit)? {
            break;
        }
    }
    Ok(())
}

/// Whether a document of work order `work_order_id` with a rowid at or above `from`
/// matches FTS query `query`.
pub fn matched_at_or_above(
    conn: &Connection,
    query: &str,
    work_order_id: &str,
    from: i64,
) -> StoreResult<bool> {
    let higher: Vec<i64> = conn
        .prepare_cached(DOCS_AT_OR_ABOVE)?
        .query_map(params![work_order_id, from], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut matches = conn.prepare_cached(DOC_MATCHES)?;
    for rowid in higher {
        if matches
            .query_row(params![query, rowid], |_| Ok(()))
            .optional()?
            .is_some()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The indexed document with FTS rowid `rowid`, if it is still there.
pub fn document(conn: &Connection, rowid: i64) -> StoreResult<Option<Document>> {
    Ok(conn
        .prepare_cached(DOCUMENT)?
        .query_row([rowid], |r| {
            Ok(Document {
                source: r.get(0)?,
                text: r.get(1)?,
            })
        })
        .optional()?)
}
