//! The TUI's credential form: sets and unsets some fields, keeping the others.

use crate::credentials;
use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(
    daemon: &Arc<Daemon>,
    name: String,
    set: serde_json::Map<String, serde_json::Value>,
    unset: Vec<String>,
) -> HandlerResult {
    let vault = daemon.vault.clone();
    let label = name.clone();
    let count = set.len() + unset.len();
    let created = daemon
        .store
        .writer
        .write(move |tx| credentials::update(tx, &vault, &name, &set, &unset))
        .await?;
    Ok(Response::Done {
        message: if created {
            format!("credential {label} created")
        } else {
            format!(
                "credential {label} updated ({count} field{} changed, the others kept)",
                if count == 1 { "" } else { "s" }
            )
        },
    })
}
