//! Collections: Lightning's per-project key-value store, which jobs use through the
//! `@openfn/language-collections` adaptor, unchanged.
//!
//! - [`rules`]: names, size limits (a write taken whole or not at all) and paging; the rows
//!   are in [`crate::store::collections`].
//! - [`pattern`]: Lightning's key patterns (`*`) as SQLite GLOB patterns.
//! - [`token`]: the bearer token each run gets, valid for that run and project only.
//! - [`api`]: the HTTP API the adaptor calls (Lightning's `/collections` routes).
//!
//! How a run reaches them, as Lightning's worker arranges it: a job whose code mentions
//! `collections.` gets the collections adaptor added to its step ([`adaptors_for_job`]), and
//! its `state.configuration` gets `collections_endpoint` (boltd's own HTTP server) and
//! `collections_token` ([`RunAccess`]); values the job's own credential sets win, so a job
//! may point the adaptor at another Lightning. The token is scrubbed from logs and outputs
//! like a credential, and dies when the run ends.

pub mod api;
pub mod pattern;
pub mod rules;
pub mod token;

use crate::engine::adaptors::spec::AdaptorSpec;
use serde_json::{Map, Value};

/// The collections adaptor's npm name.
pub const ADAPTOR_NAME: &str = "@openfn/language-collections";

/// The version added to jobs that use `collections.` without naming the adaptor. Lightning's
/// worker adds the latest version it knows at start-up; bolt pins the latest published
/// version instead, so a run does the same thing tomorrow (0.8.0, March 2026).
pub const ADAPTOR_VERSION: &str = "0.8.0";

/// Whether job code uses collections: Lightning's worker and the OpenFn CLI look for the
/// text `collections.` anywhere in the job (comments included), and so does bolt.
pub fn mentions_collections(body: &str) -> bool {
    body.contains("collections.")
}

/// The collection names job code passes literally to the adaptor's operations
/// (`collections.get('stock', …)`), in order of first use; names built at run time are
/// not seen.
pub fn names_used(body: &str) -> Vec<String> {
    const OPERATIONS: &[&str] = &["get", "set", "each", "remove"];
    let mut names: Vec<String> = Vec::new();
    for (at, _) in body.match_indices("collections.") {
        let rest = &body[at + "collections.".len()..];
        let Some(operation) = OPERATIONS.iter().find(|op| rest.starts_with(*op)) else {
            continue;
        };
        let rest = rest[operation.len()..].trim_start();
        let Some(rest) = rest.strip_prefix('(') else {
            continue;
        };
        let rest = rest.trim_start();
        let Some(quote) = rest
            .chars()
            .next()
            .filter(|c| matches!(c, '\'' | '"' | '`'))
        else {
            continue;
        };
        let rest = &rest[1..];
        let Some(end) = rest.find(quote) else {
            continue;
        };
        let name = &rest[..end];
        if !name.contains("${") && !name.is_empty() && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

/// Whether an adaptor spec names the collections adaptor (any version or spelling).
pub fn is_collections_adaptor(adaptor: &str) -> bool {
    // Asked for every job of every run: most adaptors are ruled out without parsing.
    if !adaptor.contains("collections") {
        return false;
    }
    match AdaptorSpec::parse(adaptor) {
        Ok(spec) => spec.name == ADAPTOR_NAME,
        Err(_) => adaptor.trim().starts_with(ADAPTOR_NAME),
    }
}

/// The adaptors a job's step loads, in order: its own, then the collections adaptor when
/// its code uses `collections.` and it doesn't name that adaptor already.
///
/// This is where the engine's multi-adaptor steps meet collections: `plan::build` passes
/// this list to the step (`PlanStep::adaptor` holds only the first until steps take a list).
pub fn adaptors_for_job(adaptor: &str, body: &str) -> Vec<String> {
    let mut adaptors = vec![adaptor.to_string()];
    if mentions_collections(body) && !is_collections_adaptor(adaptor) {
        adaptors.push(format!("{ADAPTOR_NAME}@{ADAPTOR_VERSION}"));
    }
    adaptors
}

/// Whether a step with these adaptors and code talks to collections (and so gets the
/// endpoint and token in its configuration).
pub fn step_uses_collections(adaptor: &str, body: &str) -> bool {
    mentions_collections(body) || is_collections_adaptor(adaptor)
}

/// What a run's collections steps get in `state.configuration`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunAccess {
    /// `http://<boltd's address>/collections`; `None` when boltd serves no HTTP.
    pub endpoint: Option<String>,
    pub token: String,
}

impl RunAccess {
    /// The step's configuration with the collections fields added; the job's credential
    /// keeps any it sets itself.
    pub fn configure(&self, configuration: Option<Value>) -> Value {
        let mut map = match configuration {
            Some(Value::Object(map)) => map,
            // A credential that isn't an object stays what it was: nothing to merge into.
            Some(other) => return other,
            None => Map::new(),
        };
        if let Some(endpoint) = &self.endpoint {
            map.entry("collections_endpoint")
                .or_insert_with(|| Value::String(endpoint.clone()));
        }
        map.entry("collections_token")
            .or_insert_with(|| Value::String(self.token.clone()));
        Value::Object(map)
    }
}

/// The endpoint runs use: boltd's bound address (a wildcard address becomes loopback, as
/// runs execute inside boltd).
pub fn endpoint_for(bound: Option<&str>) -> Option<String> {
    let bound = bound?;
    let address = match bound.parse::<std::net::SocketAddr>() {
        Ok(addr) if addr.ip().is_unspecified() => {
            let loopback = if addr.is_ipv4() {
                std::net::IpAddr::from([127, 0, 0, 1])
            } else {
                std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
            };
            std::net::SocketAddr::new(loopback, addr.port()).to_string()
        }
        _ => bound.to_string(),
    };
    Some(format!("http://{address}/collections"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_adaptor_is_added_when_code_uses_collections() {
        assert_eq!(
            adaptors_for_job("@openfn/language-common@3.3.4", "collections.get('x', 'k')"),
            [
                "@openfn/language-common@3.3.4",
                "@openfn/language-collections@0.8.0"
            ]
        );
        assert_eq!(
            adaptors_for_job("@openfn/language-common@latest", "fn(s => s)"),
            ["@openfn/language-common@latest"]
        );
        // Named already (any spelling): not added twice.
        assert_eq!(
            adaptors_for_job("@openfn/language-collections@0.6.2", "collections.get('x')"),
            ["@openfn/language-collections@0.6.2"]
        );
        assert_eq!(
            adaptors_for_job("collections", "collections.get('x')"),
            ["collections"]
        );
        assert!(step_uses_collections("collections@0.8.0", "fn(s => s)"));
        assert!(!step_uses_collections("common", "get('recollections')"));
    }

    #[test]
    fn literal_collection_names_are_found() {
        let body = "collections.get('stock-ledger', {key: '2025-05:*'});\n\
                    collections.set( \"stock-summary\", k => k, $.x);\n\
                    each($.called, collections.remove(`triage-queue`, $.data.key));\n\
                    collections.get(`${$.prefix}-x`, 'k'); collections.each(name, {});\n\
                    collections.get('stock-ledger', 'again');";
        assert_eq!(
            names_used(body),
            ["stock-ledger", "stock-summary", "triage-queue"]
        );
        assert!(names_used("fn(s => s)").is_empty());
    }

    #[test]
    fn configuration_keeps_what_the_credential_sets() {
        let access = RunAccess {
            endpoint: Some("http://127.0.0.1:4000/collections".into()),
            token: "t".into(),
        };
        assert_eq!(
            access.configure(None),
            json!({"collections_endpoint": "http://127.0.0.1:4000/collections", "collections_token": "t"})
        );
        assert_eq!(
            access.configure(Some(json!({"username": "u", "collections_token": "mine"}))),
            json!({"username": "u", "collections_token": "mine", "collections_endpoint": "http://127.0.0.1:4000/collections"})
        );
    }

    #[test]
    fn wildcard_addresses_become_loopback() {
        assert_eq!(
            endpoint_for(Some("0.0.0.0:4000")).as_deref(),
            Some("http://127.0.0.1:4000/collections")
        );
        assert_eq!(
            endpoint_for(Some("[::]:80")).as_deref(),
            Some("http://[::1]:80/collections")
        );
        assert_eq!(
            endpoint_for(Some("127.0.0.1:4555")).as_deref(),
            Some("http://127.0.0.1:4555/collections")
        );
        assert_eq!(endpoint_for(None), None);
    }
}
