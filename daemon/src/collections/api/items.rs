//! One item and many: get, put, upsert, delete.

use super::reply::{JSON_TYPE, bad_request, internal, reply};
use super::wire::encode_item;
use crate::collections::pattern::KeyPattern;
use crate::collections::rules::{self, Limits, PutError};
use crate::daemon::Daemon;
use crate::store::{self, collections::Collection, now_micros};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::sync::Arc;

pub(super) async fn get_one(
    daemon: &Arc<Daemon>,
    collection: &Collection,
    key: String,
) -> Response {
    let id = collection.id.clone();
    match daemon
        .store
        .readers
        .read(move |conn| store::collections::get(conn, &id, &key))
        .await
    {
        Ok(Some(item)) => {
            let mut text = String::new();
            encode_item(&mut text, &item);
            (StatusCode::OK, [(header::CONTENT_TYPE, JSON_TYPE)], text).into_response()
        }
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => internal(err),
    }
}

pub(super) async fn put_one(
    daemon: &Arc<Daemon>,
    collection: Collection,
    key: String,
    body: Map<String, Value>,
) -> Response {
    match body.get("value") {
        Some(Value::String(value)) => {
            write_items(daemon, collection, vec![(key, value.clone())]).await
        }
        // Lightning's answer when the value doesn't cast to a string.
        Some(_) => reply(
            StatusCode::OK,
            &json!({"error": "Format error", "upserted": 0}),
        ),
        None => bad_request("the body needs a `value` (a string, e.g. JSON text)"),
    }
}

pub(super) async fn put_all(
    daemon: &Arc<Daemon>,
    collection: Collection,
    body: Map<String, Value>,
) -> Response {
    let Some(Value::Array(items)) = body.get("items") else {
        return bad_request("the body needs `items`, a list of {\"key\": …, \"value\": …}");
    };
    let mut pairs = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let key = item.get("key").and_then(Value::as_str);
        let value = item.get("value").and_then(Value::as_str);
        match (key, value) {
            (Some(key), Some(value)) => pairs.push((key.to_string(), value.to_string())),
            _ => {
                return bad_request(format!(
                    "items[{i}] needs a string `key` and a string `value` (the adaptor sends values as JSON text)"
                ));
            }
        }
    }
    write_items(daemon, collection, pairs).await
}

async fn write_items(
    daemon: &Arc<Daemon>,
    collection: Collection,
    items: Vec<(String, String)>,
) -> Response {
    let limits = Limits::from(&daemon.config.collections);
    let written = daemon
        .store
        .writer
        .write(move |tx| rules::put_all(tx, &collection, &items, &limits, now_micros()))
        .await;
    match written {
        Ok(Ok(count)) => reply(StatusCode::OK, &json!({"error": null, "upserted": count})),
        Ok(Err(err)) => refused(&err, &limits),
        Err(err) => internal(err),
    }
}

fn refused(err: &PutError, limits: &Limits) -> Response {
    let message = err.to_string();
    match err {
        PutError::ValueTooLong { .. } => reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({
                "error": "value_too_long",
                "message": message,
                "errors": {"value": [format!("should be at most {} character(s)", limits.max_value_chars)]},
            }),
        ),
        PutError::DuplicateKey(_) => reply(
            StatusCode::BAD_REQUEST,
            &json!({"error": "duplicate_key", "message": message}),
        ),
        PutError::CollectionFull { .. } => reply(
            StatusCode::PAYMENT_REQUIRED,
            &json!({"error": "exceeds_limit", "message": message}),
        ),
    }
}

pub(super) async fn delete_one(
    daemon: &Arc<Daemon>,
    collection: Collection,
    key: String,
) -> Response {
    let target = key.clone();
    match daemon
        .store
        .writer
        .write(move |tx| store::collections::delete_key(tx, &collection.id, &target, now_micros()))
        .await
    {
        Ok(true) => reply(
            StatusCode::OK,
            &json!({"deleted": 1, "error": null, "key": key}),
        ),
        Ok(false) => reply(
            StatusCode::OK,
            &json!({"deleted": 0, "error": "Item Not Found", "key": key}),
        ),
        Err(err) => internal(err),
    }
}

pub(super) async fn delete_all(
    daemon: &Arc<Daemon>,
    collection: Collection,
    key: Option<String>,
) -> Response {
    let pattern = key.as_deref().map(KeyPattern::new);
    match daemon
        .store
        .writer
        .write(move |tx| {
            store::collections::delete_matching(
                tx,
                &collection.id,
                pattern.as_ref().map(KeyPattern::glob),
                now_micros(),
            )
        })
        .await
    {
        Ok(deleted) => reply(
            StatusCode::OK,
            &json!({"deleted": deleted, "error": null, "key": key}),
        ),
        Err(err) => internal(err),
    }
}
