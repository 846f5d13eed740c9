//! Manual triggers and cancelling.

use super::{HandlerResult, bad_request};
use crate::daemon::Daemon;
use crate::store::StoreError;
use crate::store::work_orders::{Input, NewWorkOrder};
use crate::triggers::intake;
use crate::workflows;
use bolt_shared::model::{DataclipType, Origin, RunState};
use bolt_shared::protocol::*;
use std::sync::Arc;
use std::time::Duration;

pub async fn trigger(
    daemon: &Arc<Daemon>,
    workflow: String,
    input: ManualInput,
    wait: bool,
) -> HandlerResult {
    let (deployed, input) = daemon
        .store
        .readers
        .read(move |conn| {
            let deployed = workflows::find(conn, &workflow)?;
            let input = match input {
                ManualInput::Json { value } => Input::json(DataclipType::SavedInput, &value, None),
                ManualInput::Empty => Input::json(DataclipType::Global, &serde_json::json!({}), None),
                ManualInput::Named { name } => {
                    match crate::store::work_orders::saved_input(conn, &name)? {
                        Some((id, true)) => Input::Existing(id),
                        Some((_, false)) => return Err(StoreError::Invalid(format!("the saved input `{name}` was wiped"))),
                        None => return Err(StoreError::Invalid(format!("there is no saved input named `{name}`; save one with `bolt input save REF --step JOB --name {name}`"))),
                    }
                }
            };
            Ok((deployed, input))
        })
        .await?;
    let events = wait.then(|| daemon.events.subscribe());
    let created = intake::submit(
        daemon,
        NewWorkOrder {
            workflow_id: deployed.id,
            project_id: deployed.project_id,
            version_id: deployed.version_id,
            trigger_id: None,
            origin: Origin::Manual,
            input,
            starting_job: None,
            priority: 0,
            source_address: None,
        },
    )
    .await?;
    let (wo, run) = (created.work_order_id.clone(), created.run_id.clone());
    let audited = daemon
        .store
        .writer
        .write(move |tx| {
            let mut metadata = serde_json::Map::new();
            metadata.insert("run".into(), run.into());
            crate::audit::record_for_work_order(tx, "workflow.triggered", &wo, &wo, metadata)
        })
        .await;
    if let Err(error) = audited {
        tracing::warn!(%error, "cannot record a manual run in the audit log");
    }
    let mut result = TriggerResult {
        work_order_id: created.work_order_id,
        run_id: created.run_id.clone(),
        final_state: None,
        output: None,
    };
    if let Some(events) = events {
        // A workflow may set its own limit, up to the ceiling.
        let timeout = Duration::from_secs(daemon.config.engine.max_run_timeout_secs + 30);
        if let Some(done) = intake::wait_for_run(daemon, events, &created.run_id, timeout).await? {
            result.final_state = Some(done.state);
            result.output = done.final_state;
        }
    }
    Ok(Response::Triggered(result))
}

/// Cancels a queued run at once, or interrupts a running one.
pub async fn cancel(daemon: &Arc<Daemon>, reference: String) -> HandlerResult {
    let resolved = daemon
        .store
        .readers
        .read(move |conn| crate::refs::resolve_run(conn, &reference))
        .await?;
    let run_id = resolved.run_id;
    let id = run_id.clone();
    let (state, wo, wo_state) = daemon
        .store
        .writer
        .write(move |tx| {
            let cancelled = crate::store::work_orders::cancel_if_queued(tx, &id)?;
            if cancelled.work_order_state.is_some() {
                crate::audit::record_for_work_order(
                    tx,
                    CANCELLED,
                    &id,
                    &cancelled.work_order_id,
                    cancel_metadata("queued"),
                )?;
            }
            Ok((
                cancelled.state,
                cancelled.work_order_id,
                cancelled.work_order_state,
            ))
        })
        .await?;
    if let Some(wo_state) = wo_state {
        daemon.events.publish(Event::RunChanged {
            id: run_id.clone(),
            work_order_id: wo.clone(),
            state: RunState::Cancelled,
            created: false,
        });
        daemon.events.publish(Event::WorkOrderChanged {
            id: wo,
            state: wo_state,
            created: false,
        });
        return Ok(Response::Done {
            message: format!(
                "run {} cancelled before it started",
                bolt_shared::model::short_ref(&run_id)
            ),
        });
    }
    if state.is_final() {
        return Err(bad_request(format!(
            "run {} already ended ({state}); nothing to cancel",
            bolt_shared::model::short_ref(&run_id)
        )));
    }
    // Claimed or started: interrupt it; the runner records `cancelled`.
    for _ in 0..50 {
        if daemon.cancel_running(&run_id) {
            let (id, wo) = (run_id.clone(), wo.clone());
            let audited = daemon
                .store
                .writer
                .write(move |tx| {
                    let metadata = cancel_metadata("running");
                    crate::audit::record_for_work_order(tx, CANCELLED, &id, &wo, metadata)
                })
                .await;
            if let Err(error) = audited {
                tracing::warn!(%error, "cannot record a cancel in the audit log");
            }
            return Ok(Response::Done {
                message: format!(
                    "run {} is being cancelled",
                    bolt_shared::model::short_ref(&run_id)
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(bad_request(format!(
        "run {} is {state} but not running in this boltd",
        bolt_shared::model::short_ref(&run_id)
    )))
}

/// The audit event of a cancel.
const CANCELLED: &str = "run.cancelled";

/// What the audit log keeps of a cancel (`was`: the run was `queued` or `running`).
fn cancel_metadata(was: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut metadata = serde_json::Map::new();
    metadata.insert("was".into(), was.into());
    metadata
}
