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
