//! The webhook server: `POST /i/<trigger-id or custom_path>[/more/path][?query]`. The same
//! server answers the collections API at `/collections` ([`crate::collections::api`]).
//!
//! Status codes follow Lightning: 200 with the ids once the work order is durable, 201 with
//! the final state in `after_completion` mode, 401 missing auth, 404 unknown trigger or
//! wrong auth, 403 disabled, 413 too large, 415 unreadable body. Methods as Lightning takes
//! them: POST runs the workflow, GET (and HEAD) says the trigger exists, OPTIONS lists the
//! methods; any other gets 405 with an `Allow` header. A body that can't be read (broken
//! chunked encoding) gets 400, one that stalls past `http.body_timeout_secs` 408.

use crate::credentials;
use crate::daemon::Daemon;
use crate::store::work_orders::{Input, NewWorkOrder};
use crate::triggers::intake;
use crate::triggers::webhook_cache;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bolt_shared::model::{DataclipType, Origin, WebhookReply};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;

pub fn router(daemon: Arc<Daemon>) -> Router {
    Router::new()
        .route("/i/{*rest}", axum::routing::any(webhook))
        .route("/health", axum::routing::get(|| async { "ok" }))
        .route("/metrics", axum::routing::get(metrics))
        .merge(crate::collections::api::router())
        .with_state(daemon)
}

/// Serves webhooks until shutdown; returns the bound address and the server's task, which
/// ends once the requests under way at shutdown have been answered.
pub async fn serve(
    daemon: Arc<Daemon>,
    listen: &str,
) -> anyhow::Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen for webhooks on {listen}: {e} (set [http] listen in bolt.toml or --http)"
        )
    })?;
    let addr = listener.local_addr()?;
    let closing = daemon.clone();
    let app = router(daemon);
    let server = tokio::spawn(async move {
        // Each webhook work order records the address it came from.
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(async move { closing.until_http_closes().await })
            .await;
        if let Err(err) = result {
            tracing::error!(%err, "webhook server stopped");
        }
    });
    Ok((addr, server))
}

fn reply(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn not_found() -> Response {
    reply(StatusCode::NOT_FOUND, json!({"error": "Webhook not found"}))
}

/// Prometheus scrapes this (see [`crate::metrics`]).
async fn metrics(State(daemon): State<Arc<Daemon>>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        crate::metrics::render(&daemon).await,
    )
        .into_response()
}

/// Answers a webhook request and records how long the answer took.
async fn webhook(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(source): ConnectInfo<std::net::SocketAddr>,
    method: Method,
    Path(rest): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let arrived = std::time::Instant::now();
    let response = answer_webhook(daemon.clone(), source, method, rest, query, headers, body).await;
    daemon
        .metrics
        .webhook_answered(response.status().as_u16(), arrived.elapsed());
    response
}

async fn answer_webhook(
    daemon: Arc<Daemon>,
    source: std::net::SocketAddr,
    method: Method,
    rest: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // While a stopping boltd lets its runs finish, the server stays up for their
    // collections requests, but takes no more work.
    if daemon.is_stopping() && method != Method::GET {
        let mut response = reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": "service_unavailable", "message": "boltd is stopping and takes no more requests; nothing was kept, retry once it is back"}),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        return response;
    }
    let mut segments = rest.split('/').filter(|s| !s.is_empty());
    let Some(first) = segments.next().map(str::to_string) else {
        return not_found();
    };
    let extra: Vec<String> = segments.map(str::to_string).collect();
    let found = match webhook_cache::lookup(&daemon, &first).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(),
        Err(err) => return internal(err),
    };
    if method == Method::GET || method == Method::HEAD {
        return reply(
            StatusCode::OK,
            json!({"message": "bolt webhook trigger found. Make a POST request to execute this workflow."}),
        );
    }
    if method == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(ALLOWED_METHODS));
        return response;
    }
    if method != Method::POST {
        let mut response = reply(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": "method_not_allowed", "message": format!("webhooks take POST requests (GET only says the trigger exists); {method} is not one of {ALLOWED_METHODS}")}),
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(ALLOWED_METHODS));
        return response;
    }
    if !found.enabled || !found.workflow_enabled {
        return reply(
            StatusCode::FORBIDDEN,
            json!({"error": "trigger_disabled", "message": "this webhook trigger or its workflow is disabled; enable it to accept requests"}),
        );
    }
    if !found.auth.is_empty() {
        match check_auth(&daemon, &found.auth, &headers).await {
            AuthOutcome::Ok => {}
            AuthOutcome::Missing => {
                return reply(StatusCode::UNAUTHORIZED, json!({"error": "Unauthorized"}));
            }
            AuthOutcome::Wrong => return not_found(),
            AuthOutcome::Failed(message) => {
                return reply(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "internal", "message": message}),
                );
            }
        }
    }
    let limit = daemon.config.http.max_body_bytes;
    let too_large = || {
        reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": "request_entity_too_large", "message": format!("the body is larger than this server's limit of {limit} bytes ([http] max_body_bytes)")}),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return too_large();
    }
    let wait = Duration::from_secs(daemon.config.http.body_timeout_secs);
    let bytes: Bytes = match tokio::time::timeout(wait, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(err)) if is_over_limit(&err) => return too_large(),
        Ok(Err(err)) => {
            return closing(reply(
                StatusCode::BAD_REQUEST,
                json!({"error": "bad_request", "message": format!("the request body could not be read ({err}); nothing was kept: send it again with a valid Content-Length or chunked encoding")}),
            ));
        }
        Err(_) => {
            return closing(reply(
                StatusCode::REQUEST_TIMEOUT,
                json!({"error": "request_timeout", "message": format!("the request body did not arrive within {} s ([http] body_timeout_secs); nothing was kept", wait.as_secs())}),
            ));
        }
    };
    let data = match parse_body(&headers, &bytes) {
        Ok(data) => data,
        Err(message) => {
            return reply(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                json!({"error": "unsupported_media_type", "message": message}),
            );
        }
    };
    let request = json!({
        "method": method.as_str(),
        "path": extra,
        "query_params": query_params(query.as_deref()),
        "headers": stored_headers(&headers),
    });
    let sync = found.reply == WebhookReply::AfterCompletion;
    let events = sync.then(|| daemon.events.subscribe());
    let new = NewWorkOrder {
        workflow_id: found.workflow_id.clone(),
        project_id: found.project_id.clone(),
        version_id: found.version_id.clone(),
        trigger_id: Some(found.trigger_id.clone()),
        origin: Origin::Webhook,
        input: Input::json(DataclipType::HttpRequest, &data, Some(request.to_string())),
        starting_job: None,
        priority: 1,
        source_address: Some(source.to_string()),
    };
    let created = match intake::submit(&daemon, new).await {
        Ok(created) => created,
        Err(err) => return internal(err),
    };
    let ids = json!({"work_order_id": created.work_order_id, "run_id": created.run_id});
    let response = match events {
        None => reply(StatusCode::OK, ids),
        Some(events) => {
            let wait = Duration::from_secs(daemon.config.http.sync_reply_timeout_secs);
            // A stopping boltd answers at once: its run may wait for the next start.
            let waited = tokio::select! {
                waited = intake::wait_for_run(&daemon, events, &created.run_id, wait) => waited,
                _ = daemon.until_stopping() => {
                    let mut body = ids.clone();
                    body["message"] = json!(format!(
                        "boltd is stopping: the run finishes before it exits, or at its next start if it had not begun — follow it with `bolt show {}`",
                        created.work_order_id
                    ));
                    return with_meta_headers(reply(StatusCode::ACCEPTED, body), &created);
                }
            };
            match waited {
                Ok(Some(done)) => reply(
                    StatusCode::CREATED,
                    json!({
                        "data": done.final_state.unwrap_or(Value::Null),
                        "meta": {
                            "work_order_id": created.work_order_id,
                            "run_id": created.run_id,
                            "state": done.state,
                            "error_type": done.error_type,
                            "error_message": done.error_message,
                        }
                    }),
                ),
                Ok(None) => {
                    let mut body = ids.clone();
                    body["message"] = json!(format!(
                        "the run did not finish within {} s; it goes on — follow it with `bolt show {}`",
                        wait.as_secs(),
                        created.work_order_id
                    ));
                    reply(StatusCode::ACCEPTED, body)
                }
                Err(err) => return internal(err),
            }
        }
    };
    with_meta_headers(response, &created)
}

/// The methods a webhook URL answers (`Allow` header of 405 and OPTIONS answers).
const ALLOWED_METHODS: &str = "GET, HEAD, POST, OPTIONS";

/// Whether reading the body failed on the size limit (not on broken framing).
fn is_over_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// The connection closes after this answer: the rest of the request can't be trusted.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Lightning's `x-meta-*` headers: the ids of what the request created.
fn with_meta_headers(
    mut response: Response,
    created: &crate::store::work_orders::Created,
) -> Response {
    for (name, value) in [
        ("x-meta-work-order-id", &created.work_order_id),
        ("x-meta-run-id", &created.run_id),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// Seconds a client is told to wait before it sends a request boltd could not store.
const RETRY_AFTER_SECS: u64 = 10;

/// 503: nothing of the request was kept. A store refusing writes (a disk fault) says why
/// and since when, and is logged once by the store rather than per request.
fn internal(err: impl Into<crate::store::StoreError>) -> Response {
    let err = err.into();
    let message = match &err {
        crate::store::StoreError::Refusing(refusal) => format!(
            "boltd is not storing requests since {}: {}. Nothing of this request was kept; send it again later",
            refusal.since.format("%Y-%m-%d %H:%M:%S UTC"),
            refusal.explain()
        ),
        other => {
            tracing::error!(err = %other, "webhook intake failed");
            "boltd could not store the request; nothing was kept, send it again later".into()
        }
    };
    let mut response = reply(
        StatusCode::SERVICE_UNAVAILABLE,
        json!({"error": "service_unavailable", "message": message, "retry_after_secs": RETRY_AFTER_SECS}),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

/// JSON (any content type that parses) or an urlencoded form; anything else is refused.
pub(crate) fn parse_body(headers: &HeaderMap, bytes: &[u8]) -> Result<Value, String> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let text =
            std::str::from_utf8(bytes).map_err(|_| "the form body is not UTF-8".to_string())?;
        return Ok(Value::Object(form_pairs(text)));
    }
    serde_json::from_slice(bytes).map_err(|err| {
        if content_type.is_empty() || content_type.contains("json") {
            format!("the body is not valid JSON ({err}); send a JSON document with Content-Type: application/json")
        } else {
            format!("bolt cannot read a `{content_type}` body: send JSON (application/json) or a form (application/x-www-form-urlencoded)")
        }
    })
}

/// An urlencoded form or query string as a JSON object (the last of a repeated name wins).
pub(crate) fn form_pairs(text: &str) -> Map<String, Value> {
    form_urlencoded::parse(text.as_bytes())
        .map(|(key, value)| (key.into_owned(), Value::String(value.into_owned())))
        .collect()
}

fn query_params(query: Option<&str>) -> Value {
    Value::Object(query.map(form_pairs).unwrap_or_default())
}

/// Request headers as stored in the input: lower-case names, secrets left out.
fn stored_headers(headers: &HeaderMap) -> Value {
    let mut map = Map::new();
    for (name, value) in headers {
        let name = name.as_str();
        if matches!(
            name,
            "authorization" | "x-api-key" | "cookie" | "proxy-authorization"
        ) {
            continue;
        }
        map.insert(
            name.to_string(),
            Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned()),
        );
    }
    Value::Object(map)
}

enum AuthOutcome {
    Ok,
    Missing,
    Wrong,
    Failed(String),
}

async fn check_auth(daemon: &Arc<Daemon>, names: &[String], headers: &HeaderMap) -> AuthOutcome {
    let api_key = headers.get("x-api-key").map(|v| v.as_bytes().to_vec());
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .map(|v| v.trim().to_string());
    if api_key.is_none() && basic.is_none() {
        return AuthOutcome::Missing;
    }
    let vault = daemon.vault.clone();
    let names = names.to_vec();
    let bodies = daemon
        .store
        .readers
        .read(move |conn| {
            let mut bodies = Vec::new();
            for name in names {
                if let Some(body) = credentials::load(conn, &vault, &name)? {
                    bodies.push(body);
                }
            }
            Ok(bodies)
        })
        .await;
    let bodies = match bodies {
        Ok(bodies) => bodies,
        Err(err) => return AuthOutcome::Failed(err.to_string()),
    };
    let mut ok = false;
    for body in &bodies {
        if let (Some(given), Some(expected)) =
            (&api_key, body.get("api_key").and_then(Value::as_str))
        {
            ok |= bool::from(given.as_slice().ct_eq(expected.as_bytes()));
        }
        if let (Some(given), Some(user), Some(pass)) = (
            &basic,
            body.get("username").and_then(Value::as_str),
            body.get("password").and_then(Value::as_str),
        ) {
            let expected =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            ok |= bool::from(given.as_bytes().ct_eq(expected.as_bytes()));
        }
    }
    if ok {
        AuthOutcome::Ok
    } else {
        AuthOutcome::Wrong
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_queries_decode() {
        let map = form_pairs("a=1&b=hello+world&c=%2Fx%3D");
        assert_eq!(map["b"], "hello world");
        assert_eq!(map["c"], "/x=");
        assert_eq!(form_pairs("p=100%")["p"], "100%");
    }

    #[test]
    fn auth_headers_are_never_stored() {
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", HeaderValue::from_static("secret"));
        headers.insert("authorization", HeaderValue::from_static("Basic abc"));
        headers.insert("x-source", HeaderValue::from_static("clinic"));
        let stored = stored_headers(&headers).to_string();
        assert!(
            !stored.contains("secret") && !stored.contains("abc"),
            "{stored}"
        );
        assert!(stored.contains("clinic"));
    }
}
