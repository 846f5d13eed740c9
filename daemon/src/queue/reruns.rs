//! Reruns, as Lightning's "retry": a new run in the same work order on the workflow's
//! latest version — from the start with the original input, or from a step with that
//! step's stored input, attaching the upstream steps of the earlier run.

use crate::project::WorkflowSpec;
use crate::refs::{self, Resolved};
use crate::store::dataclips::{self, NewDataclip};
use crate::store::work_orders::{insert_run, refresh_work_order};
use crate::store::{StoreError, StoreResult, runs, steps};
use crate::workflows;
use bolt_shared::model::*;
use bolt_shared::protocol::{Event, RerunOutcome};
use bolt_sql::Db;

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
pub fn rerun(db: &dyn Db, reference: &str, from_job: Option<&str>) -> StoreResult<Queued> {
    let resolved = refs::resolve(db, reference)?;
    rerun_resolved(db, &resolved, from_job)
}

pub fn rerun_resolved(
    db: &dyn Db,
    resolved: &Resolved,
    from_job: Option<&str>,
) -> StoreResult<Queued> {
    let work_order = crate::store::work_orders::input_of(db, &resolved.work_order_id)?;
    let latest = workflows::find(db, &work_order.workflow_id).map_err(|_| {
        StoreError::Invalid("its workflow was deleted, so it cannot be rerun".into())
    })?;
    let (starting_job, clip, attach) = match from_job {
        None => {
            let clip = work_order
                .dataclip_id
                .ok_or_else(|| StoreError::Invalid("it has no input".into()))?;
            check_not_wiped(db, &clip)?;
            let first_start = runs::first_starting_job(db, &resolved.work_order_id)?;
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
            let step = steps::latest_of_job(db, &resolved.run_id, &job_key)?;
            let clip = step.map(|s| s.input_dataclip_id).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "job `{job_key}` did not run in run {}, so there is no input to start it with",
                    short_ref(&resolved.run_id)
                ))
            })?;
            let clip =
                clip.ok_or_else(|| StoreError::Invalid("that step has no stored input".into()))?;
            check_not_wiped(db, &clip)?;
            let attach = upstream_steps(db, &resolved.run_id, &latest.spec, &job_key)?;
            (Some(job_key), clip, attach)
        }
    };
    let attempt = runs::max_attempt(db, &resolved.work_order_id)?;
    let run_id = insert_run(
        db,
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
        steps::attach(db, &run_id, &step)?;
    }
    let state = refresh_work_order(db, &resolved.work_order_id)?;
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

fn check_not_wiped(db: &dyn Db, clip: &str) -> StoreResult<()> {
    let wiped = dataclips::wiped(db, clip)?;
    if wiped.wiped_at.is_some() {
        return Err(StoreError::Invalid(wiped_message(wiped.reason.as_deref())));
    }
    Ok(())
}

/// Steps of `run_id` whose jobs are not downstream of `job` (shown in the new run, not re-run).
fn upstream_steps(
    db: &dyn Db,
    run_id: &str,
    spec: &WorkflowSpec,
    job: &str,
) -> StoreResult<Vec<String>> {
    let downstream = crate::queue::plan::reachable_jobs(spec, job);
    Ok(steps::of_run(db, run_id)?
        .into_iter()
        .filter(|step| !downstream.contains(&step.job_key.as_str()))
        .map(|step| step.id)
        .collect())
}

/// Reruns one work order, turning "can't" into a skipped outcome (for bulk reruns).
pub fn rerun_or_skip(
    db: &dyn Db,
    work_order_id: &str,
    from_job: Option<&str>,
) -> StoreResult<Queued> {
    let resolved = match refs::resolve(db, work_order_id) {
        Ok(resolved) => resolved,
        Err(StoreError::Invalid(reason)) => return Ok(skipped(work_order_id, reason)),
        Err(err) => return Err(err),
    };
    match rerun_resolved(db, &resolved, from_job) {
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

/// Keeps a step's input as a named dataclip that retention never deletes.
pub fn save_input(db: &dyn Db, reference: &str, step: &str, name: &str) -> StoreResult<String> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid(
            "give the saved input a name with --name".into(),
        ));
    }
    let resolved = refs::resolve(db, reference)?;
    let found = steps::latest_named(db, &resolved.run_id, step)?;
    let clip = found.map(|s| s.input_dataclip_id).ok_or_else(|| {
        StoreError::Invalid(format!(
            "run {} has no step for job `{step}`",
            short_ref(&resolved.run_id)
        ))
    })?;
    let clip = clip.ok_or_else(|| StoreError::Invalid("that step has no stored input".into()))?;
    let dataclips::DataclipRow {
        kind,
        body,
        request,
        wiped_at,
        wipe_reason,
        project_id,
    } = dataclips::get(db, &clip)?;
    if wiped_at.is_some() {
        return Err(StoreError::Invalid(
            wiped_message(wipe_reason.as_deref()).replace("rerun", "saved"),
        ));
    }
    if dataclips::name_taken(db, name)? {
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
        db,
        &NewDataclip {
            project_id: project_id.as_deref(),
            kind: DataclipType::SavedInput,
            body: Some(&body),
            request: None,
            name: Some(name),
            wipe_reason: None,
            size_bytes: None,
        },
    )
}
