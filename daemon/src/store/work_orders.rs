//! Work orders and runs in the store: creating them, deriving states as Lightning does,
//! and recovering runs a crash left behind.

use crate::history::counts;
use crate::refs;
use crate::store::dataclips::{self, NewDataclip};
use crate::store::{StoreError, StoreResult, new_id, now_micros};
use bolt_shared::model::*;
use bolt_shared::protocol::Event;
use rusqlite::{Connection, OptionalExtension, params};

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
fn erases_payloads(conn: &Connection, project_id: &str) -> StoreResult<bool> {
    let policy: Option<String> = conn
        .prepare_cached("SELECT retention_policy FROM projects WHERE id = ?1")?
        .query_row([project_id], |r| r.get(0))
        .optional()?;
    Ok(policy.as_deref() == Some("erase_all"))
}

pub fn create_work_order(conn: &Connection, new: &NewWorkOrder) -> StoreResult<Created> {
    let now = now_micros();
    let work_order_id = new_id();
    let dataclip_id = match &new.input {
        Input::Existing(id) => id.clone(),
        Input::New(input) => dataclips::insert(
            conn,
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
    conn.prepare_cached("INSERT INTO work_orders (id, workflow_id, version_id, trigger_id, origin, dataclip_id, state, received_at, last_activity, run_count, source_address)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?7, 1, ?8)")?.execute(params![work_order_id, new.workflow_id, new.version_id, new.trigger_id, new.origin.as_str(), dataclip_id, now, new.source_address],
    )?;
    counts::record_new(
        conn,
        &new.workflow_id,
        now,
        WorkOrderState::Pending.as_str(),
    )?;
    refs::index_new(conn, "work_orders", &work_order_id)?;
    if let Input::New(input) = &new.input
        && !erases_payloads(conn, &new.project_id)?
    {
        dataclips::index(
            conn,
            &work_order_id,
            "input",
            &dataclip_id,
            &input.search_text,
        )?;
    }
    let run_id = insert_run(
        conn,
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
    conn: &Connection,
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
    conn.prepare_cached("INSERT INTO runs (id, work_order_id, version_id, starting_job, dataclip_id, origin, state, priority, attempt, not_before, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'available', ?7, ?8, ?9, ?10)")?.execute(params![run_id, work_order_id, version_id, starting_job, dataclip_id, origin.as_str(), priority, attempt, not_before, now_micros()],
    )?;
    refs::index_new(conn, "runs", &run_id)?;
    Ok(run_id)
}

/// Re-derives a work order's state from its runs: the latest run's state, unless another
/// run is still in flight (started before available before claimed). Also refreshes the
/// list columns (run count, duration, first error) and bumps last activity.
pub fn refresh_work_order(conn: &Connection, work_order_id: &str) -> StoreResult<WorkOrderState> {
    // One read of the work order's runs (usually one or two) instead of a query for each
    // answer: ordering by id in SQL here made SQLite re-prepare the statement on every call.
    let runs: Vec<(String, String, Option<i64>, Option<i64>)> = conn
        .prepare_cached(
            "SELECT id, state, started_at, finished_at FROM runs WHERE work_order_id = ?1",
        )?
        .query_map([work_order_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    let Some((latest_id, latest_state, started, finished)) =
        runs.iter().max_by(|a, b| a.0.cmp(&b.0)).cloned()
    else {
        return Err(StoreError::Invalid(format!(
            "work order {work_order_id} has no runs"
        )));
    };
    // In flight: started before available before claimed; the newest of a kind first.
    let in_flight_rank = |state: &str| match state {
        "started" => Some(0),
        "available" => Some(1),
        "claimed" => Some(2),
        _ => None,
    };
    let in_flight = runs
        .iter()
        .filter_map(|(id, state, _, _)| in_flight_rank(state).map(|rank| (rank, id, state)))
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, _, state)| state.clone());
    let run_state = |text: &str| {
        RunState::parse(text)
            .ok_or_else(|| StoreError::Invalid(format!("unknown run state {text}")))
    };
    let state = WorkOrderState::from_run(run_state(in_flight.as_deref().unwrap_or(&latest_state))?);
    let run_count = runs.len() as i64;
    let duration = match (started, finished) {
        (Some(s), Some(f)) => Some((f - s) / 1000),
        _ => None,
    };
    // The first step of the latest run that did not succeed, else the run's own error.
    // Earliest picked here, not by ORDER BY, and no join or `IN (subquery)` on the bound
    // id: the first two made SQLite re-prepare the statement on every call, the third
    // builds a temporary B-tree on every call. A run has a handful of steps.
    type StepError = (Option<i64>, String, Option<String>, Option<String>);
    let step_ids: Vec<String> = conn
        .prepare_cached("SELECT step_id FROM run_steps WHERE run_id = ?1")?
        .query_map([&latest_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut failed_steps: Vec<StepError> = Vec::new();
    for step_id in &step_ids {
        let failed = conn
            .prepare_cached(
                "SELECT started_at, job_name, error_type, error_message FROM steps
                 WHERE id = ?1 AND exit_reason IS NOT NULL AND exit_reason <> 'success'",
            )?
            .query_row([step_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        failed_steps.extend(failed);
    }
    let step_error = failed_steps
        .into_iter()
        .min_by_key(|(started_at, ..)| *started_at)
        .map(|(_, job, kind, message)| (job, kind, message));
    let error = match step_error {
        Some(found) => Some(found),
        None => conn
            .prepare_cached("SELECT COALESCE(starting_job, ''), error_type, error_message FROM runs WHERE id = ?1 AND error_type IS NOT NULL")?
            .query_row([&latest_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?,
    };
    let (error_job, error_type, error_message) = match error {
        Some((job, kind, message)) => (Some(job), kind, message),
        None => (None, None, None),
    };
    let (workflow_id, received_at, previous): (String, i64, String) = conn
        .prepare_cached("SELECT workflow_id, received_at, state FROM work_orders WHERE id = ?1")?
        .query_row([work_order_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    counts::record_change(conn, &workflow_id, received_at, &previous, state.as_str())?;
    conn.prepare_cached(
        "UPDATE work_orders SET state = ?2, last_activity = ?3, run_count = ?4, duration_ms = ?5,
            error_job = ?6, error_type = ?7, error_message = ?8 WHERE id = ?1",
    )?
    .execute(params![
        work_order_id,
        state.as_str(),
        now_micros(),
        run_count,
        duration,
        error_job,
        error_type,
        error_message
    ])?;
    Ok(state)
}

/// Marks runs a crashed daemon left `claimed`/`started` as lost, as Lightning's janitor
/// does, and returns the affected (run id, work order id) pairs.
pub fn mark_lost(conn: &Connection) -> StoreResult<Vec<(String, String)>> {
    let now = now_micros();
    let mut stmt = conn.prepare(
        "SELECT id, work_order_id, state FROM runs WHERE state IN ('claimed', 'started')",
    )?;
    let lost: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (run_id, work_order_id, state) in &lost {
        let error_type = if state == "claimed" {
            "LostAfterClaim"
        } else {
            "LostAfterStart"
        };
        conn.prepare_cached("UPDATE runs SET state = 'lost', error_type = ?2, error_message = ?3, finished_at = ?4 WHERE id = ?1")?.execute(params![run_id, error_type, "boltd stopped while this run was in progress (crash, kill or power loss)", now],
        )?;
        conn.prepare_cached("UPDATE steps SET exit_reason = 'lost', error_type = ?2, finished_at = ?3 WHERE run_id = ?1 AND finished_at IS NULL")?.execute(params![run_id, error_type, now],
        )?;
        refresh_work_order(conn, work_order_id)?;
        crate::notify::events::run_ended(conn, run_id)?;
    }
    Ok(lost.into_iter().map(|(r, w, _)| (r, w)).collect())
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

pub fn totals(conn: &Connection) -> StoreResult<Totals> {
    let count = |sql: &str| -> StoreResult<u64> {
        let n: i64 = conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?;
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

pub fn cancel_if_queued(conn: &Connection, run_id: &str) -> StoreResult<Cancelled> {
    let (state, work_order_id): (String, String) = conn
        .prepare_cached("SELECT state, work_order_id FROM runs WHERE id = ?1")?
        .query_row([run_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if state != "available" {
        return Ok(Cancelled {
            state: RunState::parse(&state).unwrap_or(RunState::Exception),
            work_order_id,
            work_order_state: None,
        });
    }
    conn.prepare_cached("UPDATE runs SET state = 'cancelled', finished_at = ?2 WHERE id = ?1")?
        .execute(params![run_id, now_micros()])?;
    let work_order_state = refresh_work_order(conn, &work_order_id)?;
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
pub fn input_of(conn: &Connection, work_order_id: &str) -> StoreResult<WorkOrderInput> {
    Ok(conn.query_row(
        "SELECT workflow_id, dataclip_id FROM work_orders WHERE id = ?1",
        [work_order_id],
        |r| {
            Ok(WorkOrderInput {
                workflow_id: r.get(0)?,
                dataclip_id: r.get(1)?,
            })
        },
    )?)
}

/// A saved input by name: its dataclip id, and whether its body is still there (retention
/// may have wiped it).
pub fn saved_input(conn: &Connection, name: &str) -> StoreResult<Option<(String, bool)>> {
    Ok(conn
        .prepare_cached("SELECT id, body IS NOT NULL FROM dataclips WHERE name = ?1")?
        .query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}
