//! `bolt access reload`.

use crate::access::Caller;
use crate::daemon::Daemon;
use crate::ipc::handlers::{HandlerResult, bad_request};
use std::sync::Arc;

/// Re-reads [access] and records who changed the roles to what.
pub async fn handle(daemon: &Arc<Daemon>, caller: &Caller) -> HandlerResult {
    let access = daemon.access.reload().map_err(bad_request)?;
    let metadata = serde_json::to_value(&access).ok();
    daemon
        .store
        .writer
        .write(move |tx| crate::audit::record(tx, "access.reloaded", "access", metadata.as_ref()))
        .await?;
    super::view::handle(daemon, caller)
}
