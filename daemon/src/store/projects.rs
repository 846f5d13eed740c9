//! Project rows: finding the project a request means, its settings, and what a deploy
//! keeps besides workflows (the file's credential entries and channels).

use super::{StoreError, StoreResult, now_micros};
use bolt_shared::protocol::ProjectSettings;
use bolt_sql::{Db, DbExt, Row, params};

/// A project by id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRef {
    pub id: String,
    pub name: String,
}

const BY_NAME: &str = "SELECT id FROM projects WHERE name = ?1";
const FIRST_TWO: &str = "SELECT id, name FROM projects ORDER BY name LIMIT 2";
const NAMES: &str = "SELECT name FROM projects ORDER BY name";
const COUNT: &str = "SELECT COUNT(*) FROM projects";

const SELECT_PROJECT: &str =
    "SELECT id, name, description, retention_policy, history_retention_days,
        dataclip_retention_days, concurrency
     FROM projects";

const INSERT: &str = "INSERT INTO projects (id, name, description, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?4)";

/// A deploy's settings: those the file leaves out (`None`) stay as they are; the
/// description is always the file's.
const APPLY_DEPLOYED: &str =
    "UPDATE projects SET description = ?2, source_file = COALESCE(?3, source_file),
        retention_policy = COALESCE(?4, retention_policy),
        history_retention_days = COALESCE(?5, history_retention_days),
        dataclip_retention_days = COALESCE(?6, dataclip_retention_days),
        concurrency = COALESCE(?7, concurrency), updated_at = ?8
     WHERE id = ?1";

const CHANNELS: &str = "SELECT channels FROM projects WHERE id = ?1";
const SET_CHANNELS: &str = "UPDATE projects SET channels = ?2 WHERE id = ?1";

const CREDENTIAL_ENTRIES: &str =
    "SELECT key, name, owner FROM project_credentials WHERE project_id = ?1 ORDER BY position";
const CLEAR_CREDENTIAL_ENTRIES: &str = "DELETE FROM project_credentials WHERE project_id = ?1";
const INSERT_CREDENTIAL_ENTRY: &str =
    "INSERT INTO project_credentials (project_id, key, name, owner, position)
     VALUES (?1, ?2, ?3, ?4, ?5)";

/// A project's row: its name and settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// `retain_all` or `erase_all`.
    pub retention_policy: String,
    pub history_retention_days: Option<u32>,
    pub dataclip_retention_days: Option<u32>,
    pub concurrency: Option<u32>,
}

fn project_row(r: &Row<'_>) -> bolt_sql::Result<ProjectRow> {
    Ok(ProjectRow {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        retention_policy: r.get(3)?,
        history_retention_days: r.get(4)?,
        dataclip_retention_days: r.get(5)?,
        concurrency: r.get(6)?,
    })
}

/// The settings a deploy writes (see [`APPLY_DEPLOYED`]).
#[derive(Debug, Clone, Copy)]
pub struct DeployedSettings<'a> {
    pub description: Option<&'a str>,
    /// The project file deployed, when known.
    pub source_file: Option<&'a str>,
    pub retention_policy: Option<&'a str>,
    pub history_retention_days: Option<u32>,
    pub dataclip_retention_days: Option<u32>,
    pub concurrency: Option<u32>,
}

/// One of a project file's `credentials:` entries, kept so export gives it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialEntry {
    pub key: String,
    pub name: String,
    pub owner: Option<String>,
}

/// The project a request means: the named one, or the only one there is. The errors say
/// which projects there are and how to name one.
pub fn resolve(db: &dyn Db, name: Option<&str>) -> StoreResult<ProjectRef> {
    if let Some(name) = name {
        let found: Option<String> = db.query_value(BY_NAME, params![name])?;
        return match found {
            Some(id) => Ok(ProjectRef {
                id,
                name: name.to_string(),
            }),
            None => Err(StoreError::Invalid(format!(
                "there is no project named `{name}`; the projects are: {}",
                names(db)?
            ))),
        };
    }
    let found: Vec<ProjectRef> = db.query_map(FIRST_TWO, params![], |r| {
        Ok(ProjectRef {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    })?;
    let mut found = found.into_iter();
    match (found.next(), found.next()) {
        (Some(only), None) => Ok(only),
        (None, _) => Err(StoreError::Invalid(
            "there is no project yet: deploy one with `bolt deploy project.yaml`".into(),
        )),
        (Some(_), Some(_)) => Err(StoreError::Invalid(format!(
            "there are several projects ({}): name one with --project",
            names(db)?
        ))),
    }
}

/// The projects' names, comma-separated ("(none)" without any).
pub fn names(db: &dyn Db) -> StoreResult<String> {
    let names: Vec<String> = db.query_map(NAMES, params![], |r| r.get(0))?;
    Ok(if names.is_empty() {
        "(none)".into()
    } else {
        names.join(", ")
    })
}

/// Changes the settings `settings` names (the others stay) of project `id`.
pub fn update_settings(db: &dyn Db, id: &str, settings: &ProjectSettings) -> StoreResult<()> {
    if let Some(value) = settings.history_retention_days {
        db.execute(
            "UPDATE projects SET history_retention_days = ?2 WHERE id = ?1",
            params![id, value],
        )?;
    }
    if let Some(value) = settings.dataclip_retention_days {
        db.execute(
            "UPDATE projects SET dataclip_retention_days = ?2 WHERE id = ?1",
            params![id, value],
        )?;
    }
    if let Some(value) = &settings.retention_policy {
        db.execute(
            "UPDATE projects SET retention_policy = ?2 WHERE id = ?1",
            params![id, value],
        )?;
    }
    if let Some(value) = settings.concurrency {
        db.execute(
            "UPDATE projects SET concurrency = ?2 WHERE id = ?1",
            params![id, value],
        )?;
    }
    db.execute(
        "UPDATE projects SET updated_at = ?2 WHERE id = ?1",
        params![id, now_micros()],
    )?;
    Ok(())
}

/// The id of the project named `name`, if there is one.
pub fn id_by_name(db: &dyn Db, name: &str) -> StoreResult<Option<String>> {
    Ok(db.query_value(BY_NAME, params![name])?)
}

/// How many projects there are.
pub fn count(db: &dyn Db) -> StoreResult<i64> {
    Ok(db.query_one(COUNT, params![])?)
}

pub fn by_id(db: &dyn Db, id: &str) -> StoreResult<Option<ProjectRow>> {
    Ok(db.query_row(
        &format!("{SELECT_PROJECT} WHERE id = ?1"),
        params![id],
        project_row,
    )?)
}

pub fn by_name(db: &dyn Db, name: &str) -> StoreResult<Option<ProjectRow>> {
    Ok(db.query_row(
        &format!("{SELECT_PROJECT} WHERE name = ?1"),
        params![name],
        project_row,
    )?)
}

/// Some project (the first SQLite finds): for when there is at most one.
pub fn any(db: &dyn Db) -> StoreResult<Option<ProjectRow>> {
    Ok(db.query_row(SELECT_PROJECT, params![], project_row)?)
}

/// Creates project `id` named `name`, with the default settings.
pub fn insert(
    db: &dyn Db,
    id: &str,
    name: &str,
    description: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    db.execute(INSERT, params![id, name, description, now])?;
    Ok(())
}

/// Writes a deploy's settings to project `id`.
pub fn apply_deployed(
    db: &dyn Db,
    id: &str,
    settings: &DeployedSettings,
    now: i64,
) -> StoreResult<()> {
    db.execute(
        APPLY_DEPLOYED,
        params![
            id,
            settings.description,
            settings.source_file,
            settings.retention_policy,
            settings.history_retention_days,
            settings.dataclip_retention_days,
            settings.concurrency,
            now
        ],
    )?;
    Ok(())
}

/// The project's `channels:` as deployed (JSON text), if any; not found without project `id`.
pub fn channels(db: &dyn Db, id: &str) -> StoreResult<Option<String>> {
    db.query_row(CHANNELS, params![id], |r| r.get(0))?
        .ok_or_else(|| StoreError::NotFound(format!("project {id}")))
}

pub fn set_channels(db: &dyn Db, id: &str, channels: Option<&str>) -> StoreResult<()> {
    db.execute(SET_CHANNELS, params![id, channels])?;
    Ok(())
}

/// The project file's `credentials:` entries, in the file's order.
pub fn credential_entries(db: &dyn Db, id: &str) -> StoreResult<Vec<CredentialEntry>> {
    let rows = db.query_map(CREDENTIAL_ENTRIES, params![id], |r| {
        Ok(CredentialEntry {
            key: r.get(0)?,
            name: r.get(1)?,
            owner: r.get(2)?,
        })
    })?;
    Ok(rows)
}

/// Replaces the project's `credentials:` entries with `entries` (in this order).
pub fn replace_credential_entries(
    db: &dyn Db,
    id: &str,
    entries: &[CredentialEntry],
) -> StoreResult<()> {
    db.execute(CLEAR_CREDENTIAL_ENTRIES, params![id])?;
    for (position, entry) in entries.iter().enumerate() {
        db.execute(
            INSERT_CREDENTIAL_ENTRY,
            params![id, entry.key, entry.name, entry.owner, position as i64],
        )?;
    }
    Ok(())
}
