//! Full-text search pages. The FTS index is walked newest document first and the walk stops
//! as soon as a page of distinct work orders is found, so a word that matches half the store
//! costs about as much as a rare one. A work order is listed at its newest matching document;
//! the cursor is that document's FTS rowid, so later pages continue below it and new
//! matches (which get higher rowids) never shift or repeat rows.

use super::ResolvedFilter;
use crate::refs;
use crate::store::history::{self as store_history, SearchTerms, WorkOrderFacts};
use crate::store::search::{self as store_search, Document, Hit};
use crate::store::{StoreError, StoreResult, refs as store_refs};
use bolt_shared::model::*;
use bolt_sql::fts::Query;
use bolt_sql::{Db, Dialect};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Work orders tallied for the header counts of a search before they are reported as
/// lower bounds (`counts_capped`): counting every match of a common word would read the
/// whole index.
pub const SEARCH_COUNT_LIMIT: usize = 1_000;
/// FTS hits one page request walks at most; a filter that rejects almost every match
/// returns a short (even empty) page with a cursor to continue from, instead of reading
/// the whole index.
const WALK_BUDGET: usize = 100_000;
/// Cursor prefix of search pages (plain lists use work order ids).
const CURSOR_PREFIX: &str = "s";
/// Work orders matched by id or short ref sort above every indexed document.
const REF_KEY_BASE: i64 = i64::MAX - 16;

/// Turns what a person typed into an FTS5 query: every word must appear as a whole token
/// (`word*` asks for a word prefix). Exact tokens are walked lazily by FTS5; a prefix term
/// first merges the doclists of every word it expands to, which for a common word reads
/// the whole index, so prefixes are opt-in.
/// (PostgreSQL matches the same words as a tsquery, see `bolt_sql::fts`.)
pub fn fts_query(text: &str) -> Option<String> {
    Query::parse(text).map(|query| query.fts5())
}

/// The hex digits of a search that may be an id or short ref (at least a short ref's 8).
pub fn ref_tail(text: &str) -> Option<String> {
    let t = text.trim();
    let ok = t.len() <= 36 && t.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    let tail: String = t.chars().filter(|c| *c != '-').collect();
    (ok && tail.len() >= SHORT_REF_LEN).then(|| tail.to_ascii_lowercase())
}

/// Work orders a search names by its own id or short ref, or by a run's or step's.
pub(super) fn ref_matches(db: &dyn Db, search: &str) -> StoreResult<Vec<String>> {
    let Some(tail) = ref_tail(search) else {
        return Ok(Vec::new());
    };
    let mut ids: Vec<String> = refs::find_by_tail(db, "work_orders", &tail, 4)?;
    for run in refs::find_by_tail(db, "runs", &tail, 4)? {
        ids.push(store_refs::work_order_of_run(db, &run)?);
    }
    for step in refs::find_by_tail(db, "steps", &tail, 4)? {
        ids.push(store_refs::work_order_of_step(db, &step)?);
    }
    ids.sort();
    ids.dedup();
    ids.reverse();
    Ok(ids)
}

/// What the store matches for search text `search`: its FTS query and the work orders it
/// names by id or short ref.
pub(super) fn terms(db: &dyn Db, search: &str) -> StoreResult<SearchTerms> {
    Ok(SearchTerms {
        query: Query::parse(search),
        ids: ref_matches(db, search)?,
    })
}

fn parse_cursor(cursor: &str) -> StoreResult<i64> {
    cursor
        .strip_prefix(CURSOR_PREFIX)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| StoreError::Invalid(format!("bad search cursor `{cursor}`")))
}

/// Where a listed work order was found: its id, or an indexed document.
#[derive(Clone, Copy)]
enum Found {
    Ref,
    Doc(i64),
}

/// A page of search results, the header counts (first page only) and whether they are
/// lower bounds.
pub struct SearchPage {
    pub rows: Vec<WorkOrderRow>,
    pub next_cursor: Option<String>,
    pub counts: Vec<StateCount>,
    pub counts_capped: bool,
}

/// One page of work orders matching `filter` (whose search text is `search`).
pub fn page(
    db: &dyn Db,
    filter: &ResolvedFilter,
    search: &str,
    limit: u32,
    after: Option<&str>,
) -> StoreResult<SearchPage> {
    if db.dialect() == Dialect::Sqlite {
        return read_page(db, filter, search, limit, after);
    }
    // PostgreSQL walks the index in pages: one snapshot keeps them and the rows read
    // along the way consistent, as SQLite's open walk statement does.
    let snapshot = db.read_transaction()?;
    let page = read_page(&snapshot, filter, search, limit, after)?;
    snapshot.commit()?;
    Ok(page)
}

fn read_page(
    db: &dyn Db,
    filter: &ResolvedFilter,
    search: &str,
    limit: u32,
    after: Option<&str>,
) -> StoreResult<SearchPage> {
    let limit = limit as usize;
    let below = after.map(parse_cursor).transpose()?.unwrap_or(i64::MAX);
    let counting = after.is_none();
    let mut walk = Walk {
        db,
        filter,
        below,
        seen: HashSet::new(),
        found: Vec::new(),
        tally: BTreeMap::new(),
        tallied: 0,
        limit,
        counting,
    };
    let refs = ref_matches(db, search)?;
    for (i, id) in refs.iter().enumerate() {
        let key = REF_KEY_BASE - i as i64;
        if key < below {
            walk.consider(id, key, Found::Ref, None)?;
        } else {
            // Listed on an earlier page.
            walk.seen.insert(id.clone());
        }
    }
    let mut exhausted = true;
    let mut resume_below = None;
    if let Some(query) = Query::parse(search) {
        let mut walked = 0usize;
        store_search::walk(
            db,
            &query,
            below.min(REF_KEY_BASE - 16),
            |Hit {
                 rowid,
                 work_order_id: id,
                 facts,
             }| {
                if walk.done() {
                    exhausted = false;
                    return Ok(false);
                }
                walked += 1;
                if walked > WALK_BUDGET {
                    exhausted = false;
                    resume_below = Some(rowid + 1);
                    return Ok(false);
                }
                if walk.seen.contains(&id) {
                    return Ok(true);
                }
                if after.is_some() && shown_above(db, &query, &id, below, &refs)? {
                    walk.seen.insert(id);
                    return Ok(true);
                }
                walk.consider(&id, rowid, Found::Doc(rowid), facts)?;
                Ok(true)
            },
        )?;
    }
    let Walk {
        mut found, tally, ..
    } = walk;
    let next_cursor = if found.len() > limit {
        found.truncate(limit);
        found
            .last()
            .map(|(_, key, _)| format!("{CURSOR_PREFIX}{key}"))
    } else {
        resume_below.map(|key| format!("{CURSOR_PREFIX}{key}"))
    };
    // The page's rows and matching documents, each in one statement.
    let ids: Vec<&str> = found.iter().map(|(id, _, _)| id.as_str()).collect();
    let mut by_id = store_history::work_order_rows(db, &ids)?;
    let rowids: Vec<i64> = found
        .iter()
        .filter_map(|(_, _, how)| match how {
            Found::Doc(rowid) => Some(*rowid),
            Found::Ref => None,
        })
        .collect();
    let mut documents = store_search::documents(db, &rowids)?;
    let mut rows = Vec::with_capacity(found.len());
    for (id, _, how) in found {
        // Retention may delete a work order between the walk and here: leave it out.
        let Some(mut row) = by_id.remove(&id) else {
            continue;
        };
        row.hit = hit_for(&mut documents, &id, how, search);
        rows.push(row);
    }
    let counts = tally
        .into_iter()
        .map(|(state, count)| StateCount { state, count })
        .collect();
    Ok(SearchPage {
        rows,
        next_cursor,
        counts,
        counts_capped: counting && !exhausted,
    })
}

/// The state of one page's walk over matching work orders.
struct Walk<'a> {
    db: &'a dyn Db,
    filter: &'a ResolvedFilter,
    below: i64,
    seen: HashSet<String>,
    /// Work orders for the page (one more than the limit, to know whether there is a
    /// next page), with their key and where they were found.
    found: Vec<(String, i64, Found)>,
    tally: BTreeMap<WorkOrderState, u64>,
    tallied: usize,
    limit: usize,
    counting: bool,
}

impl Walk<'_> {
    fn done(&self) -> bool {
        self.found.len() > self.limit && (!self.counting || self.tallied >= SEARCH_COUNT_LIMIT)
    }

    /// A work order met for the first time at `key`: count it and keep it for the page if
    /// it passes the filter. Its facts are looked up unless the walk brought them.
    fn consider(
        &mut self,
        id: &str,
        key: i64,
        how: Found,
        facts: Option<WorkOrderFacts>,
    ) -> StoreResult<()> {
        self.seen.insert(id.to_string());
        debug_assert!(key < self.below);
        let facts = match facts {
            Some(facts) => Some(facts),
            None => store_history::facts(self.db, id)?,
        };
        // Documents of a work order deleted by retention may outlive it briefly.
        let Some(facts) = facts else {
            return Ok(());
        };
        if !self.filter.matches_ignoring_states(&facts) {
            return Ok(());
        }
        if self.counting && self.tallied < SEARCH_COUNT_LIMIT {
            self.tallied += 1;
            *self.tally.entry(facts.state).or_default() += 1;
        }
        if self.found.len() <= self.limit && self.filter.matches_states(&facts) {
            self.found.push((id.to_string(), key, how));
        }
        Ok(())
    }
}

/// Whether a work order met below the cursor was already listed above it: named by the
/// search as an id, or with a matching document at or above the cursor.
fn shown_above(
    db: &dyn Db,
    query: &Query,
    id: &str,
    below: i64,
    refs: &[String],
) -> StoreResult<bool> {
    if refs.iter().any(|r| r == id) {
        return Ok(true);
    }
    store_search::matched_at_or_above(db, query, id, below)
}

/// Where a listed work order matched, with a snippet of the matching document (taken from
/// the page's `documents`).
fn hit_for(
    documents: &mut HashMap<i64, Document>,
    work_order_id: &str,
    how: Found,
    search: &str,
) -> Option<SearchHit> {
    let Found::Doc(rowid) = how else {
        return Some(SearchHit {
            source: MatchSource::Id,
            snippet: work_order_id.to_string(),
        });
    };
    let doc = documents.remove(&rowid);
    doc.map(|Document { source, text }| {
        let source = MatchSource::parse(&source).unwrap_or(MatchSource::Input);
        let snippet = match (&source, text) {
            (MatchSource::Log, Some(text)) => snippet(&text, search),
            (_, Some(text)) => value_snippet(&text, search),
            (_, None) => String::new(),
        };
        SearchHit { source, snippet }
    })
}

/// A snippet of a stored JSON document taken from the value that matched, as the value
/// reads (no JSON escapes), after its path: `data.note: …patient [P-0042] missing…`.
/// Text that is not JSON, or a match only in keys or across values, is cut from as stored.
pub fn value_snippet(text: &str, search: &str) -> String {
    let term = first_term(search);
    if term.is_empty() {
        return snippet(text, search);
    }
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return snippet(text, search);
    };
    match matching_value(&value, &term, String::new()) {
        Some((path, found)) if path.is_empty() => snippet(&found, search),
        Some((path, found)) => format!("{path}: {}", snippet(&found, search)),
        None => snippet(text, search),
    }
}

/// The first scalar (in document order) whose text contains `term`, with its path.
fn matching_value(value: &serde_json::Value, term: &str, path: String) -> Option<(String, String)> {
    use serde_json::Value;
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::Object(map) => map
            .iter()
            .find_map(|(key, child)| matching_value(child, term, join(key))),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, child)| matching_value(child, term, format!("{path}[{index}]"))),
        Value::String(text) => text
            .to_lowercase()
            .contains(term)
            .then(|| (path, text.clone())),
        Value::Number(_) | Value::Bool(_) => {
            let text = value.to_string();
            text.to_lowercase().contains(term).then_some((path, text))
        }
        Value::Null => None,
    }
}

/// The first search word as typed, without FTS syntax, lowercased.
fn first_term(search: &str) -> String {
    search
        .split_whitespace()
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| *c != '"' && *c != '*')
        .collect::<String>()
        .to_lowercase()
}

/// ~80 characters around the first search term, the match marked with [ ].
pub fn snippet(text: &str, search: &str) -> String {
    let term = first_term(search);
    let lower = text.to_lowercase();
    let Some(at) = lower.find(&term).filter(|_| !term.is_empty()) else {
        return text.chars().take(80).collect();
    };
    // Work in chars so multi-byte text never splits.
    let start_char = lower[..at].chars().count();
    let term_chars = term.chars().count();
    let chars: Vec<char> = text.chars().collect();
    let from = start_char.saturating_sub(30);
    let to = (start_char + term_chars + 40).min(chars.len());
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.extend(&chars[from..start_char.min(chars.len())]);
    out.push('[');
    out.extend(&chars[start_char.min(chars.len())..(start_char + term_chars).min(chars.len())]);
    out.push(']');
    out.extend(&chars[(start_char + term_chars).min(chars.len())..to]);
    if to < chars.len() {
        out.push('…');
    }
    out
}
