//! `bolt failures`: failed runs grouped by what went wrong.

use crate::daemon::Daemon;
use crate::history;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(
    daemon: &Arc<Daemon>,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> HandlerResult {
    let groups = daemon
        .store
        .readers
        .read(move |conn| history::failures(conn, since))
        .await?;
    Ok(Response::Failures { groups })
}
