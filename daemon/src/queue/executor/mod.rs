//! Executing one claimed run: load its pinned version and input (`load`), run it through
//! the engine while recording every step, dataclip and log line, scrubbed, as it happens
//! (`record`), then write how it ended and queue the retry its policy asks for (`finish`).

mod finish;
mod load;
mod record;

pub use finish::retry_lost;

use finish::finish;
use load::{Prepared, RunContext, load_context, prepare};
use record::{CONFIRMATION_WAIT, EVENTS_IN_FLIGHT, LINES_PER_CONFIRMATION, Recorder};

use crate::daemon::Daemon;
use crate::engine::{self, CancelToken, EngineEvent, EventGate, Limits, RunOutcome};
use crate::log_caps::{Dropped, LogCaps};
use crate::queue::unrecorded::Expected;
use crate::secrets::Scrubber;
use crate::store::work_orders::refresh_work_order;
use crate::store::{StoreError, StoreResult};
use bolt_shared::model::*;
use bolt_shared::protocol::Event;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// A run's end, before it is written.
pub(super) struct Ending {
    pub(super) state: RunState,
    pub(super) error_type: Option<String>,
    pub(super) error_message: Option<String>,
    pub(super) final_state: Option<Value>,
    /// The stored dataclip that already holds the final state.
    pub(super) final_dataclip_id: Option<String>,
    /// Log lines the run's log caps dropped.
    pub(super) logs_dropped: Dropped,
}

/// Runs a claimed run to completion. Never panics on user input; every failure is recorded.
pub async fn execute(daemon: Arc<Daemon>, run_id: String, cancel: CancelToken) {
    // A run whose records can't be kept doesn't start; it waits for the store (still
    // claimed: if boltd stops first, the next start queues it again).
    tokio::select! {
        biased;
        _ = daemon.store.health.until_writable() => {}
        _ = daemon.until_stopping() => {
            // Acknowledged work that never ran because of boltd's store: the next start
            // queues it again.
            daemon.unrecorded.record(&run_id);
            return;
        }
    }
    let faults = daemon.store.health.faults();
    let Err(err) = execute_inner(&daemon, &run_id, cancel, faults).await else {
        return;
    };
    if store_at_fault(&err) || daemon.store.health.faults() != faults {
        // boltd's fault, not the job's: once the disk takes writes again the run ends as
        // unrecorded and runs again.
        let why = match &err {
            StoreError::Refusing(refusal) => refusal.explain(),
            other => other.to_string(),
        };
        tracing::warn!(run = %run_id, "the store refused this run's records: it runs again once the store takes writes");
        crate::queue::unrecorded::once_the_store_recovers(&daemon, &run_id, why).await;
        return;
    }
    tracing::error!(run = %run_id, %err, "run could not be recorded; marking it as an exception");
    let message = format!("boltd could not run this: {err}");
    // The store may be briefly unavailable (that may be why the run failed): keep trying,
    // so the run doesn't stay claimed or started until the next restart.
    let mut pause = Duration::from_millis(500);
    for attempt in 1..=MARK_EXCEPTION_ATTEMPTS {
        match mark_exception(&daemon, &run_id, &message).await {
            Ok(()) => return,
            Err(err)
                if attempt == MARK_EXCEPTION_ATTEMPTS || matches!(err, StoreError::WriterGone) =>
            {
                tracing::error!(run = %run_id, %err, "could not mark the run as an exception; it will be marked lost on the next start");
            }
            Err(_) => {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
        }
    }
}

const MARK_EXCEPTION_ATTEMPTS: u32 = 6;

/// Whether `err` is the store's trouble rather than the run's: it refuses writes, or its
/// database could not be reached (a read can meet a lost connection before the writer
/// has noticed, so the store does not refuse yet).
fn store_at_fault(err: &StoreError) -> bool {
    matches!(err, StoreError::Refusing(_)) || err.is_unreachable()
}

async fn mark_exception(daemon: &Arc<Daemon>, run_id: &str, message: &str) -> StoreResult<()> {
    let (id, message) = (run_id.to_string(), message.to_string());
    daemon
        .store
        .writer
        .write(move |tx| {
            if crate::store::runs::end_as_exception(tx, &id, &message)? {
                crate::notify::events::run_ended(tx, &id)?;
            }
            if let Some(wo) = crate::store::runs::work_order_of(tx, &id)? {
                refresh_work_order(tx, &wo)?;
            }
            Ok(())
        })
        .await
}

/// Puts a claimed run that never started back in the queue, for the next start to run.
async fn release_claim(daemon: &Arc<Daemon>, ctx: &RunContext) -> StoreResult<()> {
    let id = ctx.run_id.clone();
    let released = daemon
        .store
        .writer
        .write(move |tx| crate::store::runs::release_claim(tx, &id))
        .await?;
    if released {
        daemon.events.publish(Event::RunChanged {
            id: ctx.run_id.clone(),
            work_order_id: ctx.work_order_id.clone(),
            state: RunState::Available,
            created: false,
        });
    }
    Ok(())
}

/// `faults`: the store's fault count when the run began; a fault since may have cost the
/// run some of its records.
async fn execute_inner(
    daemon: &Arc<Daemon>,
    run_id: &str,
    cancel: CancelToken,
    faults: u64,
) -> StoreResult<()> {
    let config = daemon.config.clone();
    let id = run_id.to_string();
    let ctx = daemon
        .store
        .readers
        .read(move |conn| load_context(conn, &id, &config))
        .await?;

    // Wait for an engine slot before the run counts as started. Released once the engine
    // is done, so waiting for the final commit doesn't hold a slot. A run still waiting
    // when boltd stops has not begun: it goes back to the queue rather than starting (or
    // being marked lost at the next start).
    let slot = tokio::select! {
        biased;
        _ = daemon.until_stopping() => return release_claim(daemon, &ctx).await,
        slot = daemon.engine_slots.acquire() => {
            slot.map_err(|_| StoreError::Invalid("the daemon is shutting down".into()))?
        }
    };
    let started = std::time::Instant::now();

    // Started: not awaited — the writer applies writes in order, and the run's final write,
    // which is awaited, comes after it. Saves a commit round trip per run.
    {
        let id = ctx.run_id.clone();
        let wo = ctx.work_order_id.clone();
        daemon.store.writer.write_detached(move |tx| {
            crate::store::runs::mark_started(tx, &id)?;
            refresh_work_order(tx, &wo).map(|_| ())
        });
        daemon.events.publish(Event::RunChanged {
            id: ctx.run_id.clone(),
            work_order_id: ctx.work_order_id.clone(),
            state: RunState::Started,
            created: false,
        });
        daemon.events.publish(Event::WorkOrderChanged {
            id: ctx.work_order_id.clone(),
            state: WorkOrderState::Running,
            created: false,
        });
    }

    let (ending, expected) = match prepare(daemon, &ctx).await? {
        Err(ending) => (ending, Expected::default()),
        Ok(prepared) => {
            let Prepared {
                plan,
                input,
                scrubber,
                notes,
                collections_token,
            } = prepared;
            let ended = run_engine(daemon, &ctx, plan, input, scrubber, notes, cancel).await;
            // The run's collections token dies with the run, before its end is recorded.
            drop(collections_token);
            ended?
        }
    };
    drop(slot);
    finish(daemon, &ctx, ending, expected, faults, started).await
}

async fn run_engine(
    daemon: &Arc<Daemon>,
    ctx: &RunContext,
    plan: engine::Plan,
    input: Value,
    scrubber: Scrubber,
    notes: Vec<String>,
    cancel: CancelToken,
) -> StoreResult<(Ending, Expected)> {
    let limits = Limits {
        step_timeout: ctx.run_timeout,
        memory_bytes: (ctx.memory_mb as usize).saturating_mul(1024 * 1024),
        max_state_bytes: daemon
            .config
            .engine
            .max_dataclip_bytes
            .max(1024 * 1024)
            .saturating_mul(10),
    };
    let (events, mut incoming) = tokio::sync::mpsc::unbounded_channel();
    let engine_cancel = cancel.clone();
    let gate = Arc::new(EventGate::new(EVENTS_IN_FLIGHT));
    let adaptors = engine::adaptors::choice::AdaptorSources::installed(
        engine::adaptors::installed::InstalledAdaptors::in_data_dir(&daemon.data_dir),
    );
    let mut engine = tokio::spawn(engine::execute_gated(
        plan,
        input,
        limits,
        adaptors,
        events,
        engine_cancel,
        gate.clone(),
    ));
    let mut recorder = Recorder {
        daemon,
        ctx,
        scrubber,
        log_caps: LogCaps::new(&daemon.config.logs),
        unconfirmed_lines: 0,
        steps: HashMap::new(),
        silent_steps: HashSet::new(),
        outputs: Vec::new(),
        first_step: true,
        expected: Expected::default(),
    };
    for message in notes {
        recorder.handle(EngineEvent::Log {
            step_id: None,
            source: "R/T".into(),
            level: LogLevel::Warn,
            message,
            time: chrono::Utc::now(),
        });
    }
    let deadline = tokio::time::sleep(ctx.run_timeout + Duration::from_secs(5));
    tokio::pin!(deadline);
    let mut timed_out = false;
    let outcome: Option<RunOutcome> = loop {
        if recorder.unconfirmed_lines >= LINES_PER_CONFIRMATION {
            // Wait for the log lines written so far to be committed before taking more:
            // a job logging faster than the disk then waits (see EVENTS_IN_FLIGHT) instead
            // of queueing its lines in memory. A refused write fails the line, not the run,
            // and a stuck disk holds the run up for a while, not for good.
            recorder.unconfirmed_lines = 0;
            let confirmed = daemon.store.writer.write_repeatable(|_| Ok(()));
            let _ = tokio::time::timeout(CONFIRMATION_WAIT, confirmed).await;
        }
        tokio::select! {
            Some(event) = incoming.recv() => {
                gate.taken();
                recorder.handle(event);
            }
            done = &mut engine => {
                while let Ok(event) = incoming.try_recv() {
                    gate.taken();
                    recorder.handle(event);
                }
                break done.ok();
            }
            _ = &mut deadline, if !timed_out => {
                // The engine bounds each step; this bounds the whole run.
                timed_out = true;
                cancel.cancel();
            }
        }
    };
    gate.close();
    let logs_dropped = recorder.flush_held_lines();
    let expected = recorder.expected;
    let Some(outcome) = outcome else {
        return Ok((
            Ending {
                state: RunState::Exception,
                error_type: Some("ExecutionError".into()),
                error_message: Some("the engine stopped unexpectedly".into()),
                final_state: None,
                final_dataclip_id: None,
                logs_dropped,
            },
            expected,
        ));
    };
    if timed_out {
        return Ok((
            Ending {
                state: RunState::Killed,
                error_type: Some("TimeoutError".into()),
                error_message: Some(format!(
                    "the run took longer than its {} s limit",
                    ctx.run_timeout.as_secs()
                )),
                final_state: None,
                final_dataclip_id: None,
                logs_dropped,
            },
            expected,
        ));
    }
    let mut final_state = outcome.final_state;
    // Usually the final state is the last step's output: point at that dataclip rather
    // than store the same body twice.
    let final_dataclip_id = final_state.as_ref().and_then(|s| recorder.dataclip_of(s));
    if let Some(state) = &mut final_state {
        recorder.scrubber.scrub_json(state);
    }
    Ok((
        Ending {
            state: outcome.exit_reason.run_state(),
            error_type: outcome.error_type,
            error_message: outcome.error_message.map(|m| recorder.scrubber.scrub(&m)),
            final_state,
            final_dataclip_id,
            logs_dropped,
        },
        expected,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_the_stores_fault_not_the_runs() {
        // Nothing listens on port 1: the connection is refused at once.
        let settings =
            bolt_sql::PgSettings::from_url("postgres://bolt@127.0.0.1:1/bolt").expect("settings");
        let Err(unreachable) = bolt_sql::PgClient::connect(&settings) else {
            panic!("something answered on port 1");
        };
        assert!(store_at_fault(&StoreError::Db(unreachable)));
        assert!(!store_at_fault(&StoreError::Invalid("a bad input".into())));
    }
}
