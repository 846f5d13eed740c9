//! The built-in adaptors (language-common, language-http) and their Rust host functions,
//! and what the engine knows of npm adaptors: how users name them ([`spec`]), where they
//! are installed ([`installed`]), which code runs for a step ([`choice`]: built-in,
//! installed or local) and their export names ([`package_exports`]). Loading an npm
//! package's code is `crate::packages`' and the runtime's business.
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
//!
//! language-common is split into sub-modules ([`sub_modules`], `js/common/*.js`, all named
//! `@openfn/language-common/…` so their errors count as adaptor errors): `core` (`fn`,
//! `execute`… with no imports), `data`, `log`, `cursor`, `dates`, `csv`, `validate`, `util`,
//! `lodash`, and internal helpers only adaptor modules may import. `@openfn/language-common`
//! itself only re-exports them. Compiled jobs import each name from the module that has it
//! ([`AdaptorModule::module_of`]), so a step loads only the code its job uses; so does
//! `@openfn/language-http`. The loader must give every importer the same instance of a
//! module in a context: module state such as `cursor`'s key is shared.
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

pub mod choice;
pub mod host;
pub mod installed;
pub mod package_exports;
#[cfg(test)]
mod quickjs_tests;
pub mod spec;

use thiserror::Error;

/// One built-in adaptor, as jobs name it (`@openfn/language-common`).
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
    /// The exports this module defines itself (the rest it re-exports from `parts`).
    pub defines: &'static [&'static str],
    /// The sub-modules whose exports it re-exports, which jobs may import directly.
    pub parts: &'static [&'static str],
}

/// A module an adaptor is built from (language-common is split into several, so that a step
/// loads only the code its job uses).
#[derive(Debug)]
pub struct SubModule {
    /// `@openfn/language-common/...`: errors thrown in it count as adaptor errors.
    pub specifier: &'static str,
    pub source: &'static str,
    /// Every name it exports.
    pub exports: &'static [&'static str],
    /// Internal modules hold shared helpers; only adaptor modules may import them.
    pub internal: bool,
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

/// The names language-http defines itself; the rest are language-common's.
const HTTP_DEFINES: &[&str] = &[
    "default", "del", "execute", "get", "parseXML", "patch", "post", "put", "request", "util",
];

const COMMON_CORE: &str = "@openfn/language-common/core";

/// language-common's public sub-modules, in the order the export routing looks them up.
const COMMON_PARTS: &[&str] = &[
    COMMON_CORE,
    "@openfn/language-common/data",
    "@openfn/language-common/log",
    "@openfn/language-common/cursor",
    "@openfn/language-common/dates",
    "@openfn/language-common/csv",
    "@openfn/language-common/validate",
    "@openfn/language-common/util",
    "@openfn/language-common/lodash",
];

static SUB_MODULES: [SubModule; 15] = [
    SubModule {
        specifier: COMMON_CORE,
        source: include_str!("js/common/core.js"),
        exports: &[
            "alterState",
            "arrayToString",
            "chunk",
            "combine",
            "composeNextState",
            "dataPath",
            "execute",
            "field",
            "fields",
            "fn",
            "humanProper",
            "index",
            "referencePath",
            "splitKeys",
            "toArray",
        ],
        internal: false,
    },
    SubModule {
        specifier: "@openfn/language-common/data",
        source: include_str!("js/common/data.js"),
        exports: &[
            "as",
            "asData",
            "assert",
            "beta",
            "dataValue",
            "each",
            "fnIf",
            "group",
            "join",
            "jsonValue",
            "lastReferenceValue",
            "map",
            "merge",
            "scrubEmojis",
            "source",
            "sourceValue",
        ],
        internal: false,
    },
    SubModule {
        specifier: "@openfn/language-common/log",
        source: include_str!("js/common/log.js"),
        exports: &["debug", "log"],
        internal: false,
    },
    SubModule {
        specifier: "@openfn/language-common/cursor",
        source: include_str!("js/common/cursor.js"),
        exports: &["cursor"],
        internal: false,
    },
    SubModule {
        specifier: "@openfn/language-common/dates",
        source: include_str!("js/common/dates.js"),
        exports: &["dateFns"],
        internal: false,
    },
    SubModule {
        specifier: "@openfn/language-common/csv",
        source: include_str!("js/common/csv.js"),
        exports: &["parseCsv"],
        internal: false,
    },
    SubModule {
        specifier: "@openfn/language-common/validate",
        source: include_str!("js/common/validate.js"),
        exports: &["validate"],
        internal: false,
    },
    SubModule {
        specifier: "@openfn/language-common/util",
        source: include_str!("js/common/util.js"),
        exports: &["http", "util"],
        internal: false,
    },
    SubModule {
        specifier: "@openfn/language-common/lodash",
        source: include_str!("js/common/lodash.js"),
        exports: &["_"],
        internal: false,
    },
    SubModule {
        specifier: "@openfn/language-common/internal/helpers",
        source: include_str!("js/common/helpers.js"),
        exports: &[
            "collectionValues",
            "expandReferences",
            "get",
            "host",
            "isBinary",
            "isDate",
            "isError",
            "isMap",
            "isPlainObject",
            "isRegExp",
            "isSet",
            "parseDate",
            "printLine",
            "queryJson",
            "set",
            "tagOf",
            "toPath",
        ],
        internal: true,
    },
    SubModule {
        specifier: "@openfn/language-common/internal/inspect",
        source: include_str!("js/common/inspect.js"),
        exports: &["customInspectSymbol", "formatArgs", "inspect", "print"],
        internal: true,
    },
    SubModule {
        specifier: "@openfn/language-common/internal/bytes",
        source: include_str!("js/common/bytes.js"),
        exports: &["base64ToBytes", "bytesToBase64", "utf8Decode", "utf8Encode"],
        internal: true,
    },
    SubModule {
        specifier: "@openfn/language-common/internal/request",
        source: include_str!("js/common/request.js"),
        exports: &[
            "ERROR_ABSOLUTE_URL",
            "ERROR_URL_MISMATCH",
            "assertRelativeUrl",
            "decode",
            "encode",
            "encodeFormBody",
            "logResponse",
            "makeBasicAuthHeader",
            "parseUrl",
            "request",
            "throwError",
            "uuid",
        ],
        internal: true,
    },
    // What npm adaptors importing language-common's `util` and `metadata` subpaths get when
    // they run on the built-in common.
    SubModule {
        specifier: "@openfn/language-common/public/util",
        source: include_str!("js/common/public_util.js"),
        exports: &[
            "ERROR_ABSOLUTE_URL",
            "ERROR_URL_MISMATCH",
            "assertRelativeUrl",
            "decode",
            "del",
            "enableMockClient",
            "encode",
            "encodeFormBody",
            "expandReferences",
            "generateAgentKey",
            "get",
            "logResponse",
            "makeBasicAuthHeader",
            "normalizeOauthConfig",
            "parseDate",
            "parseUrl",
            "post",
            "put",
            "request",
            "throwError",
            "uuid",
        ],
        internal: true,
    },
    SubModule {
        specifier: "@openfn/language-common/public/metadata",
        source: include_str!("js/common/public_metadata.js"),
        exports: &["createEntity"],
        internal: true,
    },
];

static ADAPTORS: [AdaptorModule; 2] = [
    AdaptorModule {
        specifier: "@openfn/language-common",
        short_name: "common",
        version: "3.3.4",
        source: include_str!("js/common.js"),
        exports: COMMON_EXPORTS,
        defines: &["default"],
        parts: COMMON_PARTS,
    },
    AdaptorModule {
        specifier: "@openfn/language-http",
        short_name: "http",
        version: "7.2.10",
        source: include_str!("js/http.js"),
        exports: HTTP_EXPORTS,
        defines: HTTP_DEFINES,
        parts: COMMON_PARTS,
    },
];

/// Every built-in adaptor.
pub fn all() -> &'static [AdaptorModule] {
    &ADAPTORS
}

/// Every sub-module the built-in adaptors are made of.
pub fn sub_modules() -> &'static [SubModule] {
    &SUB_MODULES
}

/// The source of any built-in adaptor module (an adaptor or a sub-module), and whether job
/// code may import it (internal sub-modules are for adaptor modules only).
pub fn module_source(specifier: &str) -> Option<(&'static str, bool)> {
    if let Some(adaptor) = all().iter().find(|a| a.specifier == specifier) {
        return Some((adaptor.source, true));
    }
    sub_modules()
        .iter()
        .find(|m| m.specifier == specifier)
        .map(|m| (m.source, !m.internal))
}

impl AdaptorModule {
    /// The module a job should import `name` from: the adaptor itself for what it defines,
    /// otherwise the sub-module that exports it. `None` when the adaptor doesn't export it.
    pub fn module_of(&self, name: &str) -> Option<&'static str> {
        if !self.exports.contains(&name) {
            return None;
        }
        if self.defines.contains(&name) {
            return Some(self.specifier);
        }
        let part = self.parts.iter().find(|part| {
            sub_modules()
                .iter()
                .any(|m| m.specifier == **part && m.exports.contains(&name))
        });
        Some(part.copied().unwrap_or(self.specifier))
    }
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

    #[test]
    fn routes_each_export_to_the_module_that_defines_it() {
        let common = resolve("common").unwrap();
        assert_eq!(common.module_of("fn"), Some("@openfn/language-common/core"));
        assert_eq!(
            common.module_of("execute"),
            Some("@openfn/language-common/core")
        );
        assert_eq!(
            common.module_of("_"),
            Some("@openfn/language-common/lodash")
        );
        assert_eq!(common.module_of("log"), Some("@openfn/language-common/log"));
        assert_eq!(
            common.module_of("util"),
            Some("@openfn/language-common/util")
        );
        assert_eq!(common.module_of("nope"), None);
        let http = resolve("http").unwrap();
        assert_eq!(http.module_of("execute"), Some("@openfn/language-http"));
        assert_eq!(http.module_of("util"), Some("@openfn/language-http"));
        assert_eq!(http.module_of("get"), Some("@openfn/language-http"));
        assert_eq!(http.module_of("each"), Some("@openfn/language-common/data"));
        assert_eq!(http.module_of("fn"), Some("@openfn/language-common/core"));
        assert_eq!(
            http.module_of("parseCsv"),
            Some("@openfn/language-common/csv")
        );
        // language-common's `_` is not re-exported by language-http.
        assert_eq!(http.module_of("_"), None);
    }

    #[test]
    fn every_export_of_an_adaptor_has_a_module() {
        for adaptor in all() {
            for name in adaptor.exports {
                let module = adaptor.module_of(name).unwrap();
                if *name != "default" && !adaptor.defines.contains(name) {
                    assert_ne!(module, adaptor.specifier, "{}: {name}", adaptor.short_name);
                }
            }
        }
        // Every public sub-module export is one of language-common's exports.
        let common = resolve("common").unwrap();
        for module in sub_modules().iter().filter(|m| !m.internal) {
            for name in module.exports {
                assert_eq!(common.module_of(name), Some(module.specifier), "{name}");
            }
        }
    }

    #[test]
    fn sub_modules_are_named_as_adaptor_code() {
        // The runtime tells adaptor errors by the first stack frame's file.
        for module in sub_modules() {
            assert!(module.specifier.starts_with("@openfn/language-common/"));
        }
        assert_eq!(
            module_source("@openfn/language-common/core").map(|m| m.1),
            Some(true)
        );
        assert_eq!(
            module_source("@openfn/language-common/internal/helpers").map(|m| m.1),
            Some(false)
        );
        assert_eq!(
            module_source("@openfn/language-http").map(|m| m.1),
            Some(true)
        );
        assert!(module_source("@openfn/language-common/nope").is_none());
    }

    /// Every name a module's code uses but doesn't declare or import: with no export list,
    /// the compiler imports exactly those (minus well-known globals) from the "adaptor".
    fn undeclared_names(source: &str) -> Vec<String> {
        use crate::compiler::{CompileOptions, compile};
        let options = CompileOptions {
            adaptor: Some("undeclared".into()),
            ..CompileOptions::default()
        };
        let compiled = compile(source, &options).unwrap();
        match compiled.code.strip_prefix("import { ") {
            Some(rest) if rest.contains("} from \"undeclared\";") => rest
                [..rest.find(" }").unwrap()]
                .split(", ")
                .map(String::from)
                .collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn modules_use_no_undeclared_names() {
        // Built-ins the compiler's list of globals doesn't have, and class method names
        // (OpenFn's add-imports, which the compiler mirrors, counts those as uses).
        const BUILT_INS: &[&str] = &["Uint8Array", "append", "constructor", "contentType"];
        let sources = all()
            .iter()
            .map(|a| (a.specifier, a.source, a.exports))
            .chain(
                sub_modules()
                    .iter()
                    .map(|m| (m.specifier, m.source, m.exports)),
            );
        for (specifier, source, exports) in sources {
            // The compiler counts an export alias (`export { lodash as _ }`) as a use.
            let unknown: Vec<String> = undeclared_names(source)
                .into_iter()
                .filter(|name| !BUILT_INS.contains(&name.as_str()))
                .filter(|name| !exports.contains(&name.as_str()))
                .collect();
            assert!(unknown.is_empty(), "{specifier} uses {unknown:?}");
        }
    }
}
