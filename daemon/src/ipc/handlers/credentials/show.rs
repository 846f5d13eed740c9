//! `bolt credential show`: a credential's keys, its values masked.

use crate::credentials;
use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>, name: String) -> HandlerResult {
    let vault = daemon.vault.clone();
    let detail = daemon
        .store
        .readers
        .read(move |conn| credentials::show::detail(conn, &vault, &name))
        .await?;
    Ok(Response::Credential(Box::new(detail)))
}
