//! History queries: the work order list with filters, full-text search and keyset pages;
//! inspecting a work order, run or step; logs; the failure triage view.

pub mod counts;
mod search;

pub use counts::HOUR_MICROS;
pub use search::{SEARCH_COUNT_LIMIT, fts_query, ref_tail, snippet, value_snippet};

use crate::refs;
use crate::store::history::{self as store, After, Selection, WorkOrderFacts};
use crate::store::inspect::{self, LogQuery, RunRow, StepRow};
use crate::store::{StoreError, StoreResult, from_micros};
use bolt_shared::model::*;
use bolt_sql::Db;
// show, dataclip, logs and failures read through store::inspect, which still takes a
// rusqlite connection.

/// A workflow named by id, key or name, including deleted ones (they still have history).
fn resolve_workflow(db: &dyn Db, workflow: &str) -> StoreResult<String> {
    crate::workflows::find(db, workflow)
        .map(|d| d.id)
        .or_else(|err| store::workflow_by_any_name(db, workflow)?.ok_or(err))
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
    pub fn new(db: &dyn Db, filter: &WorkOrderFilter) -> StoreResult<ResolvedFilter> {
        Ok(ResolvedFilter {
            states: filter.states.clone(),
            workflow_id: filter
                .workflow
                .as_deref()
                .map(|w| resolve_workflow(db, w))
                .transpose()?,
            since: filter.since.map(|t| t.timestamp_micros()),
            until: filter.until.map(|t| t.timestamp_micros()),
            by_activity: filter.by == Some(TimeField::Activity),
        })
    }

    /// What the store selects for this filter, without search text.
    pub fn selection(&self) -> Selection {
        Selection {
            states: self.states.clone(),
            workflow_id: self.workflow_id.clone(),
            since: self.since,
            until: self.until,
            by_activity: self.by_activity,
            search: None,
        }
    }

    fn matches_ignoring_states(&self, facts: &WorkOrderFacts) -> bool {
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

    fn matches_states(&self, facts: &WorkOrderFacts) -> bool {
        self.states.is_empty() || self.states.contains(&facts.state)
    }
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

/// What the store selects for a filter (without paging). Search text becomes a match
/// against the whole index: right for bulk reruns, which need every match; list pages walk
/// the index instead (see `search`).
fn selection(db: &dyn Db, filter: &WorkOrderFilter) -> StoreResult<Selection> {
    let resolved = ResolvedFilter::new(db, filter)?;
    let search = search_text(filter)?
        .map(|text| search::terms(db, text))
        .transpose()?;
    Ok(Selection {
        search,
        ..resolved.selection()
    })
}

/// Every work order matching a filter, oldest received first (the order reruns happen in).
pub fn matching_ids(db: &dyn Db, filter: &WorkOrderFilter) -> StoreResult<Vec<String>> {
    store::matching_ids(db, &selection(db, filter)?)
}

/// Where a page of a plain list (no search) continues: the cursor the page before gave.
fn parse_cursor(cursor: &str, by_activity: bool) -> StoreResult<After> {
    if !by_activity {
        return Ok(After::Id(cursor.to_string()));
    }
    let bad = || StoreError::Invalid(format!("bad cursor `{cursor}`"));
    let (activity, id) = cursor.split_once(':').ok_or_else(bad)?;
    Ok(After::Activity {
        at: activity.parse().map_err(|_| bad())?,
        id: id.to_string(),
    })
}

/// One page of work orders, newest first, continuing after `after` (a cursor from the last
/// page). The first page also carries the header counts. With search text the rows are
/// ordered by their newest matching document instead (see `search`).
pub fn list(
    db: &dyn Db,
    filter: &WorkOrderFilter,
    limit: u32,
    after: Option<&str>,
) -> StoreResult<WorkOrderPage> {
    let limit = limit.clamp(1, 1000);
    let resolved = ResolvedFilter::new(db, filter)?;
    if let Some(text) = search_text(filter)? {
        let page = search::page(db, &resolved, text, limit, after)?;
        return Ok(WorkOrderPage {
            rows: page.rows,
            next_cursor: page.next_cursor,
            counts: page.counts,
            counts_capped: page.counts_capped,
        });
    }
    let by_activity = resolved.by_activity;
    let keyset = after
        .map(|cursor| parse_cursor(cursor, by_activity))
        .transpose()?;
    let mut rows = store::page(db, &resolved.selection(), keyset.as_ref(), limit + 1)?;
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
        counts::state_counts(db, &resolved)?
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
pub fn counts(db: &dyn Db, filter: &WorkOrderFilter) -> StoreResult<(Vec<StateCount>, bool)> {
    let resolved = ResolvedFilter::new(db, filter)?;
    match search_text(filter)? {
        Some(text) => {
            let page = search::page(db, &resolved, text, 1, None)?;
            Ok((page.counts, page.counts_capped))
        }
        None => Ok((counts::state_counts(db, &resolved)?, false)),
    }
}

fn dataclip_info(
    conn: &dyn Db,
    id: Option<&str>,
    with_body: bool,
) -> StoreResult<Option<DataclipInfo>> {
    match id {
        Some(id) => inspect::dataclip(conn, id, with_body),
        None => Ok(None),
    }
}

/// A dataclip with its body; http_request inputs are shown as the job sees them.
pub fn dataclip(conn: &dyn Db, id: &str) -> StoreResult<DataclipInfo> {
    let mut info = dataclip_info(conn, Some(id), true)?
        .ok_or_else(|| StoreError::Invalid(format!("no dataclip `{id}`")))?;
    if info.kind == DataclipType::HttpRequest {
        info.body = as_job_input(conn, id, info.body)?;
    }
    Ok(info)
}

fn as_job_input(conn: &dyn Db, id: &str, body: Option<String>) -> StoreResult<Option<String>> {
    let Some(body) = body else { return Ok(None) };
    let request = inspect::dataclip_request(conn, id)?;
    let data: serde_json::Value = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
    let request: serde_json::Value = request
        .and_then(|r| serde_json::from_str(&r).ok())
        .unwrap_or(serde_json::Value::Null);
    Ok(Some(
        serde_json::json!({"data": data, "request": request}).to_string(),
    ))
}

/// `bolt show REF`: the work order a reference belongs to, with its runs and steps.
pub fn show(conn: &dyn Db, reference: &str, bodies: bool) -> StoreResult<ShowResult> {
    let resolved = refs::resolve(conn, reference)?;
    let row = store::work_order_row(conn, &resolved.work_order_id)?;
    let input_id = inspect::work_order_input(conn, &row.id)?;
    let mut input = dataclip_info(conn, input_id.as_deref(), bodies)?;
    if let (Some(info), Some(id)) = (&mut input, input_id.as_deref())
        && info.kind == DataclipType::HttpRequest
    {
        info.body = as_job_input(conn, id, info.body.take())?;
    }
    let mut runs = Vec::new();
    for RunRow {
        id,
        state,
        error_type,
        error_message: _,
        origin,
        starting_job,
        version_id,
        created_at,
        claimed_at,
        started_at,
        finished_at,
        attempt,
        logs_dropped,
    } in inspect::runs_of(conn, &row.id)?
    {
        let version = inspect::version_number(conn, &version_id)?;
        let steps = steps_of(conn, &id, bodies)?;
        runs.push(RunView {
            short_ref: short_ref(&id),
            work_order_id: row.id.clone(),
            state,
            error_type,
            origin,
            starting_job,
            version,
            created_at: from_micros(created_at),
            claimed_at: claimed_at.map(from_micros),
            started_at: started_at.map(from_micros),
            finished_at: finished_at.map(from_micros),
            attempt,
            steps,
            logs_dropped,
            id,
        });
    }
    Ok(ShowResult {
        kind: resolved.kind,
        id: resolved.id,
        work_order: WorkOrderView {
            source_address: inspect::source_address(conn, &row.id)?,
            row,
            input,
            runs,
        },
    })
}

fn steps_of(conn: &dyn Db, run_id: &str, bodies: bool) -> StoreResult<Vec<StepView>> {
    let mut steps = Vec::new();
    for StepRow {
        id,
        job_key,
        job_name,
        exit_reason,
        error_type,
        error_message,
        started_at,
        finished_at,
        input_dataclip_id: input,
        output_dataclip_id: output,
        attached,
    } in inspect::steps_of(conn, run_id)?
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
            job: job_name,
            exit_reason,
            error_type,
            error_message,
            started_at: from_micros(started_at),
            finished_at: finished_at.map(from_micros),
            duration_ms: finished_at.map(|f| (f - started_at) / 1000),
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
    conn: &dyn Db,
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
    let query = LogQuery {
        run_id: &resolved.run_id,
        step_id: step.as_deref(),
        after_id: after_id.unwrap_or(0),
        levels: &levels,
        limit: LOG_PAGE_LINES as i64 + 1,
    };
    let mut lines = Vec::new();
    let mut bytes = 0usize;
    let mut more = false;
    inspect::log_lines(conn, &query, |line| {
        if lines.len() == LOG_PAGE_LINES || (bytes >= LOG_PAGE_BYTES && !lines.is_empty()) {
            more = true;
            return false;
        }
        bytes += line.message.len();
        lines.push(line);
        true
    })?;
    Ok((lines, more))
}

/// Failed work orders grouped by (workflow, job, error type): what is broken right now.
pub fn failures(
    conn: &dyn Db,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> StoreResult<Vec<FailureGroup>> {
    let since = since.map(|s| s.timestamp_micros()).unwrap_or(0);
    inspect::failures(conn, since)
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
