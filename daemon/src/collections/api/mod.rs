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

mod items;
mod reply;
mod stream;
mod wire;

pub use wire::{DEFAULT_LIMIT, decode_cursor, encode_cursor, timestamp};

use crate::daemon::Daemon;
use crate::store::{self, collections::Collection};
use crate::triggers::webhook::{form_pairs, parse_body};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use reply::{bad_request, internal, not_found, reply, unauthorized};
use serde_json::{Map, Value, json};
use std::sync::Arc;

pub fn router() -> Router<Arc<Daemon>> {
    Router::new()
        .route("/collections", axum::routing::any(handle))
        .route("/collections/{*rest}", axum::routing::any(handle))
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

/// A percent-encoded path segment (`+` stays a plus: only query strings make it a space).
fn percent_decode_path(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
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
        (Method::GET, None) => stream::stream(daemon, collection, &query),
        (Method::GET, Some(key)) => items::get_one(&daemon, &collection, key).await,
        (Method::PUT, Some(key)) => match read_body(&daemon, &headers, body).await {
            Ok(body) => items::put_one(&daemon, collection, key, body).await,
            Err(response) => response,
        },
        (Method::POST, None) => match read_body(&daemon, &headers, body).await {
            Ok(body) => items::put_all(&daemon, collection, body).await,
            Err(response) => response,
        },
        (Method::DELETE, Some(key)) => items::delete_one(&daemon, collection, key).await,
        (Method::DELETE, None) => match read_body(&daemon, &headers, body).await {
            // The body's `key` wins over the query's, as Lightning merges them.
            Ok(body) => {
                let key = body
                    .get("key")
                    .or_else(|| query.get("key"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                items::delete_all(&daemon, collection, key).await
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
                match store::collections::find(conn, &project, &name)? {
                    Some(collection) => Ok(Ok(collection)),
                    // Lightning finds the name in another project and refuses the run: 401.
                    None if store::collections::exists_elsewhere(conn, &project, &name)? => {
                        Ok(Err(true))
                    }
                    None => Ok(Err(false)),
                }
            } else {
                Ok(Err(
                    store::collections::find(conn, &project, &name)?.is_some()
                ))
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

#[cfg(test)]
mod tests {
    use super::*;

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
