//! `bolt diff`: what changed between two versions of a workflow.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use crate::versions;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(
    daemon: &Arc<Daemon>,
    workflow: String,
    from: Option<i64>,
    to: Option<i64>,
) -> HandlerResult {
    let diff = daemon
        .store
        .readers
        .read(move |conn| versions::diff(conn, &workflow, from, to))
        .await?;
    Ok(Response::Diff(Box::new(diff)))
}
