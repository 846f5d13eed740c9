//! Rust host functions for bolt's Node built-ins, reached from JavaScript as
//! `__bolt_host.node()`, which builds this object on its first call in a context:
//!
//! ```text
//! url.parse(input, base?) -> [href, origin, protocol, username, password, host,
//!                             hostname, port, pathname, search, hash] | null   (url.rs)
//! url.set(href, part, value) -> the same array, after WHATWG's setter; null if refused
//! url.toAscii(domain) / url.toUnicode(domain) -> string ("" when invalid)
//! hash(algorithm, bytes) -> ArrayBuffer              (crypto.rs; throws for unknown ones)
//! hmac(algorithm, key, bytes) -> ArrayBuffer
//! pbkdf2(algorithm, password, salt, iterations, length) -> ArrayBuffer
//! randomBytes(n) -> ArrayBuffer
//! zlib(mode, bytes, level?, partial?) -> ArrayBuffer (zlib.rs; throws zlib's error text;
//!                                      `partial`: truncated input gives what it has)
//! decode(label, bytes, fatal) -> string              (text.rs: WHATWG decoders)
//! utf8(text) -> ArrayBuffer                          (the UTF-8 bytes of a well-formed string)
//! encodingName(label) -> string | undefined          (the canonical WHATWG name)
//! http(requestJson, bytes?, id) -> Promise<{ok, status, headers, url, body: ArrayBuffer}
//!                                           | {ok: false, error}>   (http.rs)
//! newId() -> number                                  (an id for `http` and `cancel`)
//! cancel(id) -> undefined                            (that request answers {ok: false, aborted: true})
//! ```
//!
//! Bytes go into Rust as "binary strings" (one char per byte, 0–255): the workspace forbids
//! `unsafe`, and reading a typed array's memory from Rust needs it. They come back as
//! `ArrayBuffer`s.

mod crypto;
mod http;
mod text;
mod url;
mod zlib;

use crate::runtime::warm::host_function;
use rquickjs::function::Async;
use rquickjs::{ArrayBuffer, Ctx, Exception, Object, Value};

/// Adds `node()` to the `__bolt_host` object.
pub fn install<'js>(ctx: &Ctx<'js>, host_object: &Object<'js>) -> rquickjs::Result<()> {
    host_object.set("node", host_function(ctx, |ctx: Ctx<'js>| node_host(&ctx))?)
}

/// The host object (built once per context; the JS side keeps it).
fn node_host<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    let host = Object::new(ctx.clone())?;
    host.set("url", url::functions(ctx)?)?;
    host.set(
        "hash",
        host_function(ctx, |ctx: Ctx<'js>, algorithm: String, data: String| {
            let digest = crypto::hash(&algorithm, &binary(&data)).map_err(|e| throw(&ctx, &e))?;
            ArrayBuffer::new(ctx, digest)
        })?,
    )?;
    host.set(
        "hmac",
        host_function(
            ctx,
            |ctx: Ctx<'js>, algorithm: String, key: String, data: String| {
                let mac = crypto::hmac(&algorithm, &binary(&key), &binary(&data))
                    .map_err(|e| throw(&ctx, &e))?;
                ArrayBuffer::new(ctx, mac)
            },
        )?,
    )?;
    host.set(
        "pbkdf2",
        host_function(
            ctx,
            |ctx: Ctx<'js>,
             algorithm: String,
             password: String,
             salt: String,
             iterations: u32,
             length: usize| {
                let key = crypto::pbkdf2(
                    &algorithm,
                    &binary(&password),
                    &binary(&salt),
                    iterations,
                    length,
                )
                .map_err(|e| throw(&ctx, &e))?;
                ArrayBuffer::new(ctx, key)
            },
        )?,
    )?;
    host.set(
        "randomBytes",
        host_function(ctx, |ctx: Ctx<'js>, size: usize| {
            let bytes = crypto::random_bytes(size).map_err(|e| throw(&ctx, &e))?;
            ArrayBuffer::new(ctx, bytes)
        })?,
    )?;
    host.set(
        "zlib",
        host_function(
            ctx,
            |ctx: Ctx<'js>,
             mode: String,
             data: String,
             level: Option<i32>,
             partial: Option<bool>| {
                let out = match zlib::run(&mode, &binary(&data), level) {
                    Ok(out) => out,
                    Err(e) if partial == Some(true) && e.code == "Z_BUF_ERROR" => e.partial,
                    Err(e) => return Err(throw_coded(&ctx, &e.message, e.code, e.errno)),
                };
                ArrayBuffer::new(ctx, out)
            },
        )?,
    )?;
    host.set(
        "decode",
        host_function(
            ctx,
            |ctx: Ctx<'js>, label: String, data: String, fatal: bool| {
                text::decode(&label, &binary(&data), fatal).map_err(|e| throw(&ctx, &e))
            },
        )?,
    )?;
    host.set(
        "utf8",
        host_function(ctx, |ctx: Ctx<'js>, text: String| {
            ArrayBuffer::new(ctx, text.into_bytes())
        })?,
    )?;
    host.set(
        "encodingName",
        host_function(ctx, |label: String| text::canonical_name(&label))?,
    )?;
    host.set(
        "http",
        host_function(
            ctx,
            Async(
                |ctx: Ctx<'js>, request: String, body: Option<String>, id: f64| {
                    // Registered now, so a `cancel(id)` right after this call finds it.
                    let exchange = http::request(request, body.map(|b| binary(&b)), id);
                    async move { http::to_js(&ctx, exchange.await) }
                },
            ),
        )?,
    )?;
    host.set("newId", host_function(ctx, http::new_id)?)?;
    host.set("cancel", host_function(ctx, http::cancel)?)?;
    Ok(host)
}

/// The bytes of a binary string (chars above U+00FF, which JS never sends, are truncated).
fn binary(text: &str) -> Vec<u8> {
    text.chars().map(|c| c as u32 as u8).collect()
}

fn throw(ctx: &Ctx<'_>, message: &str) -> rquickjs::Error {
    Exception::throw_message(ctx, message)
}

/// Throws an `Error` carrying Node's `code` and `errno` (zlib's errors have both).
fn throw_coded(ctx: &Ctx<'_>, message: &str, code: &str, errno: i32) -> rquickjs::Error {
    match Exception::from_message(ctx.clone(), message) {
        Ok(exception) => {
            let _ = exception.as_object().set("errno", errno);
            let _ = exception.as_object().set("code", code);
            let value: Value = exception.into_value();
            ctx.throw(value)
        }
        Err(e) => e,
    }
}
