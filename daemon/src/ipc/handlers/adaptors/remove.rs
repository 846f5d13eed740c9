//! `bolt adaptor rm`: removes an installed version, unless a deployed job pins it.

use super::{audit, install_error, installer_for};
use crate::daemon::Daemon;
use crate::installer::{self, pins};
use crate::ipc::handlers::{HandlerResult, Progress};
use bolt_shared::protocol::{ErrorBody, ErrorCode, Response};
use std::sync::Arc;

pub async fn handle(
    daemon: &Arc<Daemon>,
    spec: String,
    force: bool,
    progress: Progress,
) -> HandlerResult {
    let installer = installer_for(daemon, None)?;
    let (name, version) =
        pins::exact_installed(installer.adaptors(), &spec).map_err(install_error)?;
    if !force {
        let pins = daemon
            .store
            .readers
            .read({
                let (name, version) = (name.clone(), version.clone());
                move |conn| pins::pinning_jobs(conn, &name, &version)
            })
            .await?;
        if !pins.is_empty() {
            return Err(ErrorBody::new(
                ErrorCode::Conflict,
                pins::pinned_message(&name, &version, &pins),
            ));
        }
    }
    match installer
        .remove(&name, &version, &*progress)
        .await
        .map_err(install_error)?
    {
        Some(removed) => {
            tracing::info!(adaptor = %format!("{name}@{version}"), "adaptor removed");
            let metadata = serde_json::json!({ "forced": force });
            audit(daemon, "removed", format!("{name}@{version}"), metadata).await;
            Ok(Response::AdaptorRemoved(installer::info(&removed)))
        }
        None => Err(ErrorBody::new(
            ErrorCode::NotFound,
            format!("{name}@{version} is not installed"),
        )),
    }
}
