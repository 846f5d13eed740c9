//! `bolt rollback`: a workflow (or one job) back to an earlier version, as a new version.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use crate::versions;
use bolt_shared::protocol::{Event, Response};
use std::sync::Arc;

pub async fn handle(
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
