//! Turning a trigger (webhook, cron, manual, rerun) into a durable work order and run.

use crate::daemon::Daemon;
use crate::store::StoreResult;
use crate::store::work_orders::{Created, NewWorkOrder, create_work_order};
use bolt_shared::model::RunState;
use bolt_shared::protocol::Event;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// Commits the work order, its input and its run, then announces them. Returns only
/// after the rows are durable.
pub async fn submit(daemon: &Arc<Daemon>, new: NewWorkOrder) -> StoreResult<Created> {
    let created = daemon
        .store
        .writer
        .write_repeatable(move |tx| create_work_order(tx, &new))
        .await?;
    for event in &created.events {
        daemon.events.publish(event.clone());
    }
    daemon.queue.notify_one();
    Ok(created)
}

/// How a run ended, for callers that wait (sync webhooks, `bolt trigger --wait`).
pub struct Finished {
    pub state: RunState,
    pub final_state: Option<Value>,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
}

/// Waits for `run_id` to reach a final state. `events` must be subscribed before the run
/// was submitted, so its end can't be missed. A run boltd could not record (a disk fault)
/// is followed to the run that replaced it.
pub async fn wait_for_run(
    daemon: &Arc<Daemon>,
    mut events: broadcast::Receiver<Event>,
    run_id: &str,
    timeout: Duration,
) -> StoreResult<Option<Finished>> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut run_id = run_id.to_string();
    loop {
        let waited =
            tokio::time::timeout_at(deadline, until_final(daemon, &mut events, &run_id)).await;
        if !matches!(waited, Ok(true)) {
            return Ok(None);
        }
        let finished = finished(daemon, &run_id).await?;
        let unrecorded = finished
            .as_ref()
            .is_some_and(|f| f.error_type.as_deref() == Some(crate::queue::unrecorded::ERROR_TYPE));
        let next = if unrecorded {
            replacement(daemon, &run_id).await?
        } else {
            None
        };
        match next {
            Some(next) => run_id = next,
            None => return Ok(finished),
        }
    }
}

/// True once `run_id` has reached a final state; false if the event bus closed. Events
/// say when; the store is asked too when events may have been missed (this subscriber fell
/// behind, or another node's events were lost on their way) and every few seconds, since
/// on a shared store the run may end on another node.
async fn until_final(
    daemon: &Arc<Daemon>,
    events: &mut broadcast::Receiver<Event>,
    run_id: &str,
) -> bool {
    let mut look = tokio::time::interval(STORE_LOOK);
    look.tick().await;
    loop {
        let ask_store = tokio::select! {
            event = events.recv() => match event {
                Ok(Event::RunChanged { id, state, .. }) if id == run_id && state.is_final() => {
                    return true;
                }
                Ok(Event::Lagged { .. }) | Err(broadcast::error::RecvError::Lagged(_)) => true,
                Ok(_) => false,
                Err(broadcast::error::RecvError::Closed) => return false,
            },
            _ = look.tick() => true,
        };
        if ask_store
            && run_state(daemon, run_id)
                .await
                .is_some_and(RunState::is_final)
        {
            return true;
        }
    }
}

/// How often a wait for a run's end also asks the store.
const STORE_LOOK: Duration = Duration::from_secs(2);

async fn finished(daemon: &Arc<Daemon>, run_id: &str) -> StoreResult<Option<Finished>> {
    let id = run_id.to_string();
    daemon
        .store
        .readers
        .read(move |conn| {
            Ok(crate::store::runs::end_of(conn, &id)?.map(|end| Finished {
                state: end.state,
                final_state: end.final_body.and_then(|b| serde_json::from_str(&b).ok()),
                error_type: end.error_type,
                error_message: end.error_message,
            }))
        })
        .await
}

/// The run queued after `run_id` in its work order (ids are time-ordered).
async fn replacement(daemon: &Arc<Daemon>, run_id: &str) -> StoreResult<Option<String>> {
    let id = run_id.to_string();
    daemon
        .store
        .readers
        .read(move |conn| crate::store::runs::next_in_work_order(conn, &id))
        .await
}

async fn run_state(daemon: &Arc<Daemon>, run_id: &str) -> Option<RunState> {
    let id = run_id.to_string();
    daemon
        .store
        .readers
        .read(move |conn| crate::store::runs::state_of(conn, &id))
        .await
        .ok()
        .flatten()
}
