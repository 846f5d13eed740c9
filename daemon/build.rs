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

fn main() {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let runtime = Runtime::new().expect("a QuickJS runtime");
    let context = Context::full(&runtime).expect("a QuickJS context");
    let mut entries = String::new();
    context.with(|ctx| {
        for (index, (name, path)) in MODULES.iter().enumerate() {
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
