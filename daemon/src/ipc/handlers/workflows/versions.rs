//! `bolt versions`: a workflow's deployed versions.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use crate::versions;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>, workflow: String) -> HandlerResult {
    let list = daemon
        .store
        .readers
        .read(move |conn| versions::list(conn, &workflow))
        .await?;
    Ok(Response::Versions(list))
}
