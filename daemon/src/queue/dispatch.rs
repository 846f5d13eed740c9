//! The run queue's dispatcher: claims available runs in priority then arrival order,
//! within the worker count and each workflow's and project's concurrency limit, and hands
//! them to the runner.

use crate::daemon::Daemon;
use crate::engine::CancelToken;
use crate::queue::executor;
use crate::store::claims::{Claimed, claim};
use std::sync::Arc;
use std::time::Duration;

/// Runs in flight (claimed, not yet recorded) per worker. Only `workers` of them execute
/// job code at a time (`Daemon::engine_slots`); the rest load their context or wait for
/// their commits, which is most of a short run's life.
const IN_FLIGHT_PER_WORKER: usize = 8;

/// Under load a claim waits until this many slots are free, so that one claim's queries
/// (the writer's, ~50 µs) serve several runs rather than one each time a run ends. It
/// doesn't wait while an engine worker is idle: a run claimed then starts at once.
const CLAIM_AT_LEAST: usize = 4;

/// Whether to claim now, with `free` of `max_in_flight` slots free.
fn worth_claiming(free: usize, max_in_flight: usize, engine_idle: bool) -> bool {
    free > 0 && (engine_idle || free >= CLAIM_AT_LEAST.min(max_in_flight))
}

pub async fn run(daemon: Arc<Daemon>) {
    let max_in_flight = daemon.config.workers().max(1) * IN_FLIGHT_PER_WORKER;
    let node = daemon.membership.node_id.clone();
    let mut shutdown = daemon.shutdown_signal();
    loop {
        if !daemon.store.health.writable() {
            // A claim is a write: wait until the store takes writes again.
            tokio::select! {
                _ = daemon.store.health.until_writable() => {}
                _ = shutdown.changed() => break,
            }
            continue;
        }
        let free = max_in_flight.saturating_sub(daemon.running_count());
        if worth_claiming(
            free,
            max_in_flight,
            daemon.engine_slots.available_permits() > 0,
        ) {
            let node = node.clone();
            match daemon
                .store
                .writer
                .write_repeatable(move |tx| claim(tx, free, &node))
                .await
            {
                Ok(Claimed {
                    runs: claimed,
                    more,
                }) => {
                    let short = claimed.len() < free;
                    for run_id in claimed {
                        let token = CancelToken::new();
                        daemon.track_run(&run_id, token.clone());
                        let daemon = daemon.clone();
                        tokio::spawn(async move {
                            executor::execute(daemon.clone(), run_id.clone(), token).await;
                            daemon.untrack_run(&run_id);
                            daemon.queue.notify_one();
                        });
                    }
                    if short && more {
                        // Some candidates were passed over (their workflow filled up during
                        // the claim); the next claim leaves those workflows out in SQL.
                        continue;
                    }
                }
                // The store logs its own refusal once.
                Err(crate::store::StoreError::Refusing(_)) => {}
                Err(err) => tracing::error!(%err, "claiming runs failed"),
            }
        }
        tokio::select! {
            _ = daemon.queue.notified() => {}
            // Retries with a backoff become claimable on their own.
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = shutdown.changed() => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An idle daemon claims at once; a busy one waits for a few free slots, then claims
    /// them together, unless an engine worker has nothing to do.
    #[test]
    fn claims_wait_for_a_few_free_slots_only_under_load() {
        assert!(
            worth_claiming(16, 16, true),
            "idle: a new run starts at once"
        );
        assert!(!worth_claiming(0, 16, true), "no slot free");
        assert!(
            !worth_claiming(CLAIM_AT_LEAST - 1, 16, false),
            "busy: wait for more"
        );
        assert!(worth_claiming(CLAIM_AT_LEAST, 16, false));
        assert!(
            worth_claiming(1, 16, true),
            "an idle engine worker never waits"
        );
        assert!(
            worth_claiming(2, 2, false),
            "a tiny pool never waits for more than it has"
        );
    }
}
