//! `bolt audit` and `bolt audit verify`.

use super::HandlerResult;
use crate::daemon::Daemon;
use bolt_shared::audit::AuditFilter;
use bolt_shared::protocol::*;
use std::sync::Arc;

pub async fn list(daemon: &Arc<Daemon>, mut filter: AuditFilter) -> HandlerResult {
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

pub async fn verify(daemon: &Arc<Daemon>) -> HandlerResult {
    let report = daemon
        .store
        .readers
        .read(crate::audit::chain::verify)
        .await?;
    Ok(Response::AuditChain(report))
}
