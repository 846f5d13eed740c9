//! Dataclips: stored JSON states (inputs, outputs, saved inputs) and their search index.

use super::{StoreError, StoreResult, new_id, now_micros};
use bolt_shared::model::{DataclipType, WipeReason};
use bolt_sql::{Db, DbExt, params};
use serde_json::Value;

/// Most text of one document the full-text index takes (bounds the cost of huge bodies).
const MAX_INDEXED_CHARS: usize = 64 * 1024;

pub struct NewDataclip<'a> {
    pub project_id: Option<&'a str>,
    pub kind: DataclipType,
    /// Exact JSON text; `None` stores the clip as wiped (zero persistence / too large).
    pub body: Option<&'a str>,
    pub request: Option<&'a str>,
    pub name: Option<&'a str>,
    pub wipe_reason: Option<WipeReason>,
    /// Size of the body even when it is not stored (too large).
    pub size_bytes: Option<usize>,
}

const INSERT: &str = "INSERT INTO dataclips (id, project_id, type, body, request, name, size_bytes, wiped_at, wipe_reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

const WIPED: &str = "SELECT wiped_at, wipe_reason FROM dataclips WHERE id = ?1";

const NAME_TAKEN: &str = "SELECT COUNT(*) > 0 FROM dataclips WHERE name = ?1";

const WIPE: &str = "UPDATE dataclips SET body = NULL, request = NULL, wiped_at = ?2, wipe_reason = ?3 WHERE id = ?1 AND wiped_at IS NULL";

/// `RETURNING` gives the new row's number on both backends.
const INSERT_SEARCH_DOC: &str =
    "INSERT INTO search_docs (work_order_id, source, ref_id) VALUES (?1, ?2, ?3) RETURNING rowid";

const SEARCH_DOCS_OF_REF: &str = "SELECT rowid FROM search_docs WHERE ref_id = ?1";

const DELETE_SEARCH_DOC: &str = "DELETE FROM search_docs WHERE rowid = ?1";

/// Stores a new dataclip and returns its id.
pub fn insert(db: &dyn Db, clip: &NewDataclip) -> StoreResult<String> {
    let id = new_id();
    let now = now_micros();
    let size = clip
        .size_bytes
        .or(clip.body.map(str::len))
        .map(|n| n as i64);
    db.execute(
        INSERT,
        params![
            id,
            clip.project_id,
            clip.kind.as_str(),
            clip.body,
            clip.request,
            clip.name,
            size,
            clip.wipe_reason.map(|_| now),
            clip.wipe_reason.map(|r| r.as_str()),
            now
        ],
    )?;
    Ok(id)
}

/// A dataclip worked out before it reaches the writer (scrubbed, sized, its search text
/// extracted), inserted inside it under the id it was given.
pub struct PreparedClip {
    pub id: String,
    pub kind: DataclipType,
    pub body: String,
    pub size: usize,
    /// Why the body is not stored (erased at once, or too large), if it is not.
    pub wipe: Option<WipeReason>,
    /// Its search text, when it is indexed.
    pub index: Option<String>,
}

const INSERT_PREPARED: &str = "INSERT INTO dataclips (id, project_id, type, body, size_bytes, wiped_at, wipe_reason, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// Inserts a run's dataclip and indexes it under its work order as `source` (input, output).
pub fn insert_prepared(
    db: &dyn Db,
    clip: &PreparedClip,
    project_id: &str,
    work_order_id: &str,
    source: &str,
) -> StoreResult<()> {
    let now = now_micros();
    let body = if clip.wipe.is_some() {
        None
    } else {
        Some(clip.body.as_str())
    };
    db.execute(
        INSERT_PREPARED,
        params![
            clip.id,
            project_id,
            clip.kind.as_str(),
            body,
            clip.size as i64,
            clip.wipe.map(|_| now),
            clip.wipe.map(|w| w.as_str()),
            now
        ],
    )?;
    if let Some(text) = &clip.index {
        index(db, work_order_id, source, &clip.id, text)?;
    }
    Ok(())
}

/// A stored dataclip: its body (gone once wiped) and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataclipRow {
    /// `http_request`, `step_result`, ... (see [`DataclipType`]).
    pub kind: String,
    pub body: Option<String>,
    /// The webhook request that brought it, if any.
    pub request: Option<String>,
    pub wiped_at: Option<i64>,
    pub wipe_reason: Option<String>,
    pub project_id: Option<String>,
}

const GET: &str =
    "SELECT type, body, request, wiped_at, wipe_reason, project_id FROM dataclips WHERE id = ?1";

/// A dataclip by id (not found if there is none).
pub fn get(db: &dyn Db, id: &str) -> StoreResult<DataclipRow> {
    db.query_row(GET, params![id], |r| {
        Ok(DataclipRow {
            kind: r.get(0)?,
            body: r.get(1)?,
            request: r.get(2)?,
            wiped_at: r.get(3)?,
            wipe_reason: r.get(4)?,
            project_id: r.get(5)?,
        })
    })?
    .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound(format!("dataclip {id}"))
}

/// When and why a dataclip's body was wiped, if it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wiped {
    pub wiped_at: Option<i64>,
    pub reason: Option<String>,
}

/// Whether a dataclip's body was wiped (not found if there is no such dataclip).
pub fn wiped(db: &dyn Db, id: &str) -> StoreResult<Wiped> {
    db.query_row(WIPED, params![id], |r| {
        Ok(Wiped {
            wiped_at: r.get(0)?,
            reason: r.get(1)?,
        })
    })?
    .ok_or_else(|| not_found(id))
}

/// Whether a saved input has this name already.
pub fn name_taken(db: &dyn Db, name: &str) -> StoreResult<bool> {
    Ok(db.query_one(NAME_TAKEN, params![name])?)
}

/// Removes a body (keeping the row and its size) and its index entries.
pub fn wipe(db: &dyn Db, id: &str, reason: WipeReason) -> StoreResult<()> {
    db.execute(WIPE, params![id, now_micros(), reason.as_str()])?;
    unindex_ref(db, id)
}

/// Adds a document to the full-text index, linked to its work order.
pub fn index(
    db: &dyn Db,
    work_order_id: &str,
    source: &str,
    ref_id: &str,
    text: &str,
) -> StoreResult<()> {
    if text.is_empty() {
        return Ok(());
    }
    let rowid: i64 = db.query_one(INSERT_SEARCH_DOC, params![work_order_id, source, ref_id])?;
    // fts_queue takes the text by value: it may hold it until the end of the batch.
    let text: String = if text.len() <= MAX_INDEXED_CHARS {
        text.to_string()
    } else {
        text.chars().take(MAX_INDEXED_CHARS).collect()
    };
    super::fts_queue::insert(db, rowid, text)?;
    Ok(())
}

/// Removes the indexed documents of `ref_id` (a dataclip or a log line): their index
/// entries and their rows.
pub fn unindex_ref(db: &dyn Db, ref_id: &str) -> StoreResult<()> {
    let rows: Vec<i64> = db.query_map(SEARCH_DOCS_OF_REF, params![ref_id], |r| r.get(0))?;
    for rowid in rows {
        super::fts_queue::delete(db, rowid)?;
        db.execute(DELETE_SEARCH_DOC, params![rowid])?;
    }
    Ok(())
}

/// JSON as indexable words: every key and every scalar value, so nested values are found.
pub fn index_text(value: &Value) -> String {
    let mut out = String::new();
    flatten(value, &mut out);
    out
}

fn flatten(value: &Value, out: &mut String) {
    if out.len() > MAX_INDEXED_CHARS {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                out.push_str(key);
                out.push(' ');
                flatten(value, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
        Value::String(s) => {
            out.push_str(s);
            out.push(' ');
        }
        Value::Number(n) => {
            out.push_str(&n.to_string());
            out.push(' ');
        }
        Value::Bool(b) => {
            out.push_str(if *b { "true " } else { "false " });
        }
        Value::Null => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fts_queue::indexed;
    use crate::store::suite::{on_each_backend, seed};
    use serde_json::json;

    const PROJECT: &str =
        "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0)";

    fn new_clip<'a>(body: Option<&'a str>, name: Option<&'a str>) -> NewDataclip<'a> {
        NewDataclip {
            project_id: Some("p"),
            kind: DataclipType::HttpRequest,
            body,
            request: Some(r#"{"method":"POST"}"#),
            name,
            wipe_reason: None,
            size_bytes: None,
        }
    }

    fn search_docs(db: &dyn Db, ref_id: &str) -> Vec<(String, String)> {
        db.query_map(
            "SELECT work_order_id, source FROM search_docs WHERE ref_id = ?1 ORDER BY rowid",
            params![ref_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    }

    #[test]
    fn a_big_body_is_stored_exactly_and_read_back() {
        // A JSON body of about 2 MB, with text that is easy to mangle.
        let items: Vec<Value> = (0..20_000)
            .map(|i| json!({"n": i, "s": "é ✓ 'q' \"d\" \\ \u{0}?", "f": 1.5e-7}))
            .collect();
        let body = serde_json::to_string(&json!({ "items": items })).unwrap();
        on_each_backend(|db| {
            seed(db, PROJECT);
            let id = insert(db, &new_clip(Some(&body), Some("saved"))).unwrap();
            let row = get(db, &id).unwrap();
            assert_eq!(row.body.as_deref(), Some(body.as_str()));
            assert_eq!(row.request.as_deref(), Some(r#"{"method":"POST"}"#));
            assert_eq!(row.kind, "http_request");
            assert_eq!(row.project_id.as_deref(), Some("p"));
            assert_eq!((row.wiped_at, row.wipe_reason), (None, None));
            let size: Option<i64> = db
                .query_value(
                    "SELECT size_bytes FROM dataclips WHERE id = ?1",
                    params![id],
                )
                .unwrap()
                .flatten();
            assert_eq!(size, Some(body.len() as i64));
            assert!(name_taken(db, "saved").unwrap());
            assert!(!name_taken(db, "other").unwrap());
        });
    }

    #[test]
    fn a_clip_stored_wiped_keeps_its_size_and_reason() {
        on_each_backend(|db| {
            seed(db, PROJECT);
            let id = insert(
                db,
                &NewDataclip {
                    size_bytes: Some(12_345),
                    wipe_reason: Some(WipeReason::TooLarge),
                    ..new_clip(None, None)
                },
            )
            .unwrap();
            let row = get(db, &id).unwrap();
            assert_eq!(row.body, None);
            assert_eq!(row.wipe_reason.as_deref(), Some("too_large"));
            let state = wiped(db, &id).unwrap();
            assert!(state.wiped_at.is_some());
            assert_eq!(state.reason.as_deref(), Some("too_large"));
            assert!(matches!(get(db, "missing"), Err(StoreError::NotFound(_))));
            assert!(matches!(wiped(db, "missing"), Err(StoreError::NotFound(_))));
        });
    }

    #[test]
    fn a_prepared_clip_is_indexed_and_its_wipe_unindexes_it() {
        on_each_backend(|db| {
            seed(db, PROJECT);
            let clip = PreparedClip {
                id: "clip-1".into(),
                kind: DataclipType::StepResult,
                body: r#"{"patient":"P-0042"}"#.into(),
                size: 20,
                wipe: None,
                index: Some(index_text(&json!({"patient": "P-0042"}))),
            };
            insert_prepared(db, &clip, "p", "wo-1", "output").unwrap();
            assert_eq!(
                search_docs(db, "clip-1"),
                [("wo-1".into(), "output".into())]
            );
            assert_eq!(indexed(db, "p-0042").len(), 1);
            // The same body indexed again under another work order; empty text is not.
            index(db, "wo-2", "input", "clip-1", "patient P-0042").unwrap();
            index(db, "wo-3", "input", "clip-1", "").unwrap();
            assert_eq!(search_docs(db, "clip-1").len(), 2);
            assert_eq!(indexed(db, "P-0042").len(), 2);

            wipe(db, "clip-1", WipeReason::Retention).unwrap();
            let row = get(db, "clip-1").unwrap();
            assert_eq!((row.body, row.request), (None, None));
            assert_eq!(row.wipe_reason.as_deref(), Some("retention"));
            assert!(search_docs(db, "clip-1").is_empty());
            assert!(indexed(db, "P-0042").is_empty());
            // A second wipe keeps the first one's time and reason.
            let first = wiped(db, "clip-1").unwrap();
            wipe(db, "clip-1", WipeReason::ZeroPersistence).unwrap();
            assert_eq!(wiped(db, "clip-1").unwrap(), first);

            // A clip prepared as wiped is stored without its body and not indexed.
            let gone = PreparedClip {
                id: "clip-2".into(),
                wipe: Some(WipeReason::ZeroPersistence),
                index: None,
                ..clip
            };
            insert_prepared(db, &gone, "p", "wo-1", "input").unwrap();
            let row = get(db, "clip-2").unwrap();
            assert_eq!(row.body, None);
            assert_eq!(row.wipe_reason.as_deref(), Some("zero_persistence"));
            assert!(search_docs(db, "clip-2").is_empty());
        });
    }

    #[test]
    fn unindexing_a_ref_removes_only_its_documents() {
        on_each_backend(|db| {
            index(db, "wo", "log", "17", "first line").unwrap();
            index(db, "wo", "log", "18", "second line").unwrap();
            unindex_ref(db, "17").unwrap();
            assert!(search_docs(db, "17").is_empty());
            assert_eq!(search_docs(db, "18").len(), 1);
            assert!(indexed(db, "first").is_empty());
            assert_eq!(indexed(db, "line").len(), 1);
        });
    }

    #[test]
    fn nested_values_become_words() {
        let text = index_text(&json!({"a": {"b": ["P-0042", 7]}, "ok": true}));
        assert!(text.contains("P-0042"));
        assert!(text.contains("b "));
        assert!(text.contains("7"));
    }
}
