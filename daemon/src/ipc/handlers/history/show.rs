//! `bolt show`: a work order or run with its steps.

use crate::daemon::Daemon;
use crate::history;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>, reference: String, bodies: bool) -> HandlerResult {
    let shown = daemon
        .store
        .readers
        .read(move |conn| history::show(conn, &reference, bodies))
        .await?;
    Ok(Response::Shown(Box::new(shown)))
}
