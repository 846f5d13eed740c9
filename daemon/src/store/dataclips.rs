//! Dataclips: stored JSON states (inputs, outputs, saved inputs) and their search index.

use super::{StoreResult, new_id, now_micros};
use bolt_shared::model::{DataclipType, WipeReason};
use rusqlite::{Connection, params};
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

pub fn insert(conn: &Connection, clip: &NewDataclip) -> StoreResult<String> {
    let id = new_id();
    let now = now_micros();
    let size = clip
        .size_bytes
        .or(clip.body.map(str::len))
        .map(|n| n as i64);
    conn.prepare_cached("INSERT INTO dataclips (id, project_id, type, body, request, name, size_bytes, wiped_at, wipe_reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")?.execute(params![
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
    conn: &Connection,
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
    conn.prepare_cached(INSERT_PREPARED)?.execute(params![
        clip.id,
        project_id,
        clip.kind.as_str(),
        body,
        clip.size as i64,
        clip.wipe.map(|_| now),
        clip.wipe.map(|w| w.as_str()),
        now
    ])?;
    if let Some(text) = &clip.index {
        index(conn, work_order_id, source, &clip.id, text)?;
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

/// A dataclip by id (an error if there is none).
pub fn get(conn: &Connection, id: &str) -> StoreResult<DataclipRow> {
    Ok(conn.query_row(GET, [id], |r| {
        Ok(DataclipRow {
            kind: r.get(0)?,
            body: r.get(1)?,
            request: r.get(2)?,
            wiped_at: r.get(3)?,
            wipe_reason: r.get(4)?,
            project_id: r.get(5)?,
        })
    })?)
}

/// When and why a dataclip's body was wiped, if it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wiped {
    pub wiped_at: Option<i64>,
    pub reason: Option<String>,
}

/// Whether a dataclip's body was wiped (an error if there is no such dataclip).
pub fn wiped(conn: &Connection, id: &str) -> StoreResult<Wiped> {
    Ok(conn.query_row(
        "SELECT wiped_at, wipe_reason FROM dataclips WHERE id = ?1",
        [id],
        |r| {
            Ok(Wiped {
                wiped_at: r.get(0)?,
                reason: r.get(1)?,
            })
        },
    )?)
}

/// Whether a saved input has this name already.
pub fn name_taken(conn: &Connection, name: &str) -> StoreResult<bool> {
    Ok(conn.query_row(
        "SELECT COUNT(*) > 0 FROM dataclips WHERE name = ?1",
        [name],
        |r| r.get(0),
    )?)
}

/// Removes a body (keeping the row and its size) and its index entries.
pub fn wipe(conn: &Connection, id: &str, reason: WipeReason) -> StoreResult<()> {
    conn.prepare_cached("UPDATE dataclips SET body = NULL, request = NULL, wiped_at = ?2, wipe_reason = ?3 WHERE id = ?1 AND wiped_at IS NULL")?.execute(params![id, now_micros(), reason.as_str()],
    )?;
    unindex_ref(conn, id)
}

/// Adds a document to the full-text index, linked to its work order.
pub fn index(
    conn: &Connection,
    work_order_id: &str,
    source: &str,
    ref_id: &str,
    text: &str,
) -> StoreResult<()> {
    if text.is_empty() {
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO search_docs (work_order_id, source, ref_id) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![work_order_id, source, ref_id])?;
    let rowid = conn.last_insert_rowid();
    // fts_queue takes the text by value: it may hold it until the end of the batch.
    let text: String = if text.len() <= MAX_INDEXED_CHARS {
        text.to_string()
    } else {
        text.chars().take(MAX_INDEXED_CHARS).collect()
    };
    super::fts_queue::insert(conn, rowid, text)?;
    Ok(())
}

pub fn unindex_ref(conn: &Connection, ref_id: &str) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached("SELECT rowid FROM search_docs WHERE ref_id = ?1")?;
    let rows: Vec<i64> = stmt
        .query_map([ref_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for rowid in rows {
        super::fts_queue::delete(conn, rowid)?;
        conn.prepare_cached("DELETE FROM search_docs WHERE rowid = ?1")?
            .execute([rowid])?;
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
    use serde_json::json;

    #[test]
    fn nested_values_become_words() {
        let text = index_text(&json!({"a": {"b": ["P-0042", 7]}, "ok": true}));
        assert!(text.contains("P-0042"));
        assert!(text.contains("b "));
        assert!(text.contains("7"));
    }
}
