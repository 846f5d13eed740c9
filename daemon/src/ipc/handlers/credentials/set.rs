//! `bolt credential set`: creates or replaces a credential.

use crate::credentials;
use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>, name: String, body: serde_json::Value) -> HandlerResult {
    let vault = daemon.vault.clone();
    let label = name.clone();
    let created = daemon
        .store
        .writer
        .write(move |tx| credentials::set(tx, &vault, &name, &body))
        .await?;
    Ok(Response::Done {
        message: format!(
            "credential {label} {}",
            if created { "created" } else { "updated" }
        ),
    })
}
