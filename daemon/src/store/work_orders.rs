//! Work orders and runs in the store: creating them, deriving states as Lightning does,
//! and recovering runs a crash left behind.

use crate::history::counts;
use crate::refs;
use crate::store::dataclips::{self, NewDataclip};
use crate::store::{StoreError, StoreResult, new_id, now_micros};
use bolt_shared::model::*;
use bolt_shared::protocol::Event;
use bolt_sql::{Db, DbExt, params};

/// Where a new work order's input comes from.
pub enum Input {
    New(NewInput),
    Existing(String),
}

/// A new input dataclip: its JSON text and its search text, made together by
/// [`Input::json`] (private fields, so the two can't disagree).
pub struct NewInput {
    kind: DataclipType,
    body: String,
    request: Option<String>,
    /// Worked out before the body reaches the store's single writer thread.
    search_text: String,
}

impl Input {
    /// A new input dataclip holding `value`. Serialising it and extracting its search text
    /// happen here, on the caller's thread, so a big webhook body doesn't hold up the
    /// writer, which every other write waits behind.
    pub fn json(kind: DataclipType, value: &serde_json::Value, request: Option<String>) -> Input {
        Input::New(NewInput {
            kind,
            body: value.to_string(),
            request,
            search_text: dataclips::index_text(value),
        })
    }
}

pub struct NewWorkOrder {
    pub workflow_id: String,
    pub project_id: String,
    pub version_id: String,
    pub trigger_id: Option<String>,
    pub origin: Origin,
    pub input: Input,
    /// Job key to start at; `None` starts at the trigger.
    pub starting_job: Option<String>,
    /// 0 = immediate (manual runs, reruns), 1 = normal.
    pub priority: i64,
    /// Where a webhook's request came from (its client's address).
    pub source_address: Option<String>,
}

pub struct Created {
    pub work_order_id: String,
    pub run_id: String,
    pub events: Vec<Event>,
}

/// Whether the project's retention policy is `erase_all`: its payloads are never put in the
/// search index, whose segments would keep their words after the body is wiped.
fn erases_payloads(db: &dyn Db, project_id: &str) -> StoreResult<bool> {
    let policy: Option<String> = db.query_value(
        "SELECT retention_policy FROM projects WHERE id = ?1",
        params![project_id],
    )?;
    Ok(policy.as_deref() == Some("erase_all"))
}

const INSERT_WORK_ORDER: &str = "INSERT INTO work_orders (id, workflow_id, version_id, trigger_id, origin, dataclip_id, state, received_at, last_activity, run_count, source_address)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?7, 1, ?8)";

/// The work order's row, pending with one run to come.
fn insert_work_order_row(
    db: &dyn Db,
    work_order_id: &str,
    dataclip_id: &str,
    new: &NewWorkOrder,
    now: i64,
) -> StoreResult<()> {
    db.execute(
        INSERT_WORK_ORDER,
        params![
            work_order_id,
            new.workflow_id,
            new.version_id,
            new.trigger_id,
            new.origin.as_str(),
            dataclip_id,
            now,
            new.source_address
        ],
    )?;
    Ok(())
}

pub fn create_work_order(db: &dyn Db, new: &NewWorkOrder) -> StoreResult<Created> {
    let now = now_micros();
    let work_order_id = new_id();
    let dataclip_id = match &new.input {
        Input::Existing(id) => id.clone(),
        Input::New(input) => dataclips::insert(
            db,
            &NewDataclip {
                project_id: Some(&new.project_id),
                kind: input.kind,
                body: Some(&input.body),
                request: input.request.as_deref(),
                name: None,
                wipe_reason: None,
                size_bytes: None,
            },
        )?,
    };
    insert_work_order_row(db, &work_order_id, &dataclip_id, new, now)?;
    counts::record_new(db, &new.workflow_id, now, WorkOrderState::Pending.as_str())?;
    refs::index_new(db, "work_orders", &work_order_id)?;
    if let Input::New(input) = &new.input
        && !erases_payloads(db, &new.project_id)?
    {
        dataclips::index(
            db,
            &work_order_id,
            "input",
            &dataclip_id,
            &input.search_text,
        )?;
    }
    let run_id = insert_run(
        db,
        &work_order_id,
        &new.version_id,
        new.starting_job.as_deref(),
        &dataclip_id,
        new.origin,
        new.priority,
        1,
        0,
    )?;
    Ok(Created {
        events: vec![
            Event::WorkOrderChanged {
                id: work_order_id.clone(),
                state: WorkOrderState::Pending,
                created: true,
            },
            Event::RunChanged {
                id: run_id.clone(),
                work_order_id: work_order_id.clone(),
                state: RunState::Available,
                created: true,
            },
        ],
        work_order_id,
        run_id,
    })
}

#[allow(clippy::too_many_arguments)]
pub fn insert_run(
    db: &dyn Db,
    work_order_id: &str,
    version_id: &str,
    starting_job: Option<&str>,
    dataclip_id: &str,
    origin: Origin,
    priority: i64,
    attempt: i64,
    not_before: i64,
) -> StoreResult<String> {
    let run_id = new_id();
    insert_run_row(
        db,
        &NewRun {
            id: &run_id,
            work_order_id,
            version_id,
            starting_job,
            dataclip_id,
            origin,
            priority,
            attempt,
            not_before,
        },
    )?;
    refs::index_new(db, "runs", &run_id)?;
    Ok(run_id)
}

/// A run's row as [`insert_run`] writes it.
struct NewRun<'a> {
    id: &'a str,
    work_order_id: &'a str,
    version_id: &'a str,
    starting_job: Option<&'a str>,
    dataclip_id: &'a str,
    origin: Origin,
    priority: i64,
    attempt: i64,
    not_before: i64,
}

const INSERT_RUN: &str = "INSERT INTO runs (id, work_order_id, version_id, starting_job, dataclip_id, origin, state, priority, attempt, not_before, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'available', ?7, ?8, ?9, ?10)";

fn insert_run_row(db: &dyn Db, run: &NewRun<'_>) -> StoreResult<()> {
    db.execute(
        INSERT_RUN,
        params![
            run.id,
            run.work_order_id,
            run.version_id,
            run.starting_job,
            run.dataclip_id,
            run.origin.as_str(),
            run.priority,
            run.attempt,
            run.not_before,
            now_micros()
        ],
    )?;
    Ok(())
}

/// Re-derives a work order's state from its runs: the latest run's state, unless another
/// run is still in flight (started before available before claimed). Also refreshes the
/// list columns (run count, duration, first error) and bumps last activity.
pub fn refresh_work_order(db: &dyn Db, work_order_id: &str) -> StoreResult<WorkOrderState> {
    let summary = summarize(db, work_order_id)?;
    let (workflow_id, received_at, previous) = counted_as(db, work_order_id)?;
    counts::record_change(
        db,
        &workflow_id,
        received_at,
        &previous,
        summary.state.as_str(),
    )?;
    write_summary(db, work_order_id, &summary)?;
    Ok(summary.state)
}

/// What a work order's runs say about it: the columns [`refresh_work_order`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Summary {
    state: WorkOrderState,
    run_count: i64,
    duration_ms: Option<i64>,
    error_job: Option<String>,
    error_type: Option<String>,
    error_message: Option<String>,
}

/// A run as [`summarize`] reads it: id, state, started and finished.
type RunTimes = (String, String, Option<i64>, Option<i64>);

fn summarize(db: &dyn Db, work_order_id: &str) -> StoreResult<Summary> {
    // One read of the work order's runs (usually one or two) instead of a query for each
    // answer: ordering by id in SQL here made SQLite re-prepare the statement on every call.
    let runs: Vec<RunTimes> = db.query_map(
        "SELECT id, state, started_at, finished_at FROM runs WHERE work_order_id = ?1",
        params![work_order_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let Some((latest_id, latest_state, started, finished)) =
        runs.iter().max_by(|a, b| a.0.cmp(&b.0)).cloned()
    else {
        return Err(StoreError::Invalid(format!(
            "work order {work_order_id} has no runs"
        )));
    };
    let run_state = |text: &str| {
        RunState::parse(text)
            .ok_or_else(|| StoreError::Invalid(format!("unknown run state {text}")))
    };
    let shown = in_flight_state(&runs).unwrap_or(&latest_state);
    let state = WorkOrderState::from_run(run_state(shown)?);
    let duration_ms = match (started, finished) {
        (Some(s), Some(f)) => Some((f - s) / 1000),
        _ => None,
    };
    let (error_job, error_type, error_message) = match first_error(db, &latest_id)? {
        Some((job, kind, message)) => (Some(job), kind, message),
        None => (None, None, None),
    };
    Ok(Summary {
        state,
        run_count: runs.len() as i64,
        duration_ms,
        error_job,
        error_type,
        error_message,
    })
}

/// The state of the run still in flight, if any: started before available before
/// claimed; the newest of a kind first.
fn in_flight_state(runs: &[RunTimes]) -> Option<&str> {
    let rank = |state: &str| match state {
        "started" => Some(0),
        "available" => Some(1),
        "claimed" => Some(2),
        _ => None,
    };
    runs.iter()
        .filter_map(|(id, state, _, _)| rank(state).map(|rank| (rank, id, state)))
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, _, state)| state.as_str())
}

/// A run's error as the work order shows it: job, type and message.
type RunError = (String, Option<String>, Option<String>);

/// The first step of the run that did not succeed, else the run's own error.
fn first_error(db: &dyn Db, run_id: &str) -> StoreResult<Option<RunError>> {
    // Earliest picked here, not by ORDER BY, and no join or `IN (subquery)` on the bound
    // id: the first two made SQLite re-prepare the statement on every call, the third
    // builds a temporary B-tree on every call. A run has a handful of steps.
    type StepError = (Option<i64>, String, Option<String>, Option<String>);
    let step_ids: Vec<String> = db.query_map(
        "SELECT step_id FROM run_steps WHERE run_id = ?1",
        params![run_id],
        |r| r.get(0),
    )?;
    let mut failed_steps: Vec<StepError> = Vec::new();
    for step_id in &step_ids {
        let failed = db.query_row(
            "SELECT started_at, job_name, error_type, error_message FROM steps
                 WHERE id = ?1 AND exit_reason IS NOT NULL AND exit_reason <> 'success'",
            params![step_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        failed_steps.extend(failed);
    }
    let step_error = failed_steps
        .into_iter()
        .min_by_key(|(started_at, ..)| *started_at)
        .map(|(_, job, kind, message)| (job, kind, message));
    if step_error.is_some() {
        return Ok(step_error);
    }
    Ok(db.query_row(
        "SELECT COALESCE(starting_job, ''), error_type, error_message FROM runs WHERE id = ?1 AND error_type IS NOT NULL",
        params![run_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?)
}

/// The work order's workflow, received time and stored state: its history count bucket.
fn counted_as(db: &dyn Db, work_order_id: &str) -> StoreResult<(String, i64, String)> {
    db.query_row(
        "SELECT workflow_id, received_at, state FROM work_orders WHERE id = ?1",
        params![work_order_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?
    .ok_or_else(|| StoreError::NotFound(format!("work order {work_order_id}")))
}

fn write_summary(db: &dyn Db, work_order_id: &str, summary: &Summary) -> StoreResult<()> {
    db.execute(
        "UPDATE work_orders SET state = ?2, last_activity = ?3, run_count = ?4, duration_ms = ?5,
            error_job = ?6, error_type = ?7, error_message = ?8 WHERE id = ?1",
        params![
            work_order_id,
            summary.state.as_str(),
            now_micros(),
            summary.run_count,
            summary.duration_ms,
            summary.error_job,
            summary.error_type,
            summary.error_message
        ],
    )?;
    Ok(())
}

/// Whose claimed and started runs [`mark_lost`] ends.
#[derive(Debug, Clone, Copy)]
pub enum Holder<'a> {
    /// Every node's: the store has one node (SQLite).
    Anyone,
    /// One node's (and runs no node holds, claimed before nodes were recorded).
    Node(&'a str),
}

/// Marks the runs a stopped or crashed node left `claimed`/`started` as lost, as
/// Lightning's janitor does, saying `why`; returns the (run id, work order id) pairs.
pub fn mark_lost(db: &dyn Db, holder: Holder<'_>, why: &str) -> StoreResult<Vec<(String, String)>> {
    let now = now_micros();
    let lost: Vec<(String, String, String)> = match holder {
        Holder::Anyone => db.query_map(
            "SELECT id, work_order_id, state FROM runs WHERE state IN ('claimed', 'started')",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?,
        Holder::Node(node) => db.query_map(
            "SELECT id, work_order_id, state FROM runs WHERE state IN ('claimed', 'started')
               AND (node_id = ?1 OR node_id IS NULL)",
            params![node],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?,
    };
    for (run_id, work_order_id, state) in &lost {
        let error_type = if state == "claimed" {
            "LostAfterClaim"
        } else {
            "LostAfterStart"
        };
        mark_run_lost(db, run_id, error_type, why, now)?;
        refresh_work_order(db, work_order_id)?;
        crate::notify::events::run_ended(db, run_id)?;
    }
    Ok(lost.into_iter().map(|(r, w, _)| (r, w)).collect())
}

/// Ends a run and its unfinished steps as lost.
fn mark_run_lost(
    db: &dyn Db,
    run_id: &str,
    error_type: &str,
    why: &str,
    now: i64,
) -> StoreResult<()> {
    db.execute(
        "UPDATE runs SET state = 'lost', error_type = ?2, error_message = ?3, finished_at = ?4 WHERE id = ?1 AND state IN ('claimed', 'started')",
        params![
            run_id,
            error_type,
            why,
            now
        ],
    )?;
    db.execute(
        "UPDATE steps SET exit_reason = 'lost', error_type = ?2, finished_at = ?3 WHERE run_id = ?1 AND finished_at IS NULL",
        params![run_id, error_type, now],
    )?;
    Ok(())
}

/// What `bolt status` counts besides the work orders by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Runs waiting to be claimed.
    pub queued: u64,
    /// Runs claimed or started.
    pub running: u64,
    pub projects: u64,
    pub workflows: u64,
}

pub fn totals(db: &dyn Db) -> StoreResult<Totals> {
    let count = |sql: &str| -> StoreResult<u64> {
        let n: i64 = db.query_one(sql, params![])?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    Ok(Totals {
        queued: count("SELECT COUNT(*) FROM runs WHERE state = 'available'")?,
        running: count("SELECT COUNT(*) FROM runs WHERE state IN ('claimed', 'started')")?,
        projects: count("SELECT COUNT(*) FROM projects")?,
        workflows: count("SELECT COUNT(*) FROM workflows WHERE deleted_at IS NULL")?,
    })
}

/// How a cancel went in the store: a queued run is cancelled at once; a running one is
/// left to its executor (which the caller interrupts).
pub struct Cancelled {
    pub state: RunState,
    pub work_order_id: String,
    /// The work order's new state when the run was cancelled here.
    pub work_order_state: Option<WorkOrderState>,
}

pub fn cancel_if_queued(db: &dyn Db, run_id: &str) -> StoreResult<Cancelled> {
    let (state, work_order_id): (String, String) = db
        .query_row(
            "SELECT state, work_order_id FROM runs WHERE id = ?1",
            params![run_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .ok_or_else(|| StoreError::NotFound(format!("run {run_id}")))?;
    if state != "available" {
        return Ok(Cancelled {
            state: RunState::parse(&state).unwrap_or(RunState::Exception),
            work_order_id,
            work_order_state: None,
        });
    }
    db.execute(
        "UPDATE runs SET state = 'cancelled', finished_at = ?2 WHERE id = ?1",
        params![run_id, now_micros()],
    )?;
    let work_order_state = refresh_work_order(db, &work_order_id)?;
    Ok(Cancelled {
        state: RunState::Cancelled,
        work_order_id,
        work_order_state: Some(work_order_state),
    })
}

/// A work order's workflow and input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkOrderInput {
    pub workflow_id: String,
    /// Its input dataclip (every work order boltd makes has one).
    pub dataclip_id: Option<String>,
}

/// A work order's workflow and input (an error if there is no such work order).
pub fn input_of(db: &dyn Db, work_order_id: &str) -> StoreResult<WorkOrderInput> {
    db.query_row(
        "SELECT workflow_id, dataclip_id FROM work_orders WHERE id = ?1",
        params![work_order_id],
        |r| {
            Ok(WorkOrderInput {
                workflow_id: r.get(0)?,
                dataclip_id: r.get(1)?,
            })
        },
    )?
    .ok_or_else(|| StoreError::NotFound(format!("work order {work_order_id}")))
}

/// A saved input by name: its dataclip id, and whether its body is still there (retention
/// may have wiped it).
pub fn saved_input(db: &dyn Db, name: &str) -> StoreResult<Option<(String, bool)>> {
    Ok(db.query_row(
        "SELECT id, body IS NOT NULL FROM dataclips WHERE name = ?1",
        params![name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// Rows the queue's store tests build on (work_orders, claims, runs, steps, logs).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod fixture {
    use bolt_sql::{Db, params};

    /// A project with its concurrency limit.
    pub fn project(db: &dyn Db, id: &str, concurrency: Option<i64>) {
        db.execute(
            "INSERT INTO projects (id, name, concurrency, created_at, updated_at) VALUES (?1, ?1, ?2, 0, 0)",
            params![id, concurrency],
        )
        .unwrap();
    }

    /// A workflow (key = id) with its concurrency limit and version `v-<id>`.
    pub fn workflow(db: &dyn Db, id: &str, project: &str, concurrency: Option<i64>) {
        db.execute(
            "INSERT INTO workflows (id, project_id, key, name, concurrency, max_attempts, retry_backoff_secs, created_at, updated_at)
             VALUES (?1, ?2, ?1, ?1, ?3, 3, 10, 0, 0)",
            params![id, project, concurrency],
        )
        .unwrap();
        db.execute(
            "INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES (?1, ?2, 1, '{}', 'h', 0)",
            params![format!("v-{id}"), id],
        )
        .unwrap();
    }

    /// A pending work order with input dataclip `in-<id>` (`{"n":1}`).
    pub fn work_order(db: &dyn Db, id: &str, workflow: &str, project: &str) {
        let clip = format!("in-{id}");
        db.execute(
            "INSERT INTO dataclips (id, project_id, type, body, created_at) VALUES (?1, ?2, 'global', '{\"n\":1}', 0)",
            params![clip, project],
        )
        .unwrap();
        db.execute(
            "INSERT INTO work_orders (id, workflow_id, version_id, origin, dataclip_id, state, received_at, last_activity)
             VALUES (?1, ?2, ?3, 'manual', ?4, 'pending', 0, 0)",
            params![id, workflow, format!("v-{workflow}"), clip],
        )
        .unwrap();
    }

    /// A run of a work order (of `workflow`), on its input.
    pub fn run(
        db: &dyn Db,
        id: &str,
        work_order: &str,
        workflow: &str,
        state: &str,
        priority: i64,
    ) {
        db.execute(
            "INSERT INTO runs (id, work_order_id, version_id, dataclip_id, origin, state, priority, created_at)
             VALUES (?1, ?2, ?3, ?4, 'manual', ?5, ?6, 0)",
            params![
                id,
                work_order,
                format!("v-{workflow}"),
                format!("in-{work_order}"),
                state,
                priority
            ],
        )
        .unwrap();
    }

    /// Project `p`, workflow `w`, work order `wo` and its run `r1` in `state`.
    pub fn one_run(db: &dyn Db, state: &str) {
        project(db, "p", None);
        workflow(db, "w", "p", None);
        work_order(db, "wo", "w", "p");
        run(db, "r1", "wo", "w", state, 1);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::suite;
    use bolt_sql::Value;

    fn work_order_row(db: &dyn Db, id: &str) -> Vec<Value> {
        db.query_row(
            "SELECT state, run_count, duration_ms, error_job, error_type, error_message FROM work_orders WHERE id = ?1",
            params![id],
            |r| (0..6).map(|i| r.value(i)).collect(),
        )
        .unwrap()
        .unwrap()
    }

    fn run_state(db: &dyn Db, id: &str) -> String {
        db.query_one("SELECT state FROM runs WHERE id = ?1", params![id])
            .unwrap()
    }

    fn new_work_order(input: Input) -> NewWorkOrder {
        NewWorkOrder {
            workflow_id: "w".into(),
            project_id: "p".into(),
            version_id: "v-w".into(),
            trigger_id: None,
            origin: Origin::Webhook,
            input,
            starting_job: Some("j".into()),
            priority: 1,
            source_address: Some("10.0.0.1".into()),
        }
    }

    #[test]
    fn rows_of_a_new_work_order_and_run_are_written() {
        suite::on_each_backend(|db| {
            fixture::project(db, "p", None);
            fixture::workflow(db, "w", "p", None);
            fixture::work_order(db, "seed", "w", "p");
            let new = new_work_order(Input::Existing("in-seed".into()));
            insert_work_order_row(db, "wo", "in-seed", &new, 42).unwrap();
            let run = NewRun {
                id: "r1",
                work_order_id: "wo",
                version_id: "v-w",
                starting_job: Some("j"),
                dataclip_id: "in-seed",
                origin: Origin::Retry,
                priority: 0,
                attempt: 2,
                not_before: 7,
            };
            insert_run_row(db, &run).unwrap();
            let wo: (String, i64, i64, String, Option<String>) = db
                .query_row(
                    "SELECT state, received_at, run_count, origin, source_address FROM work_orders WHERE id = 'wo'",
                    params![],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .unwrap()
                .unwrap();
            assert_eq!(
                wo,
                (
                    "pending".into(),
                    42,
                    1,
                    "webhook".into(),
                    Some("10.0.0.1".into())
                )
            );
            assert_eq!(
                counted_as(db, "wo").unwrap(),
                ("w".to_string(), 42, "pending".to_string())
            );
            assert!(matches!(
                counted_as(db, "none"),
                Err(StoreError::NotFound(_))
            ));
            let lost = crate::store::runs::lost(db, "r1").unwrap().unwrap();
            assert_eq!(
                (
                    lost.starting_job.as_deref(),
                    lost.attempt,
                    lost.dataclip_id.as_str()
                ),
                (Some("j"), 2, "in-seed")
            );
            assert_eq!(run_state(db, "r1"), "available");
        });
    }

    #[test]
    fn a_work_order_shows_its_run_in_flight_else_its_latest_and_the_first_failed_step() {
        suite::on_each_backend(|db| {
            fixture::one_run(db, "failed");
            suite::seed(
                db,
                "UPDATE runs SET started_at = 1000, finished_at = 5000 WHERE id = 'r1';
                 INSERT INTO steps (id, run_id, job_key, job_name, exit_reason, error_type, error_message, started_at)
                     VALUES ('s2', 'r1', 'b', 'B', 'fail', 'RuntimeError', 'late', 20);
                 INSERT INTO steps (id, run_id, job_key, job_name, exit_reason, error_type, error_message, started_at)
                     VALUES ('s1', 'r1', 'a', 'A', 'fail', 'TypeError', 'early', 10);
                 INSERT INTO steps (id, run_id, job_key, job_name, exit_reason, started_at)
                     VALUES ('s0', 'r1', 'z', 'Z', 'success', 1);
                 INSERT INTO run_steps (run_id, step_id) VALUES ('r1', 's0'), ('r1', 's1'), ('r1', 's2')",
            );
            let summary = summarize(db, "wo").unwrap();
            assert_eq!(
                summary,
                Summary {
                    state: WorkOrderState::Failed,
                    run_count: 1,
                    duration_ms: Some(4),
                    error_job: Some("A".into()),
                    error_type: Some("TypeError".into()),
                    error_message: Some("early".into()),
                }
            );
            write_summary(db, "wo", &summary).unwrap();
            assert_eq!(
                work_order_row(db, "wo"),
                [
                    Value::Text("failed".into()),
                    Value::Int(1),
                    Value::Int(4),
                    Value::Text("A".into()),
                    Value::Text("TypeError".into()),
                    Value::Text("early".into()),
                ]
            );

            // A second run queued: the work order shows it; the error is the latest run's.
            fixture::run(db, "r2", "wo", "w", "available", 0);
            let summary = summarize(db, "wo").unwrap();
            assert_eq!(summary.state, WorkOrderState::Pending);
            assert_eq!((summary.run_count, summary.error_job), (2, None));
            // A started run wins over a newer available one.
            suite::seed(db, "UPDATE runs SET state = 'started' WHERE id = 'r1'");
            assert_eq!(summarize(db, "wo").unwrap().state, WorkOrderState::Running);
            // The latest run's own error when no step failed.
            suite::seed(
                db,
                "UPDATE runs SET state = 'exception', error_type = 'InputError', error_message = 'gone' WHERE id = 'r2';
                 UPDATE runs SET state = 'failed' WHERE id = 'r1'",
            );
            let summary = summarize(db, "wo").unwrap();
            assert_eq!(summary.state, WorkOrderState::Exception);
            assert_eq!(
                (summary.error_job, summary.error_type, summary.error_message),
                (
                    Some(String::new()),
                    Some("InputError".into()),
                    Some("gone".into())
                )
            );

            fixture::work_order(db, "empty", "w", "p");
            assert!(matches!(
                summarize(db, "empty"),
                Err(StoreError::Invalid(_))
            ));
        });
    }

    #[test]
    fn a_lost_run_ends_with_its_unfinished_steps() {
        suite::on_each_backend(|db| {
            fixture::one_run(db, "started");
            suite::seed(
                db,
                "INSERT INTO steps (id, run_id, job_key, job_name, exit_reason, started_at, finished_at) VALUES ('s1', 'r1', 'a', 'A', 'success', 1, 2);
                 INSERT INTO steps (id, run_id, job_key, job_name, started_at) VALUES ('s2', 'r1', 'b', 'B', 3)",
            );
            mark_run_lost(db, "r1", "LostAfterStart", "boltd stopped", 99).unwrap();
            let run: (String, String, i64) = db
                .query_row(
                    "SELECT state, error_type, finished_at FROM runs WHERE id = 'r1'",
                    params![],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap()
                .unwrap();
            assert_eq!(run, ("lost".into(), "LostAfterStart".into(), 99));
            let steps: Vec<(String, String, i64)> = db
                .query_map(
                    "SELECT id, exit_reason, finished_at FROM steps WHERE run_id = 'r1' ORDER BY id",
                    params![],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap();
            assert_eq!(
                steps,
                [
                    ("s1".into(), "success".into(), 2),
                    ("s2".into(), "lost".into(), 99)
                ]
            );
        });
    }

    #[test]
    fn totals_inputs_saved_inputs_and_retention_policy_are_read() {
        suite::on_each_backend(|db| {
            assert_eq!(totals(db).unwrap(), Totals::default());
            fixture::one_run(db, "available");
            fixture::run(db, "r2", "wo", "w", "claimed", 1);
            fixture::run(db, "r3", "wo", "w", "started", 1);
            fixture::run(db, "r4", "wo", "w", "success", 1);
            fixture::workflow(db, "gone", "p", None);
            suite::seed(
                db,
                "UPDATE workflows SET deleted_at = 1 WHERE id = 'gone';
                 UPDATE projects SET retention_policy = 'erase_all' WHERE id = 'p';
                 INSERT INTO dataclips (id, type, body, name, created_at) VALUES ('kept', 'saved_input', '{}', 'kept', 0);
                 INSERT INTO dataclips (id, type, name, created_at) VALUES ('wiped', 'saved_input', 'wiped', 0)",
            );
            assert_eq!(
                totals(db).unwrap(),
                Totals {
                    queued: 1,
                    running: 2,
                    projects: 1,
                    workflows: 1
                }
            );
            assert_eq!(
                input_of(db, "wo").unwrap(),
                WorkOrderInput {
                    workflow_id: "w".into(),
                    dataclip_id: Some("in-wo".into())
                }
            );
            assert!(matches!(input_of(db, "none"), Err(StoreError::NotFound(_))));
            assert_eq!(
                saved_input(db, "kept").unwrap(),
                Some(("kept".to_string(), true))
            );
            assert_eq!(
                saved_input(db, "wiped").unwrap(),
                Some(("wiped".to_string(), false))
            );
            assert_eq!(saved_input(db, "none").unwrap(), None);
            assert!(erases_payloads(db, "p").unwrap());
            assert!(!erases_payloads(db, "none").unwrap());
        });
    }

    #[test]
    fn a_new_work_order_is_pending_with_its_run_input_and_count() {
        suite::on_each_backend(|db| {
            fixture::project(db, "p", None);
            fixture::workflow(db, "w", "p", None);
            let input = Input::json(
                DataclipType::HttpRequest,
                &serde_json::json!({"order": 7}),
                Some("{}".into()),
            );
            let created = create_work_order(db, &new_work_order(input)).unwrap();
            assert_eq!(created.events.len(), 2);
            assert_eq!(run_state(db, &created.run_id), "available");
            let input = input_of(db, &created.work_order_id).unwrap();
            let body: Option<String> = db
                .query_value(
                    "SELECT body FROM dataclips WHERE id = ?1",
                    params![input.dataclip_id],
                )
                .unwrap();
            assert_eq!(body.as_deref(), Some(r#"{"order":7}"#));
            let counted: i64 = db
                .query_one(
                    "SELECT COALESCE(SUM(n), 0) FROM work_order_counts WHERE workflow_id = 'w' AND state = 'pending'",
                    params![],
                )
                .unwrap();
            assert_eq!(counted, 1);
            let resolved = crate::refs::resolve(db, &created.run_id[28..]).unwrap();
            assert_eq!(resolved.work_order_id, created.work_order_id);
        });
    }

    #[test]
    fn refresh_cancel_and_mark_lost_move_work_orders_between_states() {
        suite::on_each_backend(|db| {
            fixture::project(db, "p", None);
            fixture::workflow(db, "w", "p", None);
            fixture::work_order(db, "seed", "w", "p");
            // Real (time-ordered) run ids: the latest run is the one with the highest id.
            let created =
                create_work_order(db, &new_work_order(Input::Existing("in-seed".into()))).unwrap();
            let wo = created.work_order_id.as_str();
            let cancelled = cancel_if_queued(db, &created.run_id).unwrap();
            assert_eq!(cancelled.state, RunState::Cancelled);
            assert_eq!(cancelled.work_order_state, Some(WorkOrderState::Cancelled));
            assert_eq!(work_order_row(db, wo)[0], Value::Text("cancelled".into()));
            assert!(matches!(
                cancel_if_queued(db, "none"),
                Err(StoreError::NotFound(_))
            ));

            let retry = insert_run(db, wo, "v-w", None, "in-seed", Origin::Retry, 1, 2, 0).unwrap();
            assert_eq!(refresh_work_order(db, wo).unwrap(), WorkOrderState::Pending);
            assert_eq!(work_order_row(db, wo)[1], Value::Int(2));
            suite::seed(
                db,
                &format!("UPDATE runs SET state = 'started' WHERE id = '{retry}'"),
            );
            let not_cancelled = cancel_if_queued(db, &retry).unwrap();
            assert_eq!(
                (not_cancelled.state, not_cancelled.work_order_state),
                (RunState::Started, None)
            );
            let lost = mark_lost(db, Holder::Anyone, "boltd stopped").unwrap();
            assert_eq!(lost, [(retry.clone(), wo.to_string())]);
            assert_eq!(run_state(db, &retry), "lost");
            assert_eq!(work_order_row(db, wo)[0], Value::Text("lost".into()));
            assert!(
                mark_lost(db, Holder::Anyone, "boltd stopped")
                    .unwrap()
                    .is_empty()
            );
            // The history counts followed: the work order is counted as lost only.
            let counts: Vec<(String, i64)> = db
                .query_map(
                    "SELECT state, SUM(n) FROM work_order_counts WHERE workflow_id = 'w' GROUP BY state HAVING SUM(n) <> 0 ORDER BY state",
                    params![],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!(counts, [("lost".to_string(), 1)]);
        });
    }
}
