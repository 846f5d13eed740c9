//! The built-in adaptors (language-common, language-http) and their Rust host functions.
//!
//! Each adaptor is an ES module written for bolt (`js/*.js`), embedded in the binary, that
//! reproduces the behaviour of the npm package version it names. What is impractical in
//! plain JavaScript lives in Rust ([`host`]) and is reached through `globalThis.__bolt_host`,
//! which the runtime must install in every context before evaluating an adaptor module:
//!
//! ```text
//! __bolt_host.jsonpath(path: string, jsonText: string) -> string           (sync)
//!     = host::jsonpath_locate. Returns a JSON array of locations, each an array of keys
//!       (strings) / indices (numbers). Throws (any Error) with the message on failure.
//! __bolt_host.parseCsv(text: string, optionsJson: string) -> string        (sync)
//!     = host::parse_csv. Returns a JSON array of records. Throws on failure with the
//!       message "CODE: text" (the JS splits off the csv-parse error code).
//! __bolt_host.http(requestJson: string) -> Promise<string>                 (async)
//!     = host::http_request. Resolves with the response/network-error JSON; rejects
//!       (with the message string) only when the request JSON is malformed.
//! __bolt_host.print(level: string, line: string) -> undefined              (sync, optional)
//!     A raw line printed by adaptor code (OpenFn adaptors print through the host's
//!     console, not the job logger: `log()`, `debug()`, `cursor()`, http request summaries).
//!     level is "log" | "info" | "warn" | "error" | "debug"; the line is already formatted
//!     like Node's console. If absent, the modules fall back to `console[level](line)`.
//! ```
//!
//! Errors the modules throw that OpenFn reports as `AdaptorError` (http status errors,
//! `assert`, URL errors, timeouts) are created inside the adaptor module, so the first stack
//! frame of such an error lies in the module named by [`AdaptorModule::specifier`]; that is
//! how OpenFn's runtime tells an adaptor error from a job error. Apart from `__bolt_host`
//! the modules need only ES built-ins (`console` just as the fallback for `print`); byte
//! arrays (a `Buffer` subclass of `Uint8Array` included) are sent as binary request bodies.
//! `@openfn/language-http` imports
//! `@openfn/language-common`, so the loader must resolve that specifier to the common module
//! (the same instance the job imports: module state such as `cursor`'s key is shared).
//! Module state (cursor key and start time, validate's schema cache) lives for as long as
//! the module instance: load the modules afresh for every run, as OpenFn's CLI does.
//!
//! `util.__bolt` (non-enumerable, on common's `util` export) holds `inspect(value)` and
//! `formatArgs(args)`: Node's `util.inspect`/`util.format` output, for any host code that
//! needs console lines formatted the Node way.
//!
//! Known differences from the npm packages: `parseCsv` takes a string only (no streams) and
//! single-character delimiter/quote/escape; `parseXML` throws (no cheerio); `_` holds the
//! lodash functions real jobs use (plus `_(x)`/`_.chain(x)` chains over them) and throws
//! `lodash function _.x is not available in bolt` for the rest; `dateFns` has `format` and
//! `parse`, in UTC; `validate` implements JSON Schema's core keywords with AJV's messages and
//! strict mode (a `format` fails to compile, as in OpenFn, which has no ajv-formats);
//! `parseAs: 'stream'` gives text; of the TLS options, `rejectUnauthorized`, `ca`, `cert` and
//! `key` (PEM) are used; `util.uuid()` uses `Math.random`.

pub mod host;
#[cfg(test)]
mod quickjs_tests;

use thiserror::Error;

/// One built-in adaptor module.
#[derive(Debug)]
pub struct AdaptorModule {
    /// The import specifier jobs use, e.g. `"@openfn/language-common"`.
    pub specifier: &'static str,
    /// The short name used with `-a`, e.g. `"common"`.
    pub short_name: &'static str,
    /// The npm version whose behaviour this module reproduces.
    pub version: &'static str,
    /// The ES module source.
    pub source: &'static str,
    /// Every name the module exports (incl. `default`), for the compiler's auto-imports.
    pub exports: &'static [&'static str],
}

/// An adaptor name bolt does not have.
#[derive(Debug, Error)]
#[error("unknown adaptor {requested:?}: bolt has {available}")]
pub struct UnknownAdaptor {
    pub requested: String,
    pub available: String,
}

const COMMON_EXPORTS: &[&str] = &[
    "_",
    "alterState",
    "arrayToString",
    "as",
    "asData",
    "assert",
    "beta",
    "chunk",
    "combine",
    "composeNextState",
    "cursor",
    "dataPath",
    "dataValue",
    "dateFns",
    "debug",
    "default",
    "each",
    "execute",
    "field",
    "fields",
    "fn",
    "fnIf",
    "group",
    "http",
    "humanProper",
    "index",
    "join",
    "jsonValue",
    "lastReferenceValue",
    "log",
    "map",
    "merge",
    "parseCsv",
    "referencePath",
    "scrubEmojis",
    "source",
    "sourceValue",
    "splitKeys",
    "toArray",
    "util",
    "validate",
];

const HTTP_EXPORTS: &[&str] = &[
    "alterState",
    "arrayToString",
    "as",
    "chunk",
    "combine",
    "cursor",
    "dataPath",
    "dataValue",
    "dateFns",
    "default",
    "del",
    "each",
    "execute",
    "field",
    "fields",
    "fn",
    "fnIf",
    "get",
    "group",
    "humanProper",
    "lastReferenceValue",
    "map",
    "merge",
    "parseCsv",
    "parseXML",
    "patch",
    "post",
    "put",
    "request",
    "scrubEmojis",
    "sourceValue",
    "splitKeys",
    "toArray",
    "util",
];

static ADAPTORS: [AdaptorModule; 2] = [
    AdaptorModule {
        specifier: "@openfn/language-common",
        short_name: "common",
        version: "3.3.4",
        source: include_str!("js/common.js"),
        exports: COMMON_EXPORTS,
    },
    AdaptorModule {
        specifier: "@openfn/language-http",
        short_name: "http",
        version: "7.2.10",
        source: include_str!("js/http.js"),
        exports: HTTP_EXPORTS,
    },
];

/// Every built-in adaptor.
pub fn all() -> &'static [AdaptorModule] {
    &ADAPTORS
}

/// Finds an adaptor by `common`, `http`, `common@3.3.4`, `@openfn/language-http@7.2.10`,
/// `@openfn/language-common@latest`, `language-http`… The version part is accepted whatever
/// it is: bolt has one version of each adaptor and runs it for every requested version.
pub fn resolve(spec: &str) -> Result<&'static AdaptorModule, UnknownAdaptor> {
    let name = strip_version(spec.trim());
    let short = name
        .strip_prefix("@openfn/")
        .unwrap_or(name)
        .trim_start_matches("language-");
    all()
        .iter()
        .find(|adaptor| adaptor.short_name == short)
        .ok_or_else(|| UnknownAdaptor {
            requested: spec.to_string(),
            available: all()
                .iter()
                .map(|a| format!("{} ({}@{})", a.short_name, a.specifier, a.version))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// `@openfn/language-http@7.2.10` → `@openfn/language-http`; the scope's `@` is kept.
fn strip_version(spec: &str) -> &str {
    match spec.get(1..).and_then(|rest| rest.find('@')) {
        Some(at) => &spec[..at + 1],
        None => spec,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn resolves_every_spelling() {
        for spec in [
            "common",
            "common@3.3.4",
            "@openfn/language-common",
            "@openfn/language-common@latest",
            "language-common",
        ] {
            assert_eq!(resolve(spec).unwrap().short_name, "common", "{spec}");
        }
        for spec in ["http", "http@7.2.10", "@openfn/language-http@7.2.10"] {
            assert_eq!(resolve(spec).unwrap().specifier, "@openfn/language-http");
        }
    }

    #[test]
    fn unknown_adaptor_lists_what_bolt_has() {
        let error = resolve("@openfn/language-salesforce@4").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("salesforce"), "{message}");
        assert!(
            message.contains("@openfn/language-common@3.3.4"),
            "{message}"
        );
        assert!(
            message.contains("@openfn/language-http@7.2.10"),
            "{message}"
        );
    }

    /// The names a module source exports, read from its `export` statements.
    fn exported_names(source: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut rest = source;
        while let Some(at) = rest.find("export ") {
            rest = &rest[at + "export ".len()..];
            if let Some(clause) = rest.strip_prefix('{') {
                let end = clause.find('}').unwrap();
                for item in clause[..end].split(',') {
                    let item = item.trim();
                    if !item.is_empty() {
                        names.push(item.rsplit(' ').next().unwrap().to_string());
                    }
                }
            } else if rest.starts_with("default") {
                names.push("default".to_string());
            } else {
                let declaration = rest
                    .trim_start_matches("async ")
                    .trim_start_matches("function ")
                    .trim_start_matches("const ");
                let name: String = declaration
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
                    .collect();
                names.push(name);
            }
        }
        names.sort();
        names
    }

    #[test]
    fn export_lists_match_the_module_sources() {
        for adaptor in all() {
            let mut declared: Vec<String> = adaptor.exports.iter().map(|s| s.to_string()).collect();
            declared.sort();
            assert_eq!(
                exported_names(adaptor.source),
                declared,
                "{}",
                adaptor.short_name
            );
        }
    }
}
