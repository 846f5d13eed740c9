//! The answers the collections API gives, in Lightning's JSON shapes.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub(super) const JSON_TYPE: &str = "application/json; charset=utf-8";
pub(super) fn reply(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, JSON_TYPE)],
        body.to_string(),
    )
        .into_response()
}

pub(super) fn unauthorized() -> Response {
    reply(StatusCode::UNAUTHORIZED, &json!({"error": "Unauthorized"}))
}

pub(super) fn not_found() -> Response {
    reply(StatusCode::NOT_FOUND, &json!({"error": "Not Found"}))
}

pub(super) fn bad_request(message: impl Into<String>) -> Response {
    reply(
        StatusCode::BAD_REQUEST,
        &json!({"error": "Bad Request", "message": message.into()}),
    )
}

pub(super) fn internal(err: impl std::fmt::Display) -> Response {
    tracing::error!(%err, "collections request failed");
    reply(
        StatusCode::INTERNAL_SERVER_ERROR,
        &json!({"error": "Internal Server Error", "message": "boltd could not read or write the collection; nothing was changed"}),
    )
}
