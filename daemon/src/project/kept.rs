//! The parts of a Lightning project that are not workflows, kept by deploy so that export
//! gives them back: collections (created on deploy; never emptied or deleted by a deploy
//! unless it says `prune_collections`), `credentials:` entries with their keys and owners,
//! and `channels:` as written.

use super::spec::{CollectionSpec, CredentialRef, ProjectSpec};
use crate::store::collections;
use crate::store::projects::{self, CredentialEntry};
use crate::store::{StoreError, StoreResult};
use bolt_shared::protocol::DeployChange;
use bolt_sql::Db;

/// How a deploy treats what the file leaves out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeployOptions {
    /// Delete the project's collections the file does not list, with their items.
    pub prune_collections: bool,
}

/// What a deployed project holds besides its workflows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kept {
    pub credentials: Vec<CredentialRef>,
    /// Collection names, sorted.
    pub collections: Vec<String>,
    pub channels: Option<serde_json::Value>,
}

pub fn read(db: &dyn Db, project_id: &str) -> StoreResult<Kept> {
    let credentials = projects::credential_entries(db, project_id)?
        .into_iter()
        .map(|entry| CredentialRef {
            key: entry.key,
            name: entry.name,
            owner: entry.owner,
        })
        .collect();
    let channels = projects::channels(db, project_id)?
        .map(|text| {
            serde_json::from_str(&text)
                .map_err(|e| StoreError::Invalid(format!("unreadable channels: {e}")))
        })
        .transpose()?;
    Ok(Kept {
        credentials,
        collections: collections::list(db, project_id)?
            .into_iter()
            .map(|c| c.name)
            .collect(),
        channels,
    })
}

fn change(action: &str, name: &str) -> DeployChange {
    DeployChange {
        action: action.into(),
        what: "collection".into(),
        name: name.into(),
    }
}

/// The collections a deploy creates (and deletes, when pruning); and whether the project's
/// kept settings (credential entries, channels) change.
pub fn plan(
    db: &dyn Db,
    project_id: Option<&str>,
    spec: &ProjectSpec,
    options: DeployOptions,
) -> StoreResult<(Vec<DeployChange>, bool)> {
    let current = match project_id {
        Some(id) => read(db, id)?,
        None => Kept::default(),
    };
    let mut changes = Vec::new();
    for wanted in &spec.collections {
        if !current.collections.contains(&wanted.name) {
            changes.push(change("created", &wanted.name));
        }
    }
    if options.prune_collections {
        for name in &current.collections {
            if !spec.collections.iter().any(|c| &c.name == name) {
                changes.push(change("deleted", name));
            }
        }
    }
    let settings_changed = project_id.is_some()
        && (current.credentials != spec.credentials || current.channels != spec.channels);
    Ok((changes, settings_changed))
}

/// What a deploy leaves alone that the user may not expect: collections the file doesn't
/// list keep their items unless the deploy prunes them; and jobs that name a collection
/// the project won't have (their runs would fail with COLLECTION_NOT_FOUND).
pub fn warnings(
    db: &dyn Db,
    spec: &ProjectSpec,
    options: DeployOptions,
) -> StoreResult<Vec<String>> {
    let project_id = projects::id_by_name(db, &spec.name)?;
    let existing = match &project_id {
        Some(id) => collections::list(db, id)?,
        None => Vec::new(),
    };
    let mut warnings = Vec::new();
    if !options.prune_collections {
        for kept in existing
            .iter()
            .filter(|c| !spec.collections.iter().any(|w| w.name == c.name))
        {
            warnings.push(format!(
                "collection `{}` ({} item{}) is not in the file: it is kept with its items (deploy with --prune-collections to delete it)",
                kept.name,
                kept.item_count,
                if kept.item_count == 1 { "" } else { "s" }
            ));
        }
    }
    let will_have = |name: &str| {
        spec.collections.iter().any(|c| c.name == name)
            || (!options.prune_collections && existing.iter().any(|c| c.name == name))
    };
    for workflow in &spec.workflows {
        for job in &workflow.jobs {
            for name in crate::collections::names_used(&job.body) {
                if !will_have(&name) {
                    warnings.push(format!(
                        "job `{} / {}` uses collection `{name}`, which project `{}` does not have: its runs will fail with COLLECTION_NOT_FOUND until you add it under `collections:` (or run `bolt collections create {name}`)",
                        workflow.name, job.name, spec.name
                    ));
                }
            }
        }
    }
    Ok(warnings)
}

/// Writes the kept parts of `spec` into the caller's transaction.
pub fn apply(
    db: &dyn Db,
    project_id: &str,
    spec: &ProjectSpec,
    options: DeployOptions,
    now: i64,
) -> StoreResult<()> {
    let entries: Vec<CredentialEntry> = spec
        .credentials
        .iter()
        .map(|credential| CredentialEntry {
            key: credential.key.clone(),
            name: credential.name.clone(),
            owner: credential.owner.clone(),
        })
        .collect();
    projects::replace_credential_entries(db, project_id, &entries)?;
    let channels = spec.channels.as_ref().map(serde_json::Value::to_string);
    projects::set_channels(db, project_id, channels.as_deref())?;
    for CollectionSpec { name, .. } in &spec.collections {
        collections::create(db, project_id, name, now)?;
    }
    if options.prune_collections {
        for existing in collections::list(db, project_id)? {
            if !spec.collections.iter().any(|c| c.name == existing.name) {
                collections::delete(db, project_id, &existing.name)?;
            }
        }
    }
    Ok(())
}
