//! Deployed workflows in the store: their live rows (workflow, jobs, triggers, edges) and
//! the current version's snapshot they are read back from.

use super::StoreResult;
use rusqlite::{Connection, OptionalExtension, params};

/// A live workflow with its project and current version.
#[derive(Debug, Clone)]
pub struct DeployedRow {
    pub id: String,
    pub project_id: String,
    pub project: String,
    pub enabled: bool,
    pub version: i64,
    pub version_id: String,
    /// The current version's snapshot (a workflow spec as JSON).
    pub snapshot: String,
}

/// A project's live workflow and its current version's snapshot.
#[derive(Debug, Clone)]
pub struct CurrentSnapshot {
    pub id: String,
    pub key: String,
    pub snapshot: String,
}

/// A workflow row's id and current version number, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub id: String,
    pub version: i64,
}

/// The columns a workflow's spec sets on its row.
#[derive(Debug, Clone, Copy)]
pub struct WorkflowColumns<'a> {
    pub name: &'a str,
    pub concurrency: Option<u32>,
    pub run_timeout_secs: Option<i64>,
    pub memory_limit_mb: Option<i64>,
    pub max_attempts: u32,
    pub retry_backoff_secs: i64,
}

/// A job's row.
#[derive(Debug, Clone, Copy)]
pub struct JobColumns<'a> {
    pub key: &'a str,
    pub name: &'a str,
    pub body: &'a str,
    pub adaptor: &'a str,
    pub credential: Option<&'a str>,
    pub position: i64,
}

/// A trigger's row.
#[derive(Debug, Clone, Copy)]
pub struct TriggerColumns<'a> {
    pub key: &'a str,
    pub kind: &'a str,
    pub enabled: bool,
    pub cron_expression: Option<&'a str>,
    pub custom_path: Option<&'a str>,
    pub webhook_reply: &'a str,
    /// The credentials a webhook request must match, as a JSON array.
    pub auth: &'a str,
}

/// An edge's row, its ends already resolved to job and trigger ids.
#[derive(Debug, Clone, Copy)]
pub struct EdgeColumns<'a> {
    pub key: &'a str,
    pub source_trigger_id: Option<&'a str>,
    pub source_job_id: Option<&'a str>,
    pub target_job_id: &'a str,
    pub condition_type: &'a str,
    pub condition_expression: Option<&'a str>,
    pub condition_label: Option<&'a str>,
    pub enabled: bool,
}

/// Work orders of a workflow that ended well or badly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcomes {
    pub success: i64,
    pub failed: i64,
}

const SELECT_DEPLOYED: &str =
    "SELECT w.id, w.project_id, p.name, w.enabled, w.version, v.id, v.snapshot
     FROM workflows w JOIN projects p ON p.id = w.project_id
     JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.version
     WHERE w.deleted_at IS NULL";

const CURRENT_SNAPSHOTS: &str = "SELECT w.id, w.key, v.snapshot FROM workflows w
     JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.version
     WHERE w.project_id = ?1 AND w.deleted_at IS NULL";

const BY_KEY: &str = "SELECT id, version FROM workflows WHERE project_id = ?1 AND key = ?2";

const INSERT: &str = "INSERT INTO workflows (id, project_id, key, name, enabled, concurrency,
        run_timeout_secs, memory_limit_mb, max_attempts, retry_backoff_secs, version,
        created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10)";

/// Also brings a deleted workflow of the same key back.
const UPDATE: &str = "UPDATE workflows SET name = ?2, concurrency = ?3, run_timeout_secs = ?4,
        memory_limit_mb = ?5, max_attempts = ?6, retry_backoff_secs = ?7, version = ?8,
        deleted_at = NULL, updated_at = ?9
     WHERE id = ?1";

const MARK_DELETED: &str =
    "UPDATE workflows SET deleted_at = ?2, enabled = 0, updated_at = ?2 WHERE id = ?1";
const DELETE_TRIGGERS: &str = "DELETE FROM triggers WHERE workflow_id = ?1";
const SET_ENABLED: &str = "UPDATE workflows SET enabled = ?2, updated_at = ?3 WHERE id = ?1";

const JOB_KEYS: &str = "SELECT key FROM jobs WHERE workflow_id = ?1";
const DELETE_JOB: &str = "DELETE FROM jobs WHERE workflow_id = ?1 AND key = ?2";
const JOB_ID: &str = "SELECT id FROM jobs WHERE workflow_id = ?1 AND key = ?2";
const UPSERT_JOB: &str =
    "INSERT INTO jobs (id, workflow_id, key, name, body, adaptor, credential, position)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
     ON CONFLICT (workflow_id, key) DO UPDATE SET name = excluded.name, body = excluded.body,
        adaptor = excluded.adaptor, credential = excluded.credential, position = excluded.position";

const TRIGGER_KEYS: &str = "SELECT key FROM triggers WHERE workflow_id = ?1";
const DELETE_TRIGGER: &str = "DELETE FROM triggers WHERE workflow_id = ?1 AND key = ?2";
const TRIGGER_ID: &str = "SELECT id FROM triggers WHERE workflow_id = ?1 AND key = ?2";
const CLEAR_CUSTOM_PATHS: &str = "UPDATE triggers SET custom_path = NULL WHERE workflow_id = ?1";
const UPSERT_TRIGGER: &str =
    "INSERT INTO triggers (id, workflow_id, key, type, enabled, cron_expression,
        custom_path, webhook_reply, auth)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
     ON CONFLICT (workflow_id, key) DO UPDATE SET type = excluded.type, enabled = excluded.enabled,
        cron_expression = excluded.cron_expression, custom_path = excluded.custom_path,
        webhook_reply = excluded.webhook_reply, auth = excluded.auth";
const CUSTOM_PATH_OWNER: &str =
    "SELECT w.key FROM triggers t JOIN workflows w ON w.id = t.workflow_id
     WHERE t.custom_path = ?1 AND t.workflow_id <> ?2";

const DELETE_EDGES: &str = "DELETE FROM edges WHERE workflow_id = ?1";
const INSERT_EDGE: &str =
    "INSERT INTO edges (id, workflow_id, key, source_trigger_id, source_job_id,
        target_job_id, condition_type, condition_expression, condition_label, enabled)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

const OUTCOMES_SINCE: &str = "SELECT COUNT(*) FILTER (WHERE state = 'success'),
        COUNT(*) FILTER (WHERE state IN ('failed', 'crashed', 'killed', 'exception', 'lost'))
     FROM work_orders WHERE workflow_id = ?1 AND last_activity >= ?2";

fn deployed_row(r: &rusqlite::Row) -> rusqlite::Result<DeployedRow> {
    Ok(DeployedRow {
        id: r.get(0)?,
        project_id: r.get(1)?,
        project: r.get(2)?,
        enabled: r.get(3)?,
        version: r.get(4)?,
        version_id: r.get(5)?,
        snapshot: r.get(6)?,
    })
}

/// Every live workflow, by project name and workflow name.
pub fn deployed(conn: &Connection) -> StoreResult<Vec<DeployedRow>> {
    let rows = conn
        .prepare_cached(&format!("{SELECT_DEPLOYED} ORDER BY p.name, w.name"))?
        .query_map([], deployed_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Live workflows whose id or key is `reference`, or whose name it is (ignoring case).
pub fn deployed_matching(conn: &Connection, reference: &str) -> StoreResult<Vec<DeployedRow>> {
    let rows = conn
        .prepare_cached(&format!(
            "{SELECT_DEPLOYED} AND (w.id = ?1 OR w.key = ?1 OR lower(w.name) = lower(?1))
             ORDER BY p.name, w.id"
        ))?
        .query_map([reference], deployed_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Live workflows of the project named `project` (ignoring case) whose key is `workflow`,
/// or whose name it is (ignoring case).
pub fn deployed_in_project(
    conn: &Connection,
    project: &str,
    workflow: &str,
) -> StoreResult<Vec<DeployedRow>> {
    let rows = conn
        .prepare_cached(&format!(
            "{SELECT_DEPLOYED} AND lower(p.name) = lower(?1)
               AND (w.key = ?2 OR lower(w.name) = lower(?2)) ORDER BY w.id"
        ))?
        .query_map([project, workflow], deployed_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A project's live workflows with their current snapshots.
pub fn current_snapshots(conn: &Connection, project_id: &str) -> StoreResult<Vec<CurrentSnapshot>> {
    let rows = conn
        .prepare_cached(CURRENT_SNAPSHOTS)?
        .query_map([project_id], |r| {
            Ok(CurrentSnapshot {
                id: r.get(0)?,
                key: r.get(1)?,
                snapshot: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The project's workflow of this key (deleted or not).
pub fn by_key(conn: &Connection, project_id: &str, key: &str) -> StoreResult<Option<Existing>> {
    Ok(conn
        .prepare_cached(BY_KEY)?
        .query_row(params![project_id, key], |r| {
            Ok(Existing {
                id: r.get(0)?,
                version: r.get(1)?,
            })
        })
        .optional()?)
}

/// Creates workflow `id` at version 1, enabled.
pub fn insert(
    conn: &Connection,
    id: &str,
    project_id: &str,
    key: &str,
    columns: &WorkflowColumns,
    now: i64,
) -> StoreResult<()> {
    conn.prepare_cached(INSERT)?.execute(params![
        id,
        project_id,
        key,
        columns.name,
        columns.concurrency,
        columns.run_timeout_secs,
        columns.memory_limit_mb,
        columns.max_attempts,
        columns.retry_backoff_secs,
        now
    ])?;
    Ok(())
}

/// Rewrites workflow `id`'s row at version `version` (undeleting it).
pub fn update(
    conn: &Connection,
    id: &str,
    version: i64,
    columns: &WorkflowColumns,
    now: i64,
) -> StoreResult<()> {
    conn.prepare_cached(UPDATE)?.execute(params![
        id,
        columns.name,
        columns.concurrency,
        columns.run_timeout_secs,
        columns.memory_limit_mb,
        columns.max_attempts,
        columns.retry_backoff_secs,
        version,
        now
    ])?;
    Ok(())
}

/// Marks a workflow deleted (and disabled) and removes its triggers, so nothing starts it.
/// Its versions stay for the runs that pinned them.
pub fn mark_deleted(conn: &Connection, id: &str, now: i64) -> StoreResult<()> {
    conn.prepare_cached(MARK_DELETED)?
        .execute(params![id, now])?;
    conn.prepare_cached(DELETE_TRIGGERS)?.execute([id])?;
    Ok(())
}

pub fn set_enabled(conn: &Connection, id: &str, enabled: bool, now: i64) -> StoreResult<()> {
    conn.prepare_cached(SET_ENABLED)?
        .execute(params![id, enabled, now])?;
    Ok(())
}

/// Deletes the rows of `keys_sql`'s table whose key is not in `keep`.
fn delete_except(
    conn: &Connection,
    keys_sql: &str,
    delete_sql: &str,
    workflow_id: &str,
    keep: &[&str],
) -> StoreResult<()> {
    let existing: Vec<String> = conn
        .prepare_cached(keys_sql)?
        .query_map([workflow_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut delete = conn.prepare_cached(delete_sql)?;
    for key in existing {
        if !keep.contains(&key.as_str()) {
            delete.execute(params![workflow_id, key])?;
        }
    }
    Ok(())
}

/// Deletes the workflow's jobs whose keys are not in `keep`.
pub fn delete_jobs_except(conn: &Connection, workflow_id: &str, keep: &[&str]) -> StoreResult<()> {
    delete_except(conn, JOB_KEYS, DELETE_JOB, workflow_id, keep)
}

/// Deletes the workflow's triggers whose keys are not in `keep`.
pub fn delete_triggers_except(
    conn: &Connection,
    workflow_id: &str,
    keep: &[&str],
) -> StoreResult<()> {
    delete_except(conn, TRIGGER_KEYS, DELETE_TRIGGER, workflow_id, keep)
}

/// Creates or rewrites (by key) one of the workflow's jobs; a new one gets `id`.
pub fn upsert_job(
    conn: &Connection,
    id: &str,
    workflow_id: &str,
    job: &JobColumns,
) -> StoreResult<()> {
    conn.prepare_cached(UPSERT_JOB)?.execute(params![
        id,
        workflow_id,
        job.key,
        job.name,
        job.body,
        job.adaptor,
        job.credential,
        job.position
    ])?;
    Ok(())
}

/// Frees the custom paths of the workflow's triggers, so that two of them may swap paths.
pub fn clear_custom_paths(conn: &Connection, workflow_id: &str) -> StoreResult<()> {
    conn.prepare_cached(CLEAR_CUSTOM_PATHS)?
        .execute([workflow_id])?;
    Ok(())
}

/// Creates or rewrites (by key) one of the workflow's triggers; a new one gets `id`.
pub fn upsert_trigger(
    conn: &Connection,
    id: &str,
    workflow_id: &str,
    trigger: &TriggerColumns,
) -> StoreResult<()> {
    conn.prepare_cached(UPSERT_TRIGGER)?.execute(params![
        id,
        workflow_id,
        trigger.key,
        trigger.kind,
        trigger.enabled,
        trigger.cron_expression,
        trigger.custom_path,
        trigger.webhook_reply,
        trigger.auth
    ])?;
    Ok(())
}

/// The id of the workflow's job with this key.
pub fn job_id(conn: &Connection, workflow_id: &str, key: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached(JOB_ID)?
        .query_row(params![workflow_id, key], |r| r.get(0))
        .optional()?)
}

/// The id of the workflow's trigger with this key.
pub fn trigger_id(conn: &Connection, workflow_id: &str, key: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached(TRIGGER_ID)?
        .query_row(params![workflow_id, key], |r| r.get(0))
        .optional()?)
}

/// The key of another workflow (not `workflow_id`) with a trigger on `path`.
pub fn custom_path_owner(
    conn: &Connection,
    path: &str,
    workflow_id: &str,
) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached(CUSTOM_PATH_OWNER)?
        .query_row(params![path, workflow_id], |r| r.get(0))
        .optional()?)
}

pub fn delete_edges(conn: &Connection, workflow_id: &str) -> StoreResult<()> {
    conn.prepare_cached(DELETE_EDGES)?.execute([workflow_id])?;
    Ok(())
}

pub fn insert_edge(
    conn: &Connection,
    id: &str,
    workflow_id: &str,
    edge: &EdgeColumns,
) -> StoreResult<()> {
    conn.prepare_cached(INSERT_EDGE)?.execute(params![
        id,
        workflow_id,
        edge.key,
        edge.source_trigger_id,
        edge.source_job_id,
        edge.target_job_id,
        edge.condition_type,
        edge.condition_expression,
        edge.condition_label,
        edge.enabled
    ])?;
    Ok(())
}

/// The workflow's work orders active since `since` (microseconds) that succeeded or failed.
pub fn outcomes_since(conn: &Connection, workflow_id: &str, since: i64) -> StoreResult<Outcomes> {
    Ok(conn
        .prepare_cached(OUTCOMES_SINCE)?
        .query_row(params![workflow_id, since], |r| {
            Ok(Outcomes {
                success: r.get(0)?,
                failed: r.get(1)?,
            })
        })?)
}
