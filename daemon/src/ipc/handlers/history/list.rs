//! `bolt runs` and the TUI's history: a page of work orders.

use crate::daemon::Daemon;
use crate::history;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::model::WorkOrderFilter;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(
    daemon: &Arc<Daemon>,
    filter: WorkOrderFilter,
    limit: u32,
    after: Option<String>,
) -> HandlerResult {
    let page = daemon
        .store
        .readers
        .read(move |conn| history::list(conn, &filter, limit, after.as_deref()))
        .await?;
    Ok(Response::WorkOrders(page))
}
