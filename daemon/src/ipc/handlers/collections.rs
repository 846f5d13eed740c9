//! `bolt collections`: a project's collections and their items, with the same rules (key
//! patterns, size limits) as the HTTP API jobs use.

use super::{HandlerResult, bad_request};
use crate::collections::api::{decode_cursor, encode_cursor};
use crate::collections::pattern::{KeyPattern, is_pattern};
use crate::collections::rules::{self, ItemQuery, Limits};
use crate::daemon::Daemon;
use crate::store::collections::{self, Collection, Item};
use crate::store::projects;
use crate::store::{from_micros, now_micros};
use bolt_shared::model::{CollectionItem, CollectionSummary};
use bolt_shared::protocol::{ErrorBody, ErrorCode, Response};
use std::sync::Arc;

/// Most items one page may ask for.
const MAX_PAGE: u32 = 1000;

/// The error for a collection the project lacks, naming the ones it has.
fn no_such_collection(project_name: &str, name: &str, has: Vec<Collection>) -> ErrorBody {
    let names: Vec<String> = has.into_iter().map(|c| c.name).collect();
    ErrorBody::new(
        ErrorCode::NotFound,
        format!(
            "project `{project_name}` has no collection `{name}` (it has: {}); create it with `bolt collections create {name}` or under `collections:` in project.yaml",
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }
        ),
    )
}

fn summary(c: Collection) -> CollectionSummary {
    CollectionSummary {
        name: c.name,
        items: c.item_count.max(0) as u64,
        bytes: c.byte_size.max(0) as u64,
        created_at: from_micros(c.created_at),
        updated_at: from_micros(c.updated_at),
    }
}

fn item(i: Item) -> CollectionItem {
    CollectionItem {
        key: i.key,
        value: i.value,
        created: from_micros(i.created_at),
        updated: from_micros(i.updated_at),
    }
}

pub async fn list(daemon: &Arc<Daemon>, project_name: Option<String>) -> HandlerResult {
    let (project, collections) = daemon
        .store
        .readers
        .read(move |conn| {
            let project = projects::resolve(conn, project_name.as_deref())?;
            Ok((project.name, collections::list(conn, &project.id)?))
        })
        .await?;
    Ok(Response::Collections {
        project,
        collections: collections.into_iter().map(summary).collect(),
    })
}

pub async fn create(
    daemon: &Arc<Daemon>,
    project_name: Option<String>,
    name: String,
) -> HandlerResult {
    rules::validate_name(&name).map_err(bad_request)?;
    let target = name.clone();
    let (project, created) = daemon
        .store
        .writer
        .write(move |tx| {
            let projects::ProjectRef { id, name: project } =
                projects::resolve(tx, project_name.as_deref())?;
            let created = collections::create(tx, &id, &target, now_micros())?;
            if created {
                crate::project::audit_event(
                    tx,
                    "created",
                    "collection",
                    &format!("{project}/{target}"),
                )?;
            }
            Ok((project, created))
        })
        .await?;
    Ok(Response::CollectionChanged {
        message: if created {
            format!("created collection `{name}` in project `{project}`")
        } else {
            format!("collection `{name}` already exists in project `{project}`")
        },
        project,
        collection: name,
        count: u64::from(created),
    })
}

pub async fn delete(
    daemon: &Arc<Daemon>,
    project_name: Option<String>,
    name: String,
) -> HandlerResult {
    let target = name.clone();
    let (project, deleted) = daemon
        .store
        .writer
        .write(move |tx| {
            let projects::ProjectRef { id, name: project } =
                projects::resolve(tx, project_name.as_deref())?;
            let deleted = collections::delete(tx, &id, &target)?;
            if deleted.is_some() {
                crate::project::audit_event(
                    tx,
                    "deleted",
                    "collection",
                    &format!("{project}/{target}"),
                )?;
            }
            Ok((project, deleted))
        })
        .await?;
    match deleted {
        Some(items) => Ok(Response::CollectionChanged {
            message: format!(
                "deleted collection `{name}` of project `{project}` with its {items} item{}",
                if items == 1 { "" } else { "s" }
            ),
            project,
            collection: name,
            count: items.max(0) as u64,
        }),
        None => Err(ErrorBody::new(
            ErrorCode::NotFound,
            format!("project `{project}` has no collection `{name}`"),
        )),
    }
}

pub async fn get(
    daemon: &Arc<Daemon>,
    project_name: Option<String>,
    name: String,
    key: String,
) -> HandlerResult {
    daemon
        .store
        .readers
        .read(move |conn| {
            let projects::ProjectRef { id, name: project } =
                projects::resolve(conn, project_name.as_deref())?;
            let Some(found) = collections::find(conn, &id, &name)? else {
                let has = collections::list(conn, &id)?;
                return Ok(Err(no_such_collection(&project, &name, has)));
            };
            Ok(Ok(Response::CollectionItem {
                item: collections::get(conn, &found.id, &key)?.map(item),
                project,
                collection: name,
            }))
        })
        .await?
}

pub async fn items(
    daemon: &Arc<Daemon>,
    project_name: Option<String>,
    name: String,
    pattern: Option<String>,
    cursor: Option<String>,
    limit: u32,
) -> HandlerResult {
    let after = match cursor.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            decode_cursor(text)
                .ok_or_else(|| bad_request(format!("cursor `{text}` is not one boltd gave")))?,
        ),
    };
    let limit = limit.clamp(1, MAX_PAGE) as usize;
    daemon
        .store
        .readers
        .read(move |conn| {
            let projects::ProjectRef { id, name: project } =
                projects::resolve(conn, project_name.as_deref())?;
            let Some(found) = collections::find(conn, &id, &name)? else {
                let has = collections::list(conn, &id)?;
                return Ok(Err(no_such_collection(&project, &name, has)));
            };
            let query = ItemQuery {
                pattern: pattern.as_deref().map(KeyPattern::new),
                after,
                ..ItemQuery::default()
            };
            // One more than asked: whether it exists says if there is a next page.
            let mut page = collections::page(conn, &found.id, &query.range(), limit + 1)?;
            let cursor = if page.len() > limit {
                page.truncate(limit);
                page.last().map(|i| encode_cursor(i.created_at))
            } else {
                None
            };
            Ok(Ok(Response::CollectionItems {
                project,
                collection: name,
                items: page.into_iter().map(item).collect(),
                cursor,
            }))
        })
        .await?
}

pub async fn set(
    daemon: &Arc<Daemon>,
    project_name: Option<String>,
    name: String,
    key: String,
    value: String,
) -> HandlerResult {
    let limits = Limits::from(&daemon.config.collections);
    let (target, stored) = (name.clone(), key.clone());
    daemon
        .store
        .writer
        .write(move |tx| {
            let projects::ProjectRef { id, name: project } =
                projects::resolve(tx, project_name.as_deref())?;
            let Some(found) = collections::find(tx, &id, &target)? else {
                let has = collections::list(tx, &id)?;
                return Ok(Err(no_such_collection(&project, &target, has)));
            };
            match rules::put_all(tx, &found, &[(stored, value)], &limits, now_micros())? {
                Ok(_) => Ok(Ok(project)),
                Err(refused) => Ok(Err(bad_request(refused.to_string()))),
            }
        })
        .await?
        .map(|project| Response::CollectionChanged {
            message: format!("set `{key}` in collection `{name}`"),
            project,
            collection: name,
            count: 1,
        })
}

pub async fn remove(
    daemon: &Arc<Daemon>,
    project_name: Option<String>,
    name: String,
    key: String,
) -> HandlerResult {
    let (target, wanted) = (name.clone(), key.clone());
    let outcome = daemon
        .store
        .writer
        .write(move |tx| {
            let projects::ProjectRef { id, name: project } =
                projects::resolve(tx, project_name.as_deref())?;
            let Some(found) = collections::find(tx, &id, &target)? else {
                let has = collections::list(tx, &id)?;
                return Ok(Err(no_such_collection(&project, &target, has)));
            };
            let removed = if is_pattern(&wanted) {
                collections::delete_matching(
                    tx,
                    &found.id,
                    Some(KeyPattern::new(&wanted).glob()),
                    now_micros(),
                )?
            } else {
                u64::from(collections::delete_key(
                    tx,
                    &found.id,
                    &wanted,
                    now_micros(),
                )?)
            };
            Ok(Ok((project, removed)))
        })
        .await??;
    let (project, removed) = outcome;
    let message = match (is_pattern(&key), removed) {
        (true, n) => format!(
            "removed {n} item{} matching `{key}` from collection `{name}`",
            if n == 1 { "" } else { "s" }
        ),
        (false, 0) => format!("collection `{name}` has no key `{key}`: nothing removed"),
        (false, _) => format!("removed `{key}` from collection `{name}`"),
    };
    Ok(Response::CollectionChanged {
        project,
        collection: name,
        message,
        count: removed,
    })
}
