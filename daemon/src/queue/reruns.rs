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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::project::{EdgeSpec, JobSpec};
    use crate::store::suite;
    use crate::store::work_orders::fixture;
    use bolt_sql::{DbExt, params};

    /// Ids below any new (time-ordered) run id: the rerun is the work order's latest run.
    const WO: &str = "00000000-0000-7000-8000-0000000000a0";
    const RUN: &str = "00000000-0000-7000-8000-0000000000b0";

    fn job(key: &str) -> JobSpec {
        JobSpec {
            key: key.into(),
            name: key.to_uppercase(),
            adaptor: "@openfn/language-common@3.3.4".into(),
            credential: None,
            body: "fn(s => s)".into(),
            body_path: None,
            resolved_adaptor: None,
            enable_job_logs: None,
        }
    }

    /// Workflow `w` (a → b) whose run failed in `b`, each step on its own input.
    fn failed_in_b(db: &dyn Db) {
        let spec = WorkflowSpec {
            key: "w".into(),
            name: "W".into(),
            settings: Default::default(),
            globals: None,
            constants: Default::default(),
            jobs: vec![job("a"), job("b")],
            triggers: vec![],
            edges: vec![EdgeSpec {
                key: "a->b".into(),
                source_trigger: None,
                source_job: Some("a".into()),
                target_job: "b".into(),
                condition: ConditionType::Always,
                expression: None,
                label: None,
                enabled: true,
            }],
        };
        fixture::project(db, "p", None);
        fixture::workflow(db, "w", "p", None);
        db.execute(
            "UPDATE workflow_versions SET snapshot = ?1 WHERE id = 'v-w'",
            params![serde_json::to_string(&spec).unwrap()],
        )
        .unwrap();
        fixture::work_order(db, WO, "w", "p");
        fixture::run(db, RUN, WO, "w", "failed", 1);
        suite::seed(
            db,
            &format!(
                "UPDATE workflows SET version = 1 WHERE id = 'w';
                 INSERT INTO dataclips (id, project_id, type, body, created_at) VALUES ('mid', 'p', 'step_result', '{{\"m\":2}}', 0);
                 INSERT INTO steps (id, run_id, job_key, job_name, input_dataclip_id, exit_reason, started_at) VALUES ('sa', '{RUN}', 'a', 'A', 'in-{WO}', 'success', 1);
                 INSERT INTO steps (id, run_id, job_key, job_name, input_dataclip_id, exit_reason, started_at) VALUES ('sb', '{RUN}', 'b', 'B', 'mid', 'fail', 2);
                 INSERT INTO run_steps (run_id, step_id) VALUES ('{RUN}', 'sa'), ('{RUN}', 'sb')"
            ),
        );
    }

    fn new_run(db: &dyn Db, queued: &Queued) -> (Option<String>, String, String, i64) {
        let run_id = queued.outcome.run_id.as_deref().unwrap();
        db.query_row(
            "SELECT starting_job, dataclip_id, origin, priority FROM runs WHERE id = ?1",
            params![run_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap()
        .unwrap()
    }

    #[test]
    fn a_rerun_starts_over_with_the_input_or_from_a_job_with_its_steps_input() {
        suite::on_each_backend(|db| {
            failed_in_b(db);
            let from_start = rerun(db, WO, None).unwrap();
            assert_eq!(
                new_run(db, &from_start),
                (None, format!("in-{WO}"), "rerun".into(), 0)
            );
            assert_eq!(from_start.events.len(), 2);
            let state: String = db
                .query_one("SELECT state FROM work_orders WHERE id = ?1", params![WO])
                .unwrap();
            assert_eq!(state, "pending");

            // From job b (by name), of the run named: a's step is attached, not re-run.
            let from_b = rerun(db, RUN, Some("B")).unwrap();
            assert_eq!(
                new_run(db, &from_b),
                (Some("b".into()), "mid".into(), "rerun".into(), 0)
            );
            let new_run_id = from_b.outcome.run_id.as_deref().unwrap();
            let shown: Vec<String> = crate::store::steps::of_run(db, new_run_id)
                .unwrap()
                .into_iter()
                .map(|s| s.id)
                .collect();
            assert_eq!(shown, ["sa"]);

            let no_job = rerun(db, WO, Some("c"));
            assert!(
                matches!(no_job, Err(StoreError::Invalid(m)) if m.contains("its jobs are: a, b"))
            );
        });
    }

    #[test]
    fn bulk_reruns_skip_what_cannot_be_rerun_saying_why() {
        suite::on_each_backend(|db| {
            failed_in_b(db);
            suite::seed(
                db,
                &format!(
                    "UPDATE dataclips SET body = NULL, wiped_at = 5, wipe_reason = 'retention' WHERE id = 'in-{WO}'"
                ),
            );
            let wiped = rerun_or_skip(db, WO, None).unwrap();
            assert_eq!(wiped.outcome.run_id, None);
            assert!(wiped.outcome.skipped.unwrap().contains("retention policy"));
            assert!(wiped.events.is_empty());
            let unknown = rerun_or_skip(db, "00000000-0000-7000-8000-0000000000ff", None).unwrap();
            assert!(
                unknown
                    .outcome
                    .skipped
                    .unwrap()
                    .contains("no work order, run or step")
            );
            // From b, its own input is still there.
            let from_b = rerun_or_skip(db, WO, Some("b")).unwrap();
            assert!(from_b.outcome.run_id.is_some());
        });
    }

    #[test]
    fn a_steps_input_is_saved_under_a_name_once() {
        suite::on_each_backend(|db| {
            failed_in_b(db);
            let id = save_input(db, RUN, "b", "replay-b").unwrap();
            let saved: (String, Option<String>, String) = db
                .query_row(
                    "SELECT type, body, name FROM dataclips WHERE id = ?1",
                    params![id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap()
                .unwrap();
            assert_eq!(
                saved,
                (
                    "saved_input".into(),
                    Some(r#"{"m":2}"#.into()),
                    "replay-b".into()
                )
            );
            let taken = save_input(db, RUN, "b", "replay-b");
            assert!(matches!(taken, Err(StoreError::Invalid(m)) if m.contains("exists already")));
            let no_step = save_input(db, RUN, "c", "other");
            assert!(matches!(no_step, Err(StoreError::Invalid(m)) if m.contains("has no step")));
            assert!(matches!(
                save_input(db, RUN, "b", " "),
                Err(StoreError::Invalid(_))
            ));
        });
    }
}
