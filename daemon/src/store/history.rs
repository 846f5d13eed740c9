//! The work order list in the store: its rows, the WHERE clause of a resolved filter, keyset
//! pages, the work orders a bulk rerun takes, and the header counts (hourly buckets, or
//! counting the rows).
//!
//! On PostgreSQL the full-text match is `text @@ CAST(? AS tsquery)` (see `bolt_sql::fts`)
//! and a bulk rerun's ids are read in keyset pages (PostgreSQL reads all of a query's rows
//! before the first callback).

use super::{StoreError, StoreResult, from_micros};
use bolt_shared::model::*;
use bolt_sql::fts::Query;
use bolt_sql::{Db, DbExt, Dialect, Row, Sql, Value, ValueRef, marks, params};
use std::collections::HashMap;

const ROW_COLUMNS: &str =
    "wo.id, p.name, wo.workflow_id, w.name, wo.state, wo.origin, wo.received_at, wo.last_activity,
    wo.duration_ms, wo.run_count, wo.error_job, wo.error_type, wo.error_message, d.wiped_at";
const ROW_FROM: &str = "FROM work_orders wo JOIN workflows w ON w.id = wo.workflow_id JOIN projects p ON p.id = w.project_id
    LEFT JOIN dataclips d ON d.id = wo.dataclip_id";

const WORKFLOW_BY_ANY_NAME: &str =
    "SELECT id FROM workflows WHERE id = ?1 OR key = ?1 OR lower(name) = lower(?1) LIMIT 1";

const FACTS: &str =
    "SELECT workflow_id, state, received_at, last_activity FROM work_orders WHERE id = ?1";

/// Work orders with an indexed document matching the FTS query (the whole index: right
/// for bulk reruns, which need every match; list pages walk the index, see `search`).
const MATCHING_DOCUMENTS: Sql = Sql::new(
    "wo.id IN (SELECT sd.work_order_id FROM search_docs sd WHERE sd.rowid IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?))",
    "wo.id IN (SELECT sd.work_order_id FROM search_docs sd WHERE sd.rowid IN (SELECT rowid FROM search_fts WHERE text @@ CAST(? AS tsquery)))",
);

/// A condition no work order meets (PostgreSQL's WHERE takes a boolean, not 0).
const NOTHING: Sql = Sql::new("0", "FALSE");

const BUCKETS_OF_WORKFLOW: &str = "SELECT state, SUM(n) FROM work_order_counts
                 WHERE workflow_id = ?1 AND hour >= ?2 AND hour < ?3 GROUP BY state";

const BUCKETS_OF_ALL: Sql = Sql::new(
    "SELECT state, SUM(n) FROM work_order_counts INDEXED BY work_order_counts_hour
                 WHERE hour >= ?1 AND hour < ?2 GROUP BY state",
    "SELECT state, SUM(n) FROM work_order_counts
                 WHERE hour >= ?1 AND hour < ?2 GROUP BY state",
);

/// Ids one page of a bulk rerun's keyset walk reads on PostgreSQL.
const MATCHING_IDS_PAGE: usize = 10_000;

/// What a list page, a count or a bulk rerun selects: a filter with its workflow resolved,
/// its times in microseconds and its search text turned into what the store matches.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Any of these states (none: every state).
    pub states: Vec<WorkOrderState>,
    pub workflow_id: Option<String>,
    /// Received (or, `by_activity`, last active) at or after this time.
    pub since: Option<i64>,
    /// Received (or, `by_activity`, last active) before this time.
    pub until: Option<i64>,
    pub by_activity: bool,
    pub search: Option<SearchTerms>,
}

/// A search as the store matches it: an indexed document matching the full-text query,
/// or one of the work orders the search names by id.
#[derive(Debug, Clone, Default)]
pub struct SearchTerms {
    pub query: Option<Query>,
    pub ids: Vec<String>,
}

/// Where a page continues: below the last row of the page before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    /// Pages by received time (work order ids are UUID v7 taken at receipt).
    Id(String),
    /// Pages by last activity: its time (microseconds) and the work order id.
    Activity { at: i64, id: String },
}

/// What a filter looks at in a work order (search pages test each match with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkOrderFacts {
    pub workflow_id: String,
    pub state: WorkOrderState,
    pub received_at: i64,
    pub last_activity: i64,
}

fn row_from(r: &Row<'_>) -> bolt_sql::Result<WorkOrderRow> {
    let id: String = r.get(0)?;
    let error_job: Option<String> = r.get(10)?;
    Ok(WorkOrderRow {
        short_ref: short_ref(&id),
        id,
        project: r.get(1)?,
        workflow_id: r.get(2)?,
        workflow: r.get(3)?,
        state: WorkOrderState::parse(&r.get::<String>(4)?).unwrap_or(WorkOrderState::Exception),
        origin: Origin::parse(&r.get::<String>(5)?).unwrap_or(Origin::Manual),
        received_at: from_micros(r.get(6)?),
        last_activity: from_micros(r.get(7)?),
        duration_ms: r.get(8)?,
        run_count: r.get::<i64>(9)? as u32,
        first_error: error_job.map(|job| FirstError {
            job,
            error_type: r.get(11).ok().flatten(),
            message: r.get(12).ok().flatten(),
        }),
        input_wiped: r.get::<Option<i64>>(13)?.is_some(),
        hit: None,
    })
}

/// The smallest UUID v7 (as text) of a millisecond: ids of that instant sort at or after it.
fn uuid_v7_floor(millis: i64) -> String {
    let ms = millis.clamp(0, (1 << 48) - 1) as u64;
    let hex = format!("{ms:012x}");
    format!("{}-{}-7000-8000-000000000000", &hex[..8], &hex[8..])
}

/// The id of a workflow named by id, key or name, deleted ones included (they still have
/// history).
pub fn workflow_by_any_name(db: &dyn Db, workflow: &str) -> StoreResult<Option<String>> {
    Ok(db.query_value(WORKFLOW_BY_ANY_NAME, params![workflow])?)
}

/// Parameters as a statement binds them.
fn bind(values: &[Value]) -> Vec<ValueRef<'_>> {
    values.iter().map(Value::as_ref).collect()
}

/// The WHERE clause and parameters of a selection in `dialect` (without paging; empty for
/// everything).
pub fn filter_sql(selection: &Selection, dialect: Dialect) -> (String, Vec<Value>) {
    let mut clauses: Vec<String> = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    if !selection.states.is_empty() {
        clauses.push(format!("wo.state IN ({})", marks(selection.states.len())));
        params.extend(
            selection
                .states
                .iter()
                .map(|s| Value::Text(s.as_str().into())),
        );
    }
    if let Some(workflow_id) = &selection.workflow_id {
        clauses.push("wo.workflow_id = ?".into());
        params.push(Value::Text(workflow_id.clone()));
    }
    let column = if selection.by_activity {
        "wo.last_activity"
    } else {
        "wo.received_at"
    };
    let by_received = !selection.by_activity;
    if let Some(since) = selection.since {
        clauses.push(format!("{column} >= ?"));
        params.push(Value::Int(since));
        if by_received {
            // Ids are UUID v7 taken at receipt: the id bound lets indexes ending in id
            // (workflow/state, id) range-scan instead of reading every row of the workflow.
            clauses.push("wo.id >= ?".into());
            params.push(Value::Text(uuid_v7_floor(since.div_euclid(1000) - 1)));
        }
    }
    if let Some(until) = selection.until {
        clauses.push(format!("{column} < ?"));
        params.push(Value::Int(until));
        if by_received {
            clauses.push("wo.id < ?".into());
            params.push(Value::Text(uuid_v7_floor(until.div_euclid(1000) + 1)));
        }
    }
    if let Some(search) = &selection.search {
        let mut alternatives = Vec::new();
        if let Some(query) = &search.query {
            match match_param(query, dialect) {
                Some(param) => {
                    alternatives.push(MATCHING_DOCUMENTS.text(dialect).to_string());
                    params.push(Value::Text(param));
                }
                // No token to match (only punctuation): no document matches.
                None => alternatives.push(NOTHING.text(dialect).to_string()),
            }
        }
        if !search.ids.is_empty() {
            alternatives.push(format!("wo.id IN ({})", marks(search.ids.len())));
            params.extend(search.ids.iter().cloned().map(Value::Text));
        }
        clauses.push(if alternatives.is_empty() {
            NOTHING.text(dialect).into()
        } else {
            format!("({})", alternatives.join(" OR "))
        });
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    (sql, params)
}

/// What a full-text match binds in `dialect`: the FTS5 query on SQLite, the tsquery on
/// PostgreSQL (None when the search has no token to match: nothing matches).
pub fn match_param(query: &Query, dialect: Dialect) -> Option<String> {
    match dialect {
        Dialect::Sqlite => Some(query.fts5()),
        Dialect::Postgres => query.tsquery(),
    }
}

/// A WHERE clause (or none) with one more condition.
fn and_where(where_sql: &str, condition: &str) -> String {
    if where_sql.is_empty() {
        format!("WHERE {condition}")
    } else {
        format!("{where_sql} AND {condition}")
    }
}

/// Up to `rows` work orders of a selection (without search), newest first (by id, or by
/// last activity), below `after`.
pub fn page(
    db: &dyn Db,
    selection: &Selection,
    after: Option<&After>,
    rows: u32,
) -> StoreResult<Vec<WorkOrderRow>> {
    let (mut where_sql, mut params) = filter_sql(selection, db.dialect());
    if let Some(after) = after {
        let keyset = match after {
            After::Activity { at, id } => {
                params.push(Value::Int(*at));
                params.push(Value::Text(id.clone()));
                "(wo.last_activity, wo.id) < (?, ?)"
            }
            After::Id(id) => {
                params.push(Value::Text(id.clone()));
                "wo.id < ?"
            }
        };
        where_sql = and_where(&where_sql, keyset);
    }
    let order = if selection.by_activity {
        "wo.last_activity DESC, wo.id DESC"
    } else {
        "wo.id DESC"
    };
    let sql = format!("SELECT {ROW_COLUMNS} {ROW_FROM} {where_sql} ORDER BY {order} LIMIT {rows}");
    Ok(db.query_map(&sql, &bind(&params), row_from)?)
}

/// Every work order of a selection, oldest received first (the order reruns happen in).
pub fn matching_ids(db: &dyn Db, selection: &Selection) -> StoreResult<Vec<String>> {
    let (where_sql, params) = filter_sql(selection, db.dialect());
    if db.dialect() == Dialect::Postgres {
        return matching_ids_in_pages(db, &where_sql, params, MATCHING_IDS_PAGE);
    }
    let sql = format!("SELECT wo.id FROM work_orders wo {where_sql} ORDER BY wo.id ASC");
    Ok(db.query_map(&sql, &bind(&params), |r| r.get(0))?)
}

/// `matching_ids` on PostgreSQL: keyset pages of ids, all read in one snapshot (as
/// SQLite's single statement reads one).
fn matching_ids_in_pages(
    db: &dyn Db,
    where_sql: &str,
    mut params: Vec<Value>,
    page_rows: usize,
) -> StoreResult<Vec<String>> {
    let where_sql = and_where(where_sql, "wo.id > ?");
    let sql = format!(
        "SELECT wo.id FROM work_orders wo {where_sql} ORDER BY wo.id ASC LIMIT {page_rows}"
    );
    let snapshot = db.read_transaction()?;
    let mut ids: Vec<String> = Vec::new();
    let mut after = String::new();
    loop {
        params.push(Value::Text(after));
        let page: Vec<String> = snapshot.query_map(&sql, &bind(&params), |r| r.get(0))?;
        params.pop();
        let full = page.len() == page_rows;
        after = page.last().cloned().unwrap_or_default();
        ids.extend(page);
        if !full {
            break;
        }
    }
    snapshot.commit()?;
    Ok(ids)
}

/// A work order's list row; NotFound when there is no such work order.
pub fn work_order_row(db: &dyn Db, id: &str) -> StoreResult<WorkOrderRow> {
    find_work_order_row(db, id)?.ok_or_else(|| StoreError::NotFound(format!("work order {id}")))
}

/// A work order's list row, if it (still) exists.
pub fn find_work_order_row(db: &dyn Db, id: &str) -> StoreResult<Option<WorkOrderRow>> {
    Ok(work_order_rows(db, &[id])?.remove(id))
}

/// The list rows of those of `ids` that still exist, by id, in one statement (a search
/// page's rows: on PostgreSQL each statement is a round trip).
pub fn work_order_rows(db: &dyn Db, ids: &[&str]) -> StoreResult<HashMap<String, WorkOrderRow>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let params: Vec<ValueRef<'_>> = ids.iter().map(|id| ValueRef::Text(id)).collect();
    let rows = db.query_map(
        &format!(
            "SELECT {ROW_COLUMNS} {ROW_FROM} WHERE wo.id IN ({})",
            marks(ids.len())
        ),
        &params,
        row_from,
    )?;
    Ok(rows.into_iter().map(|row| (row.id.clone(), row)).collect())
}

/// What a filter looks at in work order `id`, if it exists.
pub fn facts(db: &dyn Db, id: &str) -> StoreResult<Option<WorkOrderFacts>> {
    Ok(db
        .query_row(FACTS, params![id], |r| facts_from(r, 0))?
        .flatten())
}

/// The facts in a row's columns `first..first + 4` (workflow_id, state, received_at,
/// last_activity, as `FACTS` selects them); `None` where an outer join found no work order.
pub fn facts_from(r: &Row<'_>, first: usize) -> bolt_sql::Result<Option<WorkOrderFacts>> {
    let Some(workflow_id) = r.get::<Option<String>>(first)? else {
        return Ok(None);
    };
    let state: String = r.get(first + 1)?;
    Ok(Some(WorkOrderFacts {
        workflow_id,
        state: WorkOrderState::parse(&state).unwrap_or(WorkOrderState::Exception),
        received_at: r.get(first + 2)?,
        last_activity: r.get(first + 3)?,
    }))
}

/// A (state, count) row.
fn state_and_count(r: &Row<'_>) -> bolt_sql::Result<(String, i64)> {
    Ok((r.get(0)?, r.get(1)?))
}

/// Sums of the hourly buckets in [first_hour, end_hour), for one workflow or all.
pub fn bucket_counts(
    db: &dyn Db,
    workflow_id: Option<&str>,
    first_hour: i64,
    end_hour: i64,
) -> StoreResult<Vec<StateCount>> {
    let rows = match workflow_id {
        Some(workflow) => db.query_map(
            BUCKETS_OF_WORKFLOW,
            params![workflow, first_hour, end_hour],
            state_and_count,
        )?,
        None => db.query_map(
            db.sql(&BUCKETS_OF_ALL),
            params![first_hour, end_hour],
            state_and_count,
        )?,
    };
    Ok(to_counts(rows))
}

/// Counts by state of a selection, reading the matching work orders.
pub fn count_by_state(db: &dyn Db, selection: &Selection) -> StoreResult<Vec<StateCount>> {
    let (where_sql, params) = filter_sql(selection, db.dialect());
    let sql =
        format!("SELECT wo.state, COUNT(*) FROM work_orders wo {where_sql} GROUP BY wo.state");
    let rows = db.query_map(&sql, &bind(&params), state_and_count)?;
    Ok(to_counts(rows))
}

/// (state, count) rows as counts; a state this bolt doesn't know is left out.
fn to_counts(rows: Vec<(String, i64)>) -> Vec<StateCount> {
    rows.into_iter()
        .filter_map(|(state, count)| {
            Some(StateCount {
                state: WorkOrderState::parse(&state)?,
                count: count.max(0) as u64,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v7_floor_orders_with_real_ids() {
        let id = uuid::Uuid::now_v7().to_string();
        let now = chrono::Utc::now().timestamp_millis();
        assert!(uuid_v7_floor(now - 1000) < id);
        assert!(uuid_v7_floor(now + 1000) > id);
    }

    #[test]
    fn time_bounds_by_received_also_bound_the_ids() {
        let selection = Selection {
            states: vec![WorkOrderState::Failed, WorkOrderState::Crashed],
            workflow_id: Some("wf".into()),
            since: Some(1_500),
            until: Some(2_000_000),
            ..Selection::default()
        };
        let (sql, params) = filter_sql(&selection, Dialect::Sqlite);
        assert_eq!(
            sql,
            "WHERE wo.state IN (?, ?) AND wo.workflow_id = ? AND wo.received_at >= ? AND wo.id >= ? AND wo.received_at < ? AND wo.id < ?"
        );
        assert_eq!(params.len(), 7);
        assert_eq!(params[4], Value::Text(uuid_v7_floor(0)));
        assert_eq!(params[6], Value::Text(uuid_v7_floor(2_001)));
        let by_activity = Selection {
            by_activity: true,
            since: Some(1),
            ..Selection::default()
        };
        assert_eq!(
            filter_sql(&by_activity, Dialect::Sqlite).0,
            "WHERE wo.last_activity >= ?"
        );
        assert_eq!(filter_sql(&Selection::default(), Dialect::Sqlite).0, "");
    }

    #[test]
    fn a_search_matches_documents_or_the_ids_it_names_and_nothing_without_either() {
        let search = |text: Option<&str>, ids: &[&str]| Selection {
            search: Some(SearchTerms {
                query: text.and_then(Query::parse),
                ids: ids.iter().map(|id| id.to_string()).collect(),
            }),
            ..Selection::default()
        };
        let sqlite = filter_sql(&search(Some("x"), &["a", "b"]), Dialect::Sqlite);
        assert_eq!(
            sqlite.0,
            format!("WHERE ({} OR wo.id IN (?, ?))", MATCHING_DOCUMENTS.sqlite)
        );
        assert_eq!(sqlite.1[0], Value::Text("\"x\"".into()));
        let postgres = filter_sql(&search(Some("x"), &["a", "b"]), Dialect::Postgres);
        assert_eq!(
            postgres.0,
            format!("WHERE ({} OR wo.id IN (?, ?))", MATCHING_DOCUMENTS.postgres)
        );
        assert_eq!(postgres.1[0], Value::Text("'x'".into()));
        assert_eq!(filter_sql(&search(None, &[]), Dialect::Sqlite).0, "WHERE 0");
        assert_eq!(
            filter_sql(&search(None, &[]), Dialect::Postgres).0,
            "WHERE FALSE"
        );
        assert_eq!(
            filter_sql(&search(Some("--"), &[]), Dialect::Postgres).0,
            "WHERE (FALSE)",
            "no token to match"
        );
    }

    use crate::store::search::seed;
    use crate::store::suite;

    const START: i64 = 1_780_000_000_000_000;
    const MINUTE: i64 = 60_000_000;

    /// A work order id (UUID v7) received at `micros`, its random bits `n` (the same ids on
    /// both backends).
    fn id_at(micros: i64, n: u64) -> String {
        let mut bits = [0u8; 10];
        bits[2..].copy_from_slice(&n.to_be_bytes());
        uuid::Builder::from_unix_timestamp_millis((micros / 1000) as u64, &bits)
            .into_uuid()
            .to_string()
    }

    struct Seeded {
        id: String,
        workflow: &'static str,
        state: WorkOrderState,
        received_at: i64,
        last_activity: i64,
    }

    const WORKFLOWS: &str = "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'proj', 0, 0);
         INSERT INTO workflows (id, project_id, key, name, created_at, updated_at) VALUES ('wf-a', 'p', 'alpha', 'Alpha', 0, 0);
         INSERT INTO workflows (id, project_id, key, name, deleted_at, created_at, updated_at) VALUES ('wf-b', 'p', 'beta', 'Beta Flow', 9, 0, 0);
         INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v-a', 'wf-a', 1, '{}', 'h', 0);
         INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v-b', 'wf-b', 1, '{}', 'h', 0);";

    /// 30 work orders 10 minutes apart over two workflows and four states, last active in
    /// five hourly groups (ties), each counted in its bucket; the fifth one's input wiped.
    fn seed_history(db: &dyn Db) -> Vec<Seeded> {
        suite::seed(db, WORKFLOWS);
        let states = [
            WorkOrderState::Success,
            WorkOrderState::Failed,
            WorkOrderState::Crashed,
            WorkOrderState::Pending,
        ];
        let mut seeded = Vec::new();
        for i in 0..30_i64 {
            let received_at = START + i * 10 * MINUTE;
            let wo = Seeded {
                id: id_at(received_at, i as u64),
                workflow: if i % 3 == 0 { "wf-b" } else { "wf-a" },
                state: states[i as usize % 4],
                received_at,
                last_activity: START + (i % 5) * 60 * MINUTE,
            };
            let clip = format!("clip-{i}");
            let wiped = (i == 4).then_some(1_i64);
            db.execute(
                "INSERT INTO dataclips (id, project_id, type, body, wiped_at, created_at) VALUES (?1, 'p', 'global', '{}', ?2, 0)",
                params![clip, wiped],
            )
            .unwrap();
            db.execute(
                "INSERT INTO work_orders (id, workflow_id, version_id, origin, dataclip_id, state, received_at, last_activity, duration_ms, run_count, error_job, error_type, error_message)
                 VALUES (?1, ?2, ?3, 'webhook', ?4, ?5, ?6, ?7, ?8, 2, ?9, 'E', 'bad')",
                params![
                    wo.id,
                    wo.workflow,
                    wo.workflow.replace("wf", "v"),
                    clip,
                    wo.state.as_str(),
                    wo.received_at,
                    wo.last_activity,
                    i * 10,
                    (wo.state == WorkOrderState::Failed).then_some("job"),
                ],
            )
            .unwrap();
            db.execute(
                "INSERT INTO work_order_counts (workflow_id, hour, state, n) VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT (workflow_id, hour, state) DO UPDATE SET n = work_order_counts.n + 1",
                params![
                    wo.workflow,
                    received_at.div_euclid(3_600_000_000),
                    wo.state.as_str()
                ],
            )
            .unwrap();
            seeded.push(wo);
        }
        seeded
    }

    /// Every page of `selection`, `rows` at a time, following the keyset.
    fn all_pages(db: &dyn Db, selection: &Selection, rows: u32) -> Vec<String> {
        let mut ids = Vec::new();
        let mut after = None;
        loop {
            let page = page(db, selection, after.as_ref(), rows).unwrap();
            let Some(last) = page.last() else {
                return ids;
            };
            after = Some(if selection.by_activity {
                After::Activity {
                    at: last.last_activity.timestamp_micros(),
                    id: last.id.clone(),
                }
            } else {
                After::Id(last.id.clone())
            });
            ids.extend(page.iter().map(|r| r.id.clone()));
        }
    }

    fn ids_where(seeded: &[Seeded], keep: impl Fn(&Seeded) -> bool) -> Vec<String> {
        seeded
            .iter()
            .filter(|s| keep(s))
            .map(|s| s.id.clone())
            .collect()
    }

    fn sorted_counts(mut counts: Vec<StateCount>) -> Vec<(WorkOrderState, u64)> {
        counts.sort_by_key(|c| c.state);
        counts.into_iter().map(|c| (c.state, c.count)).collect()
    }

    #[test]
    fn keyset_pages_by_receipt_and_by_activity_list_each_work_order_once() {
        suite::on_each_backend(|db| {
            let seeded = seed_history(db);
            let mut newest_first = ids_where(&seeded, |_| true);
            newest_first.reverse();
            assert_eq!(all_pages(db, &Selection::default(), 4), newest_first);
            let failed_alpha = Selection {
                states: vec![WorkOrderState::Failed, WorkOrderState::Crashed],
                workflow_id: Some("wf-a".into()),
                since: Some(START + 35 * MINUTE),
                until: Some(START + 250 * MINUTE),
                ..Selection::default()
            };
            let mut expected = ids_where(&seeded, |s| {
                s.workflow == "wf-a"
                    && matches!(s.state, WorkOrderState::Failed | WorkOrderState::Crashed)
                    && s.received_at >= START + 35 * MINUTE
                    && s.received_at < START + 250 * MINUTE
            });
            expected.reverse();
            assert!(expected.len() > 4);
            assert_eq!(all_pages(db, &failed_alpha, 2), expected);
            // By activity: ties on last_activity are broken by id, across page boundaries.
            let by_activity = Selection {
                by_activity: true,
                since: Some(START + 60 * MINUTE),
                ..Selection::default()
            };
            let mut active: Vec<&Seeded> = seeded
                .iter()
                .filter(|s| s.last_activity >= START + 60 * MINUTE)
                .collect();
            active.sort_by(|a, b| (b.last_activity, &b.id).cmp(&(a.last_activity, &a.id)));
            let active: Vec<String> = active.iter().map(|s| s.id.clone()).collect();
            assert_eq!(all_pages(db, &by_activity, 5), active);
            let first = &page(db, &Selection::default(), None, 1).unwrap()[0];
            let newest = &seeded[29];
            assert_eq!(
                (
                    first.id.as_str(),
                    first.project.as_str(),
                    first.workflow.as_str()
                ),
                (newest.id.as_str(), "proj", "Alpha")
            );
            assert_eq!(first.received_at.timestamp_micros(), newest.received_at);
            assert_eq!((first.run_count, first.duration_ms), (2, Some(290)));
        });
    }

    #[test]
    fn rows_facts_and_workflows_by_any_name() {
        suite::on_each_backend(|db| {
            let seeded = seed_history(db);
            let failed = &seeded[5];
            let row = work_order_row(db, &failed.id).unwrap();
            assert_eq!(row.state, WorkOrderState::Failed);
            assert_eq!(row.origin, Origin::Webhook);
            assert_eq!(row.short_ref, short_ref(&failed.id));
            let error = row.first_error.expect("a failed work order's error");
            assert_eq!(
                (
                    error.job.as_str(),
                    error.error_type.as_deref(),
                    error.message.as_deref()
                ),
                ("job", Some("E"), Some("bad"))
            );
            assert!(!row.input_wiped);
            assert!(work_order_row(db, &seeded[4].id).unwrap().input_wiped);
            assert!(matches!(
                work_order_row(db, "nope"),
                Err(StoreError::NotFound(_))
            ));
            assert!(find_work_order_row(db, "nope").unwrap().is_none());
            assert_eq!(
                find_work_order_row(db, &failed.id).unwrap().map(|r| r.id),
                Some(failed.id.clone())
            );
            assert_eq!(
                facts(db, &failed.id).unwrap(),
                Some(WorkOrderFacts {
                    workflow_id: "wf-a".into(),
                    state: WorkOrderState::Failed,
                    received_at: failed.received_at,
                    last_activity: failed.last_activity,
                })
            );
            assert_eq!(facts(db, "nope").unwrap(), None);
            for name in ["wf-b", "beta", "BETA flow"] {
                assert_eq!(
                    workflow_by_any_name(db, name).unwrap().as_deref(),
                    Some("wf-b"),
                    "{name}: deleted workflows still have history"
                );
            }
            assert_eq!(workflow_by_any_name(db, "gamma").unwrap(), None);
        });
    }

    #[test]
    fn bulk_rerun_ids_come_oldest_first_in_keyset_pages_with_search() {
        suite::on_each_backend(|db| {
            let seeded = seed_history(db);
            seed::index(db, &seeded[3].id, "input", "clip-3", "malaria ward");
            seed::index(db, &seeded[7].id, "log", "1", "Malaria");
            seed::index(db, &seeded[8].id, "input", "clip-8", "malarial");
            let search = |text: &str, ids: &[&String]| Selection {
                search: Some(SearchTerms {
                    query: Query::parse(text),
                    ids: ids.iter().map(|id| id.to_string()).collect(),
                }),
                ..Selection::default()
            };
            let malaria = search("malaria", &[&seeded[20].id]);
            let expected = vec![
                seeded[3].id.clone(),
                seeded[7].id.clone(),
                seeded[20].id.clone(),
            ];
            assert_eq!(matching_ids(db, &malaria).unwrap(), expected);
            assert_eq!(
                matching_ids(db, &search("malaria*", &[])).unwrap().len(),
                3,
                "a prefix"
            );
            assert!(matching_ids(db, &search("--", &[])).unwrap().is_empty());
            let everything = ids_where(&seeded, |_| true);
            assert_eq!(matching_ids(db, &Selection::default()).unwrap(), everything);
            // The paged reading (PostgreSQL's), a few rows a page, on both.
            let selections = [
                Selection::default(),
                malaria,
                Selection {
                    states: vec![WorkOrderState::Pending],
                    ..Selection::default()
                },
            ];
            for selection in selections {
                let (where_sql, params) = filter_sql(&selection, db.dialect());
                assert_eq!(
                    matching_ids_in_pages(db, &where_sql, params, 3).unwrap(),
                    matching_ids(db, &selection).unwrap()
                );
            }
        });
    }

    #[test]
    fn bucket_sums_equal_counting_the_rows() {
        suite::on_each_backend(|db| {
            let seeded = seed_history(db);
            let first_hour = START.div_euclid(3_600_000_000);
            let count = |keep: &dyn Fn(&Seeded) -> bool| {
                let mut counts: std::collections::BTreeMap<WorkOrderState, u64> =
                    Default::default();
                for s in seeded.iter().filter(|s| keep(s)) {
                    *counts.entry(s.state).or_default() += 1;
                }
                counts.into_iter().collect::<Vec<_>>()
            };
            let all = bucket_counts(db, None, i64::MIN, i64::MAX).unwrap();
            assert_eq!(sorted_counts(all), count(&|_| true));
            let alpha_later =
                bucket_counts(db, Some("wf-a"), first_hour + 2, first_hour + 4).unwrap();
            assert_eq!(
                sorted_counts(alpha_later),
                count(&|s| s.workflow == "wf-a"
                    && s.received_at >= START + 120 * MINUTE
                    && s.received_at < START + 240 * MINUTE)
            );
            let beta = Selection {
                workflow_id: Some("wf-b".into()),
                ..Selection::default()
            };
            assert_eq!(
                sorted_counts(count_by_state(db, &beta).unwrap()),
                count(&|s| s.workflow == "wf-b")
            );
            let none = Selection {
                search: Some(SearchTerms::default()),
                ..Selection::default()
            };
            assert!(count_by_state(db, &none).unwrap().is_empty());
        });
    }
}
