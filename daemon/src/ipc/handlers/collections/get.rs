//! `bolt collections get`: one item by key.

use super::{item, named_collection};
use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use crate::store::collections;
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
            let (project, found) = match named_collection(conn, project_name.as_deref(), &name)? {
                Ok(named) => named,
                Err(missing) => return Ok(Err(missing)),
            };
            Ok(Ok(Response::CollectionItem {
                item: collections::get(conn, &found.id, &key)?.map(item),
                project,
                collection: name,
            }))
        })
        .await?
}
