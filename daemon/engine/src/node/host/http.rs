//! HTTP for fetch, undici, http/https and axios: the adaptors' host exchange
//! (`adaptors::host::http_request`: the same client, TLS, timeouts, redirects and schemes),
//! with bytes in and out and a way to abandon a request when its `AbortSignal` fires.

use crate::adaptors::host::http_request;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rquickjs::{ArrayBuffer, Ctx, Object, Value};
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::Notify;

/// Requests in flight that JS may still cancel, by the id JS got from `newId`.
fn in_flight() -> &'static Mutex<HashMap<u64, Arc<Notify>>> {
    static IN_FLIGHT: OnceLock<Mutex<HashMap<u64, Arc<Notify>>>> = OnceLock::new();
    IN_FLIGHT.get_or_init(Default::default)
}

/// A fresh request id (unique in the process, so contexts on other threads never collide).
pub fn new_id() -> f64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed) as f64
}

/// Removes the request's entry however its future ends (finished, cancelled or dropped).
struct Registration(u64);

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut map) = in_flight().lock() {
            map.remove(&self.0);
        }
    }
}

/// Registers request `id` now (at call time, before JS can cancel it) and returns the
/// future that performs it.
pub fn request(
    request_json: String,
    body: Option<Vec<u8>>,
    id: f64,
) -> impl std::future::Future<Output = Result<Json, String>> + Send {
    let id = id as u64;
    let notify = Arc::new(Notify::new());
    if let Ok(mut map) = in_flight().lock() {
        map.insert(id, notify.clone());
    }
    let registration = Registration(id);
    async move {
        let _registration = registration;
        let mut request: Json = serde_json::from_str(&request_json)
            .map_err(|e| format!("invalid HTTP request: {e}"))?;
        if let Some(bytes) = body {
            request["bodyBase64"] = Json::String(BASE64.encode(bytes));
        }
        request["wantBase64"] = Json::Bool(true);
        tokio::select! {
            answer = http_request(request.to_string()) => {
                let answer = answer?;
                serde_json::from_str(&answer).map_err(|e| e.to_string())
            }
            _ = notify.notified() => Ok(json!({ "ok": false, "aborted": true })),
        }
    }
}

/// Abandons request `id` (its future answers `{ok: false, aborted: true}`); a finished or
/// unknown id is ignored.
pub fn cancel(id: f64) {
    let notify = in_flight()
        .lock()
        .ok()
        .and_then(|map| map.get(&(id as u64)).cloned());
    if let Some(notify) = notify {
        notify.notify_one();
    }
}

/// The answer as a JS object, the body as an `ArrayBuffer`.
pub fn to_js<'js>(ctx: &Ctx<'js>, result: Result<Json, String>) -> rquickjs::Result<Value<'js>> {
    let mut answer = match result {
        Ok(answer) => answer,
        Err(message) => {
            json!({ "ok": false, "error": { "name": "TypeError", "message": message } })
        }
    };
    let body = answer
        .as_object_mut()
        .and_then(|map| {
            map.remove("bodyText");
            map.remove("bodyBase64")
        })
        .and_then(|encoded| encoded.as_str().and_then(|s| BASE64.decode(s).ok()));
    let object: Object = ctx
        .json_parse(answer.to_string())?
        .into_object()
        .ok_or_else(|| rquickjs::Error::new_from_js("value", "object"))?;
    if let Some(bytes) = body {
        object.set("body", ArrayBuffer::new(ctx.clone(), bytes)?)?;
    }
    Ok(object.into_value())
}
