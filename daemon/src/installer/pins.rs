//! Which deployed jobs pin an installed adaptor version (`bolt adaptor rm` refuses to pull
//! it from under them).

use super::InstallError;
use crate::engine::adaptors::installed::InstalledAdaptors;
use crate::engine::adaptors::spec::AdaptorSpec;
use crate::project::WorkflowSpec;
use crate::store::pins::{self, LiveSnapshot};
use crate::store::{StoreError, StoreResult};
use bolt_sql::Db;
use std::path::Path;

/// `workflow `W` (job `J`)` for every job of a deployed workflow's current version that
/// runs `name@version`: it names that exact version, or deploy resolved its `@latest` to it.
pub fn pinning_jobs(db: &dyn Db, name: &str, version: &str) -> StoreResult<Vec<String>> {
    pinning(pins::live_snapshots(db)?, name, version)
}

/// The same, read from a data dir's store while boltd is not running (no store yet: no
/// pins).
pub fn pinning_jobs_in(data_dir: &Path, name: &str, version: &str) -> StoreResult<Vec<String>> {
    pinning(pins::live_snapshots_in(data_dir)?, name, version)
}

fn pinning(workflows: Vec<LiveSnapshot>, name: &str, version: &str) -> StoreResult<Vec<String>> {
    let wanted = format!("{name}@{version}");
    let mut pins = Vec::new();
    for LiveSnapshot { project, snapshot } in workflows {
        let workflow: WorkflowSpec = serde_json::from_str(&snapshot)
            .map_err(|e| StoreError::Invalid(format!("unreadable workflow snapshot: {e}")))?;
        for job in &workflow.jobs {
            let named = AdaptorSpec::parse(&job.adaptor)
                .is_ok_and(|spec| spec.name == name && spec.exact_version() == Some(version));
            let resolved = job.resolved_adaptor.as_deref() == Some(wanted.as_str());
            if named || resolved {
                pins.push(format!(
                    "project `{project}`, workflow `{}` (job `{}`)",
                    workflow.name, job.name
                ));
            }
        }
    }
    Ok(pins)
}

/// `NAME@VERSION` of an installed adaptor (for `bolt adaptor rm`), or an error that lists
/// what is installed.
pub fn exact_installed(
    adaptors: &InstalledAdaptors,
    spec: &str,
) -> Result<(String, String), InstallError> {
    let parsed = AdaptorSpec::parse(spec).map_err(|e| InstallError::Spec(e.to_string()))?;
    let installed: Vec<String> = adaptors
        .versions(&parsed.name)
        .iter()
        .map(|a| a.manifest.version.clone())
        .collect();
    let listing = if installed.is_empty() {
        format!("no version of {} is installed", parsed.name)
    } else {
        format!(
            "installed versions of {}: {}",
            parsed.name,
            installed.join(", ")
        )
    };
    let Some(version) = parsed.exact_version() else {
        return Err(InstallError::Spec(format!(
            "name the version to remove, e.g. `bolt adaptor rm {}@VERSION` ({listing})",
            parsed.short_name()
        )));
    };
    if !installed.iter().any(|v| v == version) {
        return Err(InstallError::NotInstalled(format!(
            "{}@{version} is not installed ({listing})",
            parsed.name
        )));
    }
    Ok((parsed.name.clone(), version.to_string()))
}

/// Why `bolt adaptor rm` refuses.
pub fn pinned_message(name: &str, version: &str, pins: &[String]) -> String {
    format!(
        "{name}@{version} is pinned by deployed jobs; removing it would break their runs:\n  {}\nDeploy those jobs with another version first, or remove it anyway with --force",
        pins.join("\n  ")
    )
}
