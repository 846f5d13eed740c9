//! One workflow in detail, by name, key or PROJECT/WORKFLOW.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use crate::workflows;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>, reference: String) -> HandlerResult {
    let url = daemon.public_url();
    let view = daemon
        .store
        .readers
        .read(move |conn| {
            workflows::view(conn, &workflows::find(conn, &reference)?, url.as_deref())
        })
        .await?;
    Ok(Response::Workflow(Box::new(view)))
}
