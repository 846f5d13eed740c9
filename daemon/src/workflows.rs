//! Reading and changing deployed workflows (for `bolt workflows`, the TUI and the runner).

use crate::project::{self, WorkflowSpec, parse_cron};
use crate::store::workflows::{self as rows, DeployedRow};
use crate::store::{StoreError, StoreResult, now_micros, versions};
use bolt_shared::model::*;
use bolt_shared::versions::VersionOrigin;
use bolt_sql::Db;

/// A live workflow row with its latest spec.
pub struct Deployed {
    pub id: String,
    pub project_id: String,
    pub project: String,
    pub enabled: bool,
    pub version: i64,
    pub version_id: String,
    pub spec: WorkflowSpec,
}

fn to_deployed(row: DeployedRow) -> StoreResult<Deployed> {
    let spec = serde_json::from_str(&row.snapshot)
        .map_err(|e| StoreError::Invalid(format!("unreadable workflow snapshot: {e}")))?;
    Ok(Deployed {
        id: row.id,
        project_id: row.project_id,
        project: row.project,
        enabled: row.enabled,
        version: row.version,
        version_id: row.version_id,
        spec,
    })
}

pub fn all(db: &dyn Db) -> StoreResult<Vec<Deployed>> {
    rows::deployed(db)?.into_iter().map(to_deployed).collect()
}

/// Finds a workflow by id, key or name (case-insensitive), or by `PROJECT/WORKFLOW` when
/// several projects have one of that name, with a helpful error.
pub fn find(db: &dyn Db, reference: &str) -> StoreResult<Deployed> {
    let mut found = rows::deployed_matching(db, reference)?;
    if found.is_empty()
        && let Some((project, workflow)) = reference.split_once('/')
    {
        found = rows::deployed_in_project(db, project, workflow)?;
    }
    match found.len() {
        1 => to_deployed(
            found
                .into_iter()
                .next()
                .ok_or_else(|| StoreError::Invalid("vanished".into()))?,
        ),
        0 => {
            let names: Vec<String> = all(db)?.into_iter().map(|d| d.spec.key).collect();
            Err(StoreError::Invalid(format!(
                "no workflow `{reference}`; the workflows are: {}",
                if names.is_empty() {
                    "(none — deploy a project first)".into()
                } else {
                    names.join(", ")
                }
            )))
        }
        _ => {
            let choices: Vec<String> = found
                .iter()
                .map(|row| format!("{}/{reference}", row.project))
                .collect();
            Err(StoreError::Invalid(format!(
                "`{reference}` names several workflows; say which with PROJECT/WORKFLOW ({}) or use its id (see `bolt workflows --json`)",
                choices.join(", ")
            )))
        }
    }
}

/// The version a work order or run pinned.
pub fn version(db: &dyn Db, version_id: &str) -> StoreResult<(i64, WorkflowSpec)> {
    let found = versions::by_id(db, version_id)?;
    let spec = serde_json::from_str(&found.snapshot)
        .map_err(|e| StoreError::Invalid(format!("unreadable workflow snapshot: {e}")))?;
    Ok((found.version, spec))
}

pub fn view(
    db: &dyn Db,
    deployed: &Deployed,
    public_url: Option<&str>,
) -> StoreResult<WorkflowView> {
    let mut triggers = Vec::new();
    for trigger in &deployed.spec.triggers {
        let id = rows::trigger_id(db, &deployed.id, &trigger.key)?.unwrap_or_default();
        let schedule = trigger
            .cron_expression
            .as_deref()
            .and_then(|e| parse_cron(e).ok());
        let webhook_url = (trigger.kind == TriggerType::Webhook).then(|| {
            let tail = trigger.custom_path.clone().unwrap_or_else(|| id.clone());
            format!("{}/i/{tail}", public_url.unwrap_or(""))
        });
        triggers.push(TriggerView {
            id,
            key: trigger.key.clone(),
            kind: trigger.kind,
            enabled: trigger.enabled,
            cron_expression: trigger.cron_expression.clone(),
            cron_description: schedule.as_ref().map(|s| s.describe()),
            next_fire: schedule
                .as_ref()
                .and_then(|s| s.next_after(chrono::Utc::now())),
            custom_path: trigger.custom_path.clone(),
            webhook_url,
            webhook_reply: Some(trigger.webhook_reply),
            auth: trigger.webhook_auth.clone(),
        });
    }
    let since = now_micros() - 24 * 3600 * 1_000_000;
    let outcomes = rows::outcomes_since(db, &deployed.id, since)?;
    Ok(WorkflowView {
        id: deployed.id.clone(),
        project: deployed.project.clone(),
        key: deployed.spec.key.clone(),
        name: deployed.spec.name.clone(),
        enabled: deployed.enabled,
        version: deployed.version,
        constants: deployed.spec.constants.clone(),
        triggers,
        jobs: deployed
            .spec
            .jobs
            .iter()
            .map(|j| JobView {
                id: j.key.clone(),
                key: j.key.clone(),
                name: j.name.clone(),
                adaptor: j.adaptor.clone(),
                credential: j.credential.clone(),
                body: j.body.clone(),
            })
            .collect(),
        edges: deployed
            .spec
            .edges
            .iter()
            .map(|e| EdgeView {
                id: e.key.clone(),
                key: e.key.clone(),
                source_trigger: e.source_trigger.clone(),
                source_job: e.source_job.clone(),
                target_job: e.target_job.clone(),
                condition: e.condition,
                expression: e.expression.clone(),
                label: e.label.clone(),
                enabled: e.enabled,
            })
            .collect(),
        success_24h: outcomes.success as u64,
        failed_24h: outcomes.failed as u64,
    })
}

pub fn set_enabled(db: &dyn Db, reference: &str, enabled: bool) -> StoreResult<String> {
    let deployed = find(db, reference)?;
    rows::set_enabled(db, &deployed.id, enabled, now_micros())?;
    project::audit_event(
        db,
        if enabled { "enabled" } else { "disabled" },
        "workflow",
        &deployed.spec.key,
    )?;
    Ok(deployed.spec.name)
}

/// Replaces a job's code, creating a new workflow version. Returns the new version number.
pub fn update_job(db: &dyn Db, reference: &str, job: &str, body: &str) -> StoreResult<i64> {
    let deployed = find(db, reference)?;
    let mut spec = deployed.spec.clone();
    let Some(target) = spec.jobs.iter_mut().find(|j| j.key == job || j.name == job) else {
        let keys: Vec<&str> = deployed.spec.jobs.iter().map(|j| j.key.as_str()).collect();
        return Err(StoreError::Invalid(format!(
            "workflow `{}` has no job `{job}`; its jobs are: {}",
            deployed.spec.key,
            keys.join(", ")
        )));
    };
    if target.body == body {
        return Ok(deployed.version);
    }
    target.body = body.to_string();
    target.body_path = None;
    let origin = VersionOrigin::JobEdit {
        job: target.key.clone(),
    };
    project::write_workflow(db, &deployed.project_id, &spec, now_micros(), &origin)?;
    project::audit_event(
        db,
        "job_updated",
        "workflow",
        &format!("{}/{job}", deployed.spec.key),
    )?;
    Ok(deployed.version + 1)
}

/// Replaces a workflow's constants (the TUI's table), creating a new version; job code and
/// globals are untouched. Returns the new version number (the current one when equal).
pub fn set_constants(
    db: &dyn Db,
    reference: &str,
    constants: serde_json::Map<String, serde_json::Value>,
) -> StoreResult<i64> {
    let deployed = find(db, reference)?;
    if let Some(bad) = constants.keys().find(|k| !project::is_constant_name(k)) {
        return Err(StoreError::Invalid(format!(
            "`{bad}` can't be a constant's name: jobs read constants as JavaScript names (letters, digits, `_` or `$`, not starting with a digit)"
        )));
    }
    let mut spec = deployed.spec.clone();
    if spec.constants == constants {
        return Ok(deployed.version);
    }
    let changed: Vec<String> = constants
        .iter()
        .filter(|(k, v)| spec.constants.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .chain(
            spec.constants
                .keys()
                .filter(|k| !constants.contains_key(*k))
                .cloned(),
        )
        .collect();
    spec.constants = constants;
    project::check_globals(&spec).map_err(StoreError::Invalid)?;
    let origin = VersionOrigin::ConstantsEdit {
        names: changed.clone(),
    };
    project::write_workflow(db, &deployed.project_id, &spec, now_micros(), &origin)?;
    project::audit(
        db,
        "constants_updated",
        "workflow",
        &deployed.spec.key,
        Some(serde_json::json!({ "project": deployed.project, "names": changed })),
    )?;
    Ok(deployed.version + 1)
}
