//! `bolt project set`: a project's retention and concurrency settings.

use crate::daemon::Daemon;
use crate::ipc::handlers::{HandlerResult, bad_request};
use crate::project;
use bolt_shared::protocol::{ProjectSettings, Response};
use std::sync::Arc;

pub async fn handle(
    daemon: &Arc<Daemon>,
    name: Option<String>,
    settings: ProjectSettings,
) -> HandlerResult {
    if let Some(policy) = &settings.retention_policy
        && policy != "retain_all"
        && policy != "erase_all"
    {
        return Err(bad_request(format!(
            "unknown retention_policy `{policy}`: use retain_all or erase_all"
        )));
    }
    if let (Some(Some(history)), Some(Some(dataclip))) = (
        settings.history_retention_days,
        settings.dataclip_retention_days,
    ) && dataclip > history
    {
        return Err(bad_request(
            "dataclip_retention_days can't be longer than history_retention_days",
        ));
    }
    let message = daemon
        .store
        .writer
        .write(move |tx| {
            let id = crate::store::projects::resolve(tx, name.as_deref())?.id;
            crate::store::projects::update_settings(tx, &id, &settings)?;
            project::audit(
                tx,
                "settings_updated",
                "project",
                &id,
                serde_json::to_value(&settings).ok(),
            )?;
            Ok("project settings saved".to_string())
        })
        .await?;
    Ok(Response::Done { message })
}
