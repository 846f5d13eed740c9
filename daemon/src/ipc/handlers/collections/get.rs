//! `bolt collections get`: one item by key.

use super::{item, no_such_collection};
use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use crate::store::{collections, projects};
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(
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
