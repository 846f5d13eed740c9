//! Deploy, export, workflows.

use super::{HandlerResult, Progress, bad_request};
use crate::daemon::Daemon;
use crate::installer::deploy as adaptors_deploy;
use crate::project::{self, parse_project};
use crate::{credentials, workflows};
use bolt_shared::protocol::*;
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

pub async fn deploy(daemon: &Arc<Daemon>, input: DeployInput, progress: Progress) -> HandlerResult {
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
    let installer = super::adaptors::installer_for(daemon, None)?;
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
            super::adaptors::audit(daemon, "installed", resolved.clone(), metadata).await;
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

pub async fn export(daemon: &Arc<Daemon>, project_name: Option<String>) -> HandlerResult {
    let yaml = daemon
        .store
        .readers
        .read(move |conn| project::export_yaml(conn, project_name.as_deref()))
        .await?;
    Ok(Response::Exported { yaml })
}

pub async fn list(daemon: &Arc<Daemon>) -> HandlerResult {
    let url = daemon.public_url();
    let views = daemon
        .store
        .readers
        .read(move |conn| {
            workflows::all(conn)?
                .iter()
                .map(|d| workflows::view(conn, d, url.as_deref()))
                .collect()
        })
        .await?;
    Ok(Response::Workflows { workflows: views })
}

pub async fn get(daemon: &Arc<Daemon>, reference: String) -> HandlerResult {
    let url = daemon.public_url();
    let view = daemon
        .store
        .readers
        .read(move |conn| {
            workflows::view(conn, &workflows::find(conn, &reference)?, url.as_deref())
        })
        .await?;
    Ok(Response::Workflow(Box::new(view)))
}

pub async fn set_enabled(daemon: &Arc<Daemon>, reference: String, enabled: bool) -> HandlerResult {
    let name = daemon
        .store
        .writer
        .write(move |tx| workflows::set_enabled(tx, &reference, enabled))
        .await?;
    daemon.events.publish(Event::WorkflowsChanged);
    Ok(Response::Done {
        message: format!(
            "workflow {name} is {}",
            if enabled { "enabled" } else { "disabled" }
        ),
    })
}

pub async fn update_job(
    daemon: &Arc<Daemon>,
    reference: String,
    job: String,
    body: String,
) -> HandlerResult {
    // Code that does not compile would go live and fail every run: refuse it here, where
    // every client's save passes, with the same compiler the runs use.
    if let Err(error) = crate::engine::compiler::check_job(&body) {
        return Err(bad_request(format!(
            "the job does not compile: {error}; nothing was saved (fix the code and save again)"
        )));
    }
    let version = daemon
        .store
        .writer
        .write(move |tx| workflows::update_job(tx, &reference, &job, &body))
        .await?;
    daemon.events.publish(Event::WorkflowsChanged);
    Ok(Response::Done {
        message: format!("saved as version {version}"),
    })
}

pub async fn set_constants(
    daemon: &Arc<Daemon>,
    reference: String,
    constants: serde_json::Map<String, serde_json::Value>,
) -> HandlerResult {
    let version = daemon
        .store
        .writer
        .write(move |tx| workflows::set_constants(tx, &reference, constants))
        .await?;
    daemon.events.publish(Event::WorkflowsChanged);
    Ok(Response::Done {
        message: format!("constants saved as version {version}"),
    })
}
