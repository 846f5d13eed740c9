//! `bolt input list`.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>) -> HandlerResult {
    let inputs = daemon
        .store
        .readers
        .read(|conn| crate::store::saved_inputs::list(conn))
        .await?;
    Ok(Response::Inputs { inputs })
}
