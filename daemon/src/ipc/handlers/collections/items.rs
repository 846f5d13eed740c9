//! `bolt collections NAME [PATTERN]`: a page of items, optionally matching a key pattern.

use super::{item, named_collection};
use crate::collections::api::{decode_cursor, encode_cursor};
use crate::collections::pattern::KeyPattern;
use crate::collections::rules::ItemQuery;
use crate::daemon::Daemon;
use crate::ipc::handlers::{HandlerResult, bad_request};
use crate::store::collections;
use bolt_shared::protocol::Response;
use std::sync::Arc;

/// Most items one page may ask for.
const MAX_PAGE: u32 = 1000;

pub async fn handle(
    daemon: &Arc<Daemon>,
    project_name: Option<String>,
    name: String,
    pattern: Option<String>,
    cursor: Option<String>,
    limit: u32,
) -> HandlerResult {
    let after = match cursor.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            decode_cursor(text)
                .ok_or_else(|| bad_request(format!("cursor `{text}` is not one boltd gave")))?,
        ),
    };
    let limit = limit.clamp(1, MAX_PAGE) as usize;
    daemon
        .store
        .readers
        .read(move |conn| {
            let (project, found) = match named_collection(conn, project_name.as_deref(), &name)? {
                Ok(named) => named,
                Err(missing) => return Ok(Err(missing)),
            };
            let query = ItemQuery {
                pattern: pattern.as_deref().map(KeyPattern::new),
                after,
                ..ItemQuery::default()
            };
            // One more than asked: whether it exists says if there is a next page.
            let mut page = collections::page(conn, &found.id, &query.range(), limit + 1)?;
            let cursor = if page.len() > limit {
                page.truncate(limit);
                page.last().map(|i| encode_cursor(i.created_at))
            } else {
                None
            };
            Ok(Ok(Response::CollectionItems {
                project,
                collection: name,
                items: page.into_iter().map(item).collect(),
                cursor,
            }))
        })
        .await?
}
