//! Turning a plan step's expression into the module the runtime evaluates.
//! This is where the compiler plugs in.

use super::adaptor_bridge;
use super::errors::{OperationInfo, PositionMapper, Severity, StepError};
use crate::engine::PlanStep;
use crate::engine::compiler::{self, CompileOptions, SourceMap};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A step's code, ready to evaluate.
#[derive(Clone, Default)]
pub struct PreparedJob {
    pub code: String,
    pub positions: Option<Arc<dyn PositionMapper>>,
    pub operations: Vec<OperationInfo>,
}

/// Whether to compile step expressions or take them as already compiled modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CompileMode {
    #[default]
    Compile,
    /// OpenFn's `--no-compile`: the source must already `export default [...]`.
    AsIs,
}

/// The names a plan's globals export, which jobs never import from their adaptor (a
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

/// Compiles a step's expression for its adaptor, leaving `ignore` (the globals' exports)
/// out of its imports. Results are cached per process (the daemon runs the same jobs again
/// and again; compiling is deterministic).
pub fn prepare(
    step: &PlanStep,
    mode: CompileMode,
    ignore: &[String],
) -> Result<PreparedJob, Box<StepError>> {
    let source = step.expression.clone().unwrap_or_default();
    match mode {
        CompileMode::AsIs => Ok(PreparedJob {
            code: source,
            ..PreparedJob::default()
        }),
        CompileMode::Compile => {
            let key = (source, step.adaptor.clone(), ignore.to_vec());
            if let Some(job) = cache().lock().ok().and_then(|c| c.get(&key).cloned()) {
                return Ok(job);
            }
            let job = compile(&key.0, key.1.as_deref(), ignore)?;
            if let Ok(mut cache) = cache().lock() {
                if cache.len() >= CACHE_ENTRIES {
                    cache.clear();
                }
                cache.insert(key, job.clone());
            }
            Ok(job)
        }
    }
}

const CACHE_ENTRIES: usize = 512;

type CompileCache = HashMap<(String, Option<String>, Vec<String>), PreparedJob>;

fn cache() -> &'static Mutex<CompileCache> {
    static CACHE: OnceLock<Mutex<CompileCache>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn compile(
    source: &str,
    adaptor: Option<&str>,
    ignore: &[String],
) -> Result<PreparedJob, Box<StepError>> {
    let mut options = CompileOptions {
        ignore_imports: ignore.to_vec(),
        ..CompileOptions::default()
    };
    if let Some(spec) = adaptor {
        let specifier = adaptor_bridge::resolve_adaptor(spec).map_err(|message| {
            Box::new(StepError::engine(Severity::Crash, "CompileError", message))
        })?;
        options.adaptor = Some(specifier.to_string());
        options.adaptor_exports = adaptor_bridge::exports(specifier)
            .unwrap_or_default()
            .iter()
            .map(|name| name.to_string())
            .collect();
        // bolt's adaptors are split into modules: import only the ones the job uses.
        options.export_modules = adaptor_bridge::export_modules(specifier);
    }
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
