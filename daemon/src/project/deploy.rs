//! Applying a project to the store: a diff, then one transaction. Every changed workflow
//! gets a new immutable version; deploying the same file twice changes nothing.

use super::kept::{self, DeployOptions};
use super::spec::*;
use crate::store::{StoreError, StoreResult, new_id, now_micros};
use bolt_shared::protocol::DeployChange;
use bolt_shared::versions::VersionOrigin;
use rusqlite::{Connection, OptionalExtension, params};
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
    conn: &Connection,
    project_id: &str,
) -> StoreResult<BTreeMap<String, (String, WorkflowSpec)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT w.id, w.key, v.snapshot FROM workflows w
         JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.version
         WHERE w.project_id = ?1 AND w.deleted_at IS NULL",
    )?;
    let rows = stmt.query_map([project_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (id, key, snapshot) = row?;
        let spec: WorkflowSpec = serde_json::from_str(&snapshot).map_err(|e| {
            StoreError::Invalid(format!("workflow {key}: unreadable snapshot: {e}"))
        })?;
        out.insert(key, (id, spec));
    }
    Ok(out)
}

fn project_id(conn: &Connection, name: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .query_row("SELECT id FROM projects WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()?)
}

/// What deploying `spec` would change.
pub fn plan_changes(
    conn: &Connection,
    spec: &ProjectSpec,
    options: DeployOptions,
) -> StoreResult<Vec<DeployChange>> {
    let mut changes = Vec::new();
    let existing = project_id(conn, &spec.name)?;
    let (kept_changes, kept_settings_changed) =
        kept::plan(conn, existing.as_deref(), spec, options)?;
    let current = match existing {
        Some(id) => {
            let (description, policy, history, dataclip, concurrency): (Option<String>, String, Option<u32>, Option<u32>, Option<u32>) = conn.query_row(
                "SELECT description, retention_policy, history_retention_days, dataclip_retention_days, concurrency FROM projects WHERE id = ?1",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?;
            let s = &spec.settings;
            let settings_changed = description != spec.description
                || s.retention_policy.as_ref().is_some_and(|p| *p != policy)
                || s.history_retention_days.is_some_and(|d| Some(d) != history)
                || s.dataclip_retention_days
                    .is_some_and(|d| Some(d) != dataclip)
                || s.concurrency.is_some_and(|c| Some(c) != concurrency)
                || kept_settings_changed;
            if settings_changed {
                changes.push(change("updated", "project", &spec.name));
            }
            current_workflows(conn, &id)?
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
    conn: &Connection,
    spec: &ProjectSpec,
    source_file: Option<&str>,
    options: DeployOptions,
) -> StoreResult<Vec<DeployChange>> {
    let changes = plan_changes(conn, spec, options)?;
    let now = now_micros();
    let project_id = match project_id(conn, &spec.name)? {
        Some(id) => id,
        None => {
            let id = new_id();
            conn.execute(
                "INSERT INTO projects (id, name, description, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![id, spec.name, spec.description, now],
            )?;
            id
        }
    };
    let s = &spec.settings;
    conn.execute(
        "UPDATE projects SET description = ?2, source_file = COALESCE(?3, source_file),
            retention_policy = COALESCE(?4, retention_policy),
            history_retention_days = COALESCE(?5, history_retention_days),
            dataclip_retention_days = COALESCE(?6, dataclip_retention_days),
            concurrency = COALESCE(?7, concurrency), updated_at = ?8
         WHERE id = ?1",
        params![
            project_id,
            spec.description,
            source_file,
            s.retention_policy,
            s.history_retention_days,
            s.dataclip_retention_days,
            s.concurrency,
            now
        ],
    )?;
    kept::apply(conn, &project_id, spec, options, now)?;
    let current = current_workflows(conn, &project_id)?;
    for (key, (id, _)) in &current {
        if !spec.workflows.iter().any(|w| &w.key == key) {
            conn.execute(
                "UPDATE workflows SET deleted_at = ?2, enabled = 0, updated_at = ?2 WHERE id = ?1",
                params![id, now],
            )?;
            conn.execute("DELETE FROM triggers WHERE workflow_id = ?1", [id])?;
            crate::notify::events::workflow_removed(conn, id)?;
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
            write_workflow(conn, &project_id, workflow, now, &origin)?;
            audit(
                conn,
                "deployed",
                "workflow",
                &workflow.key,
                Some(serde_json::json!({ "project": spec.name, "file": source_file })),
            )?;
        }
    }
    if !changes.is_empty() {
        audit(
            conn,
            "deploy",
            "project",
            &spec.name,
            serde_json::to_value(&changes).ok(),
        )?;
    }
    Ok(changes)
}

/// Writes a workflow's live rows and a new version snapshot, recording who made it (the
/// audit rows' actor) and how.
pub fn write_workflow(
    conn: &Connection,
    project_id: &str,
    workflow: &WorkflowSpec,
    now: i64,
    origin: &VersionOrigin,
) -> StoreResult<String> {
    let existing: Option<(String, i64)> = conn
        .query_row(
            "SELECT id, version FROM workflows WHERE project_id = ?1 AND key = ?2",
            params![project_id, workflow.key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let s = &workflow.settings;
    let (workflow_id, version) = match existing {
        Some((id, version)) => {
            conn.execute(
                "UPDATE workflows SET name = ?2, concurrency = ?3, run_timeout_secs = ?4, memory_limit_mb = ?5,
                    max_attempts = ?6, retry_backoff_secs = ?7, version = ?8, deleted_at = NULL, updated_at = ?9
                 WHERE id = ?1",
                params![id, workflow.name, s.concurrency, s.run_timeout_secs.map(|v| v as i64), s.memory_limit_mb.map(|v| v as i64), s.max_attempts.unwrap_or(1), s.retry_backoff_secs.unwrap_or(30) as i64, version + 1, now],
            )?;
            (id, version + 1)
        }
        None => {
            let id = new_id();
            conn.execute(
                "INSERT INTO workflows (id, project_id, key, name, enabled, concurrency, run_timeout_secs, memory_limit_mb,
                    max_attempts, retry_backoff_secs, version, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10)",
                params![id, project_id, workflow.key, workflow.name, s.concurrency, s.run_timeout_secs.map(|v| v as i64), s.memory_limit_mb.map(|v| v as i64), s.max_attempts.unwrap_or(1), s.retry_backoff_secs.unwrap_or(30) as i64, now],
            )?;
            (id, 1)
        }
    };
    sync_jobs(conn, &workflow_id, workflow)?;
    sync_triggers(conn, &workflow_id, workflow)?;
    sync_edges(conn, &workflow_id, workflow)?;
    let snapshot =
        serde_json::to_string(workflow).map_err(|e| StoreError::Internal(e.to_string()))?;
    let origin = serde_json::to_string(origin).map_err(|e| StoreError::Internal(e.to_string()))?;
    conn.execute(
        "INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at, actor, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![new_id(), workflow_id, version, snapshot, content_hash(&snapshot), now, crate::actor::current(), origin],
    )?;
    crate::notify::events::workflow_changed(conn, &workflow_id, version)?;
    Ok(workflow_id)
}

/// 12 hex digits identifying a snapshot's content (as Lightning's version hashes do).
pub fn content_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

fn sync_jobs(conn: &Connection, workflow_id: &str, workflow: &WorkflowSpec) -> StoreResult<()> {
    let keys: Vec<&str> = workflow.jobs.iter().map(|j| j.key.as_str()).collect();
    delete_missing(conn, "jobs", workflow_id, &keys)?;
    for (position, job) in workflow.jobs.iter().enumerate() {
        conn.execute(
            "INSERT INTO jobs (id, workflow_id, key, name, body, adaptor, credential, position)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (workflow_id, key) DO UPDATE SET name = excluded.name, body = excluded.body,
                adaptor = excluded.adaptor, credential = excluded.credential, position = excluded.position",
            params![new_id(), workflow_id, job.key, job.name, job.body, job.adaptor, job.credential, position as i64],
        )?;
    }
    Ok(())
}

fn sync_triggers(conn: &Connection, workflow_id: &str, workflow: &WorkflowSpec) -> StoreResult<()> {
    let keys: Vec<&str> = workflow.triggers.iter().map(|t| t.key.as_str()).collect();
    delete_missing(conn, "triggers", workflow_id, &keys)?;
    // Clear paths first so two triggers may swap custom paths within one deploy.
    conn.execute(
        "UPDATE triggers SET custom_path = NULL WHERE workflow_id = ?1",
        [workflow_id],
    )?;
    for trigger in &workflow.triggers {
        let auth = serde_json::to_string(&trigger.webhook_auth)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        conn.execute(
            "INSERT INTO triggers (id, workflow_id, key, type, enabled, cron_expression, custom_path, webhook_reply, auth)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (workflow_id, key) DO UPDATE SET type = excluded.type, enabled = excluded.enabled,
                cron_expression = excluded.cron_expression, custom_path = excluded.custom_path,
                webhook_reply = excluded.webhook_reply, auth = excluded.auth",
            params![new_id(), workflow_id, trigger.key, trigger.kind.as_str(), trigger.enabled, trigger.cron_expression, trigger.custom_path, trigger.webhook_reply.as_str(), auth],
        )?;
    }
    Ok(())
}

fn sync_edges(conn: &Connection, workflow_id: &str, workflow: &WorkflowSpec) -> StoreResult<()> {
    conn.execute("DELETE FROM edges WHERE workflow_id = ?1", [workflow_id])?;
    for edge in &workflow.edges {
        let lookup = |table: &str, key: &Option<String>| -> StoreResult<Option<String>> {
            match key {
                None => Ok(None),
                Some(key) => Ok(conn
                    .query_row(
                        &format!("SELECT id FROM {table} WHERE workflow_id = ?1 AND key = ?2"),
                        params![workflow_id, key],
                        |r| r.get(0),
                    )
                    .optional()?),
            }
        };
        let source_trigger = lookup("triggers", &edge.source_trigger)?;
        let source_job = lookup("jobs", &edge.source_job)?;
        let target = lookup("jobs", &Some(edge.target_job.clone()))?.ok_or_else(|| {
            StoreError::Invalid(format!("edge {} targets a missing job", edge.key))
        })?;
        conn.execute(
            "INSERT INTO edges (id, workflow_id, key, source_trigger_id, source_job_id, target_job_id, condition_type,
                condition_expression, condition_label, enabled)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![new_id(), workflow_id, edge.key, source_trigger, source_job, target, edge.condition.as_str(), edge.expression, edge.label, edge.enabled],
        )?;
    }
    Ok(())
}

fn delete_missing(
    conn: &Connection,
    table: &str,
    workflow_id: &str,
    keep: &[&str],
) -> StoreResult<()> {
    let mut stmt = conn.prepare(&format!("SELECT key FROM {table} WHERE workflow_id = ?1"))?;
    let existing: Vec<String> = stmt
        .query_map([workflow_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for key in existing {
        if !keep.contains(&key.as_str()) {
            conn.execute(
                &format!("DELETE FROM {table} WHERE workflow_id = ?1 AND key = ?2"),
                params![workflow_id, key],
            )?;
        }
    }
    Ok(())
}

/// Records an audit event (who did what to which subject).
pub fn audit(
    conn: &Connection,
    action: &str,
    subject_type: &str,
    subject: &str,
    metadata: Option<serde_json::Value>,
) -> StoreResult<()> {
    crate::audit::record(
        conn,
        &format!("{subject_type}.{action}"),
        subject,
        metadata.as_ref(),
    )?;
    Ok(())
}
