//! One handler per request kind; each returns a response or an error the client shows.

mod access;
mod adaptors;
mod audit;
mod backup;
mod collections;
mod credentials;
mod history;
mod inputs;
mod project_settings;
mod projects;
mod runs;
mod versions;

use crate::daemon::Daemon;
use crate::store::StoreError;
use bolt_shared::model::*;
use bolt_shared::protocol::*;
use std::sync::Arc;

pub type HandlerResult = Result<Response, ErrorBody>;

/// Sends progress frames for the request being handled (a long install, a deploy that
/// installs adaptors, a backup); handlers that have none to send ignore it.
pub type Events = Arc<dyn Fn(ProgressEvent) + Send + Sync>;

/// The install steps of [`Events`], as the installer reports them.
pub type Progress = Arc<dyn Fn(bolt_shared::adaptors::InstallProgress) + Send + Sync>;

fn install_progress(events: &Events) -> Progress {
    let events = events.clone();
    Arc::new(move |step| events(ProgressEvent::Install(step)))
}

impl From<StoreError> for ErrorBody {
    fn from(err: StoreError) -> Self {
        match err {
            // Invalid carries a message meant for the user (what is wrong and how to fix it).
            StoreError::Invalid(message) => ErrorBody::new(ErrorCode::BadRequest, message),
            // The store says what failed and what to do; it logged it once already.
            StoreError::Refusing(refusal) => {
                ErrorBody::new(ErrorCode::Internal, refusal.to_string())
            }
            StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows) => {
                ErrorBody::new(ErrorCode::NotFound, "not found")
            }
            other => {
                tracing::error!(err = %other, "store error while handling a request");
                ErrorBody::new(
                    ErrorCode::Internal,
                    format!("internal error, see boltd's log ({other})"),
                )
            }
        }
    }
}

pub fn bad_request(message: impl Into<String>) -> ErrorBody {
    ErrorBody::new(ErrorCode::BadRequest, message)
}

pub async fn handle(
    daemon: &Arc<Daemon>,
    request: Request,
    events: Events,
    caller: &crate::access::Caller,
) -> HandlerResult {
    let may_change_triggers = !is_read_only(&request);
    let result = dispatch(daemon, request, events, caller).await;
    if may_change_triggers {
        // After the commit, so the next webhook lookup reads the new triggers.
        daemon.webhook_triggers.invalidate();
    }
    result
}

/// Requests that never change workflows or triggers. Anything not listed here drops the
/// webhook trigger cache, so a new kind of request is safe by default.
fn is_read_only(request: &Request) -> bool {
    matches!(
        request,
        Request::Ping
            | Request::Status
            | Request::Subscribe
            | Request::SubscribeRun { .. }
            | Request::Export { .. }
            | Request::ListWorkflows
            | Request::GetWorkflow { .. }
            | Request::CredentialList
            | Request::ListWorkOrders { .. }
            | Request::Show { .. }
            | Request::Dataclip { .. }
            | Request::Logs { .. }
            | Request::Failures { .. }
            | Request::Stop { .. }
            // Collections hold data, never workflows or triggers.
            | Request::CollectionList { .. }
            | Request::CollectionCreate { .. }
            | Request::CollectionDelete { .. }
            | Request::CollectionGet { .. }
            | Request::CollectionItems { .. }
            | Request::CollectionSet { .. }
            | Request::CollectionRemove { .. }
            | Request::AdaptorAdd { .. }
            | Request::AdaptorList
            | Request::AdaptorRemove { .. }
            | Request::WorkflowVersions { .. }
            | Request::WorkflowDiff { .. }
            | Request::CredentialShow { .. }
            | Request::CredentialUpdate { .. }
            | Request::RotateKey
            | Request::Backup { .. }
            | Request::NotifyTest { .. }
            | Request::Audit { .. }
            | Request::AuditVerify
            | Request::Access
            | Request::AccessReload
    )
}

async fn dispatch(
    daemon: &Arc<Daemon>,
    request: Request,
    events: Events,
    caller: &crate::access::Caller,
) -> HandlerResult {
    let progress = install_progress(&events);
    match request {
        Request::Ping => Ok(Response::Pong),
        Request::Audit { filter } => audit::list(daemon, filter).await,
        Request::AuditVerify => audit::verify(daemon).await,
        Request::Access => Ok(access::view(daemon, caller)),
        Request::AccessReload => access::reload(daemon, caller).await,
        Request::Status => status(daemon).await,
        // Subscribe is handled by the connection itself.
        Request::Subscribe | Request::SubscribeRun { .. } => Ok(Response::Subscribed),
        Request::Deploy {
            yaml,
            file_name,
            files,
            dry_run,
            prune_collections,
            install,
        } => {
            let input = projects::DeployInput {
                yaml,
                file_name,
                files,
                dry_run,
                install,
                options: crate::project::DeployOptions { prune_collections },
            };
            projects::deploy(daemon, input, progress).await
        }
        Request::Export { project } => projects::export(daemon, project).await,
        Request::ListWorkflows => projects::list(daemon).await,
        Request::GetWorkflow { workflow } => projects::get(daemon, workflow).await,
        Request::SetWorkflowEnabled { workflow, enabled } => {
            projects::set_enabled(daemon, workflow, enabled).await
        }
        Request::SetWorkflowConstants {
            workflow,
            constants,
        } => projects::set_constants(daemon, workflow, constants).await,
        Request::UpdateJob {
            workflow,
            job,
            body,
        } => projects::update_job(daemon, workflow, job, body).await,
        Request::CredentialSet { name, body } => credentials::set(daemon, name, body).await,
        Request::CredentialList => credentials::list(daemon).await,
        Request::CredentialRemove { name } => credentials::remove(daemon, name).await,
        Request::CredentialShow { name } => credentials::show(daemon, name).await,
        Request::CredentialUpdate { name, set, unset } => {
            credentials::update(daemon, name, set, unset).await
        }
        Request::RotateKey => credentials::rotate_key(daemon).await,
        Request::Backup { path, force } => backup::backup(daemon, path, force, events).await,
        Request::NotifyTest { channel } => crate::notify::test(daemon, &channel)
            .await
            .map(|report| Response::NotifyTested(Box::new(report)))
            .map_err(bad_request),
        Request::WorkflowVersions { workflow } => versions::list(daemon, workflow).await,
        Request::WorkflowDiff { workflow, from, to } => {
            versions::diff(daemon, workflow, from, to).await
        }
        Request::WorkflowRollback { workflow, to, job } => {
            versions::rollback(daemon, workflow, to, job).await
        }
        Request::Trigger {
            workflow,
            input,
            wait,
        } => runs::trigger(daemon, workflow, input, wait).await,
        Request::Cancel { reference } => runs::cancel(daemon, reference).await,
        Request::ListWorkOrders {
            filter,
            limit,
            after,
        } => history::list(daemon, filter, limit, after).await,
        Request::Show { reference, bodies } => history::show(daemon, reference, bodies).await,
        Request::Dataclip { id } => history::dataclip(daemon, id).await,
        Request::Logs {
            reference,
            level,
            after_id,
        } => history::logs(daemon, reference, level, after_id).await,
        Request::Rerun {
            reference,
            from_job,
        } => history::rerun(daemon, reference, from_job).await,
        Request::RerunMatching { filter, from_job } => {
            history::rerun_matching(daemon, filter, from_job).await
        }
        Request::SaveInput {
            reference,
            step,
            name,
        } => inputs::save_input(daemon, reference, step, name).await,
        Request::ListInputs => inputs::list_inputs(daemon).await,
        Request::RemoveInput { name } => inputs::remove_input(daemon, name).await,
        Request::Failures { since } => history::failures(daemon, since).await,
        Request::SetProjectSettings { project, settings } => {
            project_settings::set_project(daemon, project, settings).await
        }
        Request::Stop { now } => {
            let metadata = serde_json::json!({ "now": now });
            let recorded = daemon
                .store
                .writer
                .write(move |tx| {
                    crate::audit::record(tx, "boltd.stop_requested", "boltd", Some(&metadata))
                })
                .await;
            if let Err(error) = recorded {
                tracing::warn!(%error, "cannot record a stop request in the audit log");
            }
            Ok(stop(daemon, now))
        }
        Request::CollectionList { project } => collections::list(daemon, project).await,
        Request::CollectionCreate { project, name } => {
            collections::create(daemon, project, name).await
        }
        Request::CollectionDelete { project, name } => {
            collections::delete(daemon, project, name).await
        }
        Request::CollectionGet { project, name, key } => {
            collections::get(daemon, project, name, key).await
        }
        Request::CollectionItems {
            project,
            name,
            pattern,
            cursor,
            limit,
        } => collections::items(daemon, project, name, pattern, cursor, limit).await,
        Request::CollectionSet {
            project,
            name,
            key,
            value,
        } => collections::set(daemon, project, name, key, value).await,
        Request::CollectionRemove { project, name, key } => {
            collections::remove(daemon, project, name, key).await
        }
        Request::AdaptorAdd {
            specs,
            files,
            registry,
            force,
        } => adaptors::add(daemon, specs, files, registry, force, progress).await,
        Request::AdaptorList => adaptors::list(daemon).await,
        Request::AdaptorRemove { spec, force } => {
            adaptors::remove(daemon, spec, force, progress).await
        }
    }
}

/// Asks boltd to stop; the answer says how many runs are under way and how long they get.
fn stop(daemon: &Arc<Daemon>, now: bool) -> Response {
    let mode = if now {
        crate::daemon::StopMode::Now
    } else {
        crate::daemon::StopMode::Drain
    };
    daemon.request_stop(mode);
    Response::Stopping {
        // Claimed runs that haven't started go back to the queue: they don't count.
        in_flight: daemon.executing_count(),
        grace_secs: mode.grace(&daemon.config).as_secs(),
    }
}

async fn status(daemon: &Arc<Daemon>) -> HandlerResult {
    let counts = daemon
        .store
        .readers
        .read(|conn| {
            // The hourly buckets (kept by triggers): no scan of every work order.
            let (counts, _) = crate::history::counts(conn, &WorkOrderFilter::default())?;
            let totals = crate::store::work_orders::totals(conn)?;
            Ok((
                counts,
                totals.queued,
                totals.running,
                totals.projects,
                totals.workflows,
                crate::audit::atna::outbox_state(conn)?,
            ))
        })
        .await
        // The store's health matters most when it can't be read: answer without counts.
        .unwrap_or_else(|err| {
            tracing::warn!(%err, "status: the store could not be read");
            Default::default()
        });
    let (counts, queue_depth, running, projects, workflows, (waiting, last_error)) = counts;
    let audit_syslog =
        daemon
            .config
            .audit
            .syslog
            .clone()
            .map(|target| bolt_shared::audit::SyslogDelivery {
                target,
                waiting,
                last_error,
            });
    let now = chrono::Utc::now();
    Ok(Response::Status(Box::new(DaemonStatus {
        version: env!("CARGO_PKG_VERSION").to_string(),
        protocol: PROTOCOL_VERSION,
        pid: std::process::id(),
        started_at: daemon.started_at,
        uptime_secs: (now - daemon.started_at).num_seconds().max(0) as u64,
        data_dir: daemon.data_dir.display().to_string(),
        socket: daemon.socket.display().to_string(),
        http_listen: daemon.http_listen(),
        queue_depth,
        running,
        workers: daemon.config.workers(),
        projects,
        workflows,
        work_orders: counts.iter().map(|c| c.count).sum(),
        counts,
        store: daemon.store.timings.summary(),
        stopping: daemon.is_stopping(),
        store_health: daemon.store.health.snapshot(),
        log_lines_dropped: crate::logging::dropped_lines(),
        subscribers: daemon.fanout.count() as u64,
        notify: crate::notify::status(daemon).await,
        audit_syslog,
    })))
}
