//! The events alerts tell of, written into the store in the transaction of the change
//! itself: a run's failing end, a new workflow version. Channels are matched later, by the
//! notifier, so writing an event costs one insert and never waits on a channel.

use crate::project::WorkflowSpec;
use crate::store::notify::{EndedRun, NewEvent, VersionRow, WorkflowRow};
use crate::store::{self, StoreError, StoreResult, from_micros, now_micros};
use crate::versions::compare;
use bolt_shared::versions::{ItemChange, ItemDiff, VersionOrigin};
use bolt_sql::{Db, DbExt, Dialect};
use serde_json::{Value, json};

/// Run states `run_failed` covers: every end but success and cancel.
pub const FAILED_STATES: [&str; 5] = ["failed", "crashed", "killed", "exception", "lost"];

/// Queues an event for the notifier. `workflow` is (key, name) for per-workflow events.
pub fn record(
    db: &dyn Db,
    event: &str,
    workflow: Option<(&str, &str)>,
    payload: &Value,
) -> StoreResult<()> {
    store::notify::insert_event(
        db,
        &NewEvent {
            event,
            workflow,
            payload: &payload.to_string(),
            created_at: now_micros(),
        },
    )
}

/// After a run's end is written: queues `run_failed` if it ended in a failure.
pub fn run_ended(db: &dyn Db, run_id: &str) -> StoreResult<()> {
    kept_apart(db, "run_failed", |db| try_run_ended(db, run_id))
}

fn try_run_ended(db: &dyn Db, run_id: &str) -> StoreResult<()> {
    let Some(EndedRun {
        state,
        error_type,
        error_message,
        started_at: started,
        finished_at: finished,
        attempt,
        work_order_id: wo,
        workflow_key: key,
        workflow_name: name,
        project_name: project,
        failed_job,
    }) = store::notify::ended_run(db, run_id)?
    else {
        return Ok(());
    };
    if !FAILED_STATES.contains(&state.as_str()) {
        return Ok(());
    }
    let what = match (&error_type, &failed_job) {
        (Some(t), Some(job)) => format!("{t} in job {job}"),
        (Some(t), None) => t.clone(),
        (None, Some(job)) => format!("job {job}"),
        (None, None) => "no error recorded".into(),
    };
    let payload = json!({
        "event": "run_failed",
        "summary": format!("run of workflow {name} {state}: {what}"),
        "time": from_micros(now_micros()),
        "project": project,
        "workflow": { "key": key, "name": name },
        // What to type to see it all.
        "show": format!("bolt show {}", bolt_shared::model::short_ref(&wo)),
        "run": {
            "id": run_id,
            "work_order_id": wo,
            "state": state,
            "attempt": attempt,
            "error_type": error_type,
            // Scrubbed of credentials' secrets when it was recorded.
            "error_message": error_message,
            "failed_job": failed_job,
            "started_at": started.map(from_micros),
            "finished_at": finished.map(from_micros),
        },
    });
    record(db, "run_failed", Some((&key, &name)), &payload)
}

/// After version `version` of a workflow is written: queues `workflow_changed` with who
/// made it, how, and what changed since the version before.
pub fn workflow_changed(db: &dyn Db, workflow_id: &str, version: i64) -> StoreResult<()> {
    kept_apart(db, "workflow_changed", |db| {
        try_workflow_changed(db, workflow_id, version)
    })
}

fn try_workflow_changed(db: &dyn Db, workflow_id: &str, version: i64) -> StoreResult<()> {
    let rows = store::notify::version_and_previous(db, workflow_id, version)?;
    let Some(VersionRow {
        snapshot,
        actor,
        origin,
        created_at,
        project_name: project,
        ..
    }) = rows.first().cloned()
    else {
        return Ok(());
    };
    let spec = parse(&snapshot)?;
    let origin: VersionOrigin = origin
        .and_then(|o| serde_json::from_str(&o).ok())
        .unwrap_or(VersionOrigin::Unknown);
    let (summary, changes, previous) = match rows.get(1) {
        Some(VersionRow {
            version: before,
            snapshot: old,
            ..
        }) => {
            let differences = compare::compare(&parse(old)?, &spec, *before, version);
            (
                compare::summary(&differences),
                json!({
                    "settings": differences.settings.iter().map(|f| f.field.clone()).collect::<Vec<_>>(),
                    "globals": differences.globals.is_some(),
                    "jobs": items(&differences.jobs),
                    "triggers": items(&differences.triggers),
                    "edges": items(&differences.edges),
                }),
                Some(*before),
            )
        }
        None => (compare::created_summary(&spec), Value::Null, None),
    };
    let actor = actor.unwrap_or_else(|| "unknown".into());
    let payload = json!({
        "event": "workflow_changed",
        "summary": format!("workflow {} changed by {actor} ({}): v{version}: {summary}", spec.name, origin.describe()),
        "time": from_micros(created_at),
        "project": project,
        "workflow": { "key": spec.key, "name": spec.name },
        "version": version,
        "previous_version": previous,
        "actor": actor,
        "how": origin.describe(),
        "changes_summary": summary,
        "changes": changes,
    });
    record(
        db,
        "workflow_changed",
        Some((&spec.key, &spec.name)),
        &payload,
    )
}

/// After a deploy removed a workflow (its project file no longer lists it): queues
/// `workflow_changed` saying so.
pub fn workflow_removed(db: &dyn Db, workflow_id: &str) -> StoreResult<()> {
    kept_apart(db, "workflow_changed", |db| {
        try_workflow_removed(db, workflow_id)
    })
}

fn try_workflow_removed(db: &dyn Db, workflow_id: &str) -> StoreResult<()> {
    let Some(WorkflowRow {
        key,
        name,
        version,
        project_name: project,
    }) = store::notify::workflow(db, workflow_id)?
    else {
        return Ok(());
    };
    let actor = crate::actor::current();
    let payload = json!({
        "event": "workflow_changed",
        "summary": format!("workflow {name} removed by {actor} (deploy): it is no longer in the project file"),
        "time": from_micros(now_micros()),
        "project": project,
        "workflow": { "key": key, "name": name },
        "version": version,
        "previous_version": version,
        "actor": actor,
        "how": "deploy",
        "removed": true,
        "changes_summary": "workflow removed",
        "changes": Value::Null,
    });
    record(db, "workflow_changed", Some((&key, &name)), &payload)
}

/// An alert that can't be made never undoes the change it tells of: it is logged and
/// dropped. Only the disk's faults go on (the change fails with them anyway, and the
/// store must hear of them).
/// On PostgreSQL a failed statement would abort the change's whole transaction, so the
/// alert's statements run in a savepoint there.
fn kept_apart(
    db: &dyn Db,
    event: &str,
    make: impl FnOnce(&dyn Db) -> StoreResult<()>,
) -> StoreResult<()> {
    let result = match db.dialect() {
        Dialect::Sqlite => make(db),
        Dialect::Postgres => db.in_transaction(|tx| make(tx)),
    };
    match result {
        Err(StoreError::Refusing(refusal)) => Err(StoreError::Refusing(refusal)),
        Err(err) if err.disk_fault().is_some() => Err(err),
        Err(err) => {
            tracing::warn!(%err, event, "alerts: this event could not be queued; the change itself is kept");
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}

fn parse(snapshot: &str) -> StoreResult<WorkflowSpec> {
    serde_json::from_str(snapshot)
        .map_err(|e| StoreError::Internal(format!("a workflow version is unreadable: {e}")))
}

/// `{added: [...], removed: [...], changed: [{name, fields}]}` by label.
fn items(diffs: &[ItemDiff]) -> Value {
    let labels = |change: ItemChange| -> Vec<String> {
        diffs
            .iter()
            .filter(|d| d.change == change)
            .map(|d| d.label.clone())
            .collect()
    };
    let changed: Vec<Value> = diffs
        .iter()
        .filter(|d| d.change == ItemChange::Changed)
        .map(|d| {
            let mut fields: Vec<String> = d.fields.iter().map(|f| f.field.clone()).collect();
            if let Some(code) = &d.code {
                fields.insert(0, format!("code +{} -{}", code.added, code.removed));
            }
            json!({ "name": d.label, "fields": fields })
        })
        .collect();
    json!({
        "added": labels(ItemChange::Added),
        "removed": labels(ItemChange::Removed),
        "changed": changed,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::suite;
    use bolt_sql::params;

    #[test]
    fn an_event_that_cannot_be_made_does_not_fail_the_change() {
        suite::on_each_backend(|db| {
            db.in_transaction(|tx| -> StoreResult<()> {
                suite::seed(
                    tx,
                    "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0);
                     INSERT INTO workflows (id, project_id, key, name, created_at, updated_at) VALUES ('w', 'p', 'w', 'W', 0, 0);
                     INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v', 'w', 1, 'not json', 'h', 0);",
                );
                workflow_changed(tx, "w", 1).unwrap();
                // A run that isn't there (or didn't fail) queues nothing either.
                run_ended(tx, "no-such-run").unwrap();
                Ok(())
            })
            .unwrap();
            let queued: i64 = db
                .query_one("SELECT COUNT(*) FROM notify_events", params![])
                .unwrap();
            assert_eq!(queued, 0);
            let versions: i64 = db
                .query_one("SELECT COUNT(*) FROM workflow_versions", params![])
                .unwrap();
            assert_eq!(versions, 1, "the change itself is kept");
        });
    }

    #[test]
    fn a_failed_run_and_a_new_version_queue_their_events() {
        suite::on_each_backend(|db| {
            suite::seed(
                db,
                "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0);
                 INSERT INTO workflows (id, project_id, key, name, version, created_at, updated_at) VALUES ('w', 'p', 'w', 'W', 1, 0, 0);
                 INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v', 'w', 1, '{\"name\":\"W\",\"jobs\":{},\"triggers\":[],\"edges\":[]}', 'h', 0);
                 INSERT INTO work_orders (id, workflow_id, version_id, origin, state, received_at, last_activity)
                     VALUES ('wo', 'w', 'v', 'webhook', 'failed', 0, 0);
                 INSERT INTO runs (id, work_order_id, version_id, origin, state, created_at)
                     VALUES ('r', 'wo', 'v', 'webhook', 'failed', 0);",
            );
            run_ended(db, "r").unwrap();
            workflow_removed(db, "w").unwrap();
            let events: Vec<String> = db
                .query_map(
                    "SELECT event FROM notify_events ORDER BY id",
                    params![],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(events, ["run_failed", "workflow_changed"]);
        });
    }
}
