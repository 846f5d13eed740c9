//! History, inspection, reruns, saved inputs, triage, project settings.

use super::{HandlerResult, bad_request};
use crate::daemon::Daemon;
use crate::queue::reruns;
use crate::{history, project};
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
        .read(move |conn| reruns::matching_ids(conn, &filter))
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

pub async fn save_input(
    daemon: &Arc<Daemon>,
    reference: String,
    step: String,
    name: String,
) -> HandlerResult {
    let label = name.clone();
    let id = daemon
        .store
        .writer
        .write(move |tx| {
            let id = reruns::save_input(tx, &reference, &step, &name)?;
            let metadata = serde_json::json!({ "from": reference, "step": step, "dataclip": id });
            crate::audit::record(tx, "input.saved", &name, Some(&metadata))?;
            Ok(id)
        })
        .await?;
    Ok(Response::Done {
        message: format!(
            "saved input `{label}` ({}); run with it: bolt trigger WORKFLOW --input-name {label}",
            short_ref(&id)
        ),
    })
}

pub async fn list_inputs(daemon: &Arc<Daemon>) -> HandlerResult {
    let inputs = daemon.store.readers.read(crate::saved_inputs::list).await?;
    Ok(Response::Inputs { inputs })
}

pub async fn remove_input(daemon: &Arc<Daemon>, name: String) -> HandlerResult {
    let label = name.clone();
    let removed = daemon
        .store
        .writer
        .write(move |tx| crate::saved_inputs::remove(tx, &name))
        .await?;
    let message = match removed {
        crate::saved_inputs::Removed::Deleted => format!("removed saved input `{label}`"),
        crate::saved_inputs::Removed::Unnamed => format!(
            "removed saved input `{label}`; runs that used it still show it in their history"
        ),
    };
    Ok(Response::Done { message })
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

pub async fn set_project(
    daemon: &Arc<Daemon>,
    name: Option<String>,
    settings: ProjectSettings,
) -> HandlerResult {
    if let Some(policy) = &settings.retention_policy
        && policy != "retain_all"
        && policy != "erase_all"
    {
        return Err(bad_request(format!(
            "unknown retention_policy `{policy}`: use retain_all or erase_all"
        )));
    }
    if let (Some(Some(history)), Some(Some(dataclip))) = (
        settings.history_retention_days,
        settings.dataclip_retention_days,
    ) && dataclip > history
    {
        return Err(bad_request(
            "dataclip_retention_days can't be longer than history_retention_days",
        ));
    }
    let message = daemon
        .store
        .writer
        .write(move |tx| {
            let id = crate::store::projects::resolve(tx, name.as_deref())?.id;
            crate::store::projects::update_settings(tx, &id, &settings)?;
            project::audit(
                tx,
                "settings_updated",
                "project",
                &id,
                serde_json::to_value(&settings).ok(),
            )?;
            Ok("project settings saved".to_string())
        })
        .await?;
    Ok(Response::Done { message })
}
