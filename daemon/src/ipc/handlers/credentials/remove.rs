//! `bolt credential rm`.

use crate::credentials;
use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>, name: String) -> HandlerResult {
    let label = name.clone();
    daemon
        .store
        .writer
        .write(move |tx| credentials::remove(tx, &name))
        .await?;
    Ok(Response::Done {
        message: format!("credential {label} removed"),
    })
}
