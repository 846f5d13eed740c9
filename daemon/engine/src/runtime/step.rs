//! Runs one step: a fresh QuickJS runtime and context with OpenFn's sandbox, the job module
//! evaluated, its operations awaited in sequence, and the result cleaned — or the error
//! classified, with the input state as mutated.

use super::CancelToken;
use super::adaptor_bridge;
use super::errors::{
    self, ErrorContext, OperationInfo, PositionMapper, Severity, StepError, ThrownInfo,
};
use super::loader;
use super::logs::{Level, LogArg, LogRecord, LogSink, LogSource};
use super::packages;
use super::warm;
use rquickjs::function::Async;
use rquickjs::module::Module;
use rquickjs::{
    AsyncContext, AsyncRuntime, CatchResultExt, CaughtError, Ctx, Function, Object, Promise, Value,
};
use serde_json::Value as Json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// The module name the job is evaluated under; stack frames carry it.
pub const JOB_MODULE: &str = "job.js";
/// The module name of the workflow's globals (OpenFn's `workflow.globals`).
pub const GLOBALS_MODULE: &str = "globals.js";
const PRELUDE_NAME: &str = loader::PRELUDE_MODULE;
/// QuickJS stack budget; generous, but well inside the engine thread's stack.
const MAX_STACK_BYTES: usize = 1024 * 1024;

const NOT_INTERRUPTED: u8 = 0;
const INTERRUPT_TIMEOUT: u8 = 1;
const INTERRUPT_CANCEL: u8 = 2;

/// Everything a step needs.
pub struct StepRequest {
    pub step_id: String,
    /// The compiled ES module.
    pub code: String,
    pub positions: Option<Arc<dyn PositionMapper>>,
    pub operations: Vec<OperationInfo>,
    /// The assembled input state.
    pub input: Json,
    pub immutable: bool,
    /// Top-level keys dropped from the final state (`configuration`; the worker adds `response`).
    pub remove_props: Vec<String>,
    pub timeout: Duration,
    pub memory_bytes: usize,
    pub max_state_bytes: usize,
    pub cancel: CancelToken,
    pub sink: LogSink,
    /// The step's npm adaptors (`None`: built-in adaptors only).
    pub packages: Option<Arc<packages::StepPackages>>,
    /// The workflow's globals: an ES module evaluated before the job, each export of which
    /// every step sees as a global (as OpenFn's `workflow.globals`).
    pub globals: Option<Arc<str>>,
}

/// How a step ended.
#[derive(Debug)]
pub enum StepOutcome {
    /// The cleaned final state (`None`: the job returned nothing).
    Success { output: Option<Json> },
    /// A fail-severity error; `state` already carries `errors[stepId]`.
    Failed { state: Json, error: StepError },
    /// Crash, kill or cancel: the run stops.
    Aborted { error: StepError },
}

pub async fn run_step(req: StepRequest) -> StepOutcome {
    warm::start_noting_modules();
    let reason = Arc::new(AtomicU8::new(NOT_INTERRUPTED));
    let deadline = Instant::now() + req.timeout;
    let (warm, context) = match ready_context().await {
        Ok(ready) => ready,
        Err(outcome) => return outcome,
    };
    set_limits(&warm.runtime, &req, deadline, reason.clone()).await;
    // The loader serves this step's npm packages while it runs.
    let _packages = req.packages.clone().map(packages::enter);
    let request = &req;
    let interrupt = reason.clone();
    let work = context
        .async_with(async move |ctx| run_in_context(ctx, request, &interrupt, deadline).await);
    let outcome = tokio::select! {
        outcome = work => outcome,
        _ = tokio::time::sleep_until(deadline.into()) => timeout_error(&req),
        _ = req.cancel.cancelled() => cancel_error(),
    };
    let reusable = runtime_reusable(&outcome);
    warm::retire(warm, context, reusable).await;
    outcome
}

/// The context prepared in advance on this thread, or a new one.
async fn ready_context() -> Result<(warm::WarmRuntime, AsyncContext), StepOutcome> {
    if let Some(prepared) = warm::take_prepared().await {
        return Ok((prepared.warm, prepared.context));
    }
    let warm = warm::take().await.map_err(|e| {
        aborted(
            Severity::Crash,
            "RuntimeCrash",
            format!("could not start the JavaScript runtime: {e}"),
        )
    })?;
    let context = AsyncContext::full(&warm.runtime).await.map_err(|e| {
        aborted(
            Severity::Crash,
            "RuntimeCrash",
            format!("could not create a JavaScript context: {e}"),
        )
    })?;
    Ok((warm, context))
}

/// Per-step limits, set on a new or reused runtime alike.
async fn set_limits(
    runtime: &AsyncRuntime,
    req: &StepRequest,
    deadline: Instant,
    reason: Arc<AtomicU8>,
) {
    runtime.set_memory_limit(req.memory_bytes).await;
    runtime.set_max_stack_size(MAX_STACK_BYTES).await;
    let cancel = req.cancel.clone();
    runtime
        .set_interrupt_handler(Some(Box::new(move || {
            if cancel.is_cancelled() {
                reason.store(INTERRUPT_CANCEL, Ordering::SeqCst);
                true
            } else if Instant::now() >= deadline {
                reason.store(INTERRUPT_TIMEOUT, Ordering::SeqCst);
                true
            } else {
                false
            }
        })))
        .await;
}

/// A runtime whose step was killed or cancelled is never reused: it may have run out of
/// memory mid-operation or hold the half-finished work of an interrupted job.
fn runtime_reusable(outcome: &StepOutcome) -> bool {
    match outcome {
        StepOutcome::Success { .. } | StepOutcome::Failed { .. } => true,
        StepOutcome::Aborted { error } => error.severity == Severity::Crash,
    }
}

fn aborted(severity: Severity, name: &str, message: String) -> StepOutcome {
    StepOutcome::Aborted {
        error: StepError::engine(severity, name, message),
    }
}

fn timeout_error(req: &StepRequest) -> StepOutcome {
    let ms = req.timeout.as_millis();
    aborted(
        Severity::Kill,
        "TimeoutError",
        format!("Job took longer than {ms}ms to complete"),
    )
}

fn cancel_error() -> StepOutcome {
    aborted(
        Severity::Cancel,
        "CancelError",
        "The run was cancelled".to_string(),
    )
}

/// A failure inside the context: a thrown JS value, or an engine-made error.
enum Thrown<'js> {
    Value(Value<'js>),
    Engine(Box<StepError>),
}

fn caught<'js>(ctx: &Ctx<'js>, error: CaughtError<'js>) -> Thrown<'js> {
    match error {
        CaughtError::Exception(e) => Thrown::Value(e.into_value()),
        CaughtError::Value(v) => Thrown::Value(v),
        CaughtError::Error(rquickjs::Error::Allocation) => {
            Thrown::Engine(Box::new(StepError::engine(
                Severity::Kill,
                "OOMError",
                "Run exceeded maximum memory usage",
            )))
        }
        CaughtError::Error(e) => {
            let _ = ctx;
            Thrown::Engine(Box::new(StepError::engine(
                Severity::Crash,
                "RuntimeCrash",
                e.to_string(),
            )))
        }
    }
}

/// The prelude's internals, kept while the step runs.
pub(crate) struct Internals<'js> {
    object: Object<'js>,
}

impl<'js> Internals<'js> {
    fn func(&self, name: &str) -> rquickjs::Result<Function<'js>> {
        self.object.get(name)
    }
}

async fn run_in_context<'js>(
    ctx: Ctx<'js>,
    req: &StepRequest,
    reason: &AtomicU8,
    deadline: Instant,
) -> StepOutcome {
    let cx = ErrorContext {
        step_id: &req.step_id,
        code: &req.code,
        job_module: JOB_MODULE,
        positions: req.positions.as_deref(),
        operations: &req.operations,
    };
    let internals = match install_sandbox(&ctx, req, deadline).await.catch(&ctx) {
        Ok(i) => i,
        Err(e) => {
            return aborted(
                Severity::Crash,
                "RuntimeCrash",
                format!("sandbox setup failed: {e}"),
            );
        }
    };
    let input =
        match ctx.json_parse(serde_json::to_string(&req.input).unwrap_or_else(|_| "{}".into())) {
            Ok(v) => v,
            Err(e) => {
                return aborted(
                    Severity::Crash,
                    "RuntimeCrash",
                    format!("invalid input state: {e}"),
                );
            }
        };
    let _ = ctx.globals().set("state", input.clone());

    let result = evaluate_job(&ctx, req, &internals, input.clone()).await;
    let thrown = match result {
        Ok(value) => return success(&ctx, req, &internals, value, reason),
        Err(thrown) => thrown,
    };
    match reason.load(Ordering::SeqCst) {
        INTERRUPT_TIMEOUT => return timeout_error(req),
        INTERRUPT_CANCEL => return cancel_error(),
        _ => {}
    }
    let error = match thrown {
        Thrown::Engine(error) => *error,
        Thrown::Value(value) => describe(&ctx, &internals, value, &cx),
    };
    if error.severity != Severity::Fail {
        return StepOutcome::Aborted { error };
    }
    let state = cleaned(&ctx, &internals, input)
        .ok()
        .flatten()
        .and_then(|text| serde_json::from_str::<Json>(&text).ok())
        .unwrap_or_else(|| req.input.clone());
    StepOutcome::Failed {
        state: with_error(state, &req.step_id, &error),
        error,
    }
}

/// Adds `errors[stepId]`, keeping the position of an existing `errors` key.
pub fn with_error(mut state: Json, step_id: &str, error: &StepError) -> Json {
    if let Json::Object(map) = &mut state {
        let errors = map
            .entry("errors")
            .or_insert_with(|| Json::Object(Default::default()));
        if !errors.is_object() {
            *errors = Json::Object(Default::default());
        }
        if let Json::Object(errors) = errors {
            errors.insert(step_id.to_string(), error.serialized.clone());
        }
    }
    state
}

fn success<'js>(
    ctx: &Ctx<'js>,
    req: &StepRequest,
    internals: &Internals<'js>,
    value: Value<'js>,
    reason: &AtomicU8,
) -> StepOutcome {
    let text = match cleaned(ctx, internals, value) {
        Ok(text) => text,
        Err(thrown) => {
            // Serialising a huge output can run past the step's limit (or a cancel):
            // QuickJS then stops it with an "interrupted" error that is not the job's.
            match reason.load(Ordering::SeqCst) {
                INTERRUPT_TIMEOUT => return timeout_error(req),
                INTERRUPT_CANCEL => return cancel_error(),
                _ => {}
            }
            let cx = ErrorContext {
                step_id: &req.step_id,
                code: &req.code,
                job_module: JOB_MODULE,
                positions: None,
                operations: &[],
            };
            let error = match thrown {
                Thrown::Engine(e) => *e,
                Thrown::Value(v) => describe(ctx, internals, v, &cx),
            };
            return StepOutcome::Aborted { error };
        }
    };
    let Some(text) = text else {
        return StepOutcome::Success { output: None };
    };
    if text.len() > req.max_state_bytes {
        let mb = req.max_state_bytes / (1024 * 1024);
        return aborted(
            Severity::Kill,
            "StateTooLargeError",
            format!("State exceeds the limit of {mb}mb"),
        );
    }
    match serde_json::from_str(&text) {
        Ok(output) => StepOutcome::Success {
            output: Some(output),
        },
        Err(e) => aborted(
            Severity::Crash,
            "RuntimeCrash",
            format!("final state is not JSON: {e}"),
        ),
    }
}

/// The prelude's cleaning: `None` for "no state", else the JSON text.
fn cleaned<'js>(
    ctx: &Ctx<'js>,
    internals: &Internals<'js>,
    value: Value<'js>,
) -> Result<Option<String>, Thrown<'js>> {
    let final_state = internals
        .func("finalState")
        .catch(ctx)
        .map_err(|e| caught(ctx, e))?;
    final_state
        .call::<_, Option<String>>((value,))
        .catch(ctx)
        .map_err(|e| caught(ctx, e))
}

fn describe<'js>(
    ctx: &Ctx<'js>,
    internals: &Internals<'js>,
    value: Value<'js>,
    cx: &ErrorContext<'_>,
) -> StepError {
    let info = internals
        .func("errorInfo")
        .and_then(|f| f.call::<_, Value>((value,)))
        .ok()
        .and_then(|v| ctx.json_stringify(v).ok().flatten())
        .and_then(|s| s.to_string().ok())
        .and_then(|s| serde_json::from_str::<ThrownInfo>(&s).ok());
    match info {
        Some(info) => errors::classify(&info, cx),
        None => StepError::engine(
            Severity::Kill,
            "OOMError",
            "Run exceeded maximum memory usage",
        ),
    }
}

pub(crate) async fn install_sandbox<'js>(
    ctx: &Ctx<'js>,
    req: &StepRequest,
    deadline: Instant,
) -> rquickjs::Result<Internals<'js>> {
    let namespace: Object = Module::import(ctx, PRELUDE_NAME)?.into_future().await?;
    let make_sandbox: Function = namespace.get("default")?;

    let host = Object::new(ctx.clone())?;
    host.set("jobModuleName", JOB_MODULE)?;
    // `Buffer` is loaded when a job first reads it: a getter can't await an import.
    host.set(
        "loadBuffer",
        warm::host_function(ctx, |ctx: Ctx<'js>| {
            loader::evaluate_now(&ctx, loader::BUFFER_MODULE)
        })?,
    )?;
    host.set("statePropsToRemove", req.remove_props.clone())?;
    let cancel = req.cancel.clone();
    host.set(
        "expired",
        warm::host_function(ctx, move || {
            cancel.is_cancelled() || Instant::now() >= deadline
        })?,
    )?;
    host.set("preludeName", PRELUDE_NAME)?;
    let sink = req.sink.clone();
    let step_id = req.step_id.clone();
    host.set(
        "jobLog",
        warm::host_function(ctx, move |level: String, args: String| {
            emit_console(&sink, &step_id, LogSource::Job, &level, &args);
        })?,
    )?;
    if req.packages.is_some() {
        // npm adaptors' console lines: formatted like Node's, printed as adaptor output.
        host.set(
            "loadFormatArgs",
            warm::host_function(ctx, |ctx: Ctx<'js>| packages::format_args_function(&ctx))?,
        )?;
        host.set("adaptorPrint", adaptor_print(ctx, req)?)?;
    }
    let sink = req.sink.clone();
    let step_id = req.step_id.clone();
    host.set(
        "runtimeLog",
        warm::host_function(ctx, move |level: String, message: String| {
            (sink)(LogRecord::text(
                Some(&step_id),
                LogSource::Runtime,
                Level::parse(&level),
                message,
            ));
        })?,
    )?;
    host.set(
        "sleep",
        warm::host_function(
            ctx,
            Async(|ms: f64| async move {
                let ms = if ms.is_finite() && ms > 0.0 {
                    ms as u64
                } else {
                    0
                };
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }),
        ),
    )?;
    let internals: Object = make_sandbox.call((host,))?;

    // Host functions for adaptor code; `print` is the raw console adaptors write to.
    let bolt_host = Object::new(ctx.clone())?;
    bolt_host.set("print", adaptor_print(ctx, req)?)?;
    adaptor_bridge::install_host(ctx, &bolt_host)?;
    define_hidden(ctx, "__bolt_host", bolt_host.into_value())?;

    let runtime = Object::new(ctx.clone())?;
    runtime.set("defer", internals.get::<_, Value>("defer")?)?;
    define_hidden(ctx, "__bolt_runtime", runtime.into_value())?;
    Ok(Internals { object: internals })
}

/// `print(level, line)`: a raw line of adaptor output.
fn adaptor_print<'js>(ctx: &Ctx<'js>, req: &StepRequest) -> rquickjs::Result<Function<'js>> {
    let sink = req.sink.clone();
    let step_id = req.step_id.clone();
    warm::host_function(ctx, move |level: String, line: String| {
        let level = if level == "log" {
            Level::Info
        } else {
            Level::parse(&level)
        };
        (sink)(LogRecord::text(
            Some(&step_id),
            LogSource::Adaptor,
            level,
            line,
        ));
    })
}

fn define_hidden<'js>(ctx: &Ctx<'js>, name: &str, value: Value<'js>) -> rquickjs::Result<()> {
    let object_ctor: Object = ctx.globals().get("Object")?;
    let define: Function = object_ctor.get("defineProperty")?;
    let descriptor = Object::new(ctx.clone())?;
    descriptor.set("value", value)?;
    descriptor.set("enumerable", false)?;
    define.call::<_, Value>((ctx.globals(), name, descriptor))?;
    Ok(())
}

fn emit_console(sink: &LogSink, step_id: &str, source: LogSource, level: &str, args: &str) {
    let descriptors: Vec<Json> = serde_json::from_str(args).unwrap_or_default();
    (sink)(LogRecord {
        step_id: Some(step_id.to_string()),
        source,
        level: Level::parse(level),
        args: descriptors.iter().map(LogArg::from_descriptor).collect(),
        time: chrono::Utc::now(),
    });
}

/// Evaluates the job module and runs its operations; the resolved step result.
async fn evaluate_job<'js>(
    ctx: &Ctx<'js>,
    req: &StepRequest,
    internals: &Internals<'js>,
    input: Value<'js>,
) -> Result<Value<'js>, Thrown<'js>> {
    // Adaptors load before code generation is locked down (bundled libraries probe `Function`).
    let globals_imports = req
        .globals
        .as_deref()
        .map(imported_adaptors)
        .unwrap_or_default();
    for name in imported_adaptors(&req.code)
        .into_iter()
        .chain(globals_imports)
    {
        let promise = Module::import(ctx, name.clone())
            .catch(ctx)
            .map_err(|e| caught(ctx, e))?;
        settle(ctx, promise).await?;
    }
    for adaptor in req.packages.iter().flat_map(|p| p.adaptors.iter()) {
        let loaded = match Module::import(ctx, adaptor.name.clone()).catch(ctx) {
            Ok(promise) => promise.into_future::<Value>().await.catch(ctx).map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(error) = loaded {
            return Err(Thrown::Engine(Box::new(adaptor_load_error(
                ctx,
                &format!("{}@{}", adaptor.name, adaptor.version),
                error,
            ))));
        }
    }
    internals
        .func("lockdown")
        .and_then(|f| f.call::<_, ()>(()))
        .catch(ctx)
        .map_err(|e| caught(ctx, e))?;
    if let Some(globals) = &req.globals {
        evaluate_globals(ctx, globals, internals, input.clone()).await?;
    }

    let module = Module::declare(ctx.clone(), JOB_MODULE, req.code.as_str())
        .catch(ctx)
        .map_err(|e| caught(ctx, e))?;
    let (module, evaluated) = module.eval().catch(ctx).map_err(|e| caught(ctx, e))?;
    settle(ctx, evaluated).await?;
    let namespace = module.namespace().catch(ctx).map_err(|e| caught(ctx, e))?;
    let run = internals
        .func("runOperations")
        .catch(ctx)
        .map_err(|e| caught(ctx, e))?;
    let promise: Promise = run
        .call((namespace, input, req.immutable))
        .catch(ctx)
        .map_err(|e| caught(ctx, e))?;
    settle(ctx, promise).await
}

/// Evaluates the workflow's globals module as OpenFn does for every step: in the step's
/// sandbox with an empty `state`, its exports then made frozen globals of the step. An
/// error says it came from the globals (`[globals] …`).
async fn evaluate_globals<'js>(
    ctx: &Ctx<'js>,
    source: &str,
    internals: &Internals<'js>,
    input: Value<'js>,
) -> Result<(), Thrown<'js>> {
    let tagged = |thrown: Thrown<'js>| -> Thrown<'js> {
        if let Thrown::Value(value) = &thrown
            && let Some(object) = value.as_object()
            && let Ok(message) = object.get::<_, String>("message")
        {
            let _ = object.set("message", format!("[globals] {message}"));
        }
        thrown
    };
    let empty = Object::new(ctx.clone())
        .catch(ctx)
        .map_err(|e| caught(ctx, e))?;
    let _ = ctx.globals().set("state", empty);
    let result = async {
        let module = Module::declare(ctx.clone(), GLOBALS_MODULE, source)
            .catch(ctx)
            .map_err(|e| caught(ctx, e))?;
        let (module, evaluated) = module.eval().catch(ctx).map_err(|e| caught(ctx, e))?;
        settle(ctx, evaluated).await?;
        let namespace = module.namespace().catch(ctx).map_err(|e| caught(ctx, e))?;
        internals
            .func("installGlobals")
            .and_then(|f| f.call::<_, ()>((namespace,)))
            .catch(ctx)
            .map_err(|e| caught(ctx, e))
    }
    .await;
    let _ = ctx.globals().set("state", input);
    result.map_err(tagged)
}

/// An npm adaptor that fails to load (a missing file, an unsupported built-in, code that
/// throws): the step crashes with an ImportError naming the package and the cause.
fn adaptor_load_error<'js>(ctx: &Ctx<'js>, adaptor: &str, error: CaughtError<'js>) -> StepError {
    let cause = match &error {
        CaughtError::Exception(e) => {
            let name: Option<String> = e.as_object().get("name").ok();
            let message = e.message().unwrap_or_default();
            match name.as_deref() {
                Some("ImportError") | None => message,
                Some(name) => format!("{name}: {message}"),
            }
        }
        CaughtError::Value(v) => ctx
            .json_stringify(v.clone())
            .ok()
            .flatten()
            .and_then(|s| s.to_string().ok())
            .unwrap_or_else(|| "a value that is not an Error".into()),
        CaughtError::Error(e) => e.to_string(),
    };
    let stack = match &error {
        CaughtError::Exception(e) => e.stack(),
        _ => None,
    };
    let mut error = StepError::engine(
        Severity::Crash,
        "ImportError",
        format!("Failed to load adaptor {adaptor}: {cause}"),
    );
    if let Some(frame) = stack
        .as_deref()
        .and_then(|s| s.lines().find(|l| l.trim_start().starts_with("at ")))
    {
        error
            .report
            .push(errors::ReportLine::Text(format!("    {}", frame.trim())));
    }
    error
}

async fn settle<'js>(ctx: &Ctx<'js>, promise: Promise<'js>) -> Result<Value<'js>, Thrown<'js>> {
    promise
        .into_future::<Value>()
        .await
        .catch(ctx)
        .map_err(|e| caught(ctx, e))
}

/// Adaptor modules the compiled code imports (by a quoted module specifier).
fn imported_adaptors(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for quote in ['"', '\''] {
        let prefix = format!("{quote}@openfn/language-");
        let mut rest = code;
        while let Some(at) = rest.find(&prefix) {
            let tail = &rest[at + 1..];
            if let Some(end) = tail.find(quote) {
                let name = loader::module_base_name(&tail[..end]).to_string();
                if adaptor_bridge::importable_by_jobs(&name) && !found.contains(&name) {
                    found.push(name);
                }
            }
            rest = &rest[at + prefix.len()..];
        }
    }
    found
}
