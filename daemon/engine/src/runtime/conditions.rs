//! Edge conditions: OpenFn's special strings and JS expressions over the upstream output,
//! evaluated in a tiny context of their own (no job globals, no code generation).

use crate::EdgeCondition;
use rquickjs::{CatchResultExt, Context, Function, Runtime};
use serde_json::Value;

/// Why a condition could not be decided; OpenFn crashes the run either way.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConditionError {
    #[error("Failed to compile edge condition {from}->{to} ({reason})")]
    Compile {
        from: String,
        to: String,
        reason: String,
    },
    #[error("{0}")]
    Threw(String),
}

fn with_context<T>(f: impl FnOnce(&rquickjs::Ctx<'_>) -> Result<T, String>) -> Result<T, String> {
    let runtime = Runtime::new().map_err(|e| e.to_string())?;
    runtime.set_memory_limit(64 * 1024 * 1024);
    let context = Context::full(&runtime).map_err(|e| e.to_string())?;
    context.with(|ctx| f(&ctx))
}

fn function_source(expression: &str) -> String {
    format!("(function (state, upstreamStepId) {{ return ({expression}\n); }})")
}

/// Checks that an expression compiles (done for every edge before the run starts).
pub fn check(from: &str, to: &str, expression: &str) -> Result<(), ConditionError> {
    with_context(|ctx| {
        ctx.eval::<Function, _>(function_source(expression))
            .catch(ctx)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .map_err(|reason| ConditionError::Compile {
        from: from.into(),
        to: to.into(),
        reason,
    })
}

/// Decides whether an edge is followed, given the upstream step's cleaned output.
pub fn passes(
    condition: &EdgeCondition,
    output: Option<&Value>,
    upstream: &str,
) -> Result<bool, ConditionError> {
    let upstream_error = output
        .and_then(|s| s.get("errors"))
        .and_then(|e| e.get(upstream))
        .is_some_and(is_truthy);
    match condition {
        EdgeCondition::Always => Ok(true),
        EdgeCondition::Never => Ok(false),
        EdgeCondition::OnJobSuccess => Ok(!upstream_error),
        EdgeCondition::OnJobFailure => Ok(upstream_error),
        EdgeCondition::Expression(expression) => evaluate(expression, output, upstream),
    }
}

fn is_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

fn evaluate(
    expression: &str,
    output: Option<&Value>,
    upstream: &str,
) -> Result<bool, ConditionError> {
    let state = output
        .map(|v| v.to_string())
        .unwrap_or_else(|| "undefined".into());
    with_context(|ctx| {
        let f: Function = ctx
            .eval(function_source(expression))
            .catch(ctx)
            .map_err(|e| e.to_string())?;
        let state = if output.is_some() {
            ctx.json_parse(state)
                .catch(ctx)
                .map_err(|e| e.to_string())?
        } else {
            rquickjs::Value::new_undefined(ctx.clone())
        };
        let result: rquickjs::Value = f
            .call((state, upstream))
            .catch(ctx)
            .map_err(|e| e.to_string())?;
        let boolean: Function = ctx.globals().get("Boolean").map_err(|e| e.to_string())?;
        boolean
            .call::<_, bool>((result,))
            .map_err(|e| e.to_string())
    })
    .map_err(ConditionError::Threw)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expression_sees_state_and_upstream_id() {
        let out = json!({"data": {"n": 3}});
        let cond = EdgeCondition::Expression("state.data.n > 2 && upstreamStepId === 'a'".into());
        assert_eq!(passes(&cond, Some(&out), "a"), Ok(true));
        assert_eq!(passes(&cond, Some(&out), "b"), Ok(false));
    }

    #[test]
    fn on_job_failure_checks_the_upstream_error_only() {
        let out = json!({"errors": {"a": {"message": "x"}}});
        assert_eq!(
            passes(&EdgeCondition::OnJobFailure, Some(&out), "a"),
            Ok(true)
        );
        assert_eq!(
            passes(&EdgeCondition::OnJobSuccess, Some(&out), "b"),
            Ok(true)
        );
    }

    #[test]
    fn a_throwing_condition_is_an_error() {
        let cond = EdgeCondition::Expression("state.nope.deeper".into());
        assert!(matches!(
            passes(&cond, Some(&json!({})), "a"),
            Err(ConditionError::Threw(_))
        ));
        assert!(check("a", "b", "state.x ===").is_err());
    }
}
