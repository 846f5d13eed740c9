//! `bolt execute`: OpenFn's `openfn execute` on bolt's engine. The `bolt` binary parses the
//! flags into [`ExecuteOptions`] and calls [`execute`]; tests call it in-process.

pub mod log_output;
pub mod plan_file;

use super::errors::StepError;
use super::logs::{Level, LogRecord, LogSource, Sanitize};
use super::prepare::{self, CompileMode};
use super::{EventSink, RunOptions};
use crate::adaptors::choice::AdaptorSources;
use crate::adaptors::installed::InstalledAdaptors;
use crate::adaptors::spec::AdaptorSpec;
use crate::{Limits, PlanStep};
use bolt_shared::model::ExitReason;
use log_output::{LogLevels, LogPrinter};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything `bolt execute` takes (see `openfn execute --help`).
#[derive(Debug, Clone, Default)]
pub struct ExecuteOptions {
    /// A `.js` job or a `.json` workflow.
    pub path: PathBuf,
    pub adaptors: Vec<String>,
    pub state_path: Option<PathBuf>,
    pub state_stdin: Option<String>,
    pub output_path: Option<PathBuf>,
    pub output_stdout: bool,
    pub start: Option<String>,
    pub end: Option<String>,
    pub only: Option<String>,
    pub timeout_ms: Option<u64>,
    pub log: Vec<String>,
    pub log_json: bool,
    pub sanitize: Option<String>,
    pub immutable: bool,
    pub no_compile: bool,
    /// The data dir whose installed adaptors (`<data_dir>/adaptors`) jobs may use.
    pub data_dir: Option<PathBuf>,
}

/// Serializes a final state as OpenFn writes it: `JSON.stringify(state, null, 2)`, no newline.
pub fn serialize_output(state: Option<&Value>) -> String {
    match state {
        None => String::new(),
        Some(state) => serde_json::to_string_pretty(state).unwrap_or_default(),
    }
}

fn cli(printer: &LogPrinter, level: Level, message: impl Into<String>) {
    printer.print(&LogRecord::text(None, LogSource::Cli, level, message));
}

fn elapsed(started: Instant) -> String {
    let ms = started.elapsed().as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{:.2}s", ms as f64 / 1000.0)
    }
}

/// Runs `bolt execute`; logs go to `out`. Returns the process exit code.
pub fn execute(options: ExecuteOptions, out: Box<dyn Write + Send>) -> i32 {
    let started = Instant::now();
    let sanitize = options.sanitize.as_deref().map(Sanitize::parse);
    let levels = LogLevels::parse(&options.log);
    let bootstrap = LogPrinter::new(out, LogLevels::default(), options.log_json, Sanitize::None);
    let (levels, sanitize) = match (levels, sanitize) {
        (Ok(levels), Some(Some(s))) => (levels, s),
        (Ok(levels), None) => (levels, Sanitize::None),
        (Err(e), _) => {
            cli(&bootstrap, Level::Error, e);
            return 1;
        }
        (_, Some(None)) => {
            cli(
                &bootstrap,
                Level::Error,
                "--sanitize must be one of none, remove, obfuscate, summarize",
            );
            return 1;
        }
    };
    let mut printer = bootstrap;
    printer.levels = levels;
    printer.sanitize = sanitize;
    match run(&options, &printer, started) {
        Ok(code) => code,
        Err(message) => {
            cli(&printer, Level::Error, message);
            cli(&printer, Level::Error, "Critical error: aborting command");
            1
        }
    }
}

fn run(options: &ExecuteOptions, printer: &LogPrinter, started: Instant) -> Result<i32, String> {
    let sources = AdaptorSources {
        installed: options
            .data_dir
            .as_deref()
            .map(InstalledAdaptors::in_data_dir),
        allow_local: true,
    };
    for spec in &options.adaptors {
        AdaptorSpec::parse(spec).map_err(|e| e.to_string())?;
    }
    let mut loaded =
        plan_file::load(&options.path, &options.adaptors).map_err(|e| e.to_string())?;
    let mut chosen = std::collections::HashMap::new();
    for step in &loaded.plan.steps {
        let adaptors = prepare::adaptors_of(step, &sources).map_err(|e| {
            if loaded.single_job {
                e.message
            } else {
                format!("step {}: {}", step.id, e.message)
            }
        })?;
        chosen.insert(step.id.clone(), adaptors);
    }

    let input = load_state(options, printer)?;

    let mut end = loaded.end.take();
    if let Some(start) = options.start.as_deref().or(options.only.as_deref()) {
        loaded.plan.start =
            Some(plan_file::find_step(&loaded.plan, start).map_err(|e| e.to_string())?);
    }
    if let Some(stop) = options.end.as_deref().or(options.only.as_deref()) {
        end = Some(plan_file::find_step(&loaded.plan, stop).map_err(|e| e.to_string())?);
    }

    let mode = if options.no_compile {
        CompileMode::AsIs
    } else {
        CompileMode::Compile
    };
    let mut prepared = std::collections::HashMap::new();
    let ignore = match prepare::globals_exports(loaded.plan.globals.as_deref()) {
        Ok(ignore) => ignore,
        Err(error) => match loaded.plan.steps.iter().find(|s| s.expression.is_some()) {
            Some(step) => return Ok(compile_failed(printer, step, &error)),
            None => Vec::new(),
        },
    };
    for step in &loaded.plan.steps {
        if step.expression.is_none() {
            continue;
        }
        let adaptors = chosen.remove(&step.id).unwrap_or_default();
        match prepare::prepare(step, mode, adaptors, &ignore) {
            Ok(job) => {
                prepared.insert(step.id.clone(), job);
            }
            Err(error) => return Ok(compile_failed(printer, step, &error)),
        }
    }
    cli(
        printer,
        Level::Success,
        "Compiled all expressions in workflow",
    );

    let timeout_ms = options.timeout_ms.or(loaded.timeout_ms).unwrap_or(300_000);
    let run_options = RunOptions {
        limits: Limits {
            step_timeout: Duration::from_millis(timeout_ms),
            ..Limits::default()
        },
        immutable: options.immutable,
        end,
        compile: mode,
        prepared: Some(Arc::new(prepared)),
        adaptors: sources,
        ..RunOptions::default()
    };
    let log_printer = printer.clone();
    let sink = EventSink::new(
        Arc::new(move |record: LogRecord| log_printer.print(&record)),
        Arc::new(|_| {}),
    );
    let plan = loaded.plan;
    // On an engine worker ([`super::pool`]), like boltd's runs.
    let result = super::pool::run_blocking(move |event_loop| {
        event_loop.block_on(super::workflow::run_plan(&plan, input, &run_options, &sink))
    })?;

    if result.abort.is_some()
        || !matches!(
            result.outcome.exit_reason,
            ExitReason::Success | ExitReason::Fail
        )
    {
        cli(
            printer,
            Level::Always,
            format!("Workflow failed in {}.", elapsed(started)),
        );
        return Ok(1);
    }
    let text = serialize_output(result.outcome.final_state.as_ref());
    if options.output_stdout {
        cli(printer, Level::Success, "Result: ");
        cli(printer, Level::Always, text);
    } else {
        let path = options.output_path.clone().unwrap_or_else(|| {
            options
                .path
                .parent()
                .map(|p| p.join("output.json"))
                .unwrap_or_else(|| PathBuf::from("output.json"))
        });
        std::fs::write(&path, text.as_bytes())
            .map_err(|e| format!("could not write {}: {e}", path.display()))?;
        cli(
            printer,
            Level::Success,
            format!("State written to {}", path.display()),
        );
    }
    if result.failed_steps > 0 {
        cli(
            printer,
            Level::Warn,
            format!("Errors reported in {} jobs", result.failed_steps),
        );
        cli(
            printer,
            Level::Success,
            format!("Finished in {}", elapsed(started)),
        );
    } else {
        cli(
            printer,
            Level::Success,
            format!("Finished in {} ✨", elapsed(started)),
        );
    }
    Ok(0)
}

fn load_state(options: &ExecuteOptions, printer: &LogPrinter) -> Result<Value, String> {
    if let Some(text) = &options.state_stdin {
        let state = serde_json::from_str(text).map_err(|e| format!("invalid state JSON: {e}"))?;
        cli(printer, Level::Success, "Read state from stdin");
        return Ok(state);
    }
    if let Some(path) = &options.state_path {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("could not read {}: {e}", path.display()))?;
        let state = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?;
        cli(
            printer,
            Level::Success,
            format!("Loaded state from {}", path.display()),
        );
        return Ok(state);
    }
    Ok(json!({"data": {}, "configuration": {}}))
}

fn compile_failed(printer: &LogPrinter, step: &PlanStep, error: &StepError) -> i32 {
    printer.print(&LogRecord::spacer(None));
    cli(printer, Level::Error, "Failed to compile job");
    cli(printer, Level::Error, error.message.clone());
    printer.print(&LogRecord::spacer(None));
    if let Some(source) = &step.expression {
        cli(
            printer,
            Level::Always,
            format!("Check the syntax of the job expression:\n\n{source}"),
        );
    }
    printer.print(&LogRecord::spacer(None));
    cli(printer, Level::Error, "Critical error: aborting command");
    1
}
