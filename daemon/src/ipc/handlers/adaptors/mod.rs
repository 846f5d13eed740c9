//! `bolt adaptor add | list | rm` while boltd runs: boltd installs into its own data dir,
//! sending progress frames as it downloads. Deploys install through the same installer.

pub mod add;
pub mod list;
pub mod remove;

use crate::daemon::Daemon;
use crate::engine::adaptors::installed::InstalledAdaptors;
use crate::installer::{InstallError, Installer};
use crate::ipc::handlers::bad_request;
use bolt_shared::protocol::{ErrorBody, ErrorCode};

/// The installer of boltd's data dir; `registry` overrides the configured registry.
pub fn installer_for(daemon: &Daemon, registry: Option<String>) -> Result<Installer, ErrorBody> {
    let registry = registry.unwrap_or_else(|| daemon.config.adaptor_registry());
    Installer::new(InstalledAdaptors::in_data_dir(&daemon.data_dir), &registry)
        .map_err(|e| bad_request(e.to_string()))
}

pub fn install_error(error: InstallError) -> ErrorBody {
    let code = match &error {
        InstallError::UnknownAdaptor { .. }
        | InstallError::NoSuchVersion { .. }
        | InstallError::NotInstalled(_) => ErrorCode::NotFound,
        InstallError::Io { .. } | InstallError::Other(_) => ErrorCode::Internal,
        _ => ErrorCode::BadRequest,
    };
    ErrorBody::new(code, error.to_string())
}

/// Records an install or removal in the audit log (`adaptor.installed`, `adaptor.removed`).
/// The change is made either way: a failed audit write is logged, not returned.
pub async fn audit(
    daemon: &Daemon,
    action: &'static str,
    subject: String,
    metadata: serde_json::Value,
) {
    let written = daemon
        .store
        .writer
        .write(move |tx| crate::project::audit(tx, action, "adaptor", &subject, Some(metadata)))
        .await;
    if let Err(error) = written {
        tracing::warn!(%error, action, "cannot record an adaptor change in the audit log");
    }
}
