//! The one place the runtime meets the built-in adaptors: module sources for the loader and
//! the host functions installed as `globalThis.__bolt_host` (contract: `adaptors/mod.rs`).

use crate::adaptors::{self, host};
use crate::compiler::ExportModules;
use rquickjs::function::Async;
use rquickjs::{Ctx, Exception, Object};

/// The ES module source of a built-in adaptor module, and whether job code may import it
/// (`None` when bolt doesn't have it).
pub fn module_source(name: &str) -> Option<(&'static str, bool)> {
    adaptors::module_source(name)
}

/// Whether job code may import this module (an adaptor or one of its public sub-modules).
pub fn importable_by_jobs(name: &str) -> bool {
    matches!(module_source(name), Some((_, true)))
}

/// Where a job compiled for `specifier` imports each adaptor name from (the sub-modules
/// language-common is split into), for the compiler's header.
pub fn export_modules(specifier: &str) -> Option<ExportModules> {
    let adaptor = adaptors::resolve(specifier).ok()?;
    let by_name = adaptor
        .exports
        .iter()
        .filter_map(|name| Some((name.to_string(), adaptor.module_of(name)?.to_string())))
        .collect();
    Some(ExportModules {
        by_name,
        execute: adaptor.module_of("execute")?.to_string(),
    })
}

/// Adds the adaptors' host functions to the `__bolt_host` object.
pub fn install_host<'js>(ctx: &Ctx<'js>, host_object: &Object<'js>) -> rquickjs::Result<()> {
    host_object.set(
        "jsonpath",
        super::warm::host_function(ctx, |ctx: Ctx<'js>, path: String, json: String| {
            host::jsonpath_locate(&path, &json)
                .map_err(|message| Exception::throw_message(&ctx, &message))
        })?,
    )?;
    host_object.set(
        "parseCsv",
        super::warm::host_function(ctx, |ctx: Ctx<'js>, text: String, options: String| {
            host::parse_csv(&text, &options)
                .map_err(|message| Exception::throw_message(&ctx, &message))
        })?,
    )?;
    host_object.set(
        "http",
        super::warm::host_function(
            ctx,
            Async(|ctx: Ctx<'js>, request: String| async move {
                host::http_request(request)
                    .await
                    .map_err(|message| Exception::throw_message(&ctx, &message))
            }),
        ),
    )?;
    crate::node::host::install(ctx, host_object)
}
