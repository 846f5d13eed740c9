//! `bolt collections create`.

use crate::collections::rules;
use crate::daemon::Daemon;
use crate::ipc::handlers::{HandlerResult, bad_request};
use crate::store::{collections, now_micros, projects};
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(
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
