//! One dataclip's body, by id.

use crate::daemon::Daemon;
use crate::history;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>, id: String) -> HandlerResult {
    Ok(Response::Dataclip(
        daemon
            .store
            .readers
            .read(move |conn| history::dataclip(conn, &id))
            .await?,
    ))
}
