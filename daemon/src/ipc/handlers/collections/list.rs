//! `bolt collections` (no name): a project's collections with their sizes.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use crate::store::collections::{self, Collection};
use crate::store::{from_micros, projects};
use bolt_shared::model::CollectionSummary;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>, project_name: Option<String>) -> HandlerResult {
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

/// A collection as the client lists it: its size and when it changed.
fn summary(c: Collection) -> CollectionSummary {
    CollectionSummary {
        name: c.name,
        items: c.item_count.max(0) as u64,
        bytes: c.byte_size.max(0) as u64,
        created_at: from_micros(c.created_at),
        updated_at: from_micros(c.updated_at),
    }
}
