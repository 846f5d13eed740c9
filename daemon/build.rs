//! Precompiles bolt's built-in JavaScript modules (the sandbox prelude, `Buffer`, the
//! adaptors) to QuickJS bytecode for `src/engine/runtime/loader.rs`.
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
    ("bolt:prelude", "src/engine/runtime/js/prelude.js"),
    ("bolt:buffer", "src/engine/runtime/js/buffer.js"),
    (
        "@openfn/language-common/internal/helpers",
        "src/engine/adaptors/js/common/helpers.js",
    ),
    (
        "@openfn/language-common/internal/inspect",
        "src/engine/adaptors/js/common/inspect.js",
    ),
    (
        "@openfn/language-common/internal/bytes",
        "src/engine/adaptors/js/common/bytes.js",
    ),
    (
        "@openfn/language-common/internal/request",
        "src/engine/adaptors/js/common/request.js",
    ),
    (
        "@openfn/language-common/core",
        "src/engine/adaptors/js/common/core.js",
    ),
    (
        "@openfn/language-common/data",
        "src/engine/adaptors/js/common/data.js",
    ),
    (
        "@openfn/language-common/log",
        "src/engine/adaptors/js/common/log.js",
    ),
    (
        "@openfn/language-common/dates",
        "src/engine/adaptors/js/common/dates.js",
    ),
    (
        "@openfn/language-common/cursor",
        "src/engine/adaptors/js/common/cursor.js",
    ),
    (
        "@openfn/language-common/csv",
        "src/engine/adaptors/js/common/csv.js",
    ),
    (
        "@openfn/language-common/validate",
        "src/engine/adaptors/js/common/validate.js",
    ),
    (
        "@openfn/language-common/util",
        "src/engine/adaptors/js/common/util.js",
    ),
    (
        "@openfn/language-common/lodash",
        "src/engine/adaptors/js/common/lodash.js",
    ),
    (
        "@openfn/language-common",
        "src/engine/adaptors/js/common.js",
    ),
    ("@openfn/language-http", "src/engine/adaptors/js/http.js"),
    (
        "@openfn/language-common/public/util",
        "src/engine/adaptors/js/common/public_util.js",
    ),
    (
        "@openfn/language-common/public/metadata",
        "src/engine/adaptors/js/common/public_metadata.js",
    ),
    ("bolt:cjs", "src/engine/packages/js/cjs.js"),
];

/// Node's built-ins for npm adaptors (`src/engine/node`), after the modules above (they use
/// language-common's `inspect`), in dependency order like those.
const NODE_MODULES: &[(&str, &str)] = &[
    (
        "bolt:node/internal/errors",
        "src/engine/node/js/internal/errors.js",
    ),
    (
        "bolt:node/internal/host",
        "src/engine/node/js/internal/host.js",
    ),
    (
        "bolt:node/internal/encoding",
        "src/engine/node/js/internal/encoding.js",
    ),
    ("node:timers", "src/engine/node/js/timers.js"),
    (
        "node:timers/promises",
        "src/engine/node/js/timers_promises.js",
    ),
    (
        "bolt:node/internal/event_target",
        "src/engine/node/js/internal/event_target.js",
    ),
    (
        "bolt:node/internal/webstreams",
        "src/engine/node/js/internal/webstreams.js",
    ),
    (
        "bolt:node/internal/blob",
        "src/engine/node/js/internal/blob.js",
    ),
    (
        "bolt:node/internal/url",
        "src/engine/node/js/internal/url.js",
    ),
    ("node:buffer", "src/engine/node/js/buffer.js"),
    ("node:events", "src/engine/node/js/events.js"),
    (
        "node:string_decoder",
        "src/engine/node/js/string_decoder.js",
    ),
    ("node:querystring", "src/engine/node/js/querystring.js"),
    ("node:punycode", "src/engine/node/js/punycode.js"),
    ("node:path", "src/engine/node/js/path.js"),
    ("node:url", "src/engine/node/js/url.js"),
    ("node:process", "src/engine/node/js/process.js"),
    ("node:util/types", "src/engine/node/js/util_types.js"),
    (
        "bolt:node/internal/comparisons",
        "src/engine/node/js/internal/comparisons.js",
    ),
    ("node:util", "src/engine/node/js/util.js"),
    ("node:os", "src/engine/node/js/os.js"),
    ("node:console", "src/engine/node/js/console.js"),
    ("node:assert", "src/engine/node/js/assert.js"),
    ("node:assert/strict", "src/engine/node/js/assert_strict.js"),
    ("node:stream", "src/engine/node/js/stream.js"),
    (
        "node:stream/promises",
        "src/engine/node/js/stream_promises.js",
    ),
    ("node:crypto", "src/engine/node/js/crypto.js"),
    ("node:zlib", "src/engine/node/js/zlib.js"),
    (
        "bolt:node/internal/http_host",
        "src/engine/node/js/internal/http_host.js",
    ),
    (
        "bolt:node/internal/fetch",
        "src/engine/node/js/internal/fetch.js",
    ),
    ("node:stream/web", "src/engine/node/js/stream_web.js"),
    (
        "bolt:node/internal/http_client",
        "src/engine/node/js/internal/http_client.js",
    ),
    ("node:http", "src/engine/node/js/http.js"),
    ("node:https", "src/engine/node/js/https.js"),
    ("node:net", "src/engine/node/js/net.js"),
    ("node:vm", "src/engine/node/js/vm.js"),
    ("node:tls", "src/engine/node/js/tls.js"),
    ("node:http2", "src/engine/node/js/http2.js"),
    ("node:fs", "src/engine/node/js/fs.js"),
    ("node:fs/promises", "src/engine/node/js/fs_promises.js"),
    ("node:dns", "src/engine/node/js/dns.js"),
    ("node:dns/promises", "src/engine/node/js/dns_promises.js"),
    ("node:tty", "src/engine/node/js/tty.js"),
    ("node:async_hooks", "src/engine/node/js/async_hooks.js"),
    ("node:perf_hooks", "src/engine/node/js/perf_hooks.js"),
    (
        "node:diagnostics_channel",
        "src/engine/node/js/diagnostics_channel.js",
    ),
    ("node:constants", "src/engine/node/js/constants.js"),
    ("bolt:node/globals", "src/engine/node/js/globals.js"),
    ("bolt:undici", "src/engine/node/js/undici.js"),
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
