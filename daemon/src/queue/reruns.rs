//! Reruns, as Lightning's "retry": a new run in the same work order on the workflow's
//! latest version — from the start with the original input, or from a step with that
//! step's stored input, attaching the upstream steps of the earlier run.

use crate::project::WorkflowSpec;
use crate::refs::{self, Resolved};
use crate::store::dataclips::{self, NewDataclip};
use crate::store::work_orders::{insert_run, refresh_work_order};
use crate::store::{StoreError, StoreResult};
use crate::workflows;
use bolt_shared::model::*;
use bolt_shared::protocol::{Event, RerunOutcome};
use rusqlite::{Connection, OptionalExtension, params};

/// (type, body, request, wiped at, wipe reason, project)
type ClipRow = (
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// What a queued rerun announces.
pub struct Queued {
    pub outcome: RerunOutcome,
    pub events: Vec<Event>,
}

fn wiped_message(reason: Option<&str>) -> String {
    match reason {
        Some("too_large") => "its input was too large to be stored, so it cannot be rerun".into(),
        Some("zero_persistence") => "its input was erased as soon as it was read (the project's retention policy is erase_all), so it cannot be rerun".into(),
        _ => "its input was wiped by the project's data retention policy, so it cannot be rerun".into(),
    }
}

/// Reruns the work order a reference belongs to. Errors say why a rerun is impossible.
pub fn rerun(conn: &Connection, reference: &str, from_job: Option<&str>) -> StoreResult<Queued> {
    let resolved = refs::resolve(conn, reference)?;
    rerun_resolved(conn, &resolved, from_job)
}

pub fn rerun_resolved(
    conn: &Connection,
    resolved: &Resolved,
    from_job: Option<&str>,
) -> StoreResult<Queued> {
    let (workflow_id, input_clip, trigger): (String, Option<String>, Option<String>) = conn
        .query_row(
            "SELECT workflow_id, dataclip_id, trigger_id FROM work_orders WHERE id = ?1",
            [&resolved.work_order_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
    let _ = trigger;
    let latest = workflows::find(conn, &workflow_id).map_err(|_| {
        StoreError::Invalid("its workflow was deleted, so it cannot be rerun".into())
    })?;
    let (starting_job, clip, attach) = match from_job {
        None => {
            let clip = input_clip.ok_or_else(|| StoreError::Invalid("it has no input".into()))?;
            check_not_wiped(conn, &clip)?;
            let first_start: Option<String> = conn.query_row(
                "SELECT starting_job FROM runs WHERE work_order_id = ?1 ORDER BY id LIMIT 1",
                [&resolved.work_order_id],
                |r| r.get(0),
            )?;
            (first_start, clip, Vec::new())
        }
        Some(job) => {
            let job_key = latest
                .spec
                .jobs
                .iter()
                .find(|j| j.key == job || j.name == job)
                .map(|j| j.key.clone())
                .ok_or_else(|| {
                    let keys: Vec<&str> = latest.spec.jobs.iter().map(|j| j.key.as_str()).collect();
                    StoreError::Invalid(format!(
                        "workflow `{}` has no job `{job}`; its jobs are: {}",
                        latest.spec.key,
                        keys.join(", ")
                    ))
                })?;
            let step: Option<(String, Option<String>)> = conn
                .query_row(
                    "SELECT s.id, s.input_dataclip_id FROM run_steps rs JOIN steps s ON s.id = rs.step_id
                     WHERE rs.run_id = ?1 AND s.job_key = ?2 ORDER BY s.started_at DESC LIMIT 1",
                    params![resolved.run_id, job_key],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (_, clip) = step.ok_or_else(|| {
                StoreError::Invalid(format!(
                    "job `{job_key}` did not run in run {}, so there is no input to start it with",
                    short_ref(&resolved.run_id)
                ))
            })?;
            let clip =
                clip.ok_or_else(|| StoreError::Invalid("that step has no stored input".into()))?;
            check_not_wiped(conn, &clip)?;
            let attach = upstream_steps(conn, &resolved.run_id, &latest.spec, &job_key)?;
            (Some(job_key), clip, attach)
        }
    };
    let attempt: i64 = conn.query_row(
        "SELECT COALESCE(MAX(attempt), 0) FROM runs WHERE work_order_id = ?1",
        [&resolved.work_order_id],
        |r| r.get(0),
    )?;
    let run_id = insert_run(
        conn,
        &resolved.work_order_id,
        &latest.version_id,
        starting_job.as_deref(),
        &clip,
        Origin::Rerun,
        0,
        attempt.max(1),
        0,
    )?;
    for step in attach {
        conn.execute(
            "INSERT OR IGNORE INTO run_steps (run_id, step_id, attached) VALUES (?1, ?2, 1)",
            params![run_id, step],
        )?;
    }
    let state = refresh_work_order(conn, &resolved.work_order_id)?;
    Ok(Queued {
        outcome: RerunOutcome {
            work_order_id: resolved.work_order_id.clone(),
            run_id: Some(run_id.clone()),
            skipped: None,
        },
        events: vec![
            Event::RunChanged {
                id: run_id,
                work_order_id: resolved.work_order_id.clone(),
                state: RunState::Available,
                created: true,
            },
            Event::WorkOrderChanged {
                id: resolved.work_order_id.clone(),
                state,
                created: false,
            },
        ],
    })
}

fn check_not_wiped(conn: &Connection, clip: &str) -> StoreResult<()> {
    let (wiped, reason): (Option<i64>, Option<String>) = conn.query_row(
        "SELECT wiped_at, wipe_reason FROM dataclips WHERE id = ?1",
        [clip],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if wiped.is_some() {
        return Err(StoreError::Invalid(wiped_message(reason.as_deref())));
    }
    Ok(())
}

/// Steps of `run_id` whose jobs are not downstream of `job` (shown in the new run, not re-run).
fn upstream_steps(
    conn: &Connection,
    run_id: &str,
    spec: &WorkflowSpec,
    job: &str,
) -> StoreResult<Vec<String>> {
    let downstream = crate::queue::plan::reachable_jobs(spec, job);
    let mut stmt = conn.prepare_cached("SELECT s.id, s.job_key FROM run_steps rs JOIN steps s ON s.id = rs.step_id WHERE rs.run_id = ?1")?;
    let rows: Vec<(String, String)> = stmt
        .query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .filter(|(_, key)| !downstream.contains(&key.as_str()))
        .map(|(id, _)| id)
        .collect())
}

/// Reruns one work order, turning "can't" into a skipped outcome (for bulk reruns).
pub fn rerun_or_skip(
    conn: &Connection,
    work_order_id: &str,
    from_job: Option<&str>,
) -> StoreResult<Queued> {
    let resolved = match refs::resolve(conn, work_order_id) {
        Ok(resolved) => resolved,
        Err(StoreError::Invalid(reason)) => return Ok(skipped(work_order_id, reason)),
        Err(err) => return Err(err),
    };
    match rerun_resolved(conn, &resolved, from_job) {
        Ok(queued) => Ok(queued),
        Err(StoreError::Invalid(reason)) => Ok(skipped(work_order_id, reason)),
        Err(err) => Err(err),
    }
}

fn skipped(work_order_id: &str, reason: String) -> Queued {
    Queued {
        outcome: RerunOutcome {
            work_order_id: work_order_id.to_string(),
            run_id: None,
            skipped: Some(reason),
        },
        events: Vec::new(),
    }
}

/// Every work order matching a filter, oldest received first (the order reruns happen in).
pub fn matching_ids(conn: &Connection, filter: &WorkOrderFilter) -> StoreResult<Vec<String>> {
    crate::history::matching_ids(conn, filter)
}

/// Keeps a step's input as a named dataclip that retention never deletes.
pub fn save_input(
    conn: &Connection,
    reference: &str,
    step: &str,
    name: &str,
) -> StoreResult<String> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid(
            "give the saved input a name with --name".into(),
        ));
    }
    let resolved = refs::resolve(conn, reference)?;
    let found: Option<(Option<String>, String)> = conn
        .query_row(
            "SELECT s.input_dataclip_id, s.job_key FROM run_steps rs JOIN steps s ON s.id = rs.step_id
             WHERE rs.run_id = ?1 AND (s.job_key = ?2 OR s.job_name = ?2 OR s.id = ?2) ORDER BY s.started_at DESC LIMIT 1",
            params![resolved.run_id, step],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (clip, _) = found.ok_or_else(|| {
        StoreError::Invalid(format!(
            "run {} has no step for job `{step}`",
            short_ref(&resolved.run_id)
        ))
    })?;
    let clip = clip.ok_or_else(|| StoreError::Invalid("that step has no stored input".into()))?;
    let (kind, body, request, wiped, reason, project): ClipRow = conn.query_row(
        "SELECT type, body, request, wiped_at, wipe_reason, project_id FROM dataclips WHERE id = ?1",
        [&clip],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
    )?;
    if wiped.is_some() {
        return Err(StoreError::Invalid(
            wiped_message(reason.as_deref()).replace("rerun", "saved"),
        ));
    }
    let taken: bool = conn.query_row(
        "SELECT COUNT(*) > 0 FROM dataclips WHERE name = ?1",
        [name],
        |r| r.get(0),
    )?;
    if taken {
        return Err(StoreError::Invalid(format!(
            "a saved input named `{name}` exists already; pick another name"
        )));
    }
    // Save exactly what the job saw: webhook inputs are stored with their request wrapper.
    let body = body.ok_or_else(|| StoreError::Invalid("that input has no body".into()))?;
    let body = if kind == "http_request" {
        let data: serde_json::Value =
            serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
        let request: serde_json::Value = request
            .and_then(|r| serde_json::from_str(&r).ok())
            .unwrap_or(serde_json::Value::Null);
        serde_json::json!({"data": data, "request": request}).to_string()
    } else {
        body
    };
    dataclips::insert(
        conn,
        &NewDataclip {
            project_id: project.as_deref(),
            kind: DataclipType::SavedInput,
            body: Some(&body),
            request: None,
            name: Some(name),
            wipe_reason: None,
            size_bytes: None,
        },
    )
}
