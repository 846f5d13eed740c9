//! `bolt collections`: a project's collections and their items, with the same rules (key
//! patterns, size limits) as the HTTP API jobs use.

pub mod create;
pub mod delete;
pub mod get;
pub mod items;
pub mod list;
pub mod remove;
pub mod set;

use crate::store::collections::{self, Collection, Item};
use crate::store::{StoreResult, from_micros, projects};
use bolt_shared::model::CollectionItem;
use bolt_shared::protocol::{ErrorBody, ErrorCode};
use bolt_sql::Db;

/// The project a request names (its name) and its collection `name`, or the error naming
/// the collections the project has.
fn named_collection(
    db: &dyn Db,
    project_name: Option<&str>,
    name: &str,
) -> StoreResult<Result<(String, Collection), ErrorBody>> {
    let projects::ProjectRef { id, name: project } = projects::resolve(db, project_name)?;
    Ok(match collections::find(db, &id, name)? {
        Some(found) => Ok((project, found)),
        None => Err(no_such_collection(
            &project,
            name,
            collections::list(db, &id)?,
        )),
    })
}

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

/// An item as the client shows it.
fn item(i: Item) -> CollectionItem {
    CollectionItem {
        key: i.key,
        value: i.value,
        created: from_micros(i.created_at),
        updated: from_micros(i.updated_at),
    }
}
