//! The collections HTTP API, as Lightning serves it at `/collections` (its v1 routes; v2
//! routes, with the project id first, when the request says `x-api-version: 2`):
//!
//! | request | answer |
//! |---|---|
//! | `GET /collections/:name?key=&cursor=&limit=&created_after=&created_before=&updated_after=&updated_before=` | 200, streamed: `{"items": [{"created","key","updated","value"}…], "cursor": …}` |
//! | `GET /collections/:name/:key` | 200 the item, or 204 |
//! | `PUT /collections/:name/:key` `{"value"}` | `{"error":null,"upserted":1}` |
//! | `POST /collections/:name` `{"items":[{"key","value"}…]}` | `{"error":null,"upserted":n}` |
//! | `DELETE /collections/:name/:key` | `{"deleted":1,"error":null,"key"}` (0 and `"Item Not Found"`) |
//! | `DELETE /collections/:name?key=pattern` | `{"deleted":n,"error":null,"key"}` (no key: all items) |
//!
//! Authorization is `Bearer <run token>` ([`super::token`]); no token, a bad one, or one
//! whose run has ended gets 401 `{"error":"Unauthorized"}`, and so does a name that exists
//! only in another project (as in Lightning). An unknown collection gets 404
//! `{"error":"Not Found"}`, a query parameter Lightning doesn't know 400. bolt adds
//! clear refusals of its own: 413 past `max_request_bytes`, 422 for a value past
//! `max_value_chars`, 402 `exceeds_limit` past `max_collection_bytes` (Lightning's code for
//! its storage limit), each with a `message` that says what to change.

// A refusal is the HTTP answer itself; it is returned once per request, never kept.
#![allow(clippy::result_large_err)]

use super::pattern::KeyPattern;
use super::store::{self, Collection, Item, ItemQuery, Limits, PutError};
use crate::daemon::Daemon;
use crate::store::now_micros;
use crate::webhook::{form_pairs, parse_body};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Lightning's default page size when a request gives no `limit`.
pub const DEFAULT_LIMIT: usize = 1000;
/// Items read from the store per query while streaming (Lightning: 500).
const DB_BATCH: usize = 500;
/// Items per chunk of a streamed answer (Lightning: 100).
const CHUNK_ITEMS: usize = 100;

const JSON_TYPE: &str = "application/json; charset=utf-8";
const QUERY_PARAMS: &[&str] = &[
    "key",
    "cursor",
    "limit",
    "created_after",
    "created_before",
    "updated_after",
    "updated_before",
];

pub fn router() -> Router<Arc<Daemon>> {
    Router::new()
        .route("/collections", axum::routing::any(handle))
        .route("/collections/{*rest}", axum::routing::any(handle))
}

fn reply(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, JSON_TYPE)],
        body.to_string(),
    )
        .into_response()
}

fn unauthorized() -> Response {
    reply(StatusCode::UNAUTHORIZED, &json!({"error": "Unauthorized"}))
}

fn not_found() -> Response {
    reply(StatusCode::NOT_FOUND, &json!({"error": "Not Found"}))
}

fn bad_request(message: impl Into<String>) -> Response {
    reply(
        StatusCode::BAD_REQUEST,
        &json!({"error": "Bad Request", "message": message.into()}),
    )
}

fn internal(err: impl std::fmt::Display) -> Response {
    tracing::error!(%err, "collections request failed");
    reply(
        StatusCode::INTERNAL_SERVER_ERROR,
        &json!({"error": "Internal Server Error", "message": "boltd could not read or write the collection; nothing was changed"}),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ApiVersion {
    V1,
    V2,
}

/// `x-api-version`: none or `1` is v1, `2` is v2, anything else 400 (as Lightning).
fn api_version(headers: &HeaderMap) -> Result<ApiVersion, Response> {
    let values: Vec<_> = headers.get_all("x-api-version").iter().collect();
    match values.as_slice() {
        [] => Ok(ApiVersion::V1),
        [one] if one.as_bytes() == b"1" => Ok(ApiVersion::V1),
        [one] if one.as_bytes() == b"2" => Ok(ApiVersion::V2),
        [one] => Err(reply(
            StatusCode::BAD_REQUEST,
            &json!({"error": format!("Unsupported API version: {:?}. Supported versions: 1, 2.", String::from_utf8_lossy(one.as_bytes()))}),
        )),
        _ => Err(reply(
            StatusCode::BAD_REQUEST,
            &json!({"error": "Unsupported API version: \"multiple\". Supported versions: 1, 2."}),
        )),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    value.to_str().ok()?.strip_prefix("Bearer ")
}

/// The path after `/collections`, split on `/` and then percent-decoded, so a key may hold
/// an encoded `/`.
fn segments(path: &str) -> Vec<String> {
    path.strip_prefix("/collections")
        .unwrap_or("")
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode_path)
        .collect()
}

fn percent_decode_path(segment: &str) -> String {
    // `+` is a plus in a path (only query strings make it a space).
    crate::webhook::percent_decode(&segment.replace('+', "%2B"))
}

async fn handle(
    State(daemon): State<Arc<Daemon>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let version = match api_version(&headers) {
        Ok(version) => version,
        Err(response) => return response,
    };
    let Some(claims) = bearer(&headers).and_then(|t| daemon.run_tokens.verify(t)) else {
        return unauthorized();
    };
    let parts = segments(uri.path());
    let (project, rest) = match version {
        ApiVersion::V1 => (claims.project_id.clone(), &parts[..]),
        ApiVersion::V2 => match parts.split_first() {
            Some((project, rest)) => (project.clone(), rest),
            None => return not_found(),
        },
    };
    let (name, key) = match rest {
        [name] => (name.clone(), None),
        [name, key] => (name.clone(), Some(key.clone())),
        _ => return not_found(),
    };
    let collection = match lookup(&daemon, &claims.project_id, &project, &name).await {
        Ok(collection) => collection,
        Err(response) => return response,
    };
    let query = uri.query().map(form_pairs).unwrap_or_default();
    match (method, key) {
        (Method::GET, None) => stream(daemon, collection, &query),
        (Method::GET, Some(key)) => get_one(&daemon, &collection, key).await,
        (Method::PUT, Some(key)) => match read_body(&daemon, &headers, body).await {
            Ok(body) => put_one(&daemon, collection, key, body).await,
            Err(response) => response,
        },
        (Method::POST, None) => match read_body(&daemon, &headers, body).await {
            Ok(body) => put_all(&daemon, collection, body).await,
            Err(response) => response,
        },
        (Method::DELETE, Some(key)) => delete_one(&daemon, collection, key).await,
        (Method::DELETE, None) => match read_body(&daemon, &headers, body).await {
            // The body's `key` wins over the query's, as Lightning merges them.
            Ok(body) => {
                let key = body
                    .get("key")
                    .or_else(|| query.get("key"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                delete_all(&daemon, collection, key).await
            }
            Err(response) => response,
        },
        _ => not_found(),
    }
}

/// The collection `name` of `project`, for a token of `token_project`.
async fn lookup(
    daemon: &Arc<Daemon>,
    token_project: &str,
    project: &str,
    name: &str,
) -> Result<Collection, Response> {
    let (token_project, project, name) = (
        token_project.to_string(),
        project.to_string(),
        name.to_string(),
    );
    let found = daemon
        .store
        .readers
        .read(move |conn| {
            if project == token_project {
                match store::find(conn, &project, &name)? {
                    Some(collection) => Ok(Ok(collection)),
                    // Lightning finds the name in another project and refuses the run: 401.
                    None if store::exists_elsewhere(conn, &project, &name)? => Ok(Err(true)),
                    None => Ok(Err(false)),
                }
            } else {
                Ok(Err(store::find(conn, &project, &name)?.is_some()))
            }
        })
        .await;
    match found {
        Ok(Ok(collection)) => Ok(collection),
        Ok(Err(true)) => Err(unauthorized()),
        Ok(Err(false)) => Err(not_found()),
        Err(err) => Err(internal(err)),
    }
}

async fn read_body(
    daemon: &Arc<Daemon>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Map<String, Value>, Response> {
    let limit = daemon.config.collections.max_request_bytes;
    let too_large = || {
        reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            &json!({"error": "request_entity_too_large", "message": format!("the request body is larger than {limit} bytes ([collections] max_request_bytes in bolt.toml): send fewer items per request")}),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let bytes: Bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())?;
    match parse_body(headers, &bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(bad_request(
            "the body must be a JSON object, such as {\"items\": [{\"key\": \"k\", \"value\": \"v\"}]}",
        )),
        Err(message) => Err(bad_request(message)),
    }
}

/// RFC 3339 with microseconds, as Lightning writes `utc_datetime_usec`.
pub fn timestamp(micros: i64) -> String {
    crate::store::from_micros(micros)
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

fn parse_timestamp(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.timestamp_micros())
}

/// A page cursor: base64 of the last item's `created` timestamp, as Lightning's.
pub fn encode_cursor(created_at: i64) -> String {
    STANDARD.encode(timestamp(created_at))
}

pub fn decode_cursor(cursor: &str) -> Option<i64> {
    // A `+` sent unencoded in a query arrives as a space.
    let cursor = cursor.trim().replace(' ', "+");
    let bytes = STANDARD
        .decode(&cursor)
        .or_else(|_| STANDARD_NO_PAD.decode(&cursor))
        .ok()?;
    parse_timestamp(std::str::from_utf8(&bytes).ok()?)
}

/// One item as Lightning encodes it: keys in alphabetical order.
fn encode_item(out: &mut String, item: &Item) {
    out.push_str("{\"created\":\"");
    out.push_str(&timestamp(item.created_at));
    out.push_str("\",\"key\":");
    out.push_str(&serde_json::to_string(&item.key).unwrap_or_default());
    out.push_str(",\"updated\":\"");
    out.push_str(&timestamp(item.updated_at));
    out.push_str("\",\"value\":");
    out.push_str(&serde_json::to_string(&item.value).unwrap_or_default());
    out.push('}');
}

/// Reads the stream's query parameters (`None` means 400 with the message).
fn item_query(query: &Map<String, Value>) -> Result<(ItemQuery, usize), String> {
    if let Some(unknown) = query.keys().find(|k| !QUERY_PARAMS.contains(&k.as_str())) {
        return Err(format!(
            "unknown query parameter `{unknown}`: use {}",
            QUERY_PARAMS.join(", ")
        ));
    }
    let text = |name: &str| query.get(name).and_then(Value::as_str);
    let limit = match text("limit") {
        None => DEFAULT_LIMIT,
        Some(limit) => limit
            .parse::<usize>()
            .map_err(|_| format!("limit `{limit}` is not a whole number"))?,
    };
    let time = |name: &str| -> Result<Option<i64>, String> {
        match text(name) {
            None => Ok(None),
            Some(value) => parse_timestamp(value).map(Some).ok_or_else(|| {
                format!("{name} `{value}` is not an ISO 8601 date and time with a zone (e.g. 2025-05-01T00:00:00Z)")
            }),
        }
    };
    let after = match text("cursor") {
        None | Some("") => None,
        Some(cursor) => Some(
            decode_cursor(cursor)
                .ok_or_else(|| format!("cursor `{cursor}` is not one this server gave"))?,
        ),
    };
    Ok((
        ItemQuery {
            pattern: text("key").map(KeyPattern::new),
            after,
            created_after: time("created_after")?,
            created_before: time("created_before")?,
            updated_after: time("updated_after")?,
            updated_before: time("updated_before")?,
        },
        limit,
    ))
}

/// Streams the matching items: read from the store a batch at a time, sent in chunks, so a
/// large collection never sits whole in memory.
fn stream(daemon: Arc<Daemon>, collection: Collection, query: &Map<String, Value>) -> Response {
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
            .read(move |conn| store::page(conn, &id, &page_query, want))
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

async fn get_one(daemon: &Arc<Daemon>, collection: &Collection, key: String) -> Response {
    let id = collection.id.clone();
    match daemon
        .store
        .readers
        .read(move |conn| store::get(conn, &id, &key))
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

async fn put_one(
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

async fn put_all(
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
        .write(move |tx| store::put_all(tx, &collection, &items, &limits, now_micros()))
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

async fn delete_one(daemon: &Arc<Daemon>, collection: Collection, key: String) -> Response {
    let target = key.clone();
    match daemon
        .store
        .writer
        .write(move |tx| store::delete_key(tx, &collection.id, &target, now_micros()))
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

async fn delete_all(daemon: &Arc<Daemon>, collection: Collection, key: Option<String>) -> Response {
    let pattern = key.as_deref().map(KeyPattern::new);
    match daemon
        .store
        .writer
        .write(move |tx| store::delete_matching(tx, &collection.id, pattern.as_ref(), now_micros()))
        .await
    {
        Ok(deleted) => reply(
            StatusCode::OK,
            &json!({"deleted": deleted, "error": null, "key": key}),
        ),
        Err(err) => internal(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_lightnings_base64_timestamps() {
        let at = 1_746_171_000_123_456; // 2025-05-02T07:30:00.123456Z
        assert_eq!(timestamp(at), "2025-05-02T07:30:00.123456Z");
        let cursor = encode_cursor(at);
        assert_eq!(cursor, STANDARD.encode("2025-05-02T07:30:00.123456Z"));
        assert_eq!(decode_cursor(&cursor), Some(at));
        assert_eq!(decode_cursor(cursor.trim_end_matches('=')), Some(at));
        assert_eq!(decode_cursor("bm90IGEgZGF0ZQ=="), None);
        assert_eq!(decode_cursor("***"), None);
    }

    #[test]
    fn items_encode_with_lightnings_key_order() {
        let mut out = String::new();
        encode_item(
            &mut out,
            &Item {
                key: "k\"1".into(),
                value: "{\"a\":1}".into(),
                created_at: 0,
                updated_at: 1,
            },
        );
        assert_eq!(
            out,
            r#"{"created":"1970-01-01T00:00:00.000000Z","key":"k\"1","updated":"1970-01-01T00:00:00.000001Z","value":"{\"a\":1}"}"#
        );
    }

    #[test]
    fn query_parameters_are_checked() {
        let parse = |q: &str| item_query(&form_pairs(q));
        let (query, limit) = parse("key=waiting%3A*&limit=2").unwrap();
        assert_eq!(limit, 2);
        assert_eq!(query.pattern, Some(KeyPattern::new("waiting:*")));
        let (query, limit) = parse("created_after=2025-05-01T00:00:00Z").unwrap();
        assert_eq!(limit, DEFAULT_LIMIT);
        assert_eq!(query.created_after, Some(1_746_057_600_000_000));
        assert!(parse("colour=red").unwrap_err().contains("colour"));
        assert!(parse("limit=ten").is_err());
        assert!(parse("limit=-1").is_err());
        assert!(parse("updated_after=2025-05-01").is_err());
        assert!(parse("cursor=nope").is_err());
    }

    #[test]
    fn path_segments_are_decoded_after_splitting() {
        assert_eq!(
            segments("/collections/triage-queue/waiting:0001"),
            ["triage-queue", "waiting:0001"]
        );
        assert_eq!(segments("/collections/c/a%2Fb"), ["c", "a/b"]);
        assert_eq!(segments("/collections/c/a+b%20c"), ["c", "a+b c"]);
        assert!(segments("/collections").is_empty());
    }
}
