//! History queries: the work order list with filters, full-text search and keyset pages;
//! inspecting a work order, run or step; logs; the failure triage view.

use crate::refs;
use crate::store::{StoreError, StoreResult, from_micros};
use bolt_shared::model::*;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params_from_iter};

const ROW_COLUMNS: &str =
    "wo.id, p.name, wo.workflow_id, w.name, wo.state, wo.origin, wo.received_at, wo.last_activity,
    wo.duration_ms, wo.run_count, wo.error_job, wo.error_type, wo.error_message, d.wiped_at";
const ROW_FROM: &str = "FROM work_orders wo JOIN workflows w ON w.id = wo.workflow_id JOIN projects p ON p.id = w.project_id
    LEFT JOIN dataclips d ON d.id = wo.dataclip_id";

fn row_from(r: &Row) -> rusqlite::Result<WorkOrderRow> {
    let id: String = r.get(0)?;
    let error_job: Option<String> = r.get(10)?;
    Ok(WorkOrderRow {
        short_ref: short_ref(&id),
        id,
        project: r.get(1)?,
        workflow_id: r.get(2)?,
        workflow: r.get(3)?,
        state: WorkOrderState::parse(&r.get::<_, String>(4)?).unwrap_or(WorkOrderState::Exception),
        origin: Origin::parse(&r.get::<_, String>(5)?).unwrap_or(Origin::Manual),
        received_at: from_micros(r.get(6)?),
        last_activity: from_micros(r.get(7)?),
        duration_ms: r.get(8)?,
        run_count: r.get::<_, i64>(9)? as u32,
        first_error: error_job.map(|job| FirstError {
            job,
            error_type: r.get(11).ok().flatten(),
            message: r.get(12).ok().flatten(),
        }),
        input_wiped: r.get::<_, Option<i64>>(13)?.is_some(),
        hit: None,
    })
}

/// Turns what a person typed into an FTS5 query: every word must appear, as a prefix.
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .map(|t| t.replace('"', ""))
        .filter(|t| !t.is_empty())
        .map(|t| format!("\"{t}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

fn looks_like_ref(text: &str) -> bool {
    let t = text.trim();
    t.len() >= 6 && t.len() <= 36 && t.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// The smallest UUID v7 (as text) of a millisecond: ids of that instant sort at or after it.
fn uuid_v7_floor(millis: i64) -> String {
    let ms = millis.clamp(0, (1 << 48) - 1) as u64;
    let hex = format!("{ms:012x}");
    format!("{}-{}-7000-8000-000000000000", &hex[..8], &hex[8..])
}

/// The WHERE clause and parameters for a filter (without paging).
pub fn filter_sql(
    conn: &Connection,
    filter: &WorkOrderFilter,
) -> StoreResult<(String, Vec<SqlValue>)> {
    let mut clauses: Vec<String> = Vec::new();
    let mut params: Vec<SqlValue> = Vec::new();
    if !filter.states.is_empty() {
        let marks: Vec<&str> = filter.states.iter().map(|_| "?").collect();
        clauses.push(format!("wo.state IN ({})", marks.join(", ")));
        params.extend(
            filter
                .states
                .iter()
                .map(|s| SqlValue::Text(s.as_str().into())),
        );
    }
    if let Some(workflow) = &filter.workflow {
        let id = crate::workflows::find(conn, workflow).map(|d| d.id).or_else(|err| {
            // Deleted workflows still have history: match them by key or name too.
            conn.query_row("SELECT id FROM workflows WHERE id = ?1 OR key = ?1 OR lower(name) = lower(?1) LIMIT 1", [workflow], |r| r.get::<_, String>(0))
                .optional()?
                .ok_or(err)
        })?;
        clauses.push("wo.workflow_id = ?".into());
        params.push(SqlValue::Text(id));
    }
    let column = match filter.by.unwrap_or(TimeField::Received) {
        TimeField::Received => "wo.received_at",
        TimeField::Activity => "wo.last_activity",
    };
    let by_received = filter.by.unwrap_or(TimeField::Received) == TimeField::Received;
    if let Some(since) = filter.since {
        clauses.push(format!("{column} >= ?"));
        params.push(SqlValue::Integer(since.timestamp_micros()));
        if by_received {
            // Ids are UUID v7 taken at receipt: the id bound lets indexes ending in id
            // (workflow/state, id) range-scan instead of reading every row of the workflow.
            clauses.push("wo.id >= ?".into());
            params.push(SqlValue::Text(uuid_v7_floor(since.timestamp_millis() - 1)));
        }
    }
    if let Some(until) = filter.until {
        clauses.push(format!("{column} < ?"));
        params.push(SqlValue::Integer(until.timestamp_micros()));
        if by_received {
            clauses.push("wo.id < ?".into());
            params.push(SqlValue::Text(uuid_v7_floor(until.timestamp_millis() + 1)));
        }
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let mut alternatives = Vec::new();
        if let Some(query) = fts_query(search) {
            alternatives.push("wo.id IN (SELECT sd.work_order_id FROM search_docs sd WHERE sd.rowid IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?))".to_string());
            params.push(SqlValue::Text(query));
        }
        if looks_like_ref(search) {
            let tail = search.to_ascii_lowercase().replace('-', "");
            alternatives.push("replace(wo.id, '-', '') LIKE '%' || ?".into());
            alternatives.push("wo.id IN (SELECT work_order_id FROM runs WHERE replace(id, '-', '') LIKE '%' || ?)".into());
            alternatives.push("wo.id IN (SELECT r.work_order_id FROM steps s JOIN runs r ON r.id = s.run_id WHERE replace(s.id, '-', '') LIKE '%' || ?)".into());
            params.extend(std::iter::repeat_n(SqlValue::Text(tail), 3));
        }
        if !alternatives.is_empty() {
            clauses.push(format!("({})", alternatives.join(" OR ")));
        }
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    Ok((sql, params))
}

/// One page of work orders, newest first, continuing after `after` (a cursor from the last page).
pub fn list(
    conn: &Connection,
    filter: &WorkOrderFilter,
    limit: u32,
    after: Option<&str>,
) -> StoreResult<WorkOrderPage> {
    let limit = limit.clamp(1, 1000);
    let (mut where_sql, mut params) = filter_sql(conn, filter)?;
    let by_activity = filter.by == Some(TimeField::Activity);
    if let Some(cursor) = after {
        let keyset = if by_activity {
            let (activity, id) = cursor
                .split_once(':')
                .ok_or_else(|| StoreError::Invalid(format!("bad cursor `{cursor}`")))?;
            let activity: i64 = activity
                .parse()
                .map_err(|_| StoreError::Invalid(format!("bad cursor `{cursor}`")))?;
            params.push(SqlValue::Integer(activity));
            params.push(SqlValue::Text(id.to_string()));
            "(wo.last_activity, wo.id) < (?, ?)"
        } else {
            params.push(SqlValue::Text(cursor.to_string()));
            "wo.id < ?"
        };
        where_sql = if where_sql.is_empty() {
            format!("WHERE {keyset}")
        } else {
            format!("{where_sql} AND {keyset}")
        };
    }
    let order = if by_activity {
        "wo.last_activity DESC, wo.id DESC"
    } else {
        "wo.id DESC"
    };
    let sql = format!(
        "SELECT {ROW_COLUMNS} {ROW_FROM} {where_sql} ORDER BY {order} LIMIT {}",
        limit + 1
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows: Vec<WorkOrderRow> = stmt
        .query_map(params_from_iter(params.iter()), row_from)?
        .collect::<Result<_, _>>()?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| {
            if by_activity {
                format!("{}:{}", r.last_activity.timestamp_micros(), r.id)
            } else {
                r.id.clone()
            }
        })
    } else {
        None
    };
    if let Some(search) = filter.search.as_deref() {
        for row in &mut rows {
            row.hit = hit_for(conn, &row.id, search)?;
        }
    }
    let counts = if after.is_none() {
        counts(conn, filter)?
    } else {
        Vec::new()
    };
    Ok(WorkOrderPage {
        rows,
        next_cursor,
        counts,
    })
}

/// Counts by state for a filter (ignoring its state selection, so the header shows them all).
pub fn counts(conn: &Connection, filter: &WorkOrderFilter) -> StoreResult<Vec<StateCount>> {
    let unfiltered = WorkOrderFilter {
        states: Vec::new(),
        ..filter.clone()
    };
    let (where_sql, params) = filter_sql(conn, &unfiltered)?;
    let sql =
        format!("SELECT wo.state, COUNT(*) FROM work_orders wo {where_sql} GROUP BY wo.state");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(params.iter()), |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (state, count) = row?;
        if let Some(state) = WorkOrderState::parse(&state) {
            out.push(StateCount {
                state,
                count: count as u64,
            });
        }
    }
    Ok(out)
}

/// Where a search matched in a work order, with a snippet around the first term.
fn hit_for(conn: &Connection, work_order_id: &str, search: &str) -> StoreResult<Option<SearchHit>> {
    if looks_like_ref(search)
        && work_order_id
            .replace('-', "")
            .ends_with(&search.to_ascii_lowercase().replace('-', ""))
    {
        return Ok(Some(SearchHit {
            source: MatchSource::Id,
            snippet: work_order_id.to_string(),
        }));
    }
    // A work order has only a few indexed documents: read them and find the first that
    // holds the first term, instead of matching the whole index again per row.
    let term = search
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_lowercase();
    if term.is_empty() {
        return Ok(None);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT sd.source, sd.ref_id FROM search_docs sd WHERE sd.work_order_id = ?1 ORDER BY sd.rowid",
    )?;
    let docs: Vec<(String, String)> = stmt
        .query_map([work_order_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (source, ref_id) in docs {
        let text: Option<String> = if source == "log" {
            let id = ref_id.parse::<i64>().unwrap_or(-1);
            conn.query_row("SELECT message FROM log_lines WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?
        } else {
            conn.query_row("SELECT body FROM dataclips WHERE id = ?1", [&ref_id], |r| {
                r.get(0)
            })
            .optional()?
            .flatten()
        };
        let Some(text) = text else { continue };
        if text.to_lowercase().contains(&term) {
            return Ok(Some(SearchHit {
                source: MatchSource::parse(&source).unwrap_or(MatchSource::Input),
                snippet: snippet(&text, search),
            }));
        }
    }
    Ok(looks_like_ref(search).then(|| SearchHit {
        source: MatchSource::Id,
        snippet: search.to_string(),
    }))
}

/// ~80 characters around the first search term, the match marked with [ ].
pub fn snippet(text: &str, search: &str) -> String {
    let term = search
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_lowercase();
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
    out.extend(&chars[from..start_char]);
    out.push('[');
    out.extend(&chars[start_char..(start_char + term_chars).min(chars.len())]);
    out.push(']');
    out.extend(&chars[(start_char + term_chars).min(chars.len())..to]);
    if to < chars.len() {
        out.push('…');
    }
    out
}

fn dataclip_info(
    conn: &Connection,
    id: Option<&str>,
    with_body: bool,
) -> StoreResult<Option<DataclipInfo>> {
    let Some(id) = id else { return Ok(None) };
    let found = conn
        .query_row(
            "SELECT type, name, size_bytes, wiped_at, wipe_reason, CASE WHEN ?2 THEN body END FROM dataclips WHERE id = ?1",
            rusqlite::params![id, with_body],
            |r| {
                Ok(DataclipInfo {
                    id: id.to_string(),
                    kind: DataclipType::parse(&r.get::<_, String>(0)?).unwrap_or(DataclipType::StepResult),
                    name: r.get(1)?,
                    size_bytes: r.get::<_, Option<i64>>(2)?.map(|n| n as u64),
                    wiped_at: r.get::<_, Option<i64>>(3)?.map(from_micros),
                    wipe_reason: r.get::<_, Option<String>>(4)?.and_then(|w| WipeReason::parse(&w)),
                    body: r.get(5)?,
                })
            },
        )
        .optional()?;
    Ok(found)
}

/// A dataclip with its body; http_request inputs are shown as the job sees them.
pub fn dataclip(conn: &Connection, id: &str) -> StoreResult<DataclipInfo> {
    let mut info = dataclip_info(conn, Some(id), true)?
        .ok_or_else(|| StoreError::Invalid(format!("no dataclip `{id}`")))?;
    if info.kind == DataclipType::HttpRequest {
        info.body = as_job_input(conn, id, info.body)?;
    }
    Ok(info)
}

fn as_job_input(conn: &Connection, id: &str, body: Option<String>) -> StoreResult<Option<String>> {
    let Some(body) = body else { return Ok(None) };
    let request: Option<String> = conn
        .query_row("SELECT request FROM dataclips WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?
        .flatten();
    let data: serde_json::Value = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
    let request: serde_json::Value = request
        .and_then(|r| serde_json::from_str(&r).ok())
        .unwrap_or(serde_json::Value::Null);
    Ok(Some(
        serde_json::json!({"data": data, "request": request}).to_string(),
    ))
}

pub fn work_order_row(conn: &Connection, id: &str) -> StoreResult<WorkOrderRow> {
    Ok(conn.query_row(
        &format!("SELECT {ROW_COLUMNS} {ROW_FROM} WHERE wo.id = ?1"),
        [id],
        row_from,
    )?)
}

/// `bolt show REF`: the work order a reference belongs to, with its runs and steps.
pub fn show(conn: &Connection, reference: &str, bodies: bool) -> StoreResult<ShowResult> {
    let resolved = refs::resolve(conn, reference)?;
    let row = work_order_row(conn, &resolved.work_order_id)?;
    let input_id: Option<String> = conn.query_row(
        "SELECT dataclip_id FROM work_orders WHERE id = ?1",
        [&row.id],
        |r| r.get(0),
    )?;
    let mut input = dataclip_info(conn, input_id.as_deref(), bodies)?;
    if let (Some(info), Some(id)) = (&mut input, input_id.as_deref())
        && info.kind == DataclipType::HttpRequest
    {
        info.body = as_job_input(conn, id, info.body.take())?;
    }
    let mut runs = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT id, state, error_type, error_message, origin, starting_job, version_id, created_at, claimed_at, started_at, finished_at, attempt
         FROM runs WHERE work_order_id = ?1 ORDER BY id DESC",
    )?;
    let run_rows: Vec<_> = stmt
        .query_map([&row.id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, String>(6)?,
                (
                    r.get::<_, i64>(7)?,
                    r.get::<_, Option<i64>>(8)?,
                    r.get::<_, Option<i64>>(9)?,
                    r.get::<_, Option<i64>>(10)?,
                    r.get::<_, i64>(11)?,
                ),
            ))
        })?
        .collect::<Result<_, _>>()?;
    for (
        id,
        state,
        error_type,
        _error_message,
        origin,
        starting_job,
        version_id,
        (created, claimed, started, finished, attempt),
    ) in run_rows
    {
        let version: i64 = conn.query_row(
            "SELECT version FROM workflow_versions WHERE id = ?1",
            [&version_id],
            |r| r.get(0),
        )?;
        let steps = steps_of(conn, &id, bodies)?;
        runs.push(RunView {
            short_ref: short_ref(&id),
            work_order_id: row.id.clone(),
            state: RunState::parse(&state).unwrap_or(RunState::Exception),
            error_type,
            origin: Origin::parse(&origin).unwrap_or(Origin::Manual),
            starting_job,
            version,
            created_at: from_micros(created),
            claimed_at: claimed.map(from_micros),
            started_at: started.map(from_micros),
            finished_at: finished.map(from_micros),
            attempt: attempt as u32,
            steps,
            id,
        });
    }
    Ok(ShowResult {
        kind: resolved.kind,
        id: resolved.id,
        work_order: WorkOrderView { row, input, runs },
    })
}

fn steps_of(conn: &Connection, run_id: &str, bodies: bool) -> StoreResult<Vec<StepView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.job_key, s.job_name, s.exit_reason, s.error_type, s.error_message, s.started_at, s.finished_at,
                s.input_dataclip_id, s.output_dataclip_id, rs.attached
         FROM run_steps rs JOIN steps s ON s.id = rs.step_id WHERE rs.run_id = ?1 ORDER BY s.started_at, s.id",
    )?;
    let rows: Vec<_> = stmt
        .query_map([run_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, Option<i64>>(7)?,
                r.get::<_, Option<String>>(8)?,
                r.get::<_, Option<String>>(9)?,
                r.get::<_, bool>(10)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut steps = Vec::new();
    for (
        id,
        job_key,
        job,
        exit,
        error_type,
        error_message,
        started,
        finished,
        input,
        output,
        attached,
    ) in rows
    {
        let mut input_info = dataclip_info(conn, input.as_deref(), bodies)?;
        if let (Some(info), Some(clip)) = (&mut input_info, input.as_deref())
            && info.kind == DataclipType::HttpRequest
        {
            info.body = as_job_input(conn, clip, info.body.take())?;
        }
        steps.push(StepView {
            short_ref: short_ref(&id),
            id,
            job_id: job_key,
            job,
            exit_reason: exit.and_then(|e| ExitReason::parse(&e)),
            error_type,
            error_message,
            started_at: from_micros(started),
            finished_at: finished.map(from_micros),
            duration_ms: finished.map(|f| (f - started) / 1000),
            attached,
            input: input_info,
            output: dataclip_info(conn, output.as_deref(), bodies)?,
        });
    }
    Ok(steps)
}

/// Log lines of a run (or of one step), oldest first, at or above `level`.
pub fn logs(
    conn: &Connection,
    reference: &str,
    level: Option<LogLevel>,
    after_id: Option<i64>,
) -> StoreResult<Vec<LogLine>> {
    let resolved = refs::resolve(conn, reference)?;
    let step = (resolved.kind == RefKind::Step).then(|| resolved.id.clone());
    let mut stmt = conn.prepare_cached(
        "SELECT id, run_id, step_id, source, level, message, timestamp FROM log_lines
         WHERE run_id = ?1 AND (?2 IS NULL OR step_id = ?2) AND id > ?3 ORDER BY id LIMIT 10000",
    )?;
    let rows = stmt.query_map(
        rusqlite::params![resolved.run_id, step, after_id.unwrap_or(0)],
        |r| {
            Ok(LogLine {
                id: r.get(0)?,
                run_id: r.get(1)?,
                step_id: r.get(2)?,
                source: r.get(3)?,
                level: LogLevel::parse(&r.get::<_, String>(4)?).unwrap_or(LogLevel::Info),
                message: r.get(5)?,
                timestamp: from_micros(r.get(6)?),
            })
        },
    )?;
    let mut lines: Vec<LogLine> = rows.collect::<Result<_, _>>()?;
    if let Some(level) = level {
        lines.retain(|l| l.level.rank() >= level.rank());
    }
    Ok(lines)
}

/// Failed work orders grouped by (workflow, job, error type): what is broken right now.
pub fn failures(
    conn: &Connection,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> StoreResult<Vec<FailureGroup>> {
    let since = since.map(|s| s.timestamp_micros()).unwrap_or(0);
    let mut stmt = conn.prepare_cached(
        "SELECT g.workflow, g.job, g.error_type, g.n, g.first_seen, g.last_seen, g.example, x.error_message FROM (
             SELECT w.name AS workflow, COALESCE(wo.error_job, '(run)') AS job, COALESCE(wo.error_type, wo.state) AS error_type,
                    COUNT(*) AS n, MIN(wo.received_at) AS first_seen, MAX(wo.last_activity) AS last_seen, MAX(wo.id) AS example
             FROM work_orders wo JOIN workflows w ON w.id = wo.workflow_id
             WHERE wo.state IN ('failed', 'crashed', 'killed', 'exception', 'lost') AND wo.last_activity >= ?1
             GROUP BY wo.workflow_id, wo.error_job, COALESCE(wo.error_type, wo.state)
         ) g JOIN work_orders x ON x.id = g.example ORDER BY g.n DESC, g.last_seen DESC",
    )?;
    let rows = stmt.query_map([since], |r| {
        Ok(FailureGroup {
            workflow: r.get(0)?,
            job: r.get(1)?,
            error_type: r.get(2)?,
            count: r.get::<_, i64>(3)? as u64,
            first_seen: from_micros(r.get(4)?),
            last_seen: from_micros(r.get(5)?),
            example_ref: short_ref(&r.get::<_, String>(6)?),
            example_message: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_becomes_prefix_terms() {
        assert_eq!(
            fts_query("P-0042 hill").as_deref(),
            Some("\"P-0042\"* \"hill\"*")
        );
        assert_eq!(fts_query("  ").as_deref(), None);
    }

    #[test]
    fn v7_floor_orders_with_real_ids() {
        let id = uuid::Uuid::now_v7().to_string();
        let now = chrono::Utc::now().timestamp_millis();
        assert!(uuid_v7_floor(now - 1000) < id);
        assert!(uuid_v7_floor(now + 1000) > id);
    }

    #[test]
    fn snippet_marks_the_match() {
        let text = "{\"patient\":\"P-0042\",\"clinic\":\"Hill\"}";
        assert_eq!(
            snippet(text, "p-0042"),
            "{\"patient\":\"[P-0042]\",\"clinic\":\"Hill\"}"
        );
        let long = format!("{}needle{}", "x".repeat(100), "y".repeat(100));
        let s = snippet(&long, "needle");
        assert!(
            s.starts_with('…') && s.ends_with('…') && s.contains("[needle]"),
            "{s}"
        );
    }
}
