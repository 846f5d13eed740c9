//! Runs on the same thread reuse its QuickJS runtime (never its context): nothing one run
//! does may be visible to the next, and a run that was killed must not spoil the next one.
//! Each test drives `run_plan_blocking` on one thread, so every run lands on that thread's
//! spare runtime.

#![allow(clippy::unwrap_used)]

use bolt_engine::runtime::logs::LogRecord;
use bolt_engine::runtime::prepare::CompileMode;
use bolt_engine::runtime::workflow::PlanResult;
use bolt_engine::runtime::{EventSink, RunOptions, run_plan_blocking, warm};
use bolt_engine::{CancelToken, EngineEvent, Limits, Plan, PlanStep};
use bolt_shared::model::ExitReason;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn limits(timeout_ms: u64) -> Limits {
    Limits {
        step_timeout: Duration::from_millis(timeout_ms),
        memory_bytes: 64 * 1024 * 1024,
        max_state_bytes: 8 * 1024 * 1024,
    }
}

fn run(expression: &str, adaptor: Option<&str>, limits: Limits) -> PlanResult {
    let plan = Plan {
        steps: vec![PlanStep {
            id: "job-1".into(),
            expression: Some(expression.into()),
            adaptor: adaptor.map(str::to_string),
            ..PlanStep::default()
        }],
        start: None,
        globals: None,
    };
    let options = RunOptions {
        limits,
        compile: if adaptor.is_some() {
            CompileMode::Compile
        } else {
            CompileMode::AsIs
        },
        ..RunOptions::default()
    };
    let sink = EventSink::new(Arc::new(|_: LogRecord| {}), Arc::new(|_| {}));
    run_plan_blocking(&plan, json!({"data": {}}), &options, &sink)
}

fn output(result: &PlanResult) -> Value {
    assert_eq!(
        result.outcome.exit_reason,
        ExitReason::Success,
        "{:?}",
        result.outcome
    );
    result.outcome.final_state.clone().unwrap()
}

const NORMAL: &str = "export default [s => ({ data: { ok: true } })];";

/// Runs `f` on a thread of its own, so its spare runtime belongs to this test alone.
fn on_own_thread(f: impl FnOnce() + Send + 'static) {
    std::thread::spawn(f).join().unwrap();
}

#[test]
fn a_later_run_sees_none_of_the_globals_or_adaptor_changes_of_an_earlier_one() {
    on_own_thread(|| {
        let first = run(
            "fn(s => {
                globalThis.leaked = 'from run A';
                Object.prototype.polluted = 'from run A';
                Array.prototype.push = () => 'from run A';
                Math.max = () => 'from run A';
                fn.marked = 'from run A';
                dataValue.marked = 'from run A';
                Object.getPrototypeOf(globalThis.__bolt_host.print).viaHost = 'from run A';
                return { data: { ran: true } };
            });",
            Some("common"),
            limits(10_000),
        );
        assert_eq!(output(&first)["data"]["ran"], json!(true));
        assert!(
            warm::has_spare(),
            "the runtime must be kept, or this test proves nothing"
        );

        let second = run(
            "fn(s => {
                const a = [];
                a.push(1);
                return { data: {
                    leaked: typeof globalThis.leaked,
                    polluted: typeof ({}).polluted,
                    pushed: a.length,
                    max: Math.max(1, 2),
                    fnMarked: typeof fn.marked,
                    dataValueMarked: typeof dataValue.marked,
                    viaHost: typeof globalThis.__bolt_host.print.viaHost,
                    hostPrototypesOwn: [globalThis.__bolt_host.print, globalThis.__bolt_host.http,
                        globalThis.__bolt_host.jsonpath]
                        .every(f => Object.getPrototypeOf(f) === Function.prototype),
                } };
            });",
            Some("common"),
            limits(10_000),
        );
        assert_eq!(
            output(&second)["data"],
            json!({
                "leaked": "undefined",
                "polluted": "undefined",
                "pushed": 1,
                "max": 2,
                "fnMarked": "undefined",
                "dataValueMarked": "undefined",
                "viaHost": "undefined",
                "hostPrototypesOwn": true,
            })
        );
    });
}

#[test]
fn adaptor_module_state_starts_afresh_on_a_reused_runtime() {
    on_own_thread(|| {
        // `cursor` keeps its key in module state: a second run must not inherit it.
        let first = run(
            "cursor('2024-01-01', { key: 'since' });",
            Some("common"),
            limits(10_000),
        );
        let since = output(&first)["since"].clone();
        assert!(since.as_str().unwrap().starts_with("2024-01-01"), "{since}");
        assert!(warm::has_spare());
        let second = run(
            "cursor('2025-02-02'); fn(s => ({ keys: Object.keys(s).sort() }));",
            Some("common"),
            limits(10_000),
        );
        let keys = output(&second)["keys"].clone();
        assert!(
            keys.as_array().unwrap().contains(&json!("cursor")),
            "{keys}"
        );
        assert!(
            !keys.as_array().unwrap().contains(&json!("since")),
            "{keys}"
        );
    });
}

#[test]
fn a_memory_bomb_does_not_poison_the_next_run_on_the_same_thread() {
    on_own_thread(|| {
        assert_eq!(
            output(&run(NORMAL, None, limits(10_000)))["data"]["ok"],
            json!(true)
        );
        assert!(warm::has_spare());

        let bomb = run(
            "export default [s => { const a = []; while (true) a.push(new Array(100000).fill('x' + a.length)); }];",
            None,
            limits(20_000),
        );
        assert_eq!(
            bomb.outcome.exit_reason,
            ExitReason::Kill,
            "{:?}",
            bomb.outcome
        );
        assert_eq!(bomb.outcome.error_type.as_deref(), Some("OOMError"));
        assert!(!warm::has_spare(), "a killed run's runtime must be dropped");

        for _ in 0..3 {
            assert_eq!(
                output(&run(NORMAL, None, limits(10_000)))["data"]["ok"],
                json!(true)
            );
        }
        assert!(warm::has_spare());
    });
}

#[test]
fn a_timed_out_run_does_not_poison_the_next_run_on_the_same_thread() {
    on_own_thread(|| {
        assert_eq!(
            output(&run(NORMAL, None, limits(10_000)))["data"]["ok"],
            json!(true)
        );
        let spin = run(
            "export default [s => { while (true) {} }];",
            None,
            limits(200),
        );
        assert_eq!(spin.outcome.error_type.as_deref(), Some("TimeoutError"));
        assert!(!warm::has_spare());
        let hang = run(
            "export default [s => new Promise(() => {})];",
            None,
            limits(200),
        );
        assert_eq!(hang.outcome.error_type.as_deref(), Some("TimeoutError"));
        assert!(!warm::has_spare());
        assert_eq!(
            output(&run(NORMAL, None, limits(10_000)))["data"]["ok"],
            json!(true)
        );
    });
}

#[test]
fn deep_recursion_and_eval_leave_the_next_run_working() {
    on_own_thread(|| {
        let recursion = run(
            "const f = n => f(n + 1) + 1;\nexport default [s => f(0)];",
            None,
            limits(10_000),
        );
        assert_eq!(recursion.outcome.error_type.as_deref(), Some("RangeError"));
        assert_eq!(
            output(&run(NORMAL, None, limits(10_000)))["data"]["ok"],
            json!(true)
        );

        let eval = run("export default [s => eval('1 + 1')];", None, limits(10_000));
        assert_eq!(
            eval.outcome.exit_reason,
            ExitReason::Kill,
            "{:?}",
            eval.outcome
        );
        assert_eq!(
            output(&run(NORMAL, None, limits(10_000)))["data"]["ok"],
            json!(true)
        );
    });
}

#[test]
fn a_run_leaving_a_timer_behind_is_not_reused_and_its_timer_never_fires_later() {
    on_own_thread(|| {
        let first = run(
            "export default [s => { setTimeout(() => console.log('late timer from run A'), 50); return s; }];",
            None,
            limits(10_000),
        );
        assert_eq!(first.outcome.exit_reason, ExitReason::Success);
        assert!(
            !warm::has_spare(),
            "a runtime with pending work must not be kept"
        );

        let logs = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let seen = logs.clone();
        let sink = EventSink::new(
            Arc::new(move |record: LogRecord| seen.lock().unwrap().push(record.message())),
            Arc::new(|_| {}),
        );
        let plan = Plan {
            steps: vec![PlanStep {
                id: "job-1".into(),
                expression: Some(
                    "export default [s => new Promise(r => setTimeout(() => r(s), 150))];".into(),
                ),
                ..PlanStep::default()
            }],
            start: None,
            globals: None,
        };
        let options = RunOptions {
            limits: limits(10_000),
            compile: CompileMode::AsIs,
            ..RunOptions::default()
        };
        let second = run_plan_blocking(&plan, json!({}), &options, &sink);
        assert_eq!(second.outcome.exit_reason, ExitReason::Success);
        let logs = logs.lock().unwrap();
        assert!(
            !logs.iter().any(|line| line.contains("late timer")),
            "{logs:?}"
        );
    });
}

/// The daemon's path: `engine::execute` from a multi-threaded tokio runtime, run after run,
/// on pooled engine workers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_runs_many_times_in_sequence_and_survives_a_killed_run() {
    let plan = |expression: &str| Plan {
        steps: vec![PlanStep {
            id: "job-1".into(),
            expression: Some(expression.into()),
            adaptor: Some("common".into()),
            ..PlanStep::default()
        }],
        start: None,
        globals: None,
    };
    for i in 0..20 {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel::<EngineEvent>();
        let outcome = bolt_engine::execute(
            plan("fn(s => ({ data: { n: s.data.n + 1, seen: typeof globalThis.seen } })); fn(s => { globalThis.seen = 1; return s; });"),
            json!({"data": {"n": i}}),
            limits(10_000),
            Default::default(),
            tx,
            CancelToken::new(),
        )
        .await;
        assert_eq!(outcome.exit_reason, ExitReason::Success, "{outcome:?}");
        assert_eq!(
            outcome.final_state.unwrap()["data"],
            json!({"n": i + 1, "seen": "undefined"})
        );
        if i == 10 {
            let (tx, _rx) = tokio::sync::mpsc::unbounded_channel::<EngineEvent>();
            let killed = bolt_engine::execute(
                plan("fn(s => { const a = []; while (true) a.push(new Array(100000).fill('x' + a.length)); });"),
                json!({}),
                limits(10_000),
                Default::default(),
                tx,
                CancelToken::new(),
            )
            .await;
            assert_eq!(killed.error_type.as_deref(), Some("OOMError"), "{killed:?}");
        }
    }
}

/// Prepares this thread's next context the way an idle engine worker does.
fn prepare_here() {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(warm::prepare());
    assert!(warm::has_prepared());
}

#[test]
fn a_prepared_context_gives_jobs_openfns_sandbox_and_nothing_of_earlier_runs() {
    on_own_thread(|| {
        let first = run(
            "fn(s => { globalThis.leaked = 1; fn.marked = 1; return { data: { ran: true } }; });",
            Some("common"),
            limits(10_000),
        );
        assert_eq!(output(&first)["data"]["ran"], json!(true));
        let probe = "fn(s => ({ data: {
            leaked: typeof globalThis.leaked,
            marked: typeof fn.marked,
            consoleFrozen: Object.isFrozen(console),
            print: typeof globalThis.print,
            timers: typeof setTimeout + typeof setInterval,
            buffer: Buffer.from('aGk=', 'base64').toString(),
            evalDenied: (() => { try { eval('1'); return false; } catch (e) { return true; } })(),
        } }));";
        let expected = json!({
            "leaked": "undefined",
            "marked": "undefined",
            "consoleFrozen": true,
            "print": "undefined",
            "timers": "functionfunction",
            "buffer": "hi",
            "evalDenied": true,
        });
        prepare_here();
        let with_common = run(probe, Some("common"), limits(10_000));
        assert!(
            !warm::has_prepared(),
            "the run must use the prepared context"
        );
        assert_eq!(output(&with_common)["data"], expected);

        prepare_here();
        let http = run(
            "fn(s => ({ data: { get: typeof get, each: typeof each } }));",
            Some("http"),
            limits(10_000),
        );
        assert_eq!(
            output(&http)["data"],
            json!({"get": "function", "each": "function"})
        );

        prepare_here();
        let plain = run(
            "export default [s => ({ data: { leaked: typeof globalThis.leaked } })];",
            None,
            limits(10_000),
        );
        assert_eq!(output(&plain)["data"], json!({"leaked": "undefined"}));
    });
}

#[test]
fn a_memory_bomb_in_a_prepared_context_leaves_the_next_one_working() {
    on_own_thread(|| {
        prepare_here();
        let bomb = run(
            "export default [s => { const a = []; while (true) a.push(new Array(100000).fill('x' + a.length)); }];",
            None,
            limits(20_000),
        );
        assert_eq!(bomb.outcome.error_type.as_deref(), Some("OOMError"));
        assert!(!warm::has_spare());
        prepare_here();
        assert_eq!(
            output(&run(NORMAL, None, limits(10_000)))["data"]["ok"],
            json!(true)
        );
        assert!(warm::has_spare());
    });
}
