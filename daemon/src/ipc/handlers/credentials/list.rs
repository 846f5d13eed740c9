//! `bolt credential list`: names and keys, never values.

use crate::credentials;
use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>) -> HandlerResult {
    let credentials = daemon
        .store
        .readers
        .read(|conn| credentials::list(conn))
        .await?;
    Ok(Response::Credentials { credentials })
}
