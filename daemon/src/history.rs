//! History queries: the work order list with filters, full-text search and keyset pages;
//! inspecting a work order, run or step; logs; the failure triage view.

pub mod counts;
mod search;

pub use counts::HOUR_MICROS;
pub use search::{SEARCH_COUNT_LIMIT, fts_query, ref_tail, snippet, value_snippet};

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

/// The smallest UUID v7 (as text) of a millisecond: ids of that instant sort at or after it.
fn uuid_v7_floor(millis: i64) -> String {
    let ms = millis.clamp(0, (1 << 48) - 1) as u64;
    let hex = format!("{ms:012x}");
    format!("{}-{}-7000-8000-000000000000", &hex[..8], &hex[8..])
}

/// A workflow named by id, key or name, including deleted ones (they still have history).
fn resolve_workflow(conn: &Connection, workflow: &str) -> StoreResult<String> {
    crate::workflows::find(conn, workflow)
        .map(|d| d.id)
        .or_else(|err| {
            conn.query_row(
                "SELECT id FROM workflows WHERE id = ?1 OR key = ?1 OR lower(name) = lower(?1) LIMIT 1",
                [workflow],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .ok_or(err)
        })
}

/// A filter with its workflow resolved and its times in microseconds, to test work orders
/// one at a time (search pages check each match against it).
pub struct ResolvedFilter {
    pub states: Vec<WorkOrderState>,
    pub workflow_id: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub by_activity: bool,
}

impl ResolvedFilter {
    pub fn new(conn: &Connection, filter: &WorkOrderFilter) -> StoreResult<ResolvedFilter> {
        Ok(ResolvedFilter {
            states: filter.states.clone(),
            workflow_id: filter
                .workflow
                .as_deref()
                .map(|w| resolve_workflow(conn, w))
                .transpose()?,
            since: filter.since.map(|t| t.timestamp_micros()),
            until: filter.until.map(|t| t.timestamp_micros()),
            by_activity: filter.by == Some(TimeField::Activity),
        })
    }

    fn matches_ignoring_states(&self, facts: &Facts) -> bool {
        let at = if self.by_activity {
            facts.last_activity
        } else {
            facts.received_at
        };
        self.workflow_id
            .as_ref()
            .is_none_or(|w| *w == facts.workflow_id)
            && self.since.is_none_or(|s| at >= s)
            && self.until.is_none_or(|u| at < u)
    }

    fn matches_states(&self, facts: &Facts) -> bool {
        self.states.is_empty() || self.states.contains(&facts.state)
    }
}

/// What a filter looks at in a work order.
struct Facts {
    workflow_id: String,
    state: WorkOrderState,
    received_at: i64,
    last_activity: i64,
}

fn facts_of(conn: &Connection, id: &str) -> StoreResult<Option<Facts>> {
    let mut stmt = conn.prepare_cached(
        "SELECT workflow_id, state, received_at, last_activity FROM work_orders WHERE id = ?1",
    )?;
    Ok(stmt
        .query_row([id], |r| {
            Ok(Facts {
                workflow_id: r.get(0)?,
                state: WorkOrderState::parse(&r.get::<_, String>(1)?)
                    .unwrap_or(WorkOrderState::Exception),
                received_at: r.get(2)?,
                last_activity: r.get(3)?,
            })
        })
        .optional()?)
}

/// The filter's search text, if any; refused when too long to be a search (each word is a
/// walk of the full-text index: 100,000 words would hold a reader for many seconds).
fn search_text(filter: &WorkOrderFilter) -> StoreResult<Option<&str>> {
    let text = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(text) = text {
        check_search(text).map_err(StoreError::Invalid)?;
    }
    Ok(text)
}

/// The WHERE clause and parameters for a filter (without paging). Search text becomes a
/// match against the whole index: right for bulk reruns, which need every match; list
/// pages walk the index instead (see `search`).
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
        clauses.push("wo.workflow_id = ?".into());
        params.push(SqlValue::Text(resolve_workflow(conn, workflow)?));
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
    if let Some(search) = search_text(filter)? {
        let mut alternatives = Vec::new();
        if let Some(query) = fts_query(search) {
            alternatives.push("wo.id IN (SELECT sd.work_order_id FROM search_docs sd WHERE sd.rowid IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?))".to_string());
            params.push(SqlValue::Text(query));
        }
        let named = search::ref_matches(conn, search)?;
        if !named.is_empty() {
            let marks: Vec<&str> = named.iter().map(|_| "?").collect();
            alternatives.push(format!("wo.id IN ({})", marks.join(", ")));
            params.extend(named.into_iter().map(SqlValue::Text));
        }
        clauses.push(if alternatives.is_empty() {
            "0".into()
        } else {
            format!("({})", alternatives.join(" OR "))
        });
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    Ok((sql, params))
}

/// One page of work orders, newest first, continuing after `after` (a cursor from the last
/// page). The first page also carries the header counts. With search text the rows are
/// ordered by their newest matching document instead (see `search`).
pub fn list(
    conn: &Connection,
    filter: &WorkOrderFilter,
    limit: u32,
    after: Option<&str>,
) -> StoreResult<WorkOrderPage> {
    let limit = limit.clamp(1, 1000);
    let resolved = ResolvedFilter::new(conn, filter)?;
    if let Some(text) = search_text(filter)? {
        let page = search::page(conn, &resolved, text, limit, after)?;
        return Ok(WorkOrderPage {
            rows: page.rows,
            next_cursor: page.next_cursor,
            counts: page.counts,
            counts_capped: page.counts_capped,
        });
    }
    let (mut where_sql, mut params) = filter_sql(conn, filter)?;
    let by_activity = resolved.by_activity;
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
    let counts = if after.is_none() {
        counts::state_counts(conn, filter, &resolved)?
    } else {
        Vec::new()
    };
    Ok(WorkOrderPage {
        rows,
        next_cursor,
        counts,
        counts_capped: false,
    })
}

/// Counts by state for a filter, ignoring its state selection (so the header shows them
/// all). With search text: the first `SEARCH_COUNT_LIMIT` matches, and whether there are
/// more.
pub fn counts(conn: &Connection, filter: &WorkOrderFilter) -> StoreResult<(Vec<StateCount>, bool)> {
    let resolved = ResolvedFilter::new(conn, filter)?;
    match search_text(filter)? {
        Some(text) => {
            let page = search::page(conn, &resolved, text, 1, None)?;
            Ok((page.counts, page.counts_capped))
        }
        None => Ok((counts::state_counts(conn, filter, &resolved)?, false)),
    }
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
        "SELECT id, state, error_type, error_message, origin, starting_job, version_id, created_at, claimed_at, started_at, finished_at, attempt,
                log_lines_dropped, log_bytes_dropped
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
                LogsDropped {
                    lines: r.get::<_, i64>(12)?.max(0) as u64,
                    bytes: r.get::<_, i64>(13)?.max(0) as u64,
                },
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
        logs_dropped,
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
            logs_dropped,
            id,
        });
    }
    Ok(ShowResult {
        kind: resolved.kind,
        id: resolved.id,
        work_order: WorkOrderView {
            source_address: conn
                .prepare_cached("SELECT source_address FROM work_orders WHERE id = ?1")?
                .query_row([&row.id], |r| r.get(0))?,
            row,
            input,
            runs,
        },
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

/// Most log lines in one answer; `bolt logs` and the TUI ask for the next page.
pub const LOG_PAGE_LINES: usize = 10_000;
/// Most bytes of log messages in one answer (at least one line, however long).
pub const LOG_PAGE_BYTES: usize = 8 * 1024 * 1024;

/// A page of log lines of a run (or of one step), oldest first, at or above `level`, after
/// the line `after_id`; `more` when later lines did not fit in this page.
pub fn logs(
    conn: &Connection,
    reference: &str,
    level: Option<LogLevel>,
    after_id: Option<i64>,
) -> StoreResult<(Vec<LogLine>, bool)> {
    let resolved = refs::resolve(conn, reference)?;
    let step = (resolved.kind == RefKind::Step).then(|| resolved.id.clone());
    // The level filter is in the query, so a page is never emptied by it.
    let levels: Vec<&str> = LogLevel::ALL
        .iter()
        .filter(|l| level.is_none_or(|wanted| l.rank() >= wanted.rank()))
        .map(|l| l.as_str())
        .collect();
    let mut stmt = conn.prepare_cached(
        "SELECT id, run_id, step_id, source, level, message, timestamp FROM log_lines
         WHERE run_id = ?1 AND (?2 IS NULL OR step_id = ?2) AND id > ?3
           AND level IN (SELECT value FROM json_each(?4))
         ORDER BY id LIMIT ?5",
    )?;
    let levels = serde_json::to_string(&levels).map_err(|e| StoreError::Internal(e.to_string()))?;
    let mut rows = stmt.query(rusqlite::params![
        resolved.run_id,
        step,
        after_id.unwrap_or(0),
        levels,
        LOG_PAGE_LINES as i64 + 1
    ])?;
    let mut lines = Vec::new();
    let mut bytes = 0usize;
    let mut more = false;
    while let Some(r) = rows.next()? {
        if lines.len() == LOG_PAGE_LINES || (bytes >= LOG_PAGE_BYTES && !lines.is_empty()) {
            more = true;
            break;
        }
        let line = LogLine {
            id: r.get(0)?,
            run_id: r.get(1)?,
            step_id: r.get(2)?,
            source: r.get(3)?,
            level: LogLevel::parse(&r.get::<_, String>(4)?).unwrap_or(LogLevel::Info),
            message: r.get(5)?,
            timestamp: from_micros(r.get(6)?),
        };
        bytes += line.message.len();
        lines.push(line);
    }
    Ok((lines, more))
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
mod store_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_becomes_whole_word_terms() {
        assert_eq!(
            fts_query("P-0042 hill").as_deref(),
            Some("\"P-0042\" \"hill\"")
        );
        assert_eq!(fts_query("hil* \"x").as_deref(), Some("\"hil\"* \"x\""));
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
    fn value_snippets_are_cut_from_the_stored_value_not_its_json() {
        let text = r#"{"data":{"note":"said \"no\"\nthen: patient P-0042 missing","n":7}}"#;
        assert_eq!(
            value_snippet(text, "p-0042"),
            "data.note: said \"no\"\nthen: patient [P-0042] missing"
        );
        let list = r#"{"items":[{"id":"A-1"},{"id":"B-0042"}]}"#;
        assert_eq!(value_snippet(list, "0042"), "items[1].id: B-[0042]");
        // A match in a key (or text that is not JSON) is cut from the text as stored.
        assert_eq!(
            value_snippet(r#"{"P-0042":1}"#, "p-0042"),
            r#"{"[P-0042]":1}"#
        );
        assert_eq!(
            value_snippet("plain P-0042 text", "p-0042"),
            "plain [P-0042] text"
        );
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
