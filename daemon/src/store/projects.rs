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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite::{on_each_backend, seed};

    fn settings(description: &str) -> DeployedSettings<'_> {
        DeployedSettings {
            description: Some(description),
            source_file: Some("project.yaml"),
            retention_policy: Some("erase_all"),
            history_retention_days: Some(30),
            dataclip_retention_days: None,
            concurrency: Some(4),
        }
    }

    #[test]
    fn a_request_means_the_named_project_or_the_only_one() {
        on_each_backend(|db| {
            let none = resolve(db, None).unwrap_err().to_string();
            assert!(none.contains("there is no project yet"), "{none}");
            assert_eq!(names(db).unwrap(), "(none)");
            assert_eq!(count(db).unwrap(), 0);

            insert(db, "p1", "alpha", Some("first"), 10).unwrap();
            assert_eq!(
                resolve(db, None).unwrap(),
                ProjectRef {
                    id: "p1".into(),
                    name: "alpha".into()
                }
            );
            insert(db, "p2", "beta", None, 11).unwrap();
            assert_eq!(count(db).unwrap(), 2);
            assert_eq!(names(db).unwrap(), "alpha, beta");
            let several = resolve(db, None).unwrap_err().to_string();
            assert!(
                several.contains("several projects (alpha, beta)"),
                "{several}"
            );
            assert_eq!(resolve(db, Some("beta")).unwrap().id, "p2");
            let unknown = resolve(db, Some("gamma")).unwrap_err().to_string();
            assert!(unknown.contains("no project named `gamma`"), "{unknown}");
            assert!(unknown.contains("alpha, beta"), "{unknown}");

            assert_eq!(id_by_name(db, "alpha").unwrap().as_deref(), Some("p1"));
            assert_eq!(id_by_name(db, "gamma").unwrap(), None);
        });
    }

    #[test]
    fn rows_read_back_with_their_settings() {
        on_each_backend(|db| {
            assert_eq!(any(db).unwrap(), None);
            insert(db, "p1", "alpha", Some("first"), 10).unwrap();
            let fresh = ProjectRow {
                id: "p1".into(),
                name: "alpha".into(),
                description: Some("first".into()),
                retention_policy: "retain_all".into(),
                history_retention_days: None,
                dataclip_retention_days: None,
                concurrency: None,
            };
            assert_eq!(by_id(db, "p1").unwrap(), Some(fresh.clone()));
            assert_eq!(by_name(db, "alpha").unwrap(), Some(fresh.clone()));
            assert_eq!(any(db).unwrap(), Some(fresh));
            assert_eq!(by_id(db, "nope").unwrap(), None);
            assert_eq!(by_name(db, "nope").unwrap(), None);
        });
    }

    #[test]
    fn a_deploy_writes_the_files_settings_and_keeps_the_others() {
        on_each_backend(|db| {
            insert(db, "p1", "alpha", None, 10).unwrap();
            apply_deployed(db, "p1", &settings("deployed"), 20).unwrap();
            let row = by_id(db, "p1").unwrap().unwrap();
            assert_eq!(row.description.as_deref(), Some("deployed"));
            assert_eq!(row.retention_policy, "erase_all");
            assert_eq!(row.history_retention_days, Some(30));
            assert_eq!(row.concurrency, Some(4));

            // A file that leaves settings out keeps them.
            let sparse = DeployedSettings {
                description: None,
                source_file: None,
                retention_policy: None,
                history_retention_days: None,
                dataclip_retention_days: Some(7),
                concurrency: None,
            };
            apply_deployed(db, "p1", &sparse, 30).unwrap();
            let row = by_id(db, "p1").unwrap().unwrap();
            assert_eq!(row.description, None);
            assert_eq!(row.retention_policy, "erase_all");
            assert_eq!(row.history_retention_days, Some(30));
            assert_eq!(row.dataclip_retention_days, Some(7));
            assert_eq!(row.concurrency, Some(4));
            let source: Option<String> = db
                .query_value(
                    "SELECT source_file FROM projects WHERE id = ?1",
                    params!["p1"],
                )
                .unwrap();
            assert_eq!(source.as_deref(), Some("project.yaml"));
        });
    }

    #[test]
    fn settings_change_only_where_named() {
        on_each_backend(|db| {
            insert(db, "p1", "alpha", None, 10).unwrap();
            let change = ProjectSettings {
                history_retention_days: Some(Some(5)),
                concurrency: Some(Some(2)),
                ..Default::default()
            };
            update_settings(db, "p1", &change).unwrap();
            let change = ProjectSettings {
                dataclip_retention_days: Some(Some(3)),
                retention_policy: Some("erase_all".into()),
                concurrency: Some(None),
                ..Default::default()
            };
            update_settings(db, "p1", &change).unwrap();
            let row = by_id(db, "p1").unwrap().unwrap();
            assert_eq!(row.history_retention_days, Some(5));
            assert_eq!(row.dataclip_retention_days, Some(3));
            assert_eq!(row.retention_policy, "erase_all");
            assert_eq!(row.concurrency, None);
            let updated: i64 = db
                .query_one(
                    "SELECT updated_at FROM projects WHERE id = ?1",
                    params!["p1"],
                )
                .unwrap();
            assert!(updated > 10);
        });
    }

    #[test]
    fn channels_and_credential_entries_round_trip() {
        on_each_backend(|db| {
            seed(
                db,
                "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p1', 'alpha', 0, 0)",
            );
            assert_eq!(channels(db, "p1").unwrap(), None);
            set_channels(db, "p1", Some(r#"{"ops":{}}"#)).unwrap();
            assert_eq!(
                channels(db, "p1").unwrap().as_deref(),
                Some(r#"{"ops":{}}"#)
            );
            set_channels(db, "p1", None).unwrap();
            assert_eq!(channels(db, "p1").unwrap(), None);
            assert!(matches!(channels(db, "nope"), Err(StoreError::NotFound(_))));

            let entry = |key: &str, owner: Option<&str>| CredentialEntry {
                key: key.into(),
                name: format!("{key}-name"),
                owner: owner.map(str::to_string),
            };
            assert!(credential_entries(db, "p1").unwrap().is_empty());
            let first = vec![entry("b", Some("ops")), entry("a", None)];
            replace_credential_entries(db, "p1", &first).unwrap();
            assert_eq!(credential_entries(db, "p1").unwrap(), first);
            let second = vec![entry("c", None)];
            replace_credential_entries(db, "p1", &second).unwrap();
            assert_eq!(credential_entries(db, "p1").unwrap(), second);
        });
    }
}
