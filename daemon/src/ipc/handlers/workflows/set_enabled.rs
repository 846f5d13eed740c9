//! Switches a workflow (its triggers) on or off.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use crate::workflows;
use bolt_shared::protocol::{Event, Response};
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>, reference: String, enabled: bool) -> HandlerResult {
    let name = daemon
        .store
        .writer
        .write(move |tx| workflows::set_enabled(tx, &reference, enabled))
        .await?;
    daemon.events.publish(Event::WorkflowsChanged);
    Ok(Response::Done {
        message: format!(
            "workflow {name} is {}",
            if enabled { "enabled" } else { "disabled" }
        ),
    })
}
