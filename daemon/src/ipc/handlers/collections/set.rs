//! `bolt collections set`: one item, within the configured size limits.

use super::named_collection;
use crate::collections::rules::{self, Limits};
use crate::daemon::Daemon;
use crate::ipc::handlers::{HandlerResult, bad_request};
use crate::store::now_micros;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(
    daemon: &Arc<Daemon>,
    project_name: Option<String>,
    name: String,
    key: String,
    value: String,
) -> HandlerResult {
    let limits = Limits::from(&daemon.config.collections);
    let (target, stored) = (name.clone(), key.clone());
    daemon
        .store
        .writer
        .write(move |tx| {
            let (project, found) = match named_collection(tx, project_name.as_deref(), &target)? {
                Ok(named) => named,
                Err(missing) => return Ok(Err(missing)),
            };
            match rules::put_all(tx, &found, &[(stored, value)], &limits, now_micros())? {
                Ok(_) => Ok(Ok(project)),
                Err(refused) => Ok(Err(bad_request(refused.to_string()))),
            }
        })
        .await?
        .map(|project| Response::CollectionChanged {
            message: format!("set `{key}` in collection `{name}`"),
            project,
            collection: name,
            count: 1,
        })
}
