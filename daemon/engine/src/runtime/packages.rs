//! Loading npm adaptor packages into a step's QuickJS context: the module names the
//! loader uses for package files, their resolution and loading (with cached bytecode), and
//! the host hooks of the CommonJS runtime (`packages/js/cjs.js`).
//!
//! Module names:
//! - `/abs/path/file.js`: an ES module file (stack frames show the path);
//! - `cjs:/abs/path/file.js`, `json:/abs/path/data.json`: the ES module an `import` of a
//!   CommonJS or JSON file gets. Its default export is `module.exports`; its named exports
//!   are `module.exports`' own enumerable keys, read by running the file when the importer
//!   is linked (so every name the file really exports is importable, including ones Node's
//!   static lexer misses; the file runs slightly earlier than in Node, before the importing
//!   ES modules evaluate);
//! - `bolt:probe/N`: a module made to evaluate an ES module synchronously for `require()`.
//!
//! Which package trees a step may load from is set per step on the engine thread
//! ([`enter`]); a file outside them is never read, whoever asks.

use crate::adaptors::choice::PackageAdaptor;
use crate::packages::bytecode::{self, BUNDLE_ENTRY, Kind, Stamp};
use crate::packages::resolve::{self, Format, Mode, ResolveError, Resolved};
use crate::packages::source;
use crate::packages::tree::PackageTree;
use rquickjs::context::EvalOptions;
use rquickjs::loader::Loader;
use rquickjs::loader::bundle::Bundle;
use rquickjs::module::{Declared, Module};
use rquickjs::prelude::Rest;
use rquickjs::{Ctx, Exception, Function, Object, Result, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The CommonJS runtime module (in bolt's bundle).
pub const CJS_MODULE: &str = "bolt:cjs";
const CJS_PREFIX: &str = "cjs:";
const JSON_PREFIX: &str = "json:";
const PROBE_PREFIX: &str = "bolt:probe/";
/// The hidden global holding the CommonJS runtime's API for the loader.
const CJS_GLOBAL: &str = "__bolt_cjs";

/// The npm adaptors of the step running on this thread.
#[derive(Debug, Default)]
pub struct StepPackages {
    pub adaptors: Vec<Arc<PackageAdaptor>>,
}

impl StepPackages {
    /// The tree a module file belongs to: an installed (bounded) tree first.
    fn tree_of(&self, path: &Path) -> Option<&PackageTree> {
        let trees = || self.adaptors.iter().map(|a| a.tree.as_ref());
        trees()
            .find(|t| t.bounded && t.contains(path))
            .or_else(|| trees().find(|t| !t.bounded))
    }

    fn adaptor(&self, name: &str) -> Option<&Arc<PackageAdaptor>> {
        self.adaptors.iter().find(|a| a.name == name)
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<StepPackages>>> = const { RefCell::new(None) };
}

/// While alive, the loader on this thread serves these packages.
pub struct Entered(());

impl Drop for Entered {
    fn drop(&mut self) {
        CURRENT.with(|current| current.borrow_mut().take());
    }
}

pub fn enter(packages: Arc<StepPackages>) -> Entered {
    CURRENT.with(|current| *current.borrow_mut() = Some(packages));
    Entered(())
}

fn current() -> Option<Arc<StepPackages>> {
    CURRENT.with(|current| current.borrow().clone())
}

/// Whether a module name is one of a package's (for the resolver and the loader).
pub fn is_package_module(name: &str) -> bool {
    name.starts_with('/') || name.starts_with(CJS_PREFIX) || name.starts_with(JSON_PREFIX)
}

/// Whether a base module may import bolt's own `bolt:` modules (the loader's helper modules).
pub fn is_loader_module(name: &str) -> bool {
    name.starts_with(CJS_PREFIX) || name.starts_with(JSON_PREFIX) || name.starts_with(PROBE_PREFIX)
}

/// Resolves an import made by package code, by a job of a step with npm adaptors, or by a
/// probe. `None`: not a package matter (the caller goes on with bolt's built-in modules).
pub fn resolve_import<'js>(ctx: &Ctx<'js>, base: &str, name: &str) -> Option<Result<String>> {
    let packages = current()?;
    // A probe imports a module the host has resolved already.
    if base.starts_with(PROBE_PREFIX) {
        return Some(Ok(name.to_string()));
    }
    if base.starts_with('/') {
        let from = Path::new(base);
        let Some(tree) = packages.tree_of(from) else {
            return Some(Err(import_error(
                ctx,
                &format!(
                    "Failed to import module \"{name}\": {base} is not part of this step's adaptors"
                ),
            )));
        };
        return Some(
            resolve::resolve(tree, from, name, Mode::Import)
                .map(|found| module_name(&found))
                .map_err(|e| import_error(ctx, &e.to_string())),
        );
    }
    // bolt's own modules (the built-in adaptors among them) never import npm packages.
    if base.starts_with("bolt:") || base.starts_with("@openfn/") {
        return None;
    }
    // A job importing its npm adaptor by name (with or without a version).
    let adaptor = packages.adaptor(super::loader::module_base_name(name))?;
    Some(
        resolve::package_entry(&adaptor.tree, &adaptor.dir, Mode::Import)
            .map(|found| module_name(&found))
            .map_err(|e| import_error(ctx, &e.to_string())),
    )
}

fn module_name(found: &Resolved) -> String {
    match found {
        Resolved::Builtin(module) => module.to_string(),
        Resolved::File { path, format } => {
            let path = path.display();
            match format {
                Format::Esm => path.to_string(),
                Format::CommonJs => format!("{CJS_PREFIX}{path}"),
                Format::Json => format!("{JSON_PREFIX}{path}"),
            }
        }
    }
}

/// Loads a package module (see the module docs for the names); `None` for other names.
pub fn load<'js>(ctx: &Ctx<'js>, name: &str) -> Option<Result<Module<'js, Declared>>> {
    if let Some(path) = name.strip_prefix(CJS_PREFIX) {
        return Some(facade(ctx, name, path, "cjs"));
    }
    if let Some(path) = name.strip_prefix(JSON_PREFIX) {
        return Some(facade(ctx, name, path, "json"));
    }
    if name.starts_with('/') {
        return Some(load_esm(ctx, Path::new(name)));
    }
    None
}

/// The file, if it belongs to this step's packages.
fn checked(ctx: &Ctx<'_>, path: &Path) -> Result<Arc<StepPackages>> {
    match current() {
        Some(packages) if packages.tree_of(path).is_some() => Ok(packages),
        _ => Err(import_error(
            ctx,
            &format!(
                "Failed to import module \"{}\": not part of this step's adaptors",
                path.display()
            ),
        )),
    }
}

fn disk_root(packages: &StepPackages, path: &Path) -> Option<PathBuf> {
    packages
        .tree_of(path)
        .filter(|t| t.disk_cache)
        .map(|t| t.root.clone())
}

/// An ES module file, from cached bytecode when there is some.
fn load_esm<'js>(ctx: &Ctx<'js>, path: &Path) -> Result<Module<'js, Declared>> {
    let packages = checked(ctx, path)?;
    let root = disk_root(&packages, path);
    let stamp = Stamp::of(path).map_err(|e| load_error(ctx, path, &e.to_string()))?;
    if let Some(module) = cached_module(ctx, path, Kind::Esm, root.as_deref(), stamp) {
        return module;
    }
    let text = read_source(ctx, path)?;
    let mut code = source::esm(&text);
    if on_built_in_common(&packages, path)
        && let Some(routed) = source::route_common_imports(&code, built_in_common_module_of)
    {
        code = routed;
    }
    compile_module(ctx, path, Kind::Esm, root.as_deref(), stamp, code)
}

/// Whether `@openfn/language-common` means bolt's built-in for this file.
fn on_built_in_common(packages: &StepPackages, path: &Path) -> bool {
    packages.tree_of(path).is_some_and(|tree| {
        matches!(
            resolve::resolve(tree, path, "@openfn/language-common", Mode::Import),
            Ok(Resolved::Builtin(_))
        )
    })
}

/// The built-in common's sub-module that provides `name`.
fn built_in_common_module_of(name: &str) -> Option<&'static str> {
    crate::adaptors::resolve("common").ok()?.module_of(name)
}

fn read_source(ctx: &Ctx<'_>, path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| load_error(ctx, path, &e.to_string()))
}

/// This version of the file's module from bytecode compiled before (in this process, or
/// kept on disk under its install root).
fn cached_module<'js>(
    ctx: &Ctx<'js>,
    path: &Path,
    kind: Kind,
    disk_root: Option<&Path>,
    stamp: Stamp,
) -> Option<Result<Module<'js, Declared>>> {
    let bundled = bytecode::from_memory(path, kind, stamp).or_else(|| {
        let bytes = bytecode::from_disk(disk_root?, path, kind, stamp)?;
        Some(bytecode::keep(path, kind, stamp, bytes))
    })?;
    Some(Bundle(bundled).load(ctx, BUNDLE_ENTRY, None))
}

/// Compiles a module from `code` and keeps its bytecode.
fn compile_module<'js>(
    ctx: &Ctx<'js>,
    path: &Path,
    kind: Kind,
    disk_root: Option<&Path>,
    stamp: Stamp,
    code: String,
) -> Result<Module<'js, Declared>> {
    let module = Module::declare(ctx.clone(), path.display().to_string(), code)?;
    let options = rquickjs::WriteOptions {
        strip_source: true,
        ..rquickjs::WriteOptions::default()
    };
    if let Ok(bytes) = module.write(options) {
        if let Some(root) = disk_root {
            bytecode::to_disk(root, path, kind, stamp, &bytes);
        }
        bytecode::keep(path, kind, stamp, bytes);
    }
    Ok(module)
}

/// The ES module an `import` of a CommonJS or JSON file gets.
fn facade<'js>(
    ctx: &Ctx<'js>,
    name: &str,
    path: &str,
    kind: &str,
) -> Result<Module<'js, Declared>> {
    checked(ctx, Path::new(path))?;
    let api = cjs_api(ctx)?;
    let export_names: Function = api.get("exportNames")?;
    let names: Vec<String> = export_names.call((path, kind))?;
    let quoted = serde_json::to_string(path).unwrap_or_default();
    let mut code = format!(
        "import {{ requireFile as __bolt_require }} from \"{CJS_MODULE}\";\nconst __bolt_exports = __bolt_require({quoted}, \"{kind}\");\nexport default __bolt_exports;\n"
    );
    let names: Vec<String> = names
        .into_iter()
        .filter(|n| n != "__bolt_require" && n != "__bolt_exports")
        .map(|n| format!("{n} = __bolt_exports.{n}"))
        .collect();
    if !names.is_empty() {
        code.push_str(&format!("export const {};\n", names.join(", ")));
    }
    Module::declare(ctx.clone(), name, code)
}

/// The context's CommonJS runtime, installed when the step first loads a CommonJS or JSON
/// file (a step whose packages are all ES modules never pays for it).
fn cjs_api<'js>(ctx: &Ctx<'js>) -> Result<Object<'js>> {
    if let Ok(api) = ctx.globals().get::<_, Object>(CJS_GLOBAL) {
        return Ok(api);
    }
    let install: Function = import_sync(ctx, CJS_MODULE)?.get("default")?;
    let hooks = Object::new(ctx.clone())?;
    for hook in [
        HostHook::Resolve,
        HostHook::Compile,
        HostHook::ReadJson,
        HostHook::ImportSync,
    ] {
        let function =
            super::warm::host_function(ctx, move |ctx: Ctx<'js>, args: Rest<Value<'js>>| {
                hook.call(ctx, args)
            })?;
        hooks.set(hook.name(), function)?;
    }
    let api: Object = install.call((hooks,))?;
    // Hidden, read-only and permanent: job code can't swap the runtime the loader uses.
    let object_ctor: Object = ctx.globals().get("Object")?;
    let define: Function = object_ctor.get("defineProperty")?;
    let descriptor = Object::new(ctx.clone())?;
    descriptor.set("value", api.clone())?;
    define.call::<_, Value>((ctx.globals(), CJS_GLOBAL, descriptor))?;
    Ok(api)
}

/// bolt's Node-style formatting of console arguments (language-common's internals), loaded
/// when an npm adaptor first writes to the console.
pub fn format_args_function<'js>(ctx: &Ctx<'js>) -> Result<Value<'js>> {
    import_sync(ctx, "@openfn/language-common/internal/inspect")?.get("formatArgs")
}

/// The CommonJS runtime's host hooks.
#[derive(Debug, Clone, Copy)]
pub enum HostHook {
    Resolve,
    Compile,
    ReadJson,
    ImportSync,
}

impl HostHook {
    fn name(self) -> &'static str {
        match self {
            HostHook::Resolve => "resolve",
            HostHook::Compile => "compile",
            HostHook::ReadJson => "readJson",
            HostHook::ImportSync => "importSync",
        }
    }

    /// Calls the hook with its JS arguments.
    pub fn call<'js>(self, ctx: Ctx<'js>, args: Rest<Value<'js>>) -> Result<Value<'js>> {
        let text = |i: usize| -> Result<String> {
            args.0
                .get(i)
                .and_then(|v| v.as_string())
                .map(|s| s.to_string())
                .transpose()?
                .ok_or_else(|| Exception::throw_type(&ctx, "expected a string argument"))
        };
        match self {
            HostHook::Resolve => cjs_resolve(&ctx, &text(0)?, &text(1)?),
            HostHook::Compile => compile_cjs(&ctx, Path::new(&text(0)?)).map(Function::into_value),
            HostHook::ReadJson => {
                let path = PathBuf::from(text(0)?);
                checked(&ctx, &path)?;
                let json = std::fs::read_to_string(&path)
                    .map_err(|e| load_error(&ctx, &path, &e.to_string()))?;
                rquickjs::String::from_str(ctx.clone(), &json).map(|s| s.into_value())
            }
            HostHook::ImportSync => import_sync(&ctx, &text(0)?).map(Object::into_value),
        }
    }
}

/// `require(specifier)` from `from`: `[kind, target]`, or a Node-style error.
fn cjs_resolve<'js>(ctx: &Ctx<'js>, from: &str, specifier: &str) -> Result<Value<'js>> {
    let path = Path::new(from);
    let packages = checked(ctx, path)?;
    let Some(tree) = packages.tree_of(path) else {
        return Err(Exception::throw_message(
            ctx,
            "not part of this step's adaptors",
        ));
    };
    let (kind, target) = match resolve::resolve(tree, path, specifier, Mode::Require) {
        Ok(Resolved::Builtin(module)) => ("builtin", module.to_string()),
        Ok(Resolved::File { path, format }) => {
            let kind = match format {
                Format::Esm => "esm",
                Format::CommonJs => "cjs",
                Format::Json => "json",
            };
            (kind, path.display().to_string())
        }
        Err(error) => return Err(node_error(ctx, &error)),
    };
    let pair = rquickjs::Array::new(ctx.clone())?;
    pair.set(0, kind)?;
    pair.set(1, target)?;
    Ok(pair.into_value())
}

/// A resolution failure as the Error Node throws (with its `code`).
fn node_error(ctx: &Ctx<'_>, error: &ResolveError) -> rquickjs::Error {
    let code = match error {
        ResolveError::NotFound { .. } | ResolveError::MissingFile { .. } => "MODULE_NOT_FOUND",
        ResolveError::NotExported { .. } => "ERR_PACKAGE_PATH_NOT_EXPORTED",
        ResolveError::ImportNotDefined { .. } => "ERR_PACKAGE_IMPORT_NOT_DEFINED",
        ResolveError::InvalidPackage { .. } => "ERR_INVALID_PACKAGE_CONFIG",
        ResolveError::OutsideTree { .. } => "ERR_ACCESS_DENIED",
        ResolveError::UnsupportedBuiltin { .. } => "ERR_UNKNOWN_BUILTIN_MODULE",
        ResolveError::NativeAddon { .. } => "ERR_DLOPEN_FAILED",
        ResolveError::RefusedPackage { .. } => "ERR_BOLT_SANDBOX",
    };
    match Exception::from_message(ctx.clone(), &error.to_string()) {
        Ok(exception) => {
            let _ = exception.as_object().set("code", code);
            exception.throw()
        }
        Err(e) => e,
    }
}

/// Whether each CommonJS file is strict (compiled as a cached module) or sloppy (a script,
/// whose wrapped text is kept here), per file version.
#[derive(Clone)]
enum CjsSource {
    Strict,
    /// The script, and the module globals the function it evaluates to takes.
    Sloppy(Arc<str>, Arc<[&'static str]>),
}

fn cjs_sources() -> &'static Mutex<HashMap<PathBuf, (Stamp, CjsSource)>> {
    static SOURCES: OnceLock<Mutex<HashMap<PathBuf, (Stamp, CjsSource)>>> = OnceLock::new();
    SOURCES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// A CommonJS file's module function.
fn compile_cjs<'js>(ctx: &Ctx<'js>, path: &Path) -> Result<Function<'js>> {
    let packages = checked(ctx, path)?;
    let root = disk_root(&packages, path);
    let stamp = Stamp::of(path).map_err(|e| load_error(ctx, path, &e.to_string()))?;
    let known = cjs_sources()
        .lock()
        .ok()
        .and_then(|s| s.get(path).cloned())
        .filter(|(seen, _)| *seen == stamp)
        .map(|(_, source)| source);
    let remember = |source: CjsSource| {
        if let Ok(mut sources) = cjs_sources().lock() {
            sources.insert(path.to_path_buf(), (stamp, source));
        }
    };
    if let Some(CjsSource::Sloppy(script, globals)) = &known {
        return eval_script(ctx, path, script, globals);
    }
    // Bytecode exists only for strict files.
    if let Some(module) = cached_module(ctx, path, Kind::CommonJs, root.as_deref(), stamp) {
        if known.is_none() {
            remember(CjsSource::Strict);
        }
        return module_function(module?);
    }
    let text = read_source(ctx, path)?;
    if source::is_strict(&text) {
        match compile_module(
            ctx,
            path,
            Kind::CommonJs,
            root.as_deref(),
            stamp,
            source::cjs_as_module(&text),
        ) {
            Ok(module) => {
                remember(CjsSource::Strict);
                return module_function(module);
            }
            // Module code rejects a few things scripts allow (`await` as a name, HTML
            // comments): such a file runs as a script after all.
            Err(rquickjs::Error::Exception) if take_syntax_error(ctx) => {}
            Err(e) => return Err(e),
        }
    }
    let (script, globals) = source::cjs_as_script(&text);
    let (script, globals): (Arc<str>, Arc<[&'static str]>) = (script.into(), globals.into());
    remember(CjsSource::Sloppy(script.clone(), globals.clone()));
    eval_script(ctx, path, &script, &globals)
}

/// Whether the pending exception is a SyntaxError (cleared if so, left pending otherwise).
fn take_syntax_error(ctx: &Ctx<'_>) -> bool {
    let caught = ctx.catch();
    let is_syntax = caught
        .as_object()
        .and_then(|o| o.get::<_, String>("name").ok())
        .is_some_and(|n| n == "SyntaxError");
    if !is_syntax {
        ctx.throw(caught);
    }
    is_syntax
}

/// The module function a strict CommonJS file was compiled into.
fn module_function<'js>(module: Module<'js, Declared>) -> Result<Function<'js>> {
    let (module, _evaluated) = module.eval()?;
    module.get("default")
}

fn eval_script<'js>(
    ctx: &Ctx<'js>,
    path: &Path,
    script: &str,
    globals: &[&'static str],
) -> Result<Function<'js>> {
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = false;
    options.filename = Some(path.display().to_string());
    let function: Function = ctx.eval_with_options(script.as_bytes().to_vec(), options)?;
    if globals.is_empty() {
        return Ok(function);
    }
    // Each global from the smallest module that has it, as ES modules import them.
    let values = Object::new(ctx.clone())?;
    for name in globals {
        let (module, export) = crate::node::global_source(name);
        let namespace = import_sync(ctx, module)?;
        let value: Value = namespace.get(if export.is_empty() { *name } else { export })?;
        values.set(*name, value)?;
    }
    function.call((values,))
}

/// Evaluates an ES module now and returns its namespace (for `require()`): a module that
/// waits at top level can't be required, as in Node.
pub(crate) fn import_sync<'js>(ctx: &Ctx<'js>, name: &str) -> Result<Object<'js>> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    if name.starts_with('/') {
        checked(ctx, Path::new(name))?;
    } else if !name.starts_with("bolt:")
        && !name.starts_with("node:")
        && !name.starts_with("@openfn/language-common")
    {
        return Err(Exception::throw_message(
            ctx,
            &format!("cannot load {name}"),
        ));
    }
    let probe = format!("{PROBE_PREFIX}{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let quoted = serde_json::to_string(name).unwrap_or_default();
    let code = format!("import * as ns from {quoted};\nexport {{ ns }};\n");
    let (module, evaluated) = Module::declare(ctx.clone(), probe, code)?.eval()?;
    match evaluated.state() {
        rquickjs::promise::PromiseState::Rejected => match evaluated.result::<Value>() {
            Some(Err(e)) => Err(e),
            _ => Err(Exception::throw_message(
                ctx,
                &format!("{name} failed to load"),
            )),
        },
        rquickjs::promise::PromiseState::Pending => Err(require_async(ctx, name)),
        rquickjs::promise::PromiseState::Resolved => module.get("ns"),
    }
}

fn require_async(ctx: &Ctx<'_>, name: &str) -> rquickjs::Error {
    match Exception::from_message(
        ctx.clone(),
        &format!("require() cannot be used on an ES module that awaits at top level: {name}"),
    ) {
        Ok(exception) => {
            let _ = exception
                .as_object()
                .set("code", "ERR_REQUIRE_ASYNC_MODULE");
            exception.throw()
        }
        Err(e) => e,
    }
}

fn load_error(ctx: &Ctx<'_>, path: &Path, reason: &str) -> rquickjs::Error {
    import_error(ctx, &format!("Could not load {}: {reason}", path.display()))
}

/// An `ImportError` (crash severity), as bolt reports modules that can't be loaded.
pub fn import_error(ctx: &Ctx<'_>, message: &str) -> rquickjs::Error {
    match Exception::from_message(ctx.clone(), message) {
        Ok(exception) => {
            let _ = exception.as_object().set("name", "ImportError");
            let _ = exception.as_object().set("severity", "crash");
            exception.throw()
        }
        Err(e) => e,
    }
}
