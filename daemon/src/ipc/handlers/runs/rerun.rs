//! `bolt rerun REF`: a new run of one work order, from the start or from a job.

use super::audit_rerun;
use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use crate::queue::reruns;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(
    daemon: &Arc<Daemon>,
    reference: String,
    from_job: Option<String>,
) -> HandlerResult {
    let queued = daemon
        .store
        .writer
        .write(move |tx| {
            let queued = reruns::rerun(tx, &reference, from_job.as_deref())?;
            audit_rerun(tx, &queued.outcome, from_job.as_deref())?;
            Ok(queued)
        })
        .await?;
    for event in queued.events {
        daemon.events.publish(event);
    }
    daemon.queue.notify_one();
    Ok(Response::Reruns {
        outcomes: vec![queued.outcome],
    })
}
