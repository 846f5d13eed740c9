//! `bolt rerun --matching` and the TUI's bulk rerun: every work order a filter matches.

use super::audit_rerun;
use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use crate::queue::reruns;
use bolt_shared::model::WorkOrderFilter;
use bolt_shared::protocol::{Event, Response};
use std::sync::Arc;

/// Reruns every matching work order in received order, 100 per transaction, reporting progress.
pub async fn handle(
    daemon: &Arc<Daemon>,
    filter: WorkOrderFilter,
    from_job: Option<String>,
) -> HandlerResult {
    let ids = daemon
        .store
        .readers
        .read(move |conn| crate::history::matching_ids(conn, &filter))
        .await?;
    let total = ids.len() as u64;
    let mut outcomes = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(100) {
        let chunk = chunk.to_vec();
        let from = from_job.clone();
        let queued = daemon
            .store
            .writer
            .write(move |tx| {
                let queued = chunk
                    .iter()
                    .map(|id| reruns::rerun_or_skip(tx, id, from.as_deref()))
                    .collect::<Result<Vec<_>, _>>()?;
                for item in &queued {
                    audit_rerun(tx, &item.outcome, from.as_deref())?;
                }
                Ok(queued)
            })
            .await?;
        for item in queued {
            for event in item.events {
                daemon.events.publish(event);
            }
            outcomes.push(item.outcome);
        }
        daemon.queue.notify_one();
        daemon.events.publish(Event::BulkProgress {
            done: outcomes.len() as u64,
            total,
        });
    }
    Ok(Response::Reruns { outcomes })
}
