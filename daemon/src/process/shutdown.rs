//! Stopping boltd: what asks for it (SIGTERM, SIGINT, `bolt stop`) and the drain that lets
//! the runs under way finish, so a planned restart doesn't turn them into lost runs.

use crate::daemon::{Daemon, StopMode};
use std::time::Duration;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::time::Instant;

/// How often the drain looks at the runs still under way (a finishing run also wakes it).
const DRAIN_POLL: Duration = Duration::from_millis(100);

/// SIGTERM and SIGINT, installed once so a second one can cut a drain short.
pub struct Signals {
    term: Option<Signal>,
    int: Option<Signal>,
}

impl Signals {
    pub fn install() -> Signals {
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        if term.is_err() || int.is_err() {
            tracing::warn!("cannot install signal handlers: stop boltd with `bolt stop`");
        }
        Signals {
            term: term.ok(),
            int: int.ok(),
        }
    }

    /// The next SIGTERM or SIGINT (never, for a handler that could not be installed).
    async fn next(&mut self) {
        async fn recv(signal: &mut Option<Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            _ = recv(&mut self.term) => {},
            _ = recv(&mut self.int) => {},
        }
    }
}

/// Waits for the first request to stop: a signal drains, `bolt stop` says how.
pub async fn wait_for_stop(daemon: &Daemon, signals: &mut Signals) -> StopMode {
    let mut requests = daemon.stop_requests();
    loop {
        if let Some(mode) = *requests.borrow_and_update() {
            return mode;
        }
        tokio::select! {
            _ = signals.next() => return StopMode::Drain,
            changed = requests.changed() => {
                if changed.is_err() {
                    // No client can ask any more; only a signal can stop boltd now.
                    signals.next().await;
                    return StopMode::Drain;
                }
            }
        }
    }
}

/// Lets the runs under way finish until `deadline`; another signal or `bolt stop --now`
/// ends the wait early. Returns how many runs were still under way when it stopped waiting.
pub async fn drain(daemon: &Daemon, signals: &mut Signals, deadline: Instant) -> usize {
    let in_flight = daemon.running_count();
    if in_flight > 0 {
        tracing::info!(
            in_flight,
            "letting the runs under way finish; signal again or run `bolt stop --now` to stop at once"
        );
    }
    let mut requests = daemon.stop_requests();
    loop {
        let left = daemon.running_count();
        if left == 0 || *requests.borrow_and_update() == Some(StopMode::Now) {
            return left;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return daemon.running_count(),
            _ = signals.next() => return daemon.running_count(),
            _ = requests.changed() => {},
            // The runner wakes the (stopped) dispatcher's queue when a run ends.
            _ = daemon.queue.notified() => {},
            _ = tokio::time::sleep(DRAIN_POLL) => {},
        }
    }
}
