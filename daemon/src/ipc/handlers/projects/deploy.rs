//! `bolt deploy`: checks a project file, installs the adaptors it needs, and applies it
//! (or, with `--dry-run`, says what would change).

use crate::daemon::Daemon;
use crate::installer::deploy as adaptors_deploy;
use crate::ipc::handlers::adaptors;
use crate::ipc::handlers::{HandlerResult, Progress, bad_request};
use crate::project::{self, parse_project};
use crate::{credentials, workflows};
use bolt_shared::protocol::{DeployReport, Event, Response};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A deploy request as the handler takes it.
pub struct DeployInput {
    pub yaml: String,
    pub file_name: String,
    /// The `{path: …}` bodies the client read, by the path the file gives.
    pub files: BTreeMap<String, String>,
    pub dry_run: bool,
    /// Install the adaptor versions the project needs (false: only warn).
    pub install: bool,
    pub options: project::DeployOptions,
}

pub async fn handle(daemon: &Arc<Daemon>, input: DeployInput, progress: Progress) -> HandlerResult {
    let DeployInput {
        yaml,
        file_name,
        files,
        dry_run,
        install,
        options,
    } = input;
    let read = move |path: &str| {
        files.get(path).cloned().ok_or_else(|| {
            "the file was not sent with the deploy (is it next to the project file?)".to_string()
        })
    };
    let parsed = parse_project(&yaml, &file_name, &read)
        .map_err(|errors| bad_request(errors.to_string()))?;
    project::check_ceilings(&parsed.spec, &daemon.config.engine, &yaml, &file_name)
        .map_err(|errors| bad_request(errors.to_string()))?;
    let mut warnings = parsed.warnings;
    let mut spec = parsed.spec;
    let installer = adaptors::installer_for(daemon, None)?;
    let prepared = adaptors_deploy::prepare(
        &installer,
        &spec,
        adaptors_deploy::Mode { install, dry_run },
        &*progress,
    )
    .await
    .map_err(bad_request)?;
    // An `@latest` not resolved now (offline, --no-install) keeps the last deploy's version.
    let previous = if prepared.unresolved_latest {
        let project = spec.name.clone();
        daemon
            .store
            .readers
            .read(move |conn| {
                Ok(workflows::all(conn)?
                    .into_iter()
                    .filter(|d| d.project == project)
                    .map(|d| (d.spec.key.clone(), d.spec))
                    .collect::<BTreeMap<_, _>>())
            })
            .await?
    } else {
        BTreeMap::new()
    };
    adaptors_deploy::record_resolutions(&mut spec, &prepared, &previous, installer.adaptors());
    warnings.extend(prepared.warnings);
    for adaptor in &prepared.adaptors {
        if adaptor.status == bolt_shared::adaptors::DeployAdaptorStatus::InstalledNow
            && let Some(resolved) = &adaptor.resolved
        {
            daemon.metrics.adaptors_installed(1);
            let metadata = serde_json::json!({ "by": "deploy", "project": spec.name });
            adaptors::audit(daemon, "installed", resolved.clone(), metadata).await;
        }
    }
    let (missing, kept_warnings) = daemon
        .store
        .readers
        .read({
            let spec = spec.clone();
            move |conn| {
                let kept = project::kept::warnings(conn, &spec, options)?;
                let mut missing: Vec<(String, String)> = Vec::new();
                for workflow in &spec.workflows {
                    for job in &workflow.jobs {
                        if let Some(name) = &job.credential
                            && !credentials::exists(conn, name)?
                        {
                            missing
                                .push((name.clone(), format!("{} / {}", workflow.name, job.name)));
                        }
                    }
                }
                Ok((missing, kept))
            }
        })
        .await?;
    warnings.extend(kept_warnings);
    for (name, job) in missing {
        warnings.push(format!(
            "job `{job}` uses credential `{name}`, which is not set in bolt yet: its runs will fail until you run `bolt credential set '{name}' --from-file credential.json`"
        ));
    }
    let project_name = spec.name.clone();
    let changes = if dry_run {
        daemon
            .store
            .readers
            .read(move |conn| project::plan_changes(conn, &spec, options))
            .await?
    } else {
        let source = file_name.clone();
        let changes = daemon
            .store
            .writer
            .write(move |tx| project::apply(tx, &spec, Some(&source), options))
            .await?;
        if !changes.is_empty() {
            daemon.events.publish(Event::WorkflowsChanged);
        }
        changes
    };
    Ok(Response::Deployed(DeployReport {
        project: project_name,
        applied: !dry_run,
        changes,
        warnings,
        adaptors: prepared.adaptors,
    }))
}
