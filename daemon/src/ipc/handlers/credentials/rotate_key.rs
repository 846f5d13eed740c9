//! `bolt credential rotate-key`: re-encrypts every credential under a new key.

use crate::credentials;
use crate::daemon::Daemon;
use crate::ipc::handlers::{HandlerResult, bad_request};
use bolt_shared::protocol::Response;
use std::sync::Arc;

/// One rotation at a time.
static ROTATING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn handle(daemon: &Arc<Daemon>) -> HandlerResult {
    let _only_one = ROTATING.lock().await;
    let rotation = credentials::rotate::rotate(&daemon.store, &daemon.vault, &daemon.data_dir)
        .await
        .map_err(|err| match err {
            credentials::rotate::RotateError::Store(err) => err.into(),
            other => bad_request(other.to_string()),
        })?;
    Ok(Response::KeyRotated(rotation))
}
