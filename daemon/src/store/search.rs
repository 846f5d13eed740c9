//! The full-text index in the store: walking its matches newest document first, whether a
//! work order matched above a page's cursor, and the text of a matching document.
//!
//! SQLite matches with FTS5 (`search_fts MATCH`), PostgreSQL with a tsvector
//! (`text @@ CAST(? AS tsquery)`); `bolt_sql::fts` makes both find the same documents.
//! FTS5 walks its matches lazily; PostgreSQL reads a query's rows all at once, so the walk
//! reads them there in keyset pages that grow as the walk goes on.

use super::StoreResult;
use super::history::{WorkOrderFacts, facts_from, match_param};
use bolt_sql::fts::Query;
use bolt_sql::{Db, DbExt, Dialect, Row, Sql, ValueRef, marks, params};
use std::collections::HashMap;

/// ?1 the FTS query, ?2 the rowid below which to walk.
const WALK: &str = "SELECT f.rowid, sd.work_order_id FROM search_fts f CROSS JOIN search_docs sd ON sd.rowid = f.rowid
             WHERE search_fts MATCH ?1 AND f.rowid < ?2 ORDER BY f.rowid DESC";

/// `WALK` on PostgreSQL, one page of it: ?3 the most rows. The page's rowids are picked
/// in a subquery of `search_fts` alone, then joined: the planner then chooses per query
/// between walking the rowid index backwards (a common word) and the GIN index (a rare
/// one), and the join reads only the page's documents. Joined first, a rare word's page
/// read the whole of `search_docs` (a merge join) or, walking backwards, all of
/// `search_fts`. Each hit brings its work order's facts (what a search page filters and
/// counts by): asked for one by one, they were a round trip per work order and most of a
/// common word's page. A left join: retention may have deleted the work order.
pub const WALK_PAGE_POSTGRES: &str = "SELECT f.rowid, sd.work_order_id,
                 wo.workflow_id, wo.state, wo.received_at, wo.last_activity FROM
             (SELECT rowid FROM search_fts WHERE text @@ CAST(?1 AS tsquery) AND rowid < ?2
              ORDER BY rowid DESC LIMIT ?3) f
             JOIN search_docs sd ON sd.rowid = f.rowid
             LEFT JOIN work_orders wo ON wo.id = sd.work_order_id
             ORDER BY f.rowid DESC";

/// Rows of the first page of a walk on PostgreSQL; each next page reads twice as many, up
/// to `LAST_WALK_PAGE` (a page of results needs a few dozen matches, its counts up to a
/// few thousand).
const FIRST_WALK_PAGE: i64 = 256;
const LAST_WALK_PAGE: i64 = 16_384;

const DOCS_AT_OR_ABOVE: &str =
    "SELECT rowid FROM search_docs WHERE work_order_id = ?1 AND rowid >= ?2";

/// `DOCS_AT_OR_ABOVE` and `DOC_MATCHES` in one statement on PostgreSQL, where each
/// statement is a round trip: ?3 the tsquery.
const MATCHED_AT_OR_ABOVE_POSTGRES: &str = "SELECT 1 FROM search_docs sd
             JOIN search_fts f ON f.rowid = sd.rowid
             WHERE sd.work_order_id = ?1 AND sd.rowid >= ?2 AND f.text @@ CAST(?3 AS tsquery)
             LIMIT 1";

/// Whether document ?2 matches ?1 (SQLite; see `MATCHED_AT_OR_ABOVE_POSTGRES`).
const DOC_MATCHES: &str = "SELECT 1 FROM search_fts WHERE search_fts MATCH ?1 AND rowid = ?2";

/// Documents by rowid, without the WHERE clause. PostgreSQL casts a log document's ref_id
/// only on log rows (it may evaluate a join condition in any order, and a dataclip's id is
/// no number; SQLite's CAST gives 0).
const DOCUMENTS: Sql = Sql::new(
    "SELECT sd.rowid, sd.source, COALESCE(d.body, l.message) FROM search_docs sd
             LEFT JOIN dataclips d ON sd.source <> 'log' AND d.id = sd.ref_id
             LEFT JOIN log_lines l ON sd.source = 'log' AND l.id = CAST(sd.ref_id AS INTEGER)",
    "SELECT sd.rowid, sd.source, COALESCE(d.body, l.message) FROM search_docs sd
             LEFT JOIN dataclips d ON sd.source <> 'log' AND d.id = sd.ref_id
             LEFT JOIN log_lines l ON sd.source = 'log'
                 AND l.id = CASE WHEN sd.source = 'log' THEN CAST(sd.ref_id AS BIGINT) END",
);

/// A matching document: its FTS rowid and the work order it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub rowid: i64,
    pub work_order_id: String,
    /// The work order's facts when the walk read them with the hit (PostgreSQL, where a
    /// query is a round trip); `None` when it didn't (SQLite: FTS5 walks lazily, and a
    /// work order is looked up once, however many of its documents match) or the work
    /// order is gone.
    pub facts: Option<WorkOrderFacts>,
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
        facts: None,
    })
}

fn hit_with_facts(r: &Row<'_>) -> bolt_sql::Result<Hit> {
    Ok(Hit {
        facts: facts_from(r, 2)?,
        ..hit(r)?
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
                let page = db.query_map(
                    WALK_PAGE_POSTGRES,
                    params![param, below, rows],
                    hit_with_facts,
                )?;
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
    if db.dialect() == Dialect::Postgres {
        let found = db.query_row(
            MATCHED_AT_OR_ABOVE_POSTGRES,
            params![work_order_id, from, param],
            |_| Ok(()),
        )?;
        return Ok(found.is_some());
    }
    let higher: Vec<i64> =
        db.query_map(DOCS_AT_OR_ABOVE, params![work_order_id, from], |r| r.get(0))?;
    for rowid in higher {
        if db
            .query_row(DOC_MATCHES, params![param, rowid], |_| Ok(()))?
            .is_some()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Those of the indexed documents `rowids` that are still there, by rowid, in one statement
/// (a search page's snippets: on PostgreSQL each statement is a round trip).
pub fn documents(db: &dyn Db, rowids: &[i64]) -> StoreResult<HashMap<i64, Document>> {
    if rowids.is_empty() {
        return Ok(HashMap::new());
    }
    let params: Vec<ValueRef<'_>> = rowids.iter().map(|&rowid| ValueRef::Int(rowid)).collect();
    let sql = format!(
        "{} WHERE sd.rowid IN ({})",
        db.sql(&DOCUMENTS),
        marks(rowids.len())
    );
    let found = db.query_map(&sql, &params, |r| {
        Ok((
            r.get(0)?,
            Document {
                source: r.get(1)?,
                text: r.get(2)?,
            },
        ))
    })?;
    Ok(found.into_iter().collect())
}

/// Indexing as the store does it (search_docs row, then search_fts), for tests that seed
/// history by hand on either backend.
#[cfg(test)]
pub mod seed {
    use bolt_sql::{Db, DbExt, Dialect, params};

    /// Indexes `text` as document `source` of `work_order_id`; returns its rowid.
    pub fn index(db: &dyn Db, work_order_id: &str, source: &str, ref_id: &str, text: &str) -> i64 {
        let rowid: i64 = db
            .query_one(
                "INSERT INTO search_docs (work_order_id, source, ref_id) VALUES (?1, ?2, ?3) RETURNING rowid",
                params![work_order_id, source, ref_id],
            )
            .expect("a search_docs row");
        match db.dialect() {
            Dialect::Sqlite => db.execute(
                "INSERT INTO search_fts (rowid, text) VALUES (?1, ?2)",
                params![rowid, text],
            ),
            Dialect::Postgres => db.execute(
                "INSERT INTO search_fts (rowid, text) VALUES (?1, CAST(?2 AS tsvector))",
                params![rowid, bolt_sql::fts::tsvector(text)],
            ),
        }
        .expect("a search_fts row");
        rowid
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite;

    const HISTORY: &str = "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0);
         INSERT INTO dataclips (id, project_id, type, body, created_at) VALUES ('in', 'p', 'global', '{\"patient\": \"P-0042\"}', 0);
         INSERT INTO dataclips (id, project_id, type, body, wiped_at, created_at) VALUES ('gone', 'p', 'global', NULL, 5, 0);
         INSERT INTO workflows (id, project_id, key, name, created_at, updated_at) VALUES ('w', 'p', 'w', 'W', 0, 0);
         INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v', 'w', 1, '{}', 'h', 0);
         INSERT INTO work_orders (id, workflow_id, version_id, origin, state, received_at, last_activity) VALUES ('wo', 'w', 'v', 'manual', 'success', 0, 0);
         INSERT INTO runs (id, work_order_id, version_id, origin, state, created_at) VALUES ('r', 'wo', 'v', 'manual', 'success', 0);
         INSERT INTO log_lines (id, run_id, source, level, message, timestamp) VALUES (77, 'r', 'JOB', 'info', 'looked up P-0042 at the clinic', 0);";

    fn query(text: &str) -> Query {
        Query::parse(text).expect("a query")
    }

    /// The indexed document with FTS rowid `rowid`, if it is still there.
    fn document(db: &dyn Db, rowid: i64) -> StoreResult<Option<Document>> {
        Ok(documents(db, &[rowid])?.remove(&rowid))
    }

    fn walked(db: &dyn Db, text: &str, below: i64, stop_after: usize) -> Vec<Hit> {
        let mut hits = Vec::new();
        walk(db, &query(text), below, |hit| {
            hits.push(hit);
            Ok(hits.len() < stop_after)
        })
        .unwrap();
        hits
    }

    #[test]
    fn the_walk_goes_newest_first_below_its_cursor_and_stops_when_told() {
        suite::on_each_backend(|db| {
            // 700 documents over 7 work orders: PostgreSQL reads them in several pages.
            let mut common = Vec::new();
            for i in 0..700 {
                let text = if i % 100 == 0 {
                    "rare common"
                } else {
                    "common words"
                };
                common.push(seed::index(db, &format!("wo{}", i % 7), "input", "x", text));
            }
            let all = walked(db, "common", i64::MAX, usize::MAX);
            let rowids: Vec<i64> = all.iter().map(|h| h.rowid).collect();
            let newest_first: Vec<i64> = common.iter().rev().copied().collect();
            assert_eq!(rowids, newest_first);
            assert_eq!(all[0].work_order_id, format!("wo{}", 699 % 7));
            let below = common[400];
            let rest = walked(db, "common", below, usize::MAX);
            assert_eq!(rest.len(), 400, "only rowids below the cursor");
            assert_eq!(
                walked(db, "common", i64::MAX, 3).len(),
                3,
                "stops when told"
            );
            let rare: Vec<i64> = walked(db, "RARE comm*", i64::MAX, usize::MAX)
                .iter()
                .map(|h| h.rowid)
                .collect();
            assert_eq!(rare.len(), 7, "every word, a prefix, any case");
            assert!(
                walked(db, "comm", i64::MAX, usize::MAX).is_empty(),
                "whole words"
            );
            assert!(
                walked(db, "--", i64::MAX, usize::MAX).is_empty(),
                "no token"
            );
            let mut calls = 0;
            let failed = walk(db, &query("common"), i64::MAX, |_| {
                calls += 1;
                Err(crate::store::StoreError::Invalid("visit failed".into()))
            });
            assert!(matches!(failed, Err(crate::store::StoreError::Invalid(_))));
            assert_eq!(calls, 1, "the visitor's error ends the walk");
        });
    }

    #[test]
    fn a_match_above_the_cursor_and_the_documents_text() {
        suite::on_each_backend(|db| {
            suite::seed(db, HISTORY);
            let input = seed::index(db, "wo", "input", "in", "patient P-0042");
            let log = seed::index(db, "wo", "log", "77", "looked up P-0042 at the clinic");
            let wiped = seed::index(db, "wo", "output", "gone", "anything");
            seed::index(db, "other", "input", "in", "clinic");
            let p0042 = query("p-0042");
            assert!(matched_at_or_above(db, &p0042, "wo", input).unwrap());
            assert!(matched_at_or_above(db, &p0042, "wo", log).unwrap());
            assert!(!matched_at_or_above(db, &p0042, "wo", log + 1).unwrap());
            assert!(!matched_at_or_above(db, &query("clinic"), "wo", wiped).unwrap());
            assert!(!matched_at_or_above(db, &query("--"), "wo", 0).unwrap());
            // PostgreSQL brings each hit's work order facts along (a round trip saved per
            // work order); a document whose work order is gone brings none.
            let brought: Vec<(String, bool)> = walked(db, "clinic", i64::MAX, usize::MAX)
                .into_iter()
                .map(|h| (h.work_order_id, h.facts.is_some()))
                .collect();
            let on_postgres = db.dialect() == Dialect::Postgres;
            assert_eq!(
                brought,
                [
                    ("other".to_string(), false),
                    ("wo".to_string(), on_postgres)
                ]
            );
            if on_postgres {
                let facts = walked(db, "p-0042", i64::MAX, 1).remove(0).facts;
                assert_eq!(facts, crate::store::history::facts(db, "wo").unwrap());
                assert_eq!(facts.map(|f| f.workflow_id), Some("w".to_string()));
            }
            assert_eq!(
                document(db, input).unwrap(),
                Some(Document {
                    source: "input".into(),
                    text: Some("{\"patient\": \"P-0042\"}".into()),
                })
            );
            assert_eq!(
                document(db, log).unwrap(),
                Some(Document {
                    source: "log".into(),
                    text: Some("looked up P-0042 at the clinic".into()),
                })
            );
            assert_eq!(
                document(db, wiped).unwrap(),
                Some(Document {
                    source: "output".into(),
                    text: None,
                })
            );
            assert_eq!(document(db, 9_999).unwrap(), None);
        });
    }
}
