//! `bolt logs`: a run's log lines, a page at a time.

use crate::daemon::Daemon;
use crate::history;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::model::LogLevel;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(
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
