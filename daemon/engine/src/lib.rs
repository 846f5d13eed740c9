//! The OpenFn-compatible job engine: compiles job code like OpenFn's compiler, runs it in
//! embedded QuickJS with OpenFn's sandbox and state rules, with language-common and
//! language-http built in and any other adaptor run from its installed npm package
//! ([`packages`], [`adaptors::choice`]). Knows nothing of SQLite, sockets or HTTP servers.
//!
//! [`execute`] runs a whole plan on an engine worker thread (with its own current-thread
//! tokio runtime and an 8 MiB stack; workers are kept between runs), so it can be awaited
//! from any tokio runtime and a runaway job never blocks the caller's workers.

pub mod adaptors;
pub mod compiler;
mod gate;
pub mod node;
pub mod packages;
pub mod runtime;

pub use gate::EventGate;
pub use runtime::cli;

use bolt_shared::model::{ExitReason, LogLevel};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A workflow to run: steps and where to start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub steps: Vec<PlanStep>,
    /// The first step (default: the first in `steps`).
    pub start: Option<String>,
    /// The workflow's globals: ES module source whose exports every step sees as globals
    /// (OpenFn's `workflow.globals`).
    pub globals: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanStep {
    pub id: String,
    pub name: Option<String>,
    /// Job source; `None` for a trigger-like step that passes its input through.
    pub expression: Option<String>,
    /// e.g. `@openfn/language-common@3.3.4`, `common`, `http`, `openmrs@5.5.0`.
    pub adaptor: Option<String>,
    /// Further adaptors of the step, after `adaptor` (OpenFn's `adaptors: [...]`, e.g. the
    /// collections adaptor next to the job's own).
    pub adaptors: Vec<String>,
    pub configuration: Option<serde_json::Value>,
    pub state: Option<serde_json::Value>,
    pub next: Vec<PlanEdge>,
}

impl PlanStep {
    /// Every adaptor the step names, `adaptor` first, each once.
    pub fn adaptor_specs(&self) -> Vec<&str> {
        let mut specs: Vec<&str> = Vec::new();
        for spec in self.adaptor.iter().chain(self.adaptors.iter()) {
            if !specs.contains(&spec.as_str()) {
                specs.push(spec);
            }
        }
        specs
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanEdge {
    pub target: String,
    pub condition: EdgeCondition,
    pub disabled: bool,
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EdgeCondition {
    Always,
    OnJobSuccess,
    OnJobFailure,
    /// A JS expression over `state` (the upstream output) and `upstreamStepId`.
    Expression(String),
    /// Never followed (OpenFn: an edge object without a condition).
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Per step, as OpenFn's `--timeout`.
    pub step_timeout: Duration,
    /// QuickJS heap limit per step.
    pub memory_bytes: usize,
    /// Largest final state (serialized JSON) a step may produce.
    pub max_state_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            step_timeout: Duration::from_millis(300_000),
            memory_bytes: 500 * 1024 * 1024,
            max_state_bytes: 500 * 1024 * 1024,
        }
    }
}

/// Cancels a running plan: the running step is interrupted and the run ends with `cancel`.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<CancelInner>);

#[derive(Debug, Default)]
struct CancelInner {
    cancelled: AtomicBool,
    notify: tokio::sync::Notify,
}

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// Resolves once [`CancelToken::cancel`] has been called.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.0.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    StepStarted {
        step_id: String,
        job_id: String,
        input: serde_json::Value,
    },
    Log {
        step_id: Option<String>,
        /// "JOB", "R/T", "ADA", "CLI".
        source: String,
        level: LogLevel,
        message: String,
        time: chrono::DateTime<chrono::Utc>,
    },
    StepFinished {
        step_id: String,
        job_id: String,
        exit_reason: ExitReason,
        error_type: Option<String>,
        error_message: Option<String>,
        output: Option<serde_json::Value>,
        duration: Duration,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    pub exit_reason: ExitReason,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    pub final_state: Option<serde_json::Value>,
}

/// Runs a whole plan with the worker's (Lightning's) state rules: `configuration` and
/// `response` are dropped from step outputs. Events (step start/finish, every log line)
/// are sent as they happen. Steps may use the npm adaptors `adaptors` names (boltd passes
/// its data dir's installed adaptors).
pub async fn execute(
    plan: Plan,
    input: serde_json::Value,
    limits: Limits,
    adaptors: adaptors::choice::AdaptorSources,
    events: tokio::sync::mpsc::UnboundedSender<EngineEvent>,
    cancel: CancelToken,
) -> RunOutcome {
    let options = runtime::RunOptions {
        limits,
        cancel,
        worker_mode: true,
        adaptors,
        ..runtime::RunOptions::default()
    };
    runtime::run_on_engine_thread(plan, input, options, runtime::EventSink::channel(events)).await
}

/// [`execute`], with a job that sends events faster than the receiver takes them (it calls
/// [`EventGate::taken`] for each) made to wait.
pub async fn execute_gated(
    plan: Plan,
    input: serde_json::Value,
    limits: Limits,
    adaptors: adaptors::choice::AdaptorSources,
    events: tokio::sync::mpsc::UnboundedSender<EngineEvent>,
    cancel: CancelToken,
    gate: Arc<EventGate>,
) -> RunOutcome {
    let options = runtime::RunOptions {
        limits,
        cancel,
        worker_mode: true,
        adaptors,
        ..runtime::RunOptions::default()
    };
    let sink = runtime::EventSink::gated_channel(events, gate);
    runtime::run_on_engine_thread(plan, input, options, sink).await
}
