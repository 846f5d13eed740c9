//! `bolt access` and `bolt access reload`.

use super::HandlerResult;
use crate::access::Caller;
use crate::daemon::Daemon;
use bolt_shared::protocol::*;
use std::sync::Arc;

pub fn view(daemon: &Arc<Daemon>, caller: &Caller) -> Response {
    Response::Access(Box::new(daemon.access.view(caller)))
}

/// Re-reads [access] and records who changed the roles to what.
pub async fn reload(daemon: &Arc<Daemon>, caller: &Caller) -> HandlerResult {
    let access = daemon.access.reload().map_err(super::bad_request)?;
    let metadata = serde_json::to_value(&access).ok();
    daemon
        .store
        .writer
        .write(move |tx| crate::audit::record(tx, "access.reloaded", "access", metadata.as_ref()))
        .await?;
    Ok(view(daemon, caller))
}
