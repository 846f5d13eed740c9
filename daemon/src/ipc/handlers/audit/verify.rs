//! `bolt audit verify`: checks the audit log's hash chain.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>) -> HandlerResult {
    let report = daemon
        .store
        .readers
        .read(|conn| crate::audit::chain::verify(conn))
        .await?;
    Ok(Response::AuditChain(report))
}
