//! `bolt adaptor add`: installs adaptors from the registry or from files boltd can read.

use super::{audit, install_error, installer_for};
use crate::daemon::Daemon;
use crate::engine::adaptors::spec::AdaptorSpec;
use crate::installer::AddRequest;
use crate::ipc::handlers::{HandlerResult, Progress, bad_request};
use bolt_shared::protocol::{ErrorBody, Response};
use std::path::PathBuf;
use std::sync::Arc;

pub async fn handle(
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
