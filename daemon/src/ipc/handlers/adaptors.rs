//! `bolt adaptor add | list | rm` while boltd runs: boltd installs into its own data dir,
//! sending progress frames as it downloads.

use super::{HandlerResult, Progress, bad_request};
use crate::daemon::Daemon;
use crate::engine::adaptors::installed::InstalledAdaptors;
use crate::engine::adaptors::spec::AdaptorSpec;
use crate::installer::{self, AddRequest, InstallError, Installer, pins};
use bolt_shared::protocol::*;
use std::path::PathBuf;
use std::sync::Arc;

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

pub async fn add(
    daemon: &Arc<Daemon>,
    specs: Vec<String>,
    files: Vec<String>,
    registry: Option<String>,
    force: bool,
    progress: Progress,
) -> HandlerResult {
    let specs = specs
        .iter()
        .map(|s| AdaptorSpec::parse(s).map_err(|e| bad_request(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let files = files
        .into_iter()
        .map(|file| readable_by_boltd(PathBuf::from(file)))
        .collect::<Result<Vec<_>, _>>()?;
    let installer = installer_for(daemon, registry)?;
    let report = installer
        .add(
            AddRequest {
                specs,
                files,
                force,
            },
            &*progress,
        )
        .await
        .inspect_err(|_| daemon.metrics.adaptor_install_failed())
        .map_err(install_error)?;
    daemon.metrics.adaptors_installed(report.installed.len());
    for adaptor in &report.installed {
        tracing::info!(adaptor = %adaptor.spec(), source = %adaptor.source, "adaptor installed");
        let metadata = serde_json::json!({
            "source": adaptor.source,
            "integrity": adaptor.integrity,
            "packages": adaptor.packages,
        });
        audit(daemon, "installed", adaptor.spec(), metadata).await;
    }
    Ok(Response::AdaptorsAdded(report))
}

/// `--from-file` paths are read by boltd, which may run as another user or elsewhere:
/// say so plainly when it cannot.
fn readable_by_boltd(path: PathBuf) -> Result<PathBuf, ErrorBody> {
    if !path.is_absolute() {
        return Err(bad_request(format!(
            "{}: send an absolute path (boltd reads --from-file files itself)",
            path.display()
        )));
    }
    match std::fs::File::open(&path) {
        Ok(_) => Ok(path),
        Err(error) => Err(bad_request(format!(
            "boltd cannot read {}: {error}. boltd, not bolt, reads --from-file files while it runs: put the file where boltd's user can read it, or stop boltd and run the same `bolt adaptor add` to install directly into the data dir",
            path.display()
        ))),
    }
}

pub async fn list(daemon: &Arc<Daemon>) -> HandlerResult {
    let adaptors = InstalledAdaptors::in_data_dir(&daemon.data_dir)
        .list()
        .iter()
        .map(installer::info)
        .collect();
    Ok(Response::Adaptors { adaptors })
}

pub async fn remove(
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
