//! `bolt audit`: the audit log's events, filtered.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::audit::AuditFilter;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>, mut filter: AuditFilter) -> HandlerResult {
    let events = daemon
        .store
        .readers
        .read(move |conn| {
            // Events name workflows by key; a name or PROJECT/WORKFLOW finds it too.
            if let Some(workflow) = &filter.workflow
                && let Ok(found) = crate::workflows::find(conn, workflow)
            {
                filter.workflow = Some(found.spec.key);
            }
            crate::audit::query::list(conn, &filter)
        })
        .await?;
    Ok(Response::Audit { events })
}
