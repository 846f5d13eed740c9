//! Module resolution for jobs: bolt's prelude, the built-in adaptors, `@openfn/runtime`, and
//! the npm adaptors of the step ([`super::packages`]); nothing else. Built-in modules are
//! compiled to QuickJS bytecode at build time (`embed!`), so a step loads them without
//! parsing ~100 KB of JavaScript each time; npm packages' modules are compiled once and
//! cached ([`crate::packages::bytecode`]).

use super::{adaptor_bridge, packages};
use rquickjs::loader::{Bundle, ImportAttributes, Loader, Resolver};
use rquickjs::module::{Declared, Module};
use rquickjs::{Ctx, Exception, Result, Value};

/// `@openfn/runtime` exposes `defer`, taken from the prelude's hidden runtime object.
pub const RUNTIME_MODULE: &str = "@openfn/runtime";
const RUNTIME_SOURCE: &str = "const r = globalThis.__bolt_runtime;\nexport const defer = r.defer;\nexport default { defer };\n";
/// bolt's own modules; jobs and adaptors can't import them.
pub const PRELUDE_MODULE: &str = "bolt:prelude";
const BOLT_PREFIX: &str = "bolt:";
/// bolt's `Buffer`, loaded on first use (see [`evaluate_now`]).
pub const BUFFER_MODULE: &str = "bolt:buffer";

/// Bytecode of the prelude, `Buffer` and every built-in adaptor module (the same files as
/// `adaptors::all()` and `adaptors::sub_modules()` have), compiled by `build.rs` — which
/// lists them and rebuilds the bytecode whenever one of the files changes.
static BUNDLE: Bundle =
    rquickjs::loader::bundle::Bundle(include!(concat!(env!("OUT_DIR"), "/bundle.rs")));

/// Where a module's name must start for it to count as adaptor code (and see internals).
const ADAPTOR_PREFIX: &str = "@openfn/language-";

fn in_bundle(name: &str) -> bool {
    BUNDLE.iter().any(|(n, _)| *n == name)
}

/// Notes an import of a built-in adaptor module, or of one of bolt's Node built-ins (which
/// npm adaptors load), for the next prepared context (see `warm::prepare`).
fn note_if_built_in_adaptor(name: &str) {
    let preloadable = name.starts_with(ADAPTOR_PREFIX)
        || name.starts_with("node:")
        || name.starts_with("bolt:node/")
        || name == "bolt:undici";
    if preloadable && let Some((static_name, _)) = BUNDLE.iter().find(|(n, _)| *n == name) {
        super::warm::note_module(static_name);
    }
}

/// Strips a version suffix: `@openfn/language-http@7.2.10` → `@openfn/language-http`.
pub fn module_base_name(name: &str) -> &str {
    match name.rfind('@') {
        Some(at) if at > 0 => &name[..at],
        _ => name,
    }
}

pub struct JobResolver;

impl Resolver for JobResolver {
    fn resolve<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        base: &str,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> Result<String> {
        let resolved = resolve_name(ctx, base, name)?;
        note_if_built_in_adaptor(&resolved);
        Ok(resolved)
    }
}

fn resolve_name(ctx: &Ctx<'_>, base: &str, name: &str) -> Result<String> {
    // bolt's Node built-ins import each other (and the bundle's internals) by exact name;
    // other module code (not jobs) names built-ins as Node does.
    if crate::node::bundle_may_import(base, name) && in_bundle(name) {
        return Ok(name.to_string());
    }
    if base != super::step::JOB_MODULE
        && base != super::step::GLOBALS_MODULE
        && let Some(module) = node_module(name)
    {
        return Ok(module.to_string());
    }
    if name.starts_with(BOLT_PREFIX) {
        // Only bolt's own modules (and the host, importing the prelude) may load these.
        return if base.starts_with(BOLT_PREFIX)
            || base.is_empty()
            || base == "eval_script"
            || packages::is_loader_module(base)
        {
            Ok(name.to_string())
        } else {
            Err(import_error(ctx, name))
        };
    }
    if let Some(resolved) = packages::resolve_import(ctx, base, name) {
        return resolved;
    }
    if packages::is_package_module(base) {
        // Package code outside a step with npm adaptors.
        return Err(import_error(ctx, name));
    }
    let base_name = module_base_name(name);
    if base_name == RUNTIME_MODULE {
        return Ok(base_name.to_string());
    }
    // Internal adaptor modules are for the adaptor modules themselves, not for jobs.
    match adaptor_bridge::module_source(base_name) {
        Some((_, true)) => Ok(base_name.to_string()),
        // ... and for the host (an empty base: imported from Rust).
        Some((_, false)) if base.starts_with(ADAPTOR_PREFIX) || base.is_empty() => {
            Ok(base_name.to_string())
        }
        _ => Err(import_error(ctx, name)),
    }
}

/// The bundle module of a Node built-in or of an npm package bolt replaces.
fn node_module(name: &str) -> Option<&'static str> {
    use crate::node::{self, Builtin};
    if name == node::GLOBALS_MODULE {
        return Some(node::GLOBALS_MODULE);
    }
    if let Some(module) = node::global_source_module(name) {
        return Some(module);
    }
    match node::builtin(name) {
        Some(Builtin::Provided(module)) => Some(module),
        _ => node::replacement(name),
    }
}

pub struct JobLoader;

impl Loader for JobLoader {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        attributes: Option<ImportAttributes<'js>>,
    ) -> Result<Module<'js, Declared>> {
        if name == RUNTIME_MODULE {
            return Module::declare(ctx.clone(), name, RUNTIME_SOURCE);
        }
        if in_bundle(name) {
            let mut bundle = BUNDLE;
            return bundle.load(ctx, name, attributes);
        }
        if let Some(module) = packages::load(ctx, name) {
            return module;
        }
        match adaptor_bridge::module_source(name) {
            Some((source, _)) => Module::declare(ctx.clone(), name, source),
            None => Err(import_error(ctx, name)),
        }
    }
}

/// Loads and evaluates one of bolt's precompiled modules right away, from a host function
/// (which can't await an import), and returns its default export. The module must have no
/// imports and no top-level await — then it has run when `eval` returns — and must be
/// evaluated at most once per context.
pub fn evaluate_now<'js>(ctx: &Ctx<'js>, name: &str) -> Result<Value<'js>> {
    let mut bundle = BUNDLE;
    let (module, evaluated) = bundle.load(ctx, name, None)?.eval()?;
    if let Some(Err(error)) = evaluated.result::<Value>() {
        return Err(error);
    }
    module.namespace()?.get("default")
}

fn import_error(ctx: &Ctx<'_>, name: &str) -> rquickjs::Error {
    match Exception::from_message(ctx.clone(), &format!("Failed to import module \"{name}\"")) {
        Ok(exception) => {
            let _ = exception.as_object().set("name", "ImportError");
            let _ = exception.as_object().set("severity", "crash");
            exception.throw()
        }
        Err(e) => e,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use crate::PlanStep;
    use crate::adaptors;
    use crate::runtime::prepare::{self, CompileMode};
    use rquickjs::{Context, Runtime};
    use std::sync::{Arc, Mutex};

    #[test]
    fn every_adaptor_module_is_precompiled() {
        for adaptor in adaptors::all() {
            assert!(in_bundle(adaptor.specifier), "{}", adaptor.specifier);
        }
        for module in adaptors::sub_modules() {
            assert!(in_bundle(module.specifier), "{}", module.specifier);
        }
        assert!(in_bundle(PRELUDE_MODULE) && in_bundle(BUFFER_MODULE));
    }

    /// bolt's loader, noting every module it loads.
    struct Recording(Arc<Mutex<Vec<String>>>);

    impl Loader for Recording {
        fn load<'js>(
            &mut self,
            ctx: &Ctx<'js>,
            name: &str,
            attributes: Option<ImportAttributes<'js>>,
        ) -> Result<Module<'js, Declared>> {
            self.0.lock().unwrap().push(name.to_string());
            JobLoader.load(ctx, name, attributes)
        }
    }

    /// Compiles `expression` for `adaptor` as the runtime does, evaluates the job module and
    /// returns the modules that were loaded for it.
    fn modules_loaded_by(expression: &str, adaptor: &str) -> Vec<String> {
        let step = PlanStep {
            id: "job".into(),
            expression: Some(expression.into()),
            adaptor: Some(adaptor.into()),
            ..PlanStep::default()
        };
        let adaptors = prepare::adaptors_of(&step, &Default::default()).unwrap();
        let job = prepare::prepare(&step, CompileMode::Compile, adaptors, &[]).unwrap();
        let loaded = Arc::new(Mutex::new(Vec::new()));
        let runtime = Runtime::new().unwrap();
        runtime.set_loader(JobResolver, Recording(loaded.clone()));
        let context = Context::full(&runtime).unwrap();
        context.with(|ctx| {
            let (_, evaluated) = Module::declare(ctx.clone(), "job.js", job.code)
                .unwrap()
                .eval()
                .unwrap();
            evaluated.finish::<()>().unwrap();
        });
        let mut loaded = loaded.lock().unwrap().clone();
        loaded.sort();
        loaded
    }

    #[test]
    fn a_job_using_only_fn_loads_the_core_module_only() {
        assert_eq!(
            modules_loaded_by("fn(s => s);", "common"),
            ["@openfn/language-common/core"]
        );
        assert_eq!(
            modules_loaded_by("each('$.data[*]', fn(s => s));", "common"),
            [
                "@openfn/language-common/core",
                "@openfn/language-common/data",
                "@openfn/language-common/internal/helpers"
            ]
        );
    }

    #[test]
    fn a_job_loads_the_modules_of_the_names_it_uses() {
        let loaded = modules_loaded_by("fn(s => s);\nlog('hi');\ncursor('today');", "common");
        for module in ["log", "cursor", "dates", "internal/inspect"] {
            assert!(
                loaded.contains(&format!("@openfn/language-common/{module}")),
                "{module}: {loaded:?}"
            );
        }
        for module in ["lodash", "validate", "util", "internal/request"] {
            assert!(
                !loaded.contains(&format!("@openfn/language-common/{module}")),
                "{module}: {loaded:?}"
            );
        }
        assert!(!loaded.contains(&"@openfn/language-common".to_string()));
    }

    #[test]
    fn an_http_job_loads_neither_lodash_nor_validate() {
        let loaded = modules_loaded_by("get('https://example.com');\nfn(s => s);", "http");
        assert!(loaded.contains(&"@openfn/language-http".to_string()));
        assert!(loaded.contains(&"@openfn/language-common/internal/request".to_string()));
        for module in ["lodash", "validate", "util"] {
            assert!(
                !loaded.contains(&format!("@openfn/language-common/{module}")),
                "{module}: {loaded:?}"
            );
        }
    }

    fn declares(job: &str) -> bool {
        let runtime = Runtime::new().unwrap();
        runtime.set_loader(JobResolver, JobLoader);
        let context = Context::full(&runtime).unwrap();
        context.with(|ctx| Module::declare(ctx.clone(), "job.js", job).is_ok())
    }

    #[test]
    fn jobs_cannot_import_internal_modules() {
        assert!(!declares(
            "import { host } from '@openfn/language-common/internal/helpers';"
        ));
        assert!(declares(
            "import { fn } from '@openfn/language-common/core';"
        ));
        assert!(declares(
            "import { fn } from '@openfn/language-common@3.3.4';"
        ));
    }
}
