//! The socket's requests, one handler file per request kind, in a folder per resource
//! (`runs/rerun.rs`, `collections/set.rs`, `projects/deploy.rs`, …). This file only routes a
//! request to its handler and says which requests leave the webhook trigger cache valid.

mod access;
mod adaptors;
mod audit;
mod boltd;
mod collections;
mod credentials;
mod errors;
mod history;
mod inputs;
mod notify;
mod projects;
mod runs;
mod workflows;

pub use errors::bad_request;

use crate::daemon::Daemon;
use bolt_shared::protocol::{ErrorBody, ProgressEvent, Request, Response};
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

pub async fn handle(
    daemon: &Arc<Daemon>,
    request: Request,
    events: Events,
    caller: &crate::access::Caller,
) -> HandlerResult {
    let may_change_triggers = !is_read_only(&request);
    let result = dispatch(daemon, request, events, caller).await;
    if may_change_triggers {
        // After the commit, so the next webhook lookup reads the new triggers. The event
        // tells clients, and other nodes of a shared store (which drop their caches too).
        daemon.webhook_triggers.invalidate();
        daemon
            .events
            .publish(bolt_shared::protocol::Event::WorkflowsChanged);
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
        // boltd itself
        Request::Ping => Ok(Response::Pong),
        Request::Status => boltd::status::handle(daemon).await,
        Request::Stop { now } => boltd::stop::handle(daemon, now).await,
        Request::Backup { path, force } => boltd::backup::handle(daemon, path, force, events).await,
        // Subscribe is handled by the connection itself.
        Request::Subscribe | Request::SubscribeRun { .. } => Ok(Response::Subscribed),
        Request::NotifyTest { channel } => notify::test::handle(daemon, channel).await,
        Request::Audit { filter } => audit::list::handle(daemon, filter).await,
        Request::AuditVerify => audit::verify::handle(daemon).await,
        Request::Access => access::view::handle(daemon, caller),
        Request::AccessReload => access::reload::handle(daemon, caller).await,

        // projects and workflows
        Request::Deploy {
            yaml,
            file_name,
            files,
            dry_run,
            prune_collections,
            install,
        } => {
            let input = projects::deploy::DeployInput {
                yaml,
                file_name,
                files,
                dry_run,
                install,
                options: crate::project::DeployOptions { prune_collections },
            };
            projects::deploy::handle(daemon, input, progress).await
        }
        Request::Export { project } => projects::export::handle(daemon, project).await,
        Request::SetProjectSettings { project, settings } => {
            projects::settings::handle(daemon, project, settings).await
        }
        Request::ListWorkflows => workflows::list::handle(daemon).await,
        Request::GetWorkflow { workflow } => workflows::get::handle(daemon, workflow).await,
        Request::SetWorkflowEnabled { workflow, enabled } => {
            workflows::set_enabled::handle(daemon, workflow, enabled).await
        }
        Request::SetWorkflowConstants {
            workflow,
            constants,
        } => workflows::set_constants::handle(daemon, workflow, constants).await,
        Request::UpdateJob {
            workflow,
            job,
            body,
        } => workflows::update_job::handle(daemon, workflow, job, body).await,
        Request::WorkflowVersions { workflow } => {
            workflows::versions::handle(daemon, workflow).await
        }
        Request::WorkflowDiff { workflow, from, to } => {
            workflows::diff::handle(daemon, workflow, from, to).await
        }
        Request::WorkflowRollback { workflow, to, job } => {
            workflows::rollback::handle(daemon, workflow, to, job).await
        }

        // credentials
        Request::CredentialSet { name, body } => credentials::set::handle(daemon, name, body).await,
        Request::CredentialList => credentials::list::handle(daemon).await,
        Request::CredentialRemove { name } => credentials::remove::handle(daemon, name).await,
        Request::CredentialShow { name } => credentials::show::handle(daemon, name).await,
        Request::CredentialUpdate { name, set, unset } => {
            credentials::update::handle(daemon, name, set, unset).await
        }
        Request::RotateKey => credentials::rotate_key::handle(daemon).await,

        // runs
        Request::Trigger {
            workflow,
            input,
            wait,
        } => runs::trigger::handle(daemon, workflow, input, wait).await,
        Request::Cancel { reference } => runs::cancel::handle(daemon, reference).await,
        Request::Rerun {
            reference,
            from_job,
        } => runs::rerun::handle(daemon, reference, from_job).await,
        Request::RerunMatching { filter, from_job } => {
            runs::rerun_matching::handle(daemon, filter, from_job).await
        }

        // history
        Request::ListWorkOrders {
            filter,
            limit,
            after,
        } => history::list::handle(daemon, filter, limit, after).await,
        Request::Show { reference, bodies } => {
            history::show::handle(daemon, reference, bodies).await
        }
        Request::Dataclip { id } => history::dataclip::handle(daemon, id).await,
        Request::Logs {
            reference,
            level,
            after_id,
        } => history::logs::handle(daemon, reference, level, after_id).await,
        Request::Failures { since } => history::failures::handle(daemon, since).await,

        // saved inputs
        Request::SaveInput {
            reference,
            step,
            name,
        } => inputs::save::handle(daemon, reference, step, name).await,
        Request::ListInputs => inputs::list::handle(daemon).await,
        Request::RemoveInput { name } => inputs::remove::handle(daemon, name).await,

        // collections
        Request::CollectionList { project } => collections::list::handle(daemon, project).await,
        Request::CollectionCreate { project, name } => {
            collections::create::handle(daemon, project, name).await
        }
        Request::CollectionDelete { project, name } => {
            collections::delete::handle(daemon, project, name).await
        }
        Request::CollectionGet { project, name, key } => {
            collections::get::handle(daemon, project, name, key).await
        }
        Request::CollectionItems {
            project,
            name,
            pattern,
            cursor,
            limit,
        } => collections::items::handle(daemon, project, name, pattern, cursor, limit).await,
        Request::CollectionSet {
            project,
            name,
            key,
            value,
        } => collections::set::handle(daemon, project, name, key, value).await,
        Request::CollectionRemove { project, name, key } => {
            collections::remove::handle(daemon, project, name, key).await
        }

        // adaptors
        Request::AdaptorAdd {
            specs,
            files,
            registry,
            force,
        } => adaptors::add::handle(daemon, specs, files, registry, force, progress).await,
        Request::AdaptorList => adaptors::list::handle(daemon).await,
        Request::AdaptorRemove { spec, force } => {
            adaptors::remove::handle(daemon, spec, force, progress).await
        }
    }
}
