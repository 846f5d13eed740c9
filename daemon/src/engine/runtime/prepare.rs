//! Turning a plan step's expression into the module the runtime evaluates.
//! This is where the compiler plugs in.

use super::errors::{OperationInfo, PositionMapper, Severity, StepError};
use crate::engine::PlanStep;
use std::sync::Arc;

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

/// Compiles a step's expression for its adaptor.
pub fn prepare(step: &PlanStep, mode: CompileMode) -> Result<PreparedJob, StepError> {
    let source = step.expression.clone().unwrap_or_default();
    match mode {
        CompileMode::AsIs => Ok(PreparedJob {
            code: source,
            ..PreparedJob::default()
        }),
        CompileMode::Compile => compile(&source, step.adaptor.as_deref()),
    }
}

fn compile(source: &str, adaptor: Option<&str>) -> Result<PreparedJob, StepError> {
    let _ = adaptor;
    if source.contains("export default") {
        return Ok(PreparedJob {
            code: source.to_string(),
            ..PreparedJob::default()
        });
    }
    Err(StepError::engine(
        Severity::Crash,
        "CompileError",
        "the job compiler is not available yet",
    ))
}
