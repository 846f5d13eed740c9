//! The TUI's job editor: saves a job's code as a new version of its workflow.

use crate::daemon::Daemon;
use crate::ipc::handlers::{HandlerResult, bad_request};
use crate::workflows;
use bolt_shared::protocol::{Event, Response};
use std::sync::Arc;

pub async fn handle(
    daemon: &Arc<Daemon>,
    reference: String,
    job: String,
    body: String,
) -> HandlerResult {
    // Code that does not compile would go live and fail every run: refuse it here, where
    // every client's save passes, with the same compiler the runs use.
    if let Err(error) = crate::engine::compiler::check_job(&body) {
        return Err(bad_request(format!(
            "the job does not compile: {error}; nothing was saved (fix the code and save again)"
        )));
    }
    let version = daemon
        .store
        .writer
        .write(move |tx| workflows::update_job(tx, &reference, &job, &body))
        .await?;
    daemon.events.publish(Event::WorkflowsChanged);
    Ok(Response::Done {
        message: format!("saved as version {version}"),
    })
}
