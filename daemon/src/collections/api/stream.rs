//! `GET /collections/:name`: the matching items, streamed.

use super::reply::{JSON_TYPE, bad_request};
use super::wire::{encode_cursor, encode_item, item_query};
use crate::collections::rules::ItemQuery;
use crate::daemon::Daemon;
use crate::store::{self, collections::Collection};
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Items read from the store per query while streaming (Lightning: 500).
const DB_BATCH: usize = 500;
/// Items per chunk of a streamed answer (Lightning: 100).
const CHUNK_ITEMS: usize = 100;

/// Streams the matching items: read from the store a batch at a time, sent in chunks, so a
/// large collection never sits whole in memory.
pub(super) fn stream(
    daemon: Arc<Daemon>,
    collection: Collection,
    query: &Map<String, Value>,
) -> Response {
    let (query, limit) = match item_query(query) {
        Ok(parsed) => parsed,
        Err(message) => return bad_request(message),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(send_items(daemon, collection.id, query, limit, tx));
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, JSON_TYPE)],
        Body::from_stream(chunks),
    )
        .into_response()
}

async fn send_items(
    daemon: Arc<Daemon>,
    collection_id: String,
    mut query: ItemQuery,
    limit: usize,
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    if tx
        .send(Ok(Bytes::from_static(b"{\"items\": [")))
        .await
        .is_err()
    {
        return;
    }
    let mut chunk = String::new();
    let (mut sent, mut in_chunk) = (0usize, 0usize);
    let mut last: Option<i64> = None;
    let mut cursor: Option<i64> = None;
    'pages: loop {
        // One more than the page needs: finding it is how we know a cursor is due.
        let want = (limit - sent).saturating_add(1).min(DB_BATCH);
        let (id, page_query) = (collection_id.clone(), query.clone());
        let page = match daemon
            .store
            .readers
            .read(move |conn| store::collections::page(conn, &id, &page_query.range(), want))
            .await
        {
            Ok(page) => page,
            Err(err) => {
                // The 200 is out already: all we can do is cut the answer short.
                tracing::error!(%err, "reading a collection failed mid-answer");
                let _ = tx.send(Err(std::io::Error::other(err.to_string()))).await;
                return;
            }
        };
        let got = page.len();
        for item in page {
            if sent == limit {
                cursor = last;
                break 'pages;
            }
            if sent > 0 {
                chunk.push(',');
            }
            encode_item(&mut chunk, &item);
            last = Some(item.created_at);
            sent += 1;
            in_chunk += 1;
            if in_chunk == CHUNK_ITEMS {
                in_chunk = 0;
                if tx
                    .send(Ok(Bytes::from(std::mem::take(&mut chunk))))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        if got < want {
            break;
        }
        query.after = last;
    }
    chunk.push_str("], \"cursor\":");
    chunk.push_str(
        &cursor
            .map(|c| Value::String(encode_cursor(c)))
            .unwrap_or(Value::Null)
            .to_string(),
    );
    chunk.push('}');
    let _ = tx.send(Ok(Bytes::from(chunk))).await;
}
