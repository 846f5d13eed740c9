//! `bolt cancel`: cancels a queued run at once, or interrupts a running one.

use crate::daemon::Daemon;
use crate::ipc::handlers::{HandlerResult, bad_request};
use bolt_shared::model::RunState;
use bolt_shared::protocol::{Event, Response};
use std::sync::Arc;
use std::time::Duration;

/// Cancels a queued run at once, or interrupts a running one.
pub async fn handle(daemon: &Arc<Daemon>, reference: String) -> HandlerResult {
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
