//! `bolt collections delete`: a collection with all its items.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use crate::store::{collections, projects};
use bolt_shared::protocol::{ErrorBody, ErrorCode, Response};
use std::sync::Arc;

pub async fn handle(
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
