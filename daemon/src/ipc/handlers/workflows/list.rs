//! `bolt workflows`: every deployed workflow.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use crate::workflows;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>) -> HandlerResult {
    let url = daemon.public_url();
    let views = daemon
        .store
        .readers
        .read(move |conn| {
            workflows::all(conn)?
                .iter()
                .map(|d| workflows::view(conn, d, url.as_deref()))
                .collect()
        })
        .await?;
    Ok(Response::Workflows { workflows: views })
}
