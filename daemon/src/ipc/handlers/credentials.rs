//! Credential requests. Values go in; only names and keys come out.

use super::HandlerResult;
use crate::credentials;
use crate::daemon::Daemon;
use bolt_shared::protocol::*;
use std::sync::Arc;

pub async fn set(daemon: &Arc<Daemon>, name: String, body: serde_json::Value) -> HandlerResult {
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

pub async fn list(daemon: &Arc<Daemon>) -> HandlerResult {
    let credentials = daemon.store.readers.read(credentials::list).await?;
    Ok(Response::Credentials { credentials })
}

pub async fn remove(daemon: &Arc<Daemon>, name: String) -> HandlerResult {
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
