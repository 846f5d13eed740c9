//! Deployed workflows in the store: their live rows (workflow, jobs, triggers, edges) and
//! the current version's snapshot they are read back from.

use super::StoreResult;
use bolt_sql::{Db, DbExt, Row, params};

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

fn deployed_row(r: &Row<'_>) -> bolt_sql::Result<DeployedRow> {
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
pub fn deployed(db: &dyn Db) -> StoreResult<Vec<DeployedRow>> {
    Ok(db.query_map(
        &format!("{SELECT_DEPLOYED} ORDER BY p.name, w.name"),
        params![],
        deployed_row,
    )?)
}

/// Live workflows whose id or key is `reference`, or whose name it is (ignoring case).
pub fn deployed_matching(db: &dyn Db, reference: &str) -> StoreResult<Vec<DeployedRow>> {
    Ok(db.query_map(
        &format!(
            "{SELECT_DEPLOYED} AND (w.id = ?1 OR w.key = ?1 OR lower(w.name) = lower(?1))
             ORDER BY p.name, w.id"
        ),
        params![reference],
        deployed_row,
    )?)
}

/// Live workflows of the project named `project` (ignoring case) whose key is `workflow`,
/// or whose name it is (ignoring case).
pub fn deployed_in_project(
    db: &dyn Db,
    project: &str,
    workflow: &str,
) -> StoreResult<Vec<DeployedRow>> {
    Ok(db.query_map(
        &format!(
            "{SELECT_DEPLOYED} AND lower(p.name) = lower(?1)
               AND (w.key = ?2 OR lower(w.name) = lower(?2)) ORDER BY w.id"
        ),
        params![project, workflow],
        deployed_row,
    )?)
}

/// A project's live workflows with their current snapshots.
pub fn current_snapshots(db: &dyn Db, project_id: &str) -> StoreResult<Vec<CurrentSnapshot>> {
    Ok(db.query_map(CURRENT_SNAPSHOTS, params![project_id], |r| {
        Ok(CurrentSnapshot {
            id: r.get(0)?,
            key: r.get(1)?,
            snapshot: r.get(2)?,
        })
    })?)
}

/// The project's workflow of this key (deleted or not).
pub fn by_key(db: &dyn Db, project_id: &str, key: &str) -> StoreResult<Option<Existing>> {
    Ok(db.query_row(BY_KEY, params![project_id, key], |r| {
        Ok(Existing {
            id: r.get(0)?,
            version: r.get(1)?,
        })
    })?)
}

/// Creates workflow `id` at version 1, enabled.
pub fn insert(
    db: &dyn Db,
    id: &str,
    project_id: &str,
    key: &str,
    columns: &WorkflowColumns,
    now: i64,
) -> StoreResult<()> {
    db.execute(
        INSERT,
        params![
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
        ],
    )?;
    Ok(())
}

/// Rewrites workflow `id`'s row at version `version` (undeleting it).
pub fn update(
    db: &dyn Db,
    id: &str,
    version: i64,
    columns: &WorkflowColumns,
    now: i64,
) -> StoreResult<()> {
    db.execute(
        UPDATE,
        params![
            id,
            columns.name,
            columns.concurrency,
            columns.run_timeout_secs,
            columns.memory_limit_mb,
            columns.max_attempts,
            columns.retry_backoff_secs,
            version,
            now
        ],
    )?;
    Ok(())
}

/// Marks a workflow deleted (and disabled) and removes its triggers, so nothing starts it.
/// Its versions stay for the runs that pinned them.
pub fn mark_deleted(db: &dyn Db, id: &str, now: i64) -> StoreResult<()> {
    db.execute(MARK_DELETED, params![id, now])?;
    db.execute(DELETE_TRIGGERS, params![id])?;
    Ok(())
}

pub fn set_enabled(db: &dyn Db, id: &str, enabled: bool, now: i64) -> StoreResult<()> {
    db.execute(SET_ENABLED, params![id, enabled, now])?;
    Ok(())
}

/// Deletes the rows of `keys_sql`'s table whose key is not in `keep`.
fn delete_except(
    db: &dyn Db,
    keys_sql: &str,
    delete_sql: &str,
    workflow_id: &str,
    keep: &[&str],
) -> StoreResult<()> {
    let existing: Vec<String> = db.query_map(keys_sql, params![workflow_id], |r| r.get(0))?;
    for key in existing {
        if !keep.contains(&key.as_str()) {
            db.execute(delete_sql, params![workflow_id, key])?;
        }
    }
    Ok(())
}

/// Deletes the workflow's jobs whose keys are not in `keep`.
pub fn delete_jobs_except(db: &dyn Db, workflow_id: &str, keep: &[&str]) -> StoreResult<()> {
    delete_except(db, JOB_KEYS, DELETE_JOB, workflow_id, keep)
}

/// Deletes the workflow's triggers whose keys are not in `keep`.
pub fn delete_triggers_except(db: &dyn Db, workflow_id: &str, keep: &[&str]) -> StoreResult<()> {
    delete_except(db, TRIGGER_KEYS, DELETE_TRIGGER, workflow_id, keep)
}

/// Creates or rewrites (by key) one of the workflow's jobs; a new one gets `id`.
pub fn upsert_job(db: &dyn Db, id: &str, workflow_id: &str, job: &JobColumns) -> StoreResult<()> {
    db.execute(
        UPSERT_JOB,
        params![
            id,
            workflow_id,
            job.key,
            job.name,
            job.body,
            job.adaptor,
            job.credential,
            job.position
        ],
    )?;
    Ok(())
}

/// Frees the custom paths of the workflow's triggers, so that two of them may swap paths.
pub fn clear_custom_paths(db: &dyn Db, workflow_id: &str) -> StoreResult<()> {
    db.execute(CLEAR_CUSTOM_PATHS, params![workflow_id])?;
    Ok(())
}

/// Creates or rewrites (by key) one of the workflow's triggers; a new one gets `id`.
pub fn upsert_trigger(
    db: &dyn Db,
    id: &str,
    workflow_id: &str,
    trigger: &TriggerColumns,
) -> StoreResult<()> {
    db.execute(
        UPSERT_TRIGGER,
        params![
            id,
            workflow_id,
            trigger.key,
            trigger.kind,
            trigger.enabled,
            trigger.cron_expression,
            trigger.custom_path,
            trigger.webhook_reply,
            trigger.auth
        ],
    )?;
    Ok(())
}

/// The id of the workflow's job with this key.
pub fn job_id(db: &dyn Db, workflow_id: &str, key: &str) -> StoreResult<Option<String>> {
    Ok(db.query_value(JOB_ID, params![workflow_id, key])?)
}

/// The id of the workflow's trigger with this key.
pub fn trigger_id(db: &dyn Db, workflow_id: &str, key: &str) -> StoreResult<Option<String>> {
    Ok(db.query_value(TRIGGER_ID, params![workflow_id, key])?)
}

/// The key of another workflow (not `workflow_id`) with a trigger on `path`.
pub fn custom_path_owner(
    db: &dyn Db,
    path: &str,
    workflow_id: &str,
) -> StoreResult<Option<String>> {
    Ok(db.query_value(CUSTOM_PATH_OWNER, params![path, workflow_id])?)
}

pub fn delete_edges(db: &dyn Db, workflow_id: &str) -> StoreResult<()> {
    db.execute(DELETE_EDGES, params![workflow_id])?;
    Ok(())
}

pub fn insert_edge(
    db: &dyn Db,
    id: &str,
    workflow_id: &str,
    edge: &EdgeColumns,
) -> StoreResult<()> {
    db.execute(
        INSERT_EDGE,
        params![
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
        ],
    )?;
    Ok(())
}

/// The workflow's work orders active since `since` (microseconds) that succeeded or failed.
pub fn outcomes_since(db: &dyn Db, workflow_id: &str, since: i64) -> StoreResult<Outcomes> {
    let outcomes = db.query_row(OUTCOMES_SINCE, params![workflow_id, since], |r| {
        Ok(Outcomes {
            success: r.get(0)?,
            failed: r.get(1)?,
        })
    })?;
    // An aggregate without GROUP BY always gives one row.
    Ok(outcomes.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    //! A deploy's store calls in the order `project::apply` makes them: project, settings,
    //! kept entries, then each workflow's row, jobs, triggers, edges and version; then a
    //! redeploy that changes and removes things.
    use super::*;
    use crate::store::projects::{self, CredentialEntry, DeployedSettings};
    use crate::store::suite::{on_each_backend, seed};
    use crate::store::versions::{self, NewVersion};

    const COLUMNS: WorkflowColumns<'static> = WorkflowColumns {
        name: "Intake",
        concurrency: Some(2),
        run_timeout_secs: Some(60),
        memory_limit_mb: None,
        max_attempts: 3,
        retry_backoff_secs: 30,
    };

    fn job(key: &'static str, position: i64) -> JobColumns<'static> {
        JobColumns {
            key,
            name: key,
            body: "fn(state => state)",
            adaptor: "@openfn/language-common@latest",
            credential: None,
            position,
        }
    }

    fn trigger(key: &'static str, custom_path: Option<&'static str>) -> TriggerColumns<'static> {
        TriggerColumns {
            key,
            kind: "webhook",
            enabled: true,
            cron_expression: None,
            custom_path,
            webhook_reply: "before_start",
            auth: "[]",
        }
    }

    fn edge<'a>(
        key: &'a str,
        trigger: Option<&'a str>,
        from: Option<&'a str>,
        to: &'a str,
    ) -> EdgeColumns<'a> {
        EdgeColumns {
            key,
            source_trigger_id: trigger,
            source_job_id: from,
            target_job_id: to,
            condition_type: if trigger.is_some() {
                "always"
            } else {
                "on_job_success"
            },
            condition_expression: None,
            condition_label: None,
            enabled: true,
        }
    }

    fn write_version(db: &dyn Db, id: &str, workflow_id: &str, version: i64, snapshot: &str) {
        versions::insert(
            db,
            &NewVersion {
                id,
                workflow_id,
                version,
                snapshot,
                hash: "h",
                created_at: version,
                actor: "test",
                origin: "{}",
            },
        )
        .unwrap();
    }

    fn first_deploy(db: &dyn Db) {
        let project_id = match projects::id_by_name(db, "alpha").unwrap() {
            Some(id) => id,
            None => {
                projects::insert(db, "p1", "alpha", None, 1).unwrap();
                "p1".into()
            }
        };
        let settings = DeployedSettings {
            description: Some("d"),
            source_file: Some("project.yaml"),
            retention_policy: None,
            history_retention_days: None,
            dataclip_retention_days: None,
            concurrency: None,
        };
        projects::apply_deployed(db, &project_id, &settings, 1).unwrap();
        projects::replace_credential_entries(
            db,
            &project_id,
            &[CredentialEntry {
                key: "api".into(),
                name: "api".into(),
                owner: None,
            }],
        )
        .unwrap();
        assert!(current_snapshots(db, &project_id).unwrap().is_empty());
        assert_eq!(by_key(db, &project_id, "intake").unwrap(), None);

        insert(db, "w1", &project_id, "intake", &COLUMNS, 1).unwrap();
        delete_jobs_except(db, "w1", &["fetch", "store"]).unwrap();
        upsert_job(db, "j1", "w1", &job("fetch", 0)).unwrap();
        upsert_job(db, "j2", "w1", &job("store", 1)).unwrap();
        delete_triggers_except(db, "w1", &["hook"]).unwrap();
        clear_custom_paths(db, "w1").unwrap();
        assert_eq!(custom_path_owner(db, "/in", "w1").unwrap(), None);
        upsert_trigger(db, "t1", "w1", &trigger("hook", Some("/in"))).unwrap();
        delete_edges(db, "w1").unwrap();
        let t1 = trigger_id(db, "w1", "hook").unwrap().unwrap();
        let fetch = job_id(db, "w1", "fetch").unwrap().unwrap();
        let store = job_id(db, "w1", "store").unwrap().unwrap();
        insert_edge(
            db,
            "e1",
            "w1",
            &edge("hook->fetch", Some(&t1), None, &fetch),
        )
        .unwrap();
        insert_edge(
            db,
            "e2",
            "w1",
            &edge("fetch->store", None, Some(&fetch), &store),
        )
        .unwrap();
        write_version(db, "v1", "w1", 1, "{\"v\":1}");
    }

    #[test]
    fn a_deploy_writes_and_a_redeploy_rewrites_a_workflows_rows() {
        on_each_backend(|db| {
            first_deploy(db);
            let deployed_now = deployed(db).unwrap();
            assert_eq!(deployed_now.len(), 1);
            let row = &deployed_now[0];
            assert_eq!(
                (
                    row.id.as_str(),
                    row.project_id.as_str(),
                    row.project.as_str()
                ),
                ("w1", "p1", "alpha")
            );
            assert!(row.enabled);
            assert_eq!((row.version, row.version_id.as_str()), (1, "v1"));
            assert_eq!(row.snapshot, "{\"v\":1}");
            let current = current_snapshots(db, "p1").unwrap();
            assert_eq!(
                (current[0].id.as_str(), current[0].key.as_str()),
                ("w1", "intake")
            );
            assert_eq!(deployed_matching(db, "INTAKE").unwrap().len(), 1);
            assert_eq!(deployed_matching(db, "w1").unwrap().len(), 1);
            assert_eq!(deployed_matching(db, "intake").unwrap().len(), 1);
            assert!(deployed_matching(db, "other").unwrap().is_empty());
            assert_eq!(deployed_in_project(db, "ALPHA", "intake").unwrap().len(), 1);
            assert!(
                deployed_in_project(db, "beta", "intake")
                    .unwrap()
                    .is_empty()
            );

            // Another workflow can't take the path; the owner may.
            seed(
                db,
                "INSERT INTO workflows (id, project_id, key, name, created_at, updated_at)
                 VALUES ('w2', 'p1', 'other', 'Other', 0, 0)",
            );
            assert_eq!(
                custom_path_owner(db, "/in", "w2").unwrap().as_deref(),
                Some("intake")
            );
            assert_eq!(custom_path_owner(db, "/in", "w1").unwrap(), None);

            // Redeploy: `store` goes, `fetch` changes, the trigger moves path, a new version.
            let existing = by_key(db, "p1", "intake").unwrap().unwrap();
            assert_eq!(
                existing,
                Existing {
                    id: "w1".into(),
                    version: 1
                }
            );
            let renamed = WorkflowColumns {
                name: "Intake two",
                ..COLUMNS
            };
            update(db, "w1", 2, &renamed, 2).unwrap();
            delete_jobs_except(db, "w1", &["fetch"]).unwrap();
            let mut fetch = job("fetch", 0);
            fetch.credential = Some("api");
            upsert_job(db, "j9", "w1", &fetch).unwrap();
            delete_triggers_except(db, "w1", &["hook"]).unwrap();
            clear_custom_paths(db, "w1").unwrap();
            upsert_trigger(db, "t9", "w1", &trigger("hook", Some("/in2"))).unwrap();
            delete_edges(db, "w1").unwrap();
            let t1 = trigger_id(db, "w1", "hook").unwrap().unwrap();
            let fetch_id = job_id(db, "w1", "fetch").unwrap().unwrap();
            // Upserts keep the rows' ids.
            assert_eq!((t1.as_str(), fetch_id.as_str()), ("t1", "j1"));
            assert_eq!(job_id(db, "w1", "store").unwrap(), None);
            insert_edge(
                db,
                "e3",
                "w1",
                &edge("hook->fetch", Some(&t1), None, &fetch_id),
            )
            .unwrap();
            write_version(db, "v2", "w1", 2, "{\"v\":2}");

            let row = deployed_matching(db, "intake two").unwrap().remove(0);
            assert_eq!((row.version, row.snapshot.as_str()), (2, "{\"v\":2}"));
            let credential: Option<String> = db
                .query_value("SELECT credential FROM jobs WHERE id = 'j1'", params![])
                .unwrap();
            assert_eq!(credential.as_deref(), Some("api"));
            let edges: i64 = db
                .query_one(
                    "SELECT COUNT(*) FROM edges WHERE workflow_id = 'w1'",
                    params![],
                )
                .unwrap();
            assert_eq!(edges, 1);
            assert_eq!(
                custom_path_owner(db, "/in2", "w2").unwrap().as_deref(),
                Some("intake")
            );

            // Disable, then remove: the versions stay, the triggers go.
            set_enabled(db, "w1", false, 3).unwrap();
            assert!(!deployed(db).unwrap()[0].enabled);
            mark_deleted(db, "w1", 4).unwrap();
            assert!(deployed(db).unwrap().is_empty());
            assert!(current_snapshots(db, "p1").unwrap().is_empty());
            assert_eq!(trigger_id(db, "w1", "hook").unwrap(), None);
            assert_eq!(versions::range(db, "w1").unwrap().last, Some(2));
            // A deleted workflow's key is still found, to be brought back.
            assert_eq!(
                by_key(db, "p1", "intake").unwrap().map(|e| e.version),
                Some(2)
            );
            update(db, "w1", 3, &COLUMNS, 5).unwrap();
            write_version(db, "v3", "w1", 3, "{\"v\":3}");
            assert_eq!(deployed(db).unwrap().len(), 1);
        });
    }

    #[test]
    fn outcomes_count_work_orders_that_ended_since() {
        on_each_backend(|db| {
            assert_eq!(outcomes_since(db, "w1", 0).unwrap(), Outcomes::default());
            seed(
                db,
                "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p1', 'alpha', 0, 0);
                 INSERT INTO workflows (id, project_id, key, name, version, created_at, updated_at)
                 VALUES ('w1', 'p1', 'a', 'A', 1, 0, 0);
                 INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at)
                 VALUES ('v1', 'w1', 1, '{}', 'h', 0);
                 INSERT INTO work_orders (id, workflow_id, version_id, origin, state, received_at, last_activity)
                 VALUES ('o1', 'w1', 'v1', 'webhook', 'success', 0, 10),
                        ('o2', 'w1', 'v1', 'webhook', 'failed', 0, 20),
                        ('o3', 'w1', 'v1', 'webhook', 'crashed', 0, 30),
                        ('o4', 'w1', 'v1', 'webhook', 'running', 0, 30),
                        ('o5', 'w1', 'v1', 'webhook', 'success', 0, 1);",
            );
            assert_eq!(
                outcomes_since(db, "w1", 5).unwrap(),
                Outcomes {
                    success: 1,
                    failed: 2
                }
            );
        });
    }
}
