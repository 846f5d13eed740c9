//! Precompiles bolt's built-in JavaScript modules (the sandbox prelude, `Buffer`, the
//! adaptors) to QuickJS bytecode for `src/runtime/loader.rs`.
//!
//! Like `rquickjs::embed!`, but the bytecode leaves out the modules' source text (kept only
//! for `Function.prototype.toString`): every step loads these modules into a fresh context,
//! and reading and freeing that text was a good part of the cost. File names and line
//! numbers stay, so stack frames still name the module an error came from.

use std::fmt::Write as _;
use std::path::PathBuf;

use rquickjs_core::{Context, Module, Runtime, WriteOptions};

/// (module name, file), in dependency order: QuickJS resolves a module's imports when it
/// compiles it, and this compiler has no module loader — it finds only the modules compiled
/// before it in the same context. A module must come after everything it imports.
const MODULES: &[(&str, &str)] = &[
    ("bolt:prelude", "src/runtime/js/prelude.js"),
    ("bolt:buffer", "src/runtime/js/buffer.js"),
    (
        "@openfn/language-common/internal/helpers",
        "src/adaptors/js/common/helpers.js",
    ),
    (
        "@openfn/language-common/internal/inspect",
        "src/adaptors/js/common/inspect.js",
    ),
    (
        "@openfn/language-common/internal/bytes",
        "src/adaptors/js/common/bytes.js",
    ),
    (
        "@openfn/language-common/internal/request",
        "src/adaptors/js/common/request.js",
    ),
    (
        "@openfn/language-common/core",
        "src/adaptors/js/common/core.js",
    ),
    (
        "@openfn/language-common/data",
        "src/adaptors/js/common/data.js",
    ),
    (
        "@openfn/language-common/log",
        "src/adaptors/js/common/log.js",
    ),
    (
        "@openfn/language-common/dates",
        "src/adaptors/js/common/dates.js",
    ),
    (
        "@openfn/language-common/cursor",
        "src/adaptors/js/common/cursor.js",
    ),
    (
        "@openfn/language-common/csv",
        "src/adaptors/js/common/csv.js",
    ),
    (
        "@openfn/language-common/validate",
        "src/adaptors/js/common/validate.js",
    ),
    (
        "@openfn/language-common/util",
        "src/adaptors/js/common/util.js",
    ),
    (
        "@openfn/language-common/lodash",
        "src/adaptors/js/common/lodash.js",
    ),
    ("@openfn/language-common", "src/adaptors/js/common.js"),
    ("@openfn/language-http", "src/adaptors/js/http.js"),
    (
        "@openfn/language-common/public/util",
        "src/adaptors/js/common/public_util.js",
    ),
    (
        "@openfn/language-common/public/metadata",
        "src/adaptors/js/common/public_metadata.js",
    ),
    ("bolt:cjs", "src/packages/js/cjs.js"),
];

/// Node's built-ins for npm adaptors (`src/node`), after the modules above (they use
/// language-common's `inspect`), in dependency order like those.
const NODE_MODULES: &[(&str, &str)] = &[
    (
        "bolt:node/internal/errors",
        "src/node/js/internal/errors.js",
    ),
    ("bolt:node/internal/host", "src/node/js/internal/host.js"),
    (
        "bolt:node/internal/encoding",
        "src/node/js/internal/encoding.js",
    ),
    ("node:timers", "src/node/js/timers.js"),
    ("node:timers/promises", "src/node/js/timers_promises.js"),
    (
        "bolt:node/internal/event_target",
        "src/node/js/internal/event_target.js",
    ),
    (
        "bolt:node/internal/webstreams",
        "src/node/js/internal/webstreams.js",
    ),
    ("bolt:node/internal/blob", "src/node/js/internal/blob.js"),
    ("bolt:node/internal/url", "src/node/js/internal/url.js"),
    ("node:buffer", "src/node/js/buffer.js"),
    ("node:events", "src/node/js/events.js"),
    ("node:string_decoder", "src/node/js/string_decoder.js"),
    ("node:querystring", "src/node/js/querystring.js"),
    ("node:punycode", "src/node/js/punycode.js"),
    ("node:path", "src/node/js/path.js"),
    ("node:url", "src/node/js/url.js"),
    ("node:process", "src/node/js/process.js"),
    ("node:util/types", "src/node/js/util_types.js"),
    (
        "bolt:node/internal/comparisons",
        "src/node/js/internal/comparisons.js",
    ),
    ("node:util", "src/node/js/util.js"),
    ("node:os", "src/node/js/os.js"),
    ("node:console", "src/node/js/console.js"),
    ("node:assert", "src/node/js/assert.js"),
    ("node:assert/strict", "src/node/js/assert_strict.js"),
    ("node:stream", "src/node/js/stream.js"),
    ("node:stream/promises", "src/node/js/stream_promises.js"),
    ("node:crypto", "src/node/js/crypto.js"),
    ("node:zlib", "src/node/js/zlib.js"),
    (
        "bolt:node/internal/http_host",
        "src/node/js/internal/http_host.js",
    ),
    ("bolt:node/internal/fetch", "src/node/js/internal/fetch.js"),
    ("node:stream/web", "src/node/js/stream_web.js"),
    (
        "bolt:node/internal/http_client",
        "src/node/js/internal/http_client.js",
    ),
    ("node:http", "src/node/js/http.js"),
    ("node:https", "src/node/js/https.js"),
    ("node:net", "src/node/js/net.js"),
    ("node:vm", "src/node/js/vm.js"),
    ("node:tls", "src/node/js/tls.js"),
    ("node:http2", "src/node/js/http2.js"),
    ("node:fs", "src/node/js/fs.js"),
    ("node:fs/promises", "src/node/js/fs_promises.js"),
    ("node:dns", "src/node/js/dns.js"),
    ("node:dns/promises", "src/node/js/dns_promises.js"),
    ("node:tty", "src/node/js/tty.js"),
    ("node:async_hooks", "src/node/js/async_hooks.js"),
    ("node:perf_hooks", "src/node/js/perf_hooks.js"),
    (
        "node:diagnostics_channel",
        "src/node/js/diagnostics_channel.js",
    ),
    ("node:constants", "src/node/js/constants.js"),
    ("bolt:node/globals", "src/node/js/globals.js"),
    ("bolt:undici", "src/node/js/undici.js"),
];

fn main() {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let runtime = Runtime::new().expect("a QuickJS runtime");
    let context = Context::full(&runtime).expect("a QuickJS context");
    let mut entries = String::new();
    context.with(|ctx| {
        for (index, (name, path)) in MODULES.iter().chain(NODE_MODULES).enumerate() {
            println!("cargo:rerun-if-changed={path}");
            let source =
                std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
            let module = Module::declare(ctx.clone(), *name, source).unwrap_or_else(|e| {
                let caught = ctx.catch();
                panic!("compiling {path}: {e}: {caught:?}")
            });
            let options = WriteOptions {
                strip_source: true,
                ..WriteOptions::default()
            };
            let bytes = module
                .write(options)
                .unwrap_or_else(|e| panic!("writing the bytecode of {path}: {e}"));
            let file = out_dir.join(format!("module-{index}.bc"));
            std::fs::write(&file, bytes).unwrap_or_else(|e| panic!("writing {file:?}: {e}"));
            writeln!(entries, "    ({name:?}, include_bytes!({file:?})),")
                .expect("writing to a String");
        }
    });
    let bundle = format!("&[\n{entries}]\n");
    std::fs::write(out_dir.join("bundle.rs"), bundle).expect("writing bundle.rs");
    println!(
        "cargo:rustc-env=BOLT_QJS_STAMP={}",
        bytecode_stamp(&context)
    );
}

/// Identifies this QuickJS's bytecode format (the bytes it writes for a fixed module), so
/// bytecode cached on disk by another build is never read.
fn bytecode_stamp(context: &Context) -> String {
    use std::hash::{Hash, Hasher};
    context.with(|ctx| {
        let module = Module::declare(
            ctx.clone(),
            "bolt:stamp",
            "export default function f(a, ...b) { return [a, b, 1n, /r/g, `t${a}`]; }\n",
        )
        .expect("compiling the stamp module");
        let bytes = module
            .write(WriteOptions::default())
            .expect("writing the stamp module");
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut hasher);
        format!("{:016x}", hasher.finish())
    })
}
