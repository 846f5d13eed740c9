//! Turning a trigger (webhook, cron, manual, rerun) into a durable work order and run.

use crate::daemon::Daemon;
use crate::runs::{Created, NewWorkOrder, create_work_order};
use crate::store::StoreResult;
use bolt_shared::model::RunState;
use bolt_shared::protocol::Event;
use rusqlite::OptionalExtension;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// (state, error type, error message, final state body)
type FinishedRow = (String, Option<String>, Option<String>, Option<String>);

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
/// was submitted, so its end can't be missed.
pub async fn wait_for_run(
    daemon: &Arc<Daemon>,
    mut events: broadcast::Receiver<Event>,
    run_id: &str,
    timeout: Duration,
) -> StoreResult<Option<Finished>> {
    let waited = tokio::time::timeout(timeout, async {
        loop {
            match events.recv().await {
                Ok(Event::RunChanged { id, state, .. }) if id == run_id && state.is_final() => {
                    return true;
                }
                Ok(_) => {}
                // Fell behind: check the store directly below.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if run_state(daemon, run_id)
                        .await
                        .is_some_and(RunState::is_final)
                    {
                        return true;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return false,
            }
        }
    })
    .await;
    if !matches!(waited, Ok(true)) {
        return Ok(None);
    }
    let id = run_id.to_string();
    daemon
        .store
        .readers
        .read(move |conn| {
            let row: Option<FinishedRow> = conn
                .prepare_cached("SELECT r.state, r.error_type, r.error_message, d.body FROM runs r LEFT JOIN dataclips d ON d.id = r.final_dataclip_id WHERE r.id = +?1")?
                .query_row([&id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            Ok(row.map(|(state, error_type, error_message, body)| Finished {
                state: RunState::parse(&state).unwrap_or(RunState::Exception),
                final_state: body.and_then(|b| serde_json::from_str(&b).ok()),
                error_type,
                error_message,
            }))
        })
        .await
}

async fn run_state(daemon: &Arc<Daemon>, run_id: &str) -> Option<RunState> {
    let id = run_id.to_string();
    daemon
        .store
        .readers
        .read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT state FROM runs WHERE id = ?1")?
                .query_row([&id], |r| r.get::<_, String>(0))
                .optional()?)
        })
        .await
        .ok()
        .flatten()
        .and_then(|s| RunState::parse(&s))
}
