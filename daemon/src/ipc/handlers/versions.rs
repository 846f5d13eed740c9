//! Workflow version history: `bolt versions`, `bolt diff`, `bolt rollback`.

use super::HandlerResult;
use crate::daemon::Daemon;
use crate::versions;
use bolt_shared::protocol::*;
use std::sync::Arc;

pub async fn list(daemon: &Arc<Daemon>, workflow: String) -> HandlerResult {
    let list = daemon
        .store
        .readers
        .read(move |conn| versions::list(conn, &workflow))
        .await?;
    Ok(Response::Versions(list))
}

pub async fn diff(
    daemon: &Arc<Daemon>,
    workflow: String,
    from: Option<i64>,
    to: Option<i64>,
) -> HandlerResult {
    let diff = daemon
        .store
        .readers
        .read(move |conn| versions::diff(conn, &workflow, from, to))
        .await?;
    Ok(Response::Diff(Box::new(diff)))
}

pub async fn rollback(
    daemon: &Arc<Daemon>,
    workflow: String,
    to: i64,
    job: Option<String>,
) -> HandlerResult {
    let report = daemon
        .store
        .writer
        .write(move |tx| versions::rollback(tx, &workflow, to, job.as_deref()))
        .await?;
    if report.new_version.is_some() {
        daemon.events.publish(Event::WorkflowsChanged);
    }
    Ok(Response::RolledBack(Box::new(report)))
}
