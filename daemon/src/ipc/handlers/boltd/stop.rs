//! `bolt stop`: drains (or, with `--now`, interrupts) the runs under way, then exits.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>, now: bool) -> HandlerResult {
    let metadata = serde_json::json!({ "now": now });
    let recorded = daemon
        .store
        .writer
        .write(move |tx| crate::audit::record(tx, "boltd.stop_requested", "boltd", Some(&metadata)))
        .await;
    if let Err(error) = recorded {
        tracing::warn!(%error, "cannot record a stop request in the audit log");
    }
    Ok(stop(daemon, now))
}

/// Asks boltd to stop; the answer says how many runs are under way and how long they get.
fn stop(daemon: &Arc<Daemon>, now: bool) -> Response {
    let mode = if now {
        crate::daemon::StopMode::Now
    } else {
        crate::daemon::StopMode::Drain
    };
    daemon.request_stop(mode);
    Response::Stopping {
        // Claimed runs that haven't started go back to the queue: they don't count.
        in_flight: daemon.executing_count(),
        grace_secs: mode.grace(&daemon.config).as_secs(),
    }
}
