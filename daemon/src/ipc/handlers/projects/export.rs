//! `bolt export`: a project as the YAML that would deploy it.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use crate::project;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>, project_name: Option<String>) -> HandlerResult {
    let yaml = daemon
        .store
        .readers
        .read(move |conn| project::export_yaml(conn, project_name.as_deref()))
        .await?;
    Ok(Response::Exported { yaml })
}
