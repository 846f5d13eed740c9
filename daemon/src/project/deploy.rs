//! Applying a project to the store: a diff, then one transaction. Every changed workflow
//! gets a new immutable version; deploying the same file twice changes nothing.

use super::kept::{self, DeployOptions};
use super::spec::*;
use crate::store::projects::{self as project_rows, DeployedSettings};
use crate::store::workflows::{
    self as workflow_rows, EdgeColumns, JobColumns, TriggerColumns, WorkflowColumns,
};
use crate::store::{StoreError, StoreResult, new_id, now_micros, versions};
use bolt_shared::protocol::DeployChange;
use bolt_shared::versions::VersionOrigin;
use bolt_sql::Db;
use std::collections::BTreeMap;

fn change(action: &str, what: &str, name: impl Into<String>) -> DeployChange {
    DeployChange {
        action: action.into(),
        what: what.into(),
        name: name.into(),
    }
}

/// The workflows of a project as last deployed (their latest version snapshots), by key.
pub fn current_workflows(
    db: &dyn Db,
    project_id: &str,
) -> StoreResult<BTreeMap<String, (String, WorkflowSpec)>> {
    let mut out = BTreeMap::new();
    for row in workflow_rows::current_snapshots(db, project_id)? {
        let spec: WorkflowSpec = serde_json::from_str(&row.snapshot).map_err(|e| {
            StoreError::Invalid(format!("workflow {}: unreadable snapshot: {e}", row.key))
        })?;
        out.insert(row.key, (row.id, spec));
    }
    Ok(out)
}

/// What deploying `spec` would change.
pub fn plan_changes(
    db: &dyn Db,
    spec: &ProjectSpec,
    options: DeployOptions,
) -> StoreResult<Vec<DeployChange>> {
    let mut changes = Vec::new();
    let existing = project_rows::id_by_name(db, &spec.name)?;
    let (kept_changes, kept_settings_changed) = kept::plan(db, existing.as_deref(), spec, options)?;
    let current = match existing {
        Some(id) => {
            let row = project_rows::by_id(db, &id)?.ok_or_else(|| {
                StoreError::Internal(format!("project {} vanished while deploying", spec.name))
            })?;
            let s = &spec.settings;
            let settings_changed = row.description != spec.description
                || s.retention_policy
                    .as_ref()
                    .is_some_and(|p| *p != row.retention_policy)
                || s.history_retention_days
                    .is_some_and(|d| Some(d) != row.history_retention_days)
                || s.dataclip_retention_days
                    .is_some_and(|d| Some(d) != row.dataclip_retention_days)
                || s.concurrency.is_some_and(|c| Some(c) != row.concurrency)
                || kept_settings_changed;
            if settings_changed {
                changes.push(change("updated", "project", &spec.name));
            }
            current_workflows(db, &id)?
        }
        None => {
            changes.push(change("created", "project", &spec.name));
            BTreeMap::new()
        }
    };
    for workflow in &spec.workflows {
        match current.get(&workflow.key) {
            None => {
                changes.push(change("created", "workflow", &workflow.name));
                for job in &workflow.jobs {
                    changes.push(change(
                        "created",
                        "job",
                        format!("{} / {}", workflow.name, job.name),
                    ));
                }
                for trigger in &workflow.triggers {
                    changes.push(change(
                        "created",
                        "trigger",
                        format!("{} / {}", workflow.name, trigger.key),
                    ));
                }
                for edge in &workflow.edges {
                    changes.push(change(
                        "created",
                        "edge",
                        format!("{} / {}", workflow.name, edge.key),
                    ));
                }
            }
            Some((_, old)) => diff_workflow(old, workflow, &mut changes),
        }
    }
    for (key, (_, old)) in &current {
        if !spec.workflows.iter().any(|w| &w.key == key) {
            changes.push(change("deleted", "workflow", &old.name));
        }
    }
    changes.extend(kept_changes);
    Ok(changes)
}

fn diff_workflow(old: &WorkflowSpec, new: &WorkflowSpec, changes: &mut Vec<DeployChange>) {
    if old.name != new.name || old.settings != new.settings {
        changes.push(change("updated", "workflow", &new.name));
    }
    diff_by_key(
        &old.jobs,
        &new.jobs,
        |j| &j.key,
        |j| format!("{} / {}", new.name, j.name),
        "job",
        changes,
        |a, b| {
            a.name == b.name
                && a.adaptor == b.adaptor
                && a.resolved_adaptor == b.resolved_adaptor
                && a.credential == b.credential
                && a.body == b.body
        },
    );
    diff_by_key(
        &old.triggers,
        &new.triggers,
        |t| &t.key,
        |t| format!("{} / {}", new.name, t.key),
        "trigger",
        changes,
        |a, b| a == b,
    );
    diff_by_key(
        &old.edges,
        &new.edges,
        |e| &e.key,
        |e| format!("{} / {}", new.name, e.key),
        "edge",
        changes,
        |a, b| a == b,
    );
}

fn diff_by_key<T>(
    old: &[T],
    new: &[T],
    key: impl Fn(&T) -> &String,
    label: impl Fn(&T) -> String,
    what: &str,
    changes: &mut Vec<DeployChange>,
    same: impl Fn(&T, &T) -> bool,
) {
    for item in new {
        match old.iter().find(|o| key(o) == key(item)) {
            None => changes.push(change("created", what, label(item))),
            Some(previous) if !same(previous, item) => {
                changes.push(change("updated", what, label(item)))
            }
            Some(_) => {}
        }
    }
    for item in old {
        if !new.iter().any(|n| key(n) == key(item)) {
            changes.push(change("deleted", what, label(item)));
        }
    }
}

/// Applies `spec` inside the caller's transaction and returns what changed.
pub fn apply(
    db: &dyn Db,
    spec: &ProjectSpec,
    source_file: Option<&str>,
    options: DeployOptions,
) -> StoreResult<Vec<DeployChange>> {
    let changes = plan_changes(db, spec, options)?;
    let now = now_micros();
    let project_id = write_project_row(db, spec, source_file, now)?;
    kept::apply(db, &project_id, spec, options, now)?;
    let current = current_workflows(db, &project_id)?;
    for (key, (id, _)) in &current {
        if !spec.workflows.iter().any(|w| &w.key == key) {
            workflow_rows::mark_deleted(db, id, now)?;
            crate::notify::events::workflow_removed(db, id)?;
        }
    }
    for workflow in &spec.workflows {
        let unchanged = current
            .get(&workflow.key)
            .is_some_and(|(_, old)| old == workflow);
        if !unchanged {
            let origin = VersionOrigin::Deploy {
                file: source_file.map(str::to_string),
            };
            write_workflow(db, &project_id, workflow, now, &origin)?;
            audit(
                db,
                "deployed",
                "workflow",
                &workflow.key,
                Some(serde_json::json!({ "project": spec.name, "file": source_file })),
            )?;
        }
    }
    if !changes.is_empty() {
        audit(
            db,
            "deploy",
            "project",
            &spec.name,
            serde_json::to_value(&changes).ok(),
        )?;
    }
    Ok(changes)
}

/// Creates the project `spec` names when it is new and writes the file's settings to it;
/// returns its id.
pub(crate) fn write_project_row(
    db: &dyn Db,
    spec: &ProjectSpec,
    source_file: Option<&str>,
    now: i64,
) -> StoreResult<String> {
    let project_id = match project_rows::id_by_name(db, &spec.name)? {
        Some(id) => id,
        None => {
            let id = new_id();
            project_rows::insert(db, &id, &spec.name, spec.description.as_deref(), now)?;
            id
        }
    };
    let s = &spec.settings;
    project_rows::apply_deployed(
        db,
        &project_id,
        &DeployedSettings {
            description: spec.description.as_deref(),
            source_file,
            retention_policy: s.retention_policy.as_deref(),
            history_retention_days: s.history_retention_days,
            dataclip_retention_days: s.dataclip_retention_days,
            concurrency: s.concurrency,
        },
        now,
    )?;
    Ok(project_id)
}

/// Writes a workflow's live rows and a new version snapshot, recording who made it (the
/// audit rows' actor) and how.
pub fn write_workflow(
    db: &dyn Db,
    project_id: &str,
    workflow: &WorkflowSpec,
    now: i64,
    origin: &VersionOrigin,
) -> StoreResult<String> {
    let (workflow_id, version) = write_workflow_rows(db, project_id, workflow, now, origin)?;
    crate::notify::events::workflow_changed(db, &workflow_id, version)?;
    Ok(workflow_id)
}

/// The store rows of [`write_workflow`]: the live rows and the new version; returns the
/// workflow's id and new version number.
pub(crate) fn write_workflow_rows(
    db: &dyn Db,
    project_id: &str,
    workflow: &WorkflowSpec,
    now: i64,
    origin: &VersionOrigin,
) -> StoreResult<(String, i64)> {
    let s = &workflow.settings;
    let columns = WorkflowColumns {
        name: &workflow.name,
        concurrency: s.concurrency,
        run_timeout_secs: s.run_timeout_secs.map(|v| v as i64),
        memory_limit_mb: s.memory_limit_mb.map(|v| v as i64),
        max_attempts: s.max_attempts.unwrap_or(1),
        retry_backoff_secs: s.retry_backoff_secs.unwrap_or(30) as i64,
    };
    let (workflow_id, version) = match workflow_rows::by_key(db, project_id, &workflow.key)? {
        Some(existing) => {
            let version = existing.version + 1;
            workflow_rows::update(db, &existing.id, version, &columns, now)?;
            (existing.id, version)
        }
        None => {
            let id = new_id();
            workflow_rows::insert(db, &id, project_id, &workflow.key, &columns, now)?;
            (id, 1)
        }
    };
    sync_jobs(db, &workflow_id, workflow)?;
    sync_triggers(db, &workflow_id, workflow)?;
    sync_edges(db, &workflow_id, workflow)?;
    let snapshot =
        serde_json::to_string(workflow).map_err(|e| StoreError::Internal(e.to_string()))?;
    let origin = serde_json::to_string(origin).map_err(|e| StoreError::Internal(e.to_string()))?;
    versions::insert(
        db,
        &versions::NewVersion {
            id: &new_id(),
            workflow_id: &workflow_id,
            version,
            snapshot: &snapshot,
            hash: &content_hash(&snapshot),
            created_at: now,
            actor: &crate::actor::current(),
            origin: &origin,
        },
    )?;
    Ok((workflow_id, version))
}

/// 12 hex digits identifying a snapshot's content (as Lightning's version hashes do).
pub fn content_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

fn sync_jobs(db: &dyn Db, workflow_id: &str, workflow: &WorkflowSpec) -> StoreResult<()> {
    let keys: Vec<&str> = workflow.jobs.iter().map(|j| j.key.as_str()).collect();
    workflow_rows::delete_jobs_except(db, workflow_id, &keys)?;
    for (position, job) in workflow.jobs.iter().enumerate() {
        let columns = JobColumns {
            key: &job.key,
            name: &job.name,
            body: &job.body,
            adaptor: &job.adaptor,
            credential: job.credential.as_deref(),
            position: position as i64,
        };
        workflow_rows::upsert_job(db, &new_id(), workflow_id, &columns)?;
    }
    Ok(())
}

fn sync_triggers(db: &dyn Db, workflow_id: &str, workflow: &WorkflowSpec) -> StoreResult<()> {
    let keys: Vec<&str> = workflow.triggers.iter().map(|t| t.key.as_str()).collect();
    workflow_rows::delete_triggers_except(db, workflow_id, &keys)?;
    // Clear paths first so two triggers may swap custom paths within one deploy.
    workflow_rows::clear_custom_paths(db, workflow_id)?;
    for trigger in &workflow.triggers {
        let auth = serde_json::to_string(&trigger.webhook_auth)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let columns = TriggerColumns {
            key: &trigger.key,
            kind: trigger.kind.as_str(),
            enabled: trigger.enabled,
            cron_expression: trigger.cron_expression.as_deref(),
            custom_path: trigger.custom_path.as_deref(),
            webhook_reply: trigger.webhook_reply.as_str(),
            auth: &auth,
        };
        workflow_rows::upsert_trigger(db, &new_id(), workflow_id, &columns)?;
    }
    Ok(())
}

fn sync_edges(db: &dyn Db, workflow_id: &str, workflow: &WorkflowSpec) -> StoreResult<()> {
    workflow_rows::delete_edges(db, workflow_id)?;
    for edge in &workflow.edges {
        let source_trigger = match &edge.source_trigger {
            Some(key) => workflow_rows::trigger_id(db, workflow_id, key)?,
            None => None,
        };
        let source_job = match &edge.source_job {
            Some(key) => workflow_rows::job_id(db, workflow_id, key)?,
            None => None,
        };
        let target =
            workflow_rows::job_id(db, workflow_id, &edge.target_job)?.ok_or_else(|| {
                StoreError::Invalid(format!("edge {} targets a missing job", edge.key))
            })?;
        let columns = EdgeColumns {
            key: &edge.key,
            source_trigger_id: source_trigger.as_deref(),
            source_job_id: source_job.as_deref(),
            target_job_id: &target,
            condition_type: edge.condition.as_str(),
            condition_expression: edge.expression.as_deref(),
            condition_label: edge.label.as_deref(),
            enabled: edge.enabled,
        };
        workflow_rows::insert_edge(db, &new_id(), workflow_id, &columns)?;
    }
    Ok(())
}

/// Records an audit event (who did what to which subject).
pub fn audit(
    db: &dyn Db,
    action: &str,
    subject_type: &str,
    subject: &str,
    metadata: Option<serde_json::Value>,
) -> StoreResult<()> {
    crate::audit::record(
        db,
        &format!("{subject_type}.{action}"),
        subject,
        metadata.as_ref(),
    )?;
    Ok(())
}
