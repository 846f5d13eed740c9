//! History, inspection, reruns and triage.

use super::HandlerResult;
use crate::daemon::Daemon;
use crate::history;
use crate::queue::reruns;
use bolt_shared::model::*;
use bolt_shared::protocol::*;
use std::sync::Arc;

pub async fn list(
    daemon: &Arc<Daemon>,
    filter: WorkOrderFilter,
    limit: u32,
    after: Option<String>,
) -> HandlerResult {
    let page = daemon
        .store
        .readers
        .read(move |conn| history::list(conn, &filter, limit, after.as_deref()))
        .await?;
    Ok(Response::WorkOrders(page))
}

pub async fn show(daemon: &Arc<Daemon>, reference: String, bodies: bool) -> HandlerResult {
    let shown = daemon
        .store
        .readers
        .read(move |conn| history::show(conn, &reference, bodies))
        .await?;
    Ok(Response::Shown(Box::new(shown)))
}

pub async fn dataclip(daemon: &Arc<Daemon>, id: String) -> HandlerResult {
    Ok(Response::Dataclip(
        daemon
            .store
            .readers
            .read(move |conn| history::dataclip(conn, &id))
            .await?,
    ))
}

pub async fn logs(
    daemon: &Arc<Daemon>,
    reference: String,
    level: Option<LogLevel>,
    after_id: Option<i64>,
) -> HandlerResult {
    let (lines, more) = daemon
        .store
        .readers
        .read(move |conn| history::logs(conn, &reference, level, after_id))
        .await?;
    Ok(Response::Logs { lines, more })
}

pub async fn rerun(
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

/// Records a rerun that was queued (a skipped one changed nothing).
fn audit_rerun(
    tx: &rusqlite::Connection,
    outcome: &RerunOutcome,
    from_job: Option<&str>,
) -> Result<(), crate::store::StoreError> {
    let Some(run) = &outcome.run_id else {
        return Ok(());
    };
    let mut metadata = serde_json::Map::new();
    metadata.insert("run".into(), run.clone().into());
    if let Some(job) = from_job {
        metadata.insert("from_job".into(), job.into());
    }
    crate::audit::record_for_work_order(
        tx,
        "work_order.rerun",
        &outcome.work_order_id,
        &outcome.work_order_id,
        metadata,
    )?;
    Ok(())
}

/// Reruns every matching work order in received order, 100 per transaction, reporting progress.
pub async fn rerun_matching(
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

pub async fn failures(
    daemon: &Arc<Daemon>,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> HandlerResult {
    let groups = daemon
        .store
        .readers
        .read(move |conn| history::failures(conn, since))
        .await?;
    Ok(Response::Failures { groups })
}
