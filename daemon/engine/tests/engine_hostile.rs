//! Hostile jobs: each must end with the right exit reason within its limit, and the test
//! process must survive all of them.

#![allow(clippy::unwrap_used)]

mod common;

use bolt_engine::runtime::logs::LogRecord;
use bolt_engine::runtime::workflow::PlanResult;
use bolt_engine::{CancelToken, Limits};
use bolt_shared::model::ExitReason;
use serde_json::json;
use std::time::{Duration, Instant};

async fn run_module(
    code: &str,
    limits: Limits,
    cancel: CancelToken,
) -> (PlanResult, Vec<LogRecord>) {
    common::run_module_with(
        code,
        json!({"data": {}, "configuration": {}}),
        limits,
        cancel,
    )
    .await
}

fn limits(timeout_ms: u64) -> Limits {
    Limits {
        step_timeout: Duration::from_millis(timeout_ms),
        memory_bytes: 64 * 1024 * 1024,
        max_state_bytes: 8 * 1024 * 1024,
    }
}

#[tokio::test]
async fn infinite_loop_is_killed_at_the_timeout() {
    let started = Instant::now();
    let (result, _) = run_module(
        "export default [s => { while (true) {} }];",
        limits(300),
        CancelToken::new(),
    )
    .await;
    assert_eq!(result.outcome.exit_reason, ExitReason::Kill);
    assert_eq!(result.outcome.error_type.as_deref(), Some("TimeoutError"));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_timeout_while_the_output_is_serialised_is_a_timeout_error() {
    // The job returns at once; turning its state into JSON never ends.
    let (result, _) = run_module(
        "export default [s => ({ ...s, data: { toJSON() { while (true) {} } } })];",
        limits(300),
        CancelToken::new(),
    )
    .await;
    assert_eq!(result.outcome.exit_reason, ExitReason::Kill);
    assert_eq!(result.outcome.error_type.as_deref(), Some("TimeoutError"));
    assert!(
        result
            .outcome
            .error_message
            .as_deref()
            .is_some_and(|m| m.contains("longer than 300ms")),
        "{:?}",
        result.outcome.error_message
    );
}

#[tokio::test]
async fn never_resolving_promise_is_killed_at_the_timeout() {
    let started = Instant::now();
    let (result, _) = run_module(
        "export default [s => new Promise(() => {})];",
        limits(300),
        CancelToken::new(),
    )
    .await;
    assert_eq!(result.outcome.exit_reason, ExitReason::Kill);
    assert_eq!(result.outcome.error_type.as_deref(), Some("TimeoutError"));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn memory_bomb_is_killed() {
    let code = "export default [s => { const a = []; while (true) a.push(new Array(100000).fill('x' + a.length)); }];";
    let (result, _) = run_module(code, limits(20_000), CancelToken::new()).await;
    assert_eq!(
        result.outcome.exit_reason,
        ExitReason::Kill,
        "{:?}",
        result.outcome
    );
    assert_eq!(result.outcome.error_type.as_deref(), Some("OOMError"));
}

#[tokio::test]
async fn deep_recursion_is_a_range_error_like_node() {
    let code = "const f = n => f(n + 1) + 1;\nexport default [s => f(0)];";
    let (result, _) = run_module(code, limits(20_000), CancelToken::new()).await;
    assert_eq!(
        result.outcome.exit_reason,
        ExitReason::Fail,
        "{:?}",
        result.outcome
    );
    assert_eq!(result.outcome.error_type.as_deref(), Some("RangeError"));
    let state = result.outcome.final_state.unwrap();
    assert_eq!(
        state["errors"]["job-1"]["message"],
        json!("RangeError: Maximum call stack size exceeded")
    );
}

#[tokio::test]
async fn eval_and_function_constructor_are_security_errors() {
    for code in [
        "export default [s => eval('1 + 1')];",
        "export default [s => new Function('return 1')()];",
        "export default [s => ({}).constructor.constructor('return this')()];",
        "export default [s => (async function () {}).constructor('return 1')()];",
    ] {
        let (result, _) = run_module(code, limits(5_000), CancelToken::new()).await;
        assert_eq!(result.outcome.exit_reason, ExitReason::Kill, "{code}");
        assert_eq!(
            result.outcome.error_type.as_deref(),
            Some("SecurityError"),
            "{code}"
        );
    }
}

#[tokio::test]
async fn giant_output_is_killed_as_state_too_large() {
    let code = "export default [s => ({ big: 'x'.repeat(10 * 1024 * 1024) })];";
    let (result, _) = run_module(code, limits(20_000), CancelToken::new()).await;
    assert_eq!(
        result.outcome.exit_reason,
        ExitReason::Kill,
        "{:?}",
        result.outcome
    );
    assert_eq!(
        result.outcome.error_type.as_deref(),
        Some("StateTooLargeError")
    );
}

#[tokio::test]
async fn cancelling_interrupts_a_busy_step() {
    let cancel = CancelToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let (result, _) = run_module(
        "export default [s => { while (true) {} }];",
        limits(60_000),
        cancel,
    )
    .await;
    assert_eq!(result.outcome.exit_reason, ExitReason::Cancel);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_pending_timer_is_cut_off_by_cancel() {
    let cancel = CancelToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        trigger.cancel();
    });
    let code = "export default [s => new Promise(r => setTimeout(() => r(s), 60000))];";
    let (result, _) = run_module(code, limits(120_000), cancel).await;
    assert_eq!(result.outcome.exit_reason, ExitReason::Cancel);
}

#[tokio::test]
async fn endless_microtask_chain_is_killed_at_the_timeout() {
    let started = Instant::now();
    let code = "export default [s => new Promise(() => { const spin = () => Promise.resolve().then(spin); spin(); })];";
    let (result, _) = run_module(code, limits(300), CancelToken::new()).await;
    assert_eq!(
        result.outcome.exit_reason,
        ExitReason::Kill,
        "{:?}",
        result.outcome
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn busy_interval_is_killed_at_the_timeout() {
    let started = Instant::now();
    let code = "export default [s => new Promise(() => { setInterval(() => { for (let i = 0; i < 1e5; i++); }, 0); })];";
    let (result, _) = run_module(code, limits(300), CancelToken::new()).await;
    assert_eq!(
        result.outcome.exit_reason,
        ExitReason::Kill,
        "{:?}",
        result.outcome
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn endless_await_recursion_is_killed_at_the_timeout() {
    let started = Instant::now();
    let code = "export default [s => new Promise(() => { const f = async () => { await null; f(); }; f(); })];";
    let (result, _) = run_module(code, limits(300), CancelToken::new()).await;
    assert_eq!(
        result.outcome.exit_reason,
        ExitReason::Kill,
        "{:?}",
        result.outcome
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn catastrophic_regex_is_killed_at_the_timeout() {
    let started = Instant::now();
    let code = "export default [s => ({ m: /(a+)+$/.test('a'.repeat(40) + 'b') })];";
    let (result, _) = run_module(code, limits(300), CancelToken::new()).await;
    assert_eq!(
        result.outcome.exit_reason,
        ExitReason::Kill,
        "{:?}",
        result.outcome
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}
