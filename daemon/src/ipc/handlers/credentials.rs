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

pub async fn show(daemon: &Arc<Daemon>, name: String) -> HandlerResult {
    let vault = daemon.vault.clone();
    let detail = daemon
        .store
        .readers
        .read(move |conn| credentials::show::detail(conn, &vault, &name))
        .await?;
    Ok(Response::Credential(Box::new(detail)))
}

pub async fn update(
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

/// One rotation at a time.
static ROTATING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn rotate_key(daemon: &Arc<Daemon>) -> HandlerResult {
    let _only_one = ROTATING.lock().await;
    let rotation = credentials::rotate::rotate(&daemon.store, &daemon.vault, &daemon.data_dir)
        .await
        .map_err(|err| match err {
            credentials::rotate::RotateError::Store(err) => err.into(),
            other => super::bad_request(other.to_string()),
        })?;
    Ok(Response::KeyRotated(rotation))
}
