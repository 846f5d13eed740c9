//! Running compiled jobs and workflows in QuickJS.
//!
//! - [`step`]: one step in a fresh context with OpenFn's sandbox.
//! - [`workflow`]: plan traversal, edge conditions, results.
//! - [`errors`]: OpenFn's error classification; [`logs`]: log records and their formats.
//! - [`cli`]: `bolt execute` (plan loading, output, exit codes), used by the `bolt` binary.
//!
//! Every step gets a fresh QuickJS context; the runtime under it is reused from the previous
//! step on the same thread when that step left nothing behind ([`warm`]), and plans run on
//! engine worker threads kept between runs ([`pool`]). The prelude (`js/prelude.js`) builds
//! OpenFn's sandbox globals, the operation loop and the final-state cleaning; the prelude,
//! `Buffer` and language-common are QuickJS bytecode compiled at build time. npm adaptor
//! packages are loaded by [`packages`] (module names, CommonJS, cached bytecode) on top of
//! `crate::packages` (resolution inside an install).
//!
//! Known differences from OpenFn's Node runtime:
//! - adaptor module state (common's cursor key/start, validate's schema cache) does not carry
//!   over from one step to the next, since each step loads the adaptors afresh;
//! - QuickJS has no `Intl`, so locale-dependent formatting (`toLocaleString`) differs;
//! - error messages are QuickJS's, rewritten to V8's wording for the common cases (property
//!   reads/writes of undefined/null, "x is not a function", invalid array length, JSON.parse
//!   positions); error stacks in logs show the job position and adaptor frames only;
//! - edge conditions are evaluated without a `console`;
//! - npm adaptor code runs in the job's context (OpenFn runs it in Node's own realm), so
//!   code generation from strings is refused there too (ajv's schema compiler, lodash's
//!   `_.template`), and its `console` is the job's, whose lines it writes are told apart
//!   by the calling module and printed as adaptor output.

pub(crate) mod adaptor_bridge;
pub mod cli;
pub mod conditions;
pub mod errors;
mod loader;
pub mod logs;
pub mod packages;
pub mod pool;
pub mod prepare;
pub mod state;
pub mod step;
pub mod warm;
pub mod workflow;

pub use crate::CancelToken;
use crate::{EngineEvent, Limits, Plan, RunOutcome};
use bolt_shared::model::ExitReason;
use logs::{LogRecord, LogSink, LogSource};
use std::sync::Arc;

/// How a plan is run.
#[derive(Clone, Default)]
pub struct RunOptions {
    pub limits: Limits,
    pub cancel: CancelToken,
    /// Clone state before each operation (OpenFn `--immutable`).
    pub immutable: bool,
    /// Stop after this step (OpenFn `--end`/`--only`).
    pub end: Option<String>,
    pub compile: prepare::CompileMode,
    /// Steps compiled in advance (by id); others are compiled when first run.
    pub prepared: Option<Arc<std::collections::HashMap<String, prepare::PreparedJob>>>,
    /// Drop `response` from step outputs too, as OpenFn's worker (Lightning) does; the CLI keeps it.
    pub worker_mode: bool,
    /// Where npm adaptors come from (installed ones, local package directories).
    pub adaptors: crate::adaptors::choice::AdaptorSources,
}

/// Where step events and log records go.
#[derive(Clone)]
pub struct EventSink {
    on_log: LogSink,
    on_event: Arc<dyn Fn(EngineEvent) + Send + Sync>,
}

impl EventSink {
    pub fn new(on_log: LogSink, on_event: Arc<dyn Fn(EngineEvent) + Send + Sync>) -> Self {
        EventSink { on_log, on_event }
    }

    /// Everything as [`EngineEvent`]s on a channel (the daemon's view). Spacer lines are dropped.
    pub fn channel(tx: tokio::sync::mpsc::UnboundedSender<EngineEvent>) -> Self {
        let log_tx = tx.clone();
        EventSink {
            on_log: Arc::new(move |record: LogRecord| {
                if record.source == LogSource::Spacer {
                    return;
                }
                let _ = log_tx.send(EngineEvent::Log {
                    step_id: record.step_id.clone(),
                    source: record.source.as_str().to_string(),
                    level: record.level.stored(),
                    message: record.message(),
                    time: record.time,
                });
            }),
            on_event: Arc::new(move |event| {
                let _ = tx.send(event);
            }),
        }
    }

    /// [`EventSink::channel`], each event first passing `gate` (see [`crate::EventGate`]).
    pub fn gated_channel(
        tx: tokio::sync::mpsc::UnboundedSender<EngineEvent>,
        gate: Arc<crate::EventGate>,
    ) -> Self {
        let plain = Self::channel(tx);
        let log_gate = gate.clone();
        let (on_log, on_event) = (plain.on_log, plain.on_event);
        EventSink {
            on_log: Arc::new(move |record: LogRecord| {
                if record.source == LogSource::Spacer {
                    return;
                }
                log_gate.enter();
                on_log(record)
            }),
            on_event: Arc::new(move |event| {
                gate.enter();
                on_event(event)
            }),
        }
    }

    pub fn log(&self, record: LogRecord) {
        (self.on_log)(record)
    }

    pub fn event(&self, event: EngineEvent) {
        (self.on_event)(event)
    }

    pub fn log_sink(&self) -> LogSink {
        self.on_log.clone()
    }
}

/// Runs a plan on an engine worker thread ([`pool`]) with its own current-thread tokio runtime.
pub async fn run_on_engine_thread(
    plan: Plan,
    input: serde_json::Value,
    options: RunOptions,
    sink: EventSink,
) -> RunOutcome {
    run_plan_detailed(plan, input, options, sink).await.outcome
}

/// Like [`run_on_engine_thread`], with the abort error and failure count.
pub async fn run_plan_detailed(
    plan: Plan,
    input: serde_json::Value,
    options: RunOptions,
    sink: EventSink,
) -> workflow::PlanResult {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let submitted = pool::submit(Box::new(move |event_loop: &tokio::runtime::Runtime| {
        let result = event_loop.block_on(workflow::run_plan(&plan, input, &options, &sink));
        Box::new(move || {
            let _ = tx.send(result);
        })
    }));
    let failed = |message: String| workflow::PlanResult {
        outcome: RunOutcome {
            exit_reason: ExitReason::Exception,
            error_type: Some("EngineError".into()),
            error_message: Some(message),
            final_state: None,
        },
        abort: None,
        failed_steps: 0,
    };
    if let Err(e) = submitted {
        return failed(format!("could not start the engine thread: {e}"));
    }
    rx.await
        .unwrap_or_else(|_| failed("the engine thread stopped unexpectedly".into()))
}

/// Runs a plan on the calling thread (which must not be inside a tokio runtime).
pub fn run_plan_blocking(
    plan: &Plan,
    input: serde_json::Value,
    options: &RunOptions,
    sink: &EventSink,
) -> workflow::PlanResult {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(async {
            let result = workflow::run_plan(plan, input, options, sink).await;
            warm::finish_retired().await;
            result
        }),
        Err(e) => workflow::PlanResult {
            outcome: RunOutcome {
                exit_reason: ExitReason::Exception,
                error_type: Some("EngineError".into()),
                error_message: Some(format!("could not start the engine's event loop: {e}")),
                final_state: None,
            },
            abort: None,
            failed_steps: 0,
        },
    }
}
