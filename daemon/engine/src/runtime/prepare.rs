//! Turning a plan step's expression into the module the runtime evaluates: choosing the
//! step's adaptors (built-in, installed npm package or local package) and compiling the
//! job against their exports. This is where the compiler plugs in.

use super::adaptor_bridge;
use super::errors::{OperationInfo, PositionMapper, Severity, StepError};
use super::packages::StepPackages;
use crate::PlanStep;
use crate::adaptors::choice::{self, AdaptorSources, AdaptorUse};
use crate::compiler::{self, AdaptorImports, CompileOptions, SourceMap};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A step's code, ready to evaluate.
#[derive(Clone, Default)]
pub struct PreparedJob {
    pub code: String,
    pub positions: Option<Arc<dyn PositionMapper>>,
    pub operations: Vec<OperationInfo>,
    /// The step's adaptors as chosen for this run.
    pub adaptors: Vec<AdaptorUse>,
    /// The npm packages among them, which the loader serves while the step runs.
    pub packages: Option<Arc<StepPackages>>,
}

/// Whether to compile step expressions or take them as already compiled modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CompileMode {
    #[default]
    Compile,
    /// OpenFn's `--no-compile`: the source must already `export default [...]`.
    AsIs,
}

/// What runs for each adaptor the step names (see `adaptors::choice`).
pub fn adaptors_of(
    step: &PlanStep,
    sources: &AdaptorSources,
) -> Result<Vec<AdaptorUse>, Box<StepError>> {
    let mut chosen: Vec<AdaptorUse> = Vec::new();
    for spec in step.adaptor_specs() {
        let adaptor = choice::choose(spec, sources).map_err(|e| {
            Box::new(StepError::engine(
                Severity::Crash,
                "ImportError",
                e.to_string(),
            ))
        })?;
        if !chosen.iter().any(|c| c.specifier() == adaptor.specifier()) {
            chosen.push(adaptor);
        }
    }
    Ok(chosen)
}

/// The names a plan's globals export, which jobs never import from their adaptors (a
/// globals module that doesn't parse fails every step, as OpenFn's compile does).
pub fn globals_exports(globals: Option<&str>) -> Result<Vec<String>, Box<StepError>> {
    match globals {
        Some(source) if !source.trim().is_empty() => {
            compiler::globals_exports(source).map_err(|e| {
                Box::new(StepError::engine(
                    Severity::Crash,
                    "CompileError",
                    e.to_string(),
                ))
            })
        }
        _ => Ok(Vec::new()),
    }
}

/// Compiles a step's expression for its adaptors, leaving `ignore` (the workflow globals'
/// exports) out of its imports. Results are cached per process (the daemon runs the same
/// jobs again and again; compiling is deterministic).
pub fn prepare(
    step: &PlanStep,
    mode: CompileMode,
    adaptors: Vec<AdaptorUse>,
    ignore: &[String],
) -> Result<PreparedJob, Box<StepError>> {
    let source = step.expression.clone().unwrap_or_default();
    let packages = step_packages(&adaptors);
    match mode {
        CompileMode::AsIs => Ok(PreparedJob {
            code: source,
            adaptors,
            packages,
            ..PreparedJob::default()
        }),
        CompileMode::Compile => {
            let key = (
                source,
                adaptors.iter().map(AdaptorUse::identity).collect(),
                ignore.to_vec(),
            );
            if let Some(job) = cache().lock().ok().and_then(|c| c.get(&key).cloned()) {
                return Ok(PreparedJob {
                    adaptors,
                    packages,
                    ..job
                });
            }
            let job = compile(&key.0, &adaptors, ignore)?;
            if let Ok(mut cache) = cache().lock() {
                if cache.len() >= CACHE_ENTRIES {
                    cache.clear();
                }
                cache.insert(key, job.clone());
            }
            Ok(PreparedJob {
                adaptors,
                packages,
                ..job
            })
        }
    }
}

fn step_packages(adaptors: &[AdaptorUse]) -> Option<Arc<StepPackages>> {
    let packages: Vec<_> = adaptors
        .iter()
        .filter_map(|a| match a {
            AdaptorUse::Package(package) => Some(package.clone()),
            AdaptorUse::BuiltIn { .. } => None,
        })
        .collect();
    (!packages.is_empty()).then(|| Arc::new(StepPackages { adaptors: packages }))
}

const CACHE_ENTRIES: usize = 512;

type CompileCache = HashMap<(String, Vec<String>, Vec<String>), PreparedJob>;

fn cache() -> &'static Mutex<CompileCache> {
    static CACHE: OnceLock<Mutex<CompileCache>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn imports_of(adaptor: &AdaptorUse) -> AdaptorImports {
    match adaptor {
        AdaptorUse::BuiltIn { module, .. } => AdaptorImports {
            specifier: module.specifier.to_string(),
            exports: module.exports.iter().map(|name| name.to_string()).collect(),
            // bolt's adaptors are split into modules: import only the ones the job uses.
            export_modules: adaptor_bridge::export_modules(module.specifier),
        },
        AdaptorUse::Package(package) => AdaptorImports {
            specifier: package.name.clone(),
            exports: package.exports.to_vec(),
            export_modules: None,
        },
    }
}

fn compile(
    source: &str,
    adaptors: &[AdaptorUse],
    ignore: &[String],
) -> Result<PreparedJob, Box<StepError>> {
    let mut options = CompileOptions {
        ignore_imports: ignore.to_vec(),
        ..CompileOptions::default()
    };
    let mut imports = adaptors.iter().map(imports_of);
    if let Some(first) = imports.next() {
        options.adaptor = Some(first.specifier);
        options.adaptor_exports = first.exports;
        options.export_modules = first.export_modules;
    }
    options.more_adaptors = imports.collect();
    let compiled = compiler::compile(source, &options).map_err(|e| {
        Box::new(StepError::engine(
            Severity::Crash,
            "CompileError",
            e.to_string(),
        ))
    })?;
    Ok(PreparedJob {
        code: compiled.code,
        operations: compiled
            .source_map
            .operations()
            .iter()
            .cloned()
            .map(|op| OperationInfo {
                name: op.name,
                line: op.line.map_or(-1, i64::from),
            })
            .collect(),
        positions: Some(Arc::new(MappedPositions(compiled.source_map))),
        adaptors: Vec::new(),
        packages: None,
    })
}

/// The compiler's source map, from QuickJS's 1-based columns to OpenFn's 1-based columns.
struct MappedPositions(SourceMap);

impl PositionMapper for MappedPositions {
    fn original(&self, line: u32, column: u32) -> Option<(u32, u32)> {
        self.0
            .original_position(line, column.saturating_sub(1))
            .map(|(l, c)| (l, c + 1))
    }
}
