//! Project rows: finding the project a request means, and its settings.

use super::{StoreError, StoreResult, now_micros};
use bolt_shared::protocol::ProjectSettings;
use rusqlite::{Connection, OptionalExtension, params};

/// A project by id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRef {
    pub id: String,
    pub name: String,
}

const BY_NAME: &str = "SELECT id FROM projects WHERE name = ?1";
const FIRST_TWO: &str = "SELECT id, name FROM projects ORDER BY name LIMIT 2";
const NAMES: &str = "SELECT name FROM projects ORDER BY name";

/// The project a request means: the named one, or the only one there is. The errors say
/// which projects there are and how to name one.
pub fn resolve(conn: &Connection, name: Option<&str>) -> StoreResult<ProjectRef> {
    if let Some(name) = name {
        let found: Option<String> = conn
            .prepare_cached(BY_NAME)?
            .query_row([name], |r| r.get(0))
            .optional()?;
        return match found {
            Some(id) => Ok(ProjectRef {
                id,
                name: name.to_string(),
            }),
            None => Err(StoreError::Invalid(format!(
                "there is no project named `{name}`; the projects are: {}",
                names(conn)?
            ))),
        };
    }
    let found: Vec<ProjectRef> = conn
        .prepare_cached(FIRST_TWO)?
        .query_map([], |r| {
            Ok(ProjectRef {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut found = found.into_iter();
    match (found.next(), found.next()) {
        (Some(only), None) => Ok(only),
        (None, _) => Err(StoreError::Invalid(
            "there is no project yet: deploy one with `bolt deploy project.yaml`".into(),
        )),
        (Some(_), Some(_)) => Err(StoreError::Invalid(format!(
            "there are several projects ({}): name one with --project",
            names(conn)?
        ))),
    }
}

/// The projects' names, comma-separated ("(none)" without any).
pub fn names(conn: &Connection) -> StoreResult<String> {
    let names: Vec<String> = conn
        .prepare_cached(NAMES)?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(if names.is_empty() {
        "(none)".into()
    } else {
        names.join(", ")
    })
}

/// Changes the settings `settings` names (the others stay) of project `id`.
pub fn update_settings(conn: &Connection, id: &str, settings: &ProjectSettings) -> StoreResult<()> {
    if let Some(value) = settings.history_retention_days {
        conn.execute(
            "UPDATE projects SET history_retention_days = ?2 WHERE id = ?1",
            params![id, value],
        )?;
    }
    if let Some(value) = settings.dataclip_retention_days {
        conn.execute(
            "UPDATE projects SET dataclip_retention_days = ?2 WHERE id = ?1",
            params![id, value],
        )?;
    }
    if let Some(value) = &settings.retention_policy {
        conn.execute(
            "UPDATE projects SET retention_policy = ?2 WHERE id = ?1",
            params![id, value],
        )?;
    }
    if let Some(value) = settings.concurrency {
        conn.execute(
            "UPDATE projects SET concurrency = ?2 WHERE id = ?1",
            params![id, value],
        )?;
    }
    conn.execute(
        "UPDATE projects SET updated_at = ?2 WHERE id = ?1",
        params![id, now_micros()],
    )?;
    Ok(())
}
