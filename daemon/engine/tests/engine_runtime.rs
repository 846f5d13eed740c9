//! The runtime on plain compiled modules (no adaptors): sandbox globals, console, timers,
//! state rules and error classification.

#![allow(clippy::unwrap_used)]

mod common;

use bolt_engine::runtime::logs::{LogRecord, LogSource, Sanitize, render_args};
use bolt_engine::runtime::workflow::PlanResult;
use bolt_engine::{CancelToken, Limits};
use bolt_shared::model::ExitReason;
use serde_json::{Value, json};

async fn run(code: &str, input: Value) -> (PlanResult, Vec<LogRecord>) {
    common::run_module_with(code, input, Limits::default(), CancelToken::default()).await
}

fn job_lines(logs: &[LogRecord]) -> Vec<String> {
    logs.iter()
        .filter(|r| r.source == LogSource::Job)
        .filter_map(|r| render_args(&r.args, Sanitize::None))
        .collect()
}

#[tokio::test]
async fn operations_run_in_sequence_and_configuration_is_dropped() {
    let code = "export default [s => ({ ...s, a: 1 }), async s => { await new Promise(r => setTimeout(r, 5)); return { ...s, b: s.a + 1 }; }];";
    let (result, _) = run(
        code,
        json!({"data": {"x": 1}, "configuration": {"secret": "s"}}),
    )
    .await;
    assert_eq!(result.outcome.exit_reason, ExitReason::Success);
    assert_eq!(
        serde_json::to_string(&result.outcome.final_state.unwrap()).unwrap(),
        r#"{"data":{"x":1},"a":1,"b":2}"#
    );
}

#[tokio::test]
async fn final_state_is_a_safe_json_round_trip() {
    let code = "export default [s => { const o = { d: new Date(0), f: () => 1, u: undefined, n: NaN, i: Infinity, arr: [1, , 3] }; o.self = o; return o; }];";
    let (result, _) = run(code, json!({})).await;
    assert_eq!(
        serde_json::to_string(&result.outcome.final_state.unwrap()).unwrap(),
        r#"{"d":"1970-01-01T00:00:00.000Z","n":null,"i":null,"arr":[1,null,3],"self":"[Circular]"}"#
    );
}

#[tokio::test]
async fn console_follows_openfn_formatting() {
    let code = "export default [s => { console.log('a', 1, { configuration: { k: 'v' }, x: [1] }); console.log(null); console.log(); console.log(undefined); console.warn(NaN); return s; }];";
    let (_, logs) = run(code, json!({})).await;
    assert_eq!(
        job_lines(&logs),
        vec![
            "a 1 {\n  \"configuration\": {\n    \"k\": \"****\"\n  },\n  \"x\": [\n    1\n  ]\n}"
                .to_string(),
            "undefined".to_string(),
            "NaN".to_string(),
        ]
    );
}

#[tokio::test]
async fn console_has_only_openfn_methods_and_is_frozen() {
    let code = "export default [s => { console.table([]); return s; }];";
    let (result, _) = run(code, json!({})).await;
    assert_eq!(result.outcome.exit_reason, ExitReason::Fail);
    let error = &result.outcome.final_state.unwrap()["errors"]["job-1"];
    assert_eq!(
        error["message"],
        json!("TypeError: console.table is not a function")
    );
    let (result, _) = run(
        "export default [s => { console.x = 1; return s; }];",
        json!({}),
    )
    .await;
    assert_eq!(result.outcome.error_type.as_deref(), Some("TypeError"));
}

#[tokio::test]
async fn sandbox_has_no_node_or_quickjs_extras() {
    let code = "export default [s => ({ t: [typeof process, typeof require, typeof URL, typeof fetch, typeof queueMicrotask, typeof structuredClone, typeof setTimeout, typeof Buffer, typeof parseInt, typeof state] })];";
    let (result, _) = run(code, json!({})).await;
    assert_eq!(
        result.outcome.final_state.unwrap()["t"],
        json!([
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            "function",
            "function",
            "function",
            "object"
        ])
    );
}

#[tokio::test]
async fn buffer_from_round_trips_base64_and_utf8() {
    let code = "export default [s => ({ b: Buffer.from('héllo ✓').toString('base64'), u: Buffer.from('aMOpbGxvIOKckw==', 'base64').toString('utf8'), j: Buffer.from('hi') })];";
    let (result, _) = run(code, json!({})).await;
    assert_eq!(
        result.outcome.final_state.unwrap(),
        json!({"b": "aMOpbGxvIOKckw==", "u": "héllo ✓", "j": {"type": "Buffer", "data": [104, 105]}})
    );
}

#[tokio::test]
async fn buffer_loaded_on_first_use_is_the_frozen_global_jobs_always_had() {
    // Replacing a built-in before the first use doesn't change what `Buffer` is made of.
    let code = "export default [s => {
        const real = Uint8Array;
        globalThis.Uint8Array = function Fake() {};
        const B = Buffer;
        globalThis.Uint8Array = real;
        const d = Object.getOwnPropertyDescriptor(globalThis, 'Buffer');
        const bytes = Buffer.from('hi');
        let direct;
        try { new Buffer(2); } catch (e) { direct = e.message; }
        const first = { same: B === Buffer && B === globalThis.Buffer, frozen: Object.isFrozen(B),
          protoFrozen: Object.isFrozen(B.prototype), data: 'value' in d, writable: d.writable,
          enumerable: d.enumerable, isBuffer: Buffer.isBuffer(bytes), typed: bytes instanceof real, text: bytes.toString('hex'), direct };
        Buffer = 1;
        return { first, assigned: globalThis.Buffer };
    }, s => ({ ...s, deleted: (delete globalThis.Buffer, typeof Buffer) })];";
    let (result, _) = run(code, json!({})).await;
    assert_eq!(
        result.outcome.final_state.unwrap(),
        json!({
            "first": {
                "same": true, "frozen": true, "protoFrozen": true, "data": true,
                "writable": true, "enumerable": false, "isBuffer": true, "typed": true,
                "text": "6869",
                "direct": "Do not call Buffer() constructor directly, use Buffer.from() or Buffer.alloc()",
            },
            "assigned": 1,
            "deleted": "undefined",
        })
    );
}

#[tokio::test]
async fn buffer_can_be_replaced_before_its_first_use() {
    let code = "export default [s => { globalThis.Buffer = 'mine'; return { b: Buffer, keys: Object.keys(globalThis).includes('Buffer') }; }];";
    let (result, _) = run(code, json!({})).await;
    assert_eq!(
        result.outcome.final_state.unwrap(),
        json!({"b": "mine", "keys": false})
    );
}

#[tokio::test]
async fn failure_reports_the_input_as_mutated_not_the_last_result() {
    let code = "export default [s => { s.data.touched = true; return { ...s, data: { replaced: 1 } }; }, s => { throw new Error('boom'); }];";
    let (result, _) = run(code, json!({"data": {"a": 1}})).await;
    assert_eq!(result.outcome.exit_reason, ExitReason::Fail);
    assert_eq!(
        result.outcome.final_state.unwrap(),
        json!({"data": {"a": 1, "touched": true}, "errors": {"job-1": {"source": "runtime", "name": "JobError", "severity": "fail", "message": "boom"}}})
    );
}

#[tokio::test]
async fn type_error_positions_point_into_the_module() {
    let code = "export default [state => {\n  return state.data.missing.deep;\n}];";
    let (result, _) = run(code, json!({"data": {}})).await;
    let error = result.outcome.final_state.unwrap()["errors"]["job-1"].clone();
    assert_eq!(
        error["message"],
        json!("TypeError: Cannot read properties of undefined (reading 'deep')")
    );
    assert_eq!(error["pos"]["line"], json!(2));
}

#[tokio::test]
async fn reference_error_crashes_without_output() {
    let (result, logs) = run("export default [s => nope];", json!({})).await;
    assert_eq!(result.outcome.exit_reason, ExitReason::Crash);
    assert_eq!(result.outcome.final_state, None);
    assert_eq!(
        result.outcome.error_message.as_deref(),
        Some("ReferenceError: nope is not defined")
    );
    assert!(
        logs.iter()
            .any(|r| r.message() == "CRITICAL ERROR! Aborting execution")
    );
}

#[tokio::test]
async fn falsy_result_warns_and_passes_an_empty_object() {
    let code = "export default [s => { s.data.t = 1; }, s => ({ keys: Object.keys(s) })];";
    let (result, logs) = run(code, json!({"data": {}})).await;
    assert_eq!(result.outcome.final_state.unwrap(), json!({"keys": []}));
    assert!(logs.iter().any(|r| r.message() == "WARNING: No state was passed into operation 2. Did the previous operation return state?"));
    let (result, _) = run("export default [s => undefined];", json!({})).await;
    assert_eq!(result.outcome.exit_reason, ExitReason::Success);
    assert_eq!(result.outcome.final_state, None);
}

#[tokio::test]
async fn defer_from_openfn_runtime_catches_and_chains() {
    let code = "import { defer as _defer } from '@openfn/runtime';\nexport default [_defer(s => { throw new Error('x'); }, p => p.then(s => ({ ...s, thenRan: true })), (e, s) => ({ ...s, caught: e.message }))];";
    let (result, _) = run(code, json!({"data": {}})).await;
    assert_eq!(
        result.outcome.final_state.unwrap(),
        json!({"data": {}, "caught": "x"})
    );
}

#[tokio::test]
async fn jobs_cannot_import_bolt_internals_or_unknown_modules() {
    for code in [
        "import p from 'bolt:prelude';\nexport default [s => s];",
        "import x from 'node:fs';\nexport default [s => s];",
    ] {
        let (result, _) = run(code, json!({})).await;
        assert_eq!(result.outcome.exit_reason, ExitReason::Crash, "{code}");
    }
}
