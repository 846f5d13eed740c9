//! Shared by the engine test files: run one plain compiled module as a one-step plan and
//! collect its result and log records.

use bolt_engine::runtime::logs::LogRecord;
use bolt_engine::runtime::prepare::CompileMode;
use bolt_engine::runtime::{EventSink, RunOptions, run_plan_detailed, workflow::PlanResult};
use bolt_engine::{CancelToken, Limits, Plan, PlanStep};
use serde_json::Value;
use std::sync::{Arc, Mutex};

pub async fn run_module_with(
    code: &str,
    input: Value,
    limits: Limits,
    cancel: CancelToken,
) -> (PlanResult, Vec<LogRecord>) {
    let plan = Plan {
        steps: vec![PlanStep {
            id: "job-1".into(),
            expression: Some(code.into()),
            ..Default::default()
        }],
        start: None,
        globals: None,
    };
    let logs = Arc::new(Mutex::new(Vec::new()));
    let sink_logs = logs.clone();
    let sink = EventSink::new(
        Arc::new(move |r| sink_logs.lock().expect("log lock").push(r)),
        Arc::new(|_| {}),
    );
    let options = RunOptions {
        limits,
        cancel,
        compile: CompileMode::AsIs,
        ..Default::default()
    };
    let result = run_plan_detailed(plan, input, options, sink).await;
    let logs = logs.lock().expect("log lock").clone();
    (result, logs)
}
