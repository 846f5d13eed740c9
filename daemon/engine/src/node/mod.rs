//! Node's built-in modules and web globals, as npm adaptors and their dependencies expect
//! them, implemented over bolt's host (QuickJS + Rust). The sandbox does not widen: these
//! modules reach no process, environment, file system or network beyond the HTTP host
//! functions jobs already have.
//!
//! # Contract for the module loader
//!
//! **Bundle names.** Every module here is JavaScript in `js/`, precompiled by `build.rs`
//! into the same bundle as the prelude, under a name the loader loads verbatim:
//! `node:<name>` for a built-in (`node:events`, `node:stream/promises`), `bolt:undici` for
//! a replaced npm package, `bolt:node/globals` for the module globals (below), and
//! `bolt:node/…` for internals. A module whose name starts with `node:` or `bolt:` imports
//! only bundle modules, each by its exact bundle name (incl. language-common's
//! `@openfn/language-common/internal/inspect`): the resolver must accept any bundle name
//! imported from such a base ([`bundle_may_import`]).
//!
//! **Specifiers.** [`builtin`] says what a bare specifier an npm module imports is
//! (`events`, `node:events`, `fs/promises`): `Provided(bundle name)`, `Unsupported { why }`
//! (the load fails: "`<adaptor>` needs Node's `<name>`, which `<why>`"), or `None` (not a
//! built-in: resolve it in `node_modules`). [`replacement`] names npm packages bolt serves
//! itself instead of the installed copy (`undici` → `bolt:undici`), including their deep
//! imports (`undici/lib/...` is refused, since bolt's copy has no files). [`refused_package`]
//! names npm packages that exist to open raw sockets (`pg`, `tedious`, `ssh2`…): an adaptor
//! depending on one cannot work in bolt, so deploy and load say so up front.
//!
//! **ESM and CommonJS.** Each built-in's *default export* is exactly what Node's
//! `require(name)` returns (`module.exports`): `require('events')` is the `EventEmitter`
//! class, carrying `.EventEmitter`, `.once`…; `require('stream')` is the legacy `Stream`
//! class carrying `.Readable`…; `require('undici')` the undici namespace object. Its *named
//! exports* are the enumerable own properties of that object, as Node's ESM facade of a
//! built-in has them (`import { once } from 'events'`, `import events from 'node:events'`).
//! So a CommonJS `require(builtin)` returns the namespace's `default`.
//!
//! **Module globals.** Node gives module code globals that OpenFn's job sandbox does not
//! have (`process`, `URL`, `fetch`, `TextEncoder`, `setImmediate`…, see
//! `openfn-semantics.md`), and adaptor code shares the job's QuickJS context, so these are
//! never put on `globalThis`: job code must observe what it observes under OpenFn. Instead,
//! every name in [`MODULE_GLOBALS`] is an export of `bolt:node/globals`, and the loader
//! binds each name an npm module reads as a free variable to that export — ESM: prepend
//! `import { fetch, URL } from 'bolt:node/globals';` for the names it uses and does not
//! declare; CommonJS: make them parameters of an outer function around the module wrapper
//! (`(function (fetch, URL, …) { return function (exports, require, module, __filename,
//! __dirname) { … } })`, so a module's own `let URL` still shadows them). `globalThis`
//! and `global` are in the list: they give an object whose prototype is the real global
//! object and which carries the module globals, so `globalThis.fetch` and
//! `global.Buffer` work in npm code and what npm code assigns on it stays away from jobs.
//! `console` there is Node's console writing raw adaptor lines (`__bolt_host.print`),
//! as the host-realm console does for adaptor code under OpenFn.
//!
//! **Host.** The modules reach Rust only through `__bolt_host.node()` (installed by
//! [`host::install`] next to the adaptors' host functions), which builds the Node host
//! functions on first call: contexts whose steps use no npm adaptor pay one function.

pub mod host;

/// What bolt does with a Node built-in module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// Provided: load the bundle module of this name.
    Provided(&'static str),
    /// Not available in bolt's sandbox; `why` completes "needs Node's `x`, which …".
    Unsupported { why: &'static str },
}

/// The Node built-ins bolt provides, by the name adaptors import, and their bundle module.
///
/// `net`, `tls`, `http2`, `dns`, `fs` and `vm` load (axios, form-data, https-proxy-agent and
/// jsonpath-plus import them at the top of their files and only use them on paths adaptors
/// don't take),
/// but every function in them throws an error naming what bolt's sandbox does not allow.
const PROVIDED: &[(&str, &str)] = &[
    ("assert", "node:assert"),
    ("assert/strict", "node:assert/strict"),
    ("async_hooks", "node:async_hooks"),
    ("buffer", "node:buffer"),
    ("console", "node:console"),
    ("constants", "node:constants"),
    ("crypto", "node:crypto"),
    ("diagnostics_channel", "node:diagnostics_channel"),
    ("dns", "node:dns"),
    ("dns/promises", "node:dns/promises"),
    ("events", "node:events"),
    ("fs", "node:fs"),
    ("fs/promises", "node:fs/promises"),
    ("http", "node:http"),
    ("http2", "node:http2"),
    ("https", "node:https"),
    ("net", "node:net"),
    ("os", "node:os"),
    ("path", "node:path"),
    ("path/posix", "node:path"),
    ("perf_hooks", "node:perf_hooks"),
    ("process", "node:process"),
    ("punycode", "node:punycode"),
    ("querystring", "node:querystring"),
    ("stream", "node:stream"),
    ("stream/promises", "node:stream/promises"),
    ("stream/web", "node:stream/web"),
    ("string_decoder", "node:string_decoder"),
    ("sys", "node:util"),
    ("timers", "node:timers"),
    ("timers/promises", "node:timers/promises"),
    ("tls", "node:tls"),
    ("tty", "node:tty"),
    ("url", "node:url"),
    ("util", "node:util"),
    ("util/types", "node:util/types"),
    ("vm", "node:vm"),
    ("zlib", "node:zlib"),
];

/// Built-ins bolt refuses, and why (shown at deploy and at load).
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "dgram",
        "opens UDP sockets, which bolt's sandbox does not allow",
    ),
    (
        "child_process",
        "starts processes, which bolt's sandbox does not allow",
    ),
    (
        "cluster",
        "starts processes, which bolt's sandbox does not allow",
    ),
    (
        "worker_threads",
        "starts threads, which bolt's sandbox does not allow",
    ),
    ("inspector", "is a debugger interface bolt does not have"),
    ("v8", "is V8-specific; bolt runs QuickJS"),
    (
        "module",
        "loads modules from the file system, which bolt's sandbox does not allow",
    ),
    ("repl", "is an interactive shell bolt does not have"),
    (
        "readline",
        "reads from a terminal, which bolt's sandbox does not have",
    ),
    (
        "wasi",
        "runs WebAssembly system interfaces bolt does not have",
    ),
    (
        "sqlite",
        "opens database files, which bolt's sandbox does not allow",
    ),
    ("trace_events", "is a tracing interface bolt does not have"),
];

/// npm packages bolt serves itself, by package name, and the bundle module that replaces them.
const REPLACEMENTS: &[(&str, &str)] = &[("undici", "bolt:undici")];

/// npm packages whose purpose is a raw socket (a database or file-transfer protocol), and
/// why they can't work: their adaptors are refused at deploy and at load.
const REFUSED_PACKAGES: &[(&str, &str)] = &[
    (
        "pg",
        "talks to PostgreSQL over raw TCP sockets, which bolt's sandbox does not allow",
    ),
    (
        "pg-native",
        "talks to PostgreSQL through a native library, which bolt's sandbox does not allow",
    ),
    (
        "tedious",
        "talks to SQL Server over raw TCP sockets, which bolt's sandbox does not allow",
    ),
    (
        "mssql",
        "talks to SQL Server over raw TCP sockets, which bolt's sandbox does not allow",
    ),
    (
        "mysql",
        "talks to MySQL over raw TCP sockets, which bolt's sandbox does not allow",
    ),
    (
        "mysql2",
        "talks to MySQL over raw TCP sockets, which bolt's sandbox does not allow",
    ),
    (
        "mongodb",
        "talks to MongoDB over raw TCP sockets, which bolt's sandbox does not allow",
    ),
    (
        "oracledb",
        "talks to Oracle through a native library, which bolt's sandbox does not allow",
    ),
    (
        "ssh2",
        "opens SSH connections over raw TCP sockets, which bolt's sandbox does not allow",
    ),
    (
        "ssh2-sftp-client",
        "opens SFTP connections over raw TCP sockets, which bolt's sandbox does not allow",
    ),
    (
        "ftp",
        "opens FTP connections over raw TCP sockets, which bolt's sandbox does not allow",
    ),
    (
        "basic-ftp",
        "opens FTP connections over raw TCP sockets, which bolt's sandbox does not allow",
    ),
    (
        "ioredis",
        "talks to Redis over raw TCP sockets, which bolt's sandbox does not allow",
    ),
    (
        "redis",
        "talks to Redis over raw TCP sockets, which bolt's sandbox does not allow",
    ),
    (
        "amqplib",
        "talks to AMQP brokers over raw TCP sockets, which bolt's sandbox does not allow",
    ),
    (
        "kafkajs",
        "talks to Kafka over raw TCP sockets, which bolt's sandbox does not allow",
    ),
    (
        "nodemailer",
        "sends mail over raw SMTP sockets, which bolt's sandbox does not allow",
    ),
];

/// Names an npm module reads as globals that `bolt:node/globals` exports (see the module
/// docs): Node's globals beyond the ECMAScript intrinsics, which OpenFn's job sandbox lacks
/// or has in another form (its `console` is the job logger, its `Buffer` can't be called).
pub const MODULE_GLOBALS: &[&str] = &[
    "AbortController",
    "AbortSignal",
    "Blob",
    "Buffer",
    "ByteLengthQueuingStrategy",
    "CompressionStream",
    "CountQueuingStrategy",
    "DecompressionStream",
    "Event",
    "EventTarget",
    "File",
    "FormData",
    "Headers",
    "ReadableStream",
    "Request",
    "Response",
    "TextDecoder",
    "TextDecoderStream",
    "TextEncoder",
    "TextEncoderStream",
    "TransformStream",
    "URL",
    "URLSearchParams",
    "WritableStream",
    "atob",
    "btoa",
    "clearImmediate",
    "clearInterval",
    "clearTimeout",
    "console",
    "crypto",
    "fetch",
    "global",
    "globalThis",
    "performance",
    "process",
    "queueMicrotask",
    "setImmediate",
    "setInterval",
    "setTimeout",
    "structuredClone",
];

/// The bundle module exporting [`MODULE_GLOBALS`].
pub const GLOBALS_MODULE: &str = "bolt:node/globals";

/// Where the loader imports each module global from: the smallest bundle module exporting
/// it, and the export's name there. A module that reads only `URL` then loads only bolt's
/// URL, not fetch, streams and crypto with it ([`GLOBALS_MODULE`] imports them all).
const GLOBAL_SOURCES: &[(&str, &str, &str)] = &[
    (
        "AbortController",
        "bolt:node/internal/event_target",
        "AbortController",
    ),
    (
        "AbortSignal",
        "bolt:node/internal/event_target",
        "AbortSignal",
    ),
    ("Event", "bolt:node/internal/event_target", "Event"),
    (
        "EventTarget",
        "bolt:node/internal/event_target",
        "EventTarget",
    ),
    ("Blob", "bolt:node/internal/blob", "Blob"),
    ("File", "bolt:node/internal/blob", "File"),
    ("Buffer", "node:buffer", "Buffer"),
    ("atob", "node:buffer", "atob"),
    ("btoa", "node:buffer", "btoa"),
    ("TextEncoder", "bolt:node/internal/encoding", "TextEncoder"),
    ("TextDecoder", "bolt:node/internal/encoding", "TextDecoder"),
    ("URL", "bolt:node/internal/url", "URL"),
    (
        "URLSearchParams",
        "bolt:node/internal/url",
        "URLSearchParams",
    ),
    ("setTimeout", "node:timers", "setTimeout"),
    ("clearTimeout", "node:timers", "clearTimeout"),
    ("setInterval", "node:timers", "setInterval"),
    ("clearInterval", "node:timers", "clearInterval"),
    ("setImmediate", "node:timers", "setImmediate"),
    ("clearImmediate", "node:timers", "clearImmediate"),
    ("queueMicrotask", "node:timers", "queueMicrotask"),
    ("console", "node:console", "console"),
    ("process", "node:process", "process"),
    ("performance", "node:perf_hooks", "performance"),
];

/// The module and export name the loader binds the module global `name` to.
pub fn global_source(name: &str) -> (&'static str, &'static str) {
    GLOBAL_SOURCES
        .iter()
        .find(|(global, _, _)| *global == name)
        .map_or((GLOBALS_MODULE, ""), |(_, module, export)| (module, export))
}

/// `name` itself when it is one of the modules [`global_source`] names (npm modules may
/// import those by that exact name).
pub fn global_source_module(name: &str) -> Option<&'static str> {
    GLOBAL_SOURCES
        .iter()
        .find(|(_, module, _)| *module == name)
        .map(|(_, module, _)| *module)
}

/// What `specifier` (with or without `node:`) is, or `None` when it is not a Node built-in.
pub fn builtin(specifier: &str) -> Option<Builtin> {
    let name = specifier.strip_prefix("node:").unwrap_or(specifier);
    if let Some((_, module)) = PROVIDED.iter().find(|(n, _)| *n == name) {
        return Some(Builtin::Provided(module));
    }
    UNSUPPORTED
        .iter()
        .find(|(n, _)| *n == name || name.starts_with(&format!("{n}/")))
        .map(|(_, why)| Builtin::Unsupported { why })
        .or_else(|| {
            specifier
                .starts_with("node:")
                .then_some(Builtin::Unsupported {
                    why: "is not one of the Node built-ins bolt provides",
                })
        })
}

/// The bundle module bolt serves in place of the npm package `package`, if any.
pub fn replacement(package: &str) -> Option<&'static str> {
    REPLACEMENTS
        .iter()
        .find(|(n, _)| *n == package)
        .map(|(_, module)| *module)
}

/// Why the npm package `package` cannot work in bolt, if it is one that opens raw sockets.
pub fn refused_package(package: &str) -> Option<&'static str> {
    REFUSED_PACKAGES
        .iter()
        .find(|(n, _)| *n == package)
        .map(|(_, why)| *why)
}

/// Every built-in bolt provides (for docs, `bolt adaptor list`, deploy checks).
pub fn provided() -> impl Iterator<Item = &'static str> {
    PROVIDED.iter().map(|(name, _)| *name)
}

/// Whether a module named `base` may import the bundle module `name` by that exact name:
/// bolt's own modules (`node:…`, `bolt:…`) import each other that way.
pub fn bundle_may_import(base: &str, name: &str) -> bool {
    (base.starts_with("node:") || base.starts_with("bolt:"))
        && (name.starts_with("node:")
            || name.starts_with("bolt:")
            || name.starts_with("@openfn/language-common/internal/"))
}

#[cfg(test)]
mod tests;
