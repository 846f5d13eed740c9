//! The one place the runtime meets the built-in adaptors: module sources for the loader and
//! the host functions installed as `globalThis.__bolt_host`.

use rquickjs::{Ctx, Object};

/// Module names bolt can import, as a job writes them.
#[allow(dead_code)]
pub fn known_modules() -> Vec<&'static str> {
    vec!["@openfn/language-common", "@openfn/language-http"]
}

/// The ES module source of a built-in adaptor (`None` when bolt doesn't have it).
pub fn module_source(name: &str) -> Option<String> {
    let _ = name;
    None
}

/// Adds the adaptors' host functions to the `__bolt_host` object.
pub fn install_host<'js>(_ctx: &Ctx<'js>, _host: &Object<'js>) -> rquickjs::Result<()> {
    Ok(())
}

/// Resolves `-a`/step adaptor spellings to a module specifier, or explains what bolt has.
pub fn resolve_adaptor(spec: &str) -> Result<&'static str, String> {
    let name = spec.trim();
    let name = match name.get(1..).and_then(|rest| rest.find('@')) {
        Some(at) => &name[..at + 1],
        None => name,
    };
    let short = name.strip_prefix("@openfn/").unwrap_or(name).trim_start_matches("language-");
    match short {
        "common" => Ok("@openfn/language-common"),
        "http" => Ok("@openfn/language-http"),
        _ => Err(format!("unknown adaptor {spec:?}: bolt has common, http")),
    }
}
