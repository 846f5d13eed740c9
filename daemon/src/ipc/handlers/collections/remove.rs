//! `bolt collections rm`: one key, or every key a pattern matches.

use super::named_collection;
use crate::collections::pattern::{KeyPattern, is_pattern};
use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use crate::store::{collections, now_micros};
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(
    daemon: &Arc<Daemon>,
    project_name: Option<String>,
    name: String,
    key: String,
) -> HandlerResult {
    let (target, wanted) = (name.clone(), key.clone());
    let outcome = daemon
        .store
        .writer
        .write(move |tx| {
            let (project, found) = match named_collection(tx, project_name.as_deref(), &target)? {
                Ok(named) => named,
                Err(missing) => return Ok(Err(missing)),
            };
            let removed = if is_pattern(&wanted) {
                collections::delete_matching(
                    tx,
                    &found.id,
                    Some(KeyPattern::new(&wanted).glob()),
                    now_micros(),
                )?
            } else {
                u64::from(collections::delete_key(
                    tx,
                    &found.id,
                    &wanted,
                    now_micros(),
                )?)
            };
            Ok(Ok((project, removed)))
        })
        .await??;
    let (project, removed) = outcome;
    let message = match (is_pattern(&key), removed) {
        (true, n) => format!(
            "removed {n} item{} matching `{key}` from collection `{name}`",
            if n == 1 { "" } else { "s" }
        ),
        (false, 0) => format!("collection `{name}` has no key `{key}`: nothing removed"),
        (false, _) => format!("removed `{key}` from collection `{name}`"),
    };
    Ok(Response::CollectionChanged {
        project,
        collection: name,
        message,
        count: removed,
    })
}
