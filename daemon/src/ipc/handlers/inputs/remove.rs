//! `bolt input rm`.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>, name: String) -> HandlerResult {
    let label = name.clone();
    let removed = daemon
        .store
        .writer
        .write(move |tx| crate::saved_inputs::remove(tx, &name))
        .await?;
    let message = match removed {
        crate::saved_inputs::Removed::Deleted => format!("removed saved input `{label}`"),
        crate::saved_inputs::Removed::Unnamed => format!(
            "removed saved input `{label}`; runs that used it still show it in their history"
        ),
    };
    Ok(Response::Done { message })
}
