//! The TUI's constants form: saves a workflow's constants as a new version.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use crate::workflows;
use bolt_shared::protocol::{Event, Response};
use std::sync::Arc;

pub async fn handle(
    daemon: &Arc<Daemon>,
    reference: String,
    constants: serde_json::Map<String, serde_json::Value>,
) -> HandlerResult {
    let version = daemon
        .store
        .writer
        .write(move |tx| workflows::set_constants(tx, &reference, constants))
        .await?;
    daemon.events.publish(Event::WorkflowsChanged);
    Ok(Response::Done {
        message: format!("constants saved as version {version}"),
    })
}
