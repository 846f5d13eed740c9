//! `bolt notify test`: sends a test alert through one channel and reports how it went.

use crate::daemon::Daemon;
use crate::ipc::handlers::{HandlerResult, bad_request};
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>, channel: String) -> HandlerResult {
    crate::notify::test(daemon, &channel)
        .await
        .map(|report| Response::NotifyTested(Box::new(report)))
        .map_err(bad_request)
}
