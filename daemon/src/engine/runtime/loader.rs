//! Module resolution for jobs: the built-in adaptors and `@openfn/runtime`; nothing else.

use super::adaptor_bridge;
use rquickjs::loader::{ImportAttributes, Loader, Resolver};
use rquickjs::module::{Declared, Module};
use rquickjs::{Ctx, Exception, Result};

/// `@openfn/runtime` exposes `defer`, taken from the prelude's hidden runtime object.
pub const RUNTIME_MODULE: &str = "@openfn/runtime";
const RUNTIME_SOURCE: &str = "const r = globalThis.__bolt_runtime;\nexport const defer = r.defer;\nexport default { defer };\n";

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
        _base: &str,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> Result<String> {
        let base = module_base_name(name);
        if base == RUNTIME_MODULE || adaptor_bridge::module_source(base).is_some() {
            Ok(base.to_string())
        } else {
            Err(import_error(ctx, name))
        }
    }
}

pub struct JobLoader;

impl Loader for JobLoader {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> Result<Module<'js, Declared>> {
        if name == RUNTIME_MODULE {
            return Module::declare(ctx.clone(), name, RUNTIME_SOURCE);
        }
        match adaptor_bridge::module_source(name) {
            Some(source) => Module::declare(ctx.clone(), name, source),
            None => Err(import_error(ctx, name)),
        }
    }
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
