//! Executing a plan with OpenFn's semantics: breadth-first and sequential; fail-severity
//! errors flow down passing edges; crash/kill/cancel abort; leaves make the result.

use super::conditions::{self, ConditionError};
use super::errors::{ReportLine, Severity, StepError};
use super::logs::{Level, LogRecord, LogSource};
use super::prepare::{self, PreparedJob};
use super::state::assemble_state;
use super::step::{self, StepOutcome, StepRequest};
use super::{EventSink, RunOptions};
use crate::{EdgeCondition, EngineEvent, Plan, PlanStep, RunOutcome};
use bolt_shared::model::ExitReason;
use serde_json::{Map, Value};
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// What the CLI needs beyond [`RunOutcome`].
#[derive(Debug, Clone)]
pub struct PlanResult {
    pub outcome: RunOutcome,
    /// The error that aborted the run (crash/kill/cancel).
    pub abort: Option<StepError>,
    /// How many steps reported a fail-severity error.
    pub failed_steps: usize,
}

fn rt(sink: &EventSink, step: Option<&str>, level: Level, message: impl Into<String>) {
    sink.log(LogRecord::text(step, LogSource::Runtime, level, message));
}

/// Checks start, edge targets, cycles and condition syntax before anything runs.
pub fn validate(plan: &Plan) -> Result<String, Box<StepError>> {
    let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    let start = match &plan.start {
        Some(start) => start.clone(),
        None => plan
            .steps
            .first()
            .map(|s| s.id.clone())
            .ok_or_else(|| validation("The plan has no steps"))?,
    };
    if !ids.contains(&start.as_str()) {
        return Err(validation(&format!("Could not find start job: {start}")));
    }
    for step in &plan.steps {
        for edge in &step.next {
            if !ids.contains(&edge.target.as_str()) {
                return Err(validation(&format!("Cannot find job: {}", edge.target)));
            }
            if let EdgeCondition::Expression(expression) = &edge.condition {
                conditions::check(&step.id, &edge.target, expression).map_err(|e| {
                    StepError::engine(Severity::Crash, "ValidationError", e.to_string())
                })?;
            }
        }
    }
    if let Some((a, b)) = find_cycle(plan) {
        return Err(validation(&format!("Circular dependency: {a} <-> {b}")));
    }
    Ok(start)
}

/// Steps that will run on another version of an adaptor than they name (common 2.x on the
/// built-in 3.x…) say so before anything else in the run's log.
fn log_adaptor_notes(plan: &Plan, options: &RunOptions, sink: &EventSink) {
    let mut notes: Vec<String> = Vec::new();
    for step in &plan.steps {
        let chosen = match options.prepared.as_ref().and_then(|p| p.get(&step.id)) {
            Some(job) => job.adaptors.clone(),
            None => prepare::adaptors_of(step, &options.adaptors).unwrap_or_default(),
        };
        for note in chosen.iter().filter_map(|a| a.note()) {
            if !notes.iter().any(|n| n == note) {
                notes.push(note.to_string());
            }
        }
    }
    for note in notes {
        rt(sink, None, Level::Warn, note);
    }
}

fn validation(message: &str) -> Box<StepError> {
    Box::new(StepError::engine(
        Severity::Crash,
        "ValidationError",
        message,
    ))
}

/// A pair of steps closing a cycle (reported as `child <-> parent`, like OpenFn).
fn find_cycle(plan: &Plan) -> Option<(String, String)> {
    let by_id: HashMap<&str, &PlanStep> = plan.steps.iter().map(|s| (s.id.as_str(), s)).collect();
    fn visit<'a>(
        id: &'a str,
        by_id: &HashMap<&'a str, &'a PlanStep>,
        path: &mut Vec<&'a str>,
    ) -> Option<(String, String)> {
        let step = by_id.get(id)?;
        for edge in &step.next {
            if path.contains(&edge.target.as_str()) {
                return Some((id.to_string(), edge.target.clone()));
            }
            path.push(&edge.target);
            let found = visit(&edge.target, by_id, path);
            path.pop();
            if found.is_some() {
                return found;
            }
        }
        None
    }
    for step in &plan.steps {
        let mut path = vec![step.id.as_str()];
        if let Some(found) = visit(&step.id, &by_id, &mut path) {
            return Some(found);
        }
    }
    None
}

fn aborted(error: StepError, failed_steps: usize) -> PlanResult {
    PlanResult {
        outcome: RunOutcome {
            exit_reason: exit_reason(error.severity),
            // The run reports the wrapper class (RuntimeCrash, TimeoutError…), as Lightning does.
            error_type: Some(error.name.clone()),
            error_message: Some(error.message.clone()),
            final_state: None,
        },
        abort: Some(error),
        failed_steps,
    }
}

fn exit_reason(severity: Severity) -> ExitReason {
    match severity {
        Severity::Fail => ExitReason::Fail,
        Severity::Crash => ExitReason::Crash,
        Severity::Kill => ExitReason::Kill,
        Severity::Cancel => ExitReason::Cancel,
    }
}

/// Runs a plan to the end (on the current thread's tokio runtime).
pub async fn run_plan(
    plan: &Plan,
    input: Value,
    options: &RunOptions,
    sink: &EventSink,
) -> PlanResult {
    let start = match validate(plan) {
        Ok(start) => start,
        Err(error) => {
            rt(sink, None, Level::Error, "Error validating execution plan");
            let mut record = LogRecord::text(None, LogSource::Runtime, Level::Error, "");
            record.args = vec![super::logs::LogArg::Error {
                name: error.name.clone(),
                message: error.message.clone(),
            }];
            sink.log(record);
            rt(sink, None, Level::Error, "Aborting");
            return aborted(*error, 0);
        }
    };
    let steps: HashMap<&str, &PlanStep> = plan.steps.iter().map(|s| (s.id.as_str(), s)).collect();
    log_adaptor_notes(plan, options, sink);
    rt(
        sink,
        None,
        Level::Info,
        if plan.steps.len() == 1 {
            "Executing job"
        } else {
            "Executing workflow"
        },
    );
    let mut prepared: HashMap<String, PreparedJob> = HashMap::new();
    let globals: Option<std::sync::Arc<str>> = plan
        .globals
        .as_deref()
        .filter(|g| !g.trim().is_empty())
        .map(std::sync::Arc::from);
    let ignore = prepare::globals_exports(globals.as_deref());
    let mut queue: VecDeque<(String, Value)> = VecDeque::from([(start, input)]);
    let mut visits: HashMap<String, usize> = HashMap::new();
    let mut leaves: Vec<(String, Option<Value>, bool)> = Vec::new();
    let mut failed_steps = 0;

    while let Some((job_id, input)) = queue.pop_front() {
        if options.cancel.is_cancelled() {
            return aborted(
                StepError::engine(Severity::Cancel, "CancelError", "The run was cancelled"),
                failed_steps,
            );
        }
        let Some(step) = steps.get(job_id.as_str()).copied() else {
            continue;
        };
        let visit = visits.entry(job_id.clone()).or_insert(0);
        let step_key = if *visit == 0 {
            job_id.clone()
        } else {
            format!("{job_id}-{visit}")
        };
        *visit += 1;

        let state = assemble_state(&input, step.configuration.as_ref(), step.state.as_ref());
        sink.event(EngineEvent::StepStarted {
            step_id: step_key.clone(),
            job_id: job_id.clone(),
            input: without_configuration(&state),
        });
        rt(
            sink,
            Some(&step_key),
            Level::Info,
            format!("Starting step {}", step.name.as_deref().unwrap_or(&job_id)),
        );
        let ready = options
            .prepared
            .as_ref()
            .and_then(|p| p.get(&job_id))
            .or_else(|| prepared.get(&job_id))
            .cloned();
        let chosen = match &ready {
            Some(job) => Ok(job.adaptors.clone()),
            None => prepare::adaptors_of(step, &options.adaptors),
        };
        for adaptor in chosen.iter().flatten() {
            rt(
                sink,
                Some(&step_key),
                Level::Info,
                format!("Resolved adaptor {}", adaptor.describe()),
            );
        }
        let started = Instant::now();

        let outcome = match &step.expression {
            None => StepOutcome::Success {
                output: Some(without_configuration(&state)),
            },
            Some(_) => {
                let job = match ready {
                    Some(job) => Ok(job),
                    None => chosen
                        .and_then(|adaptors| {
                            let ignore = ignore.as_ref().map_err(|e| e.clone())?;
                            prepare::prepare(step, options.compile, adaptors, ignore)
                        })
                        .inspect(|job| {
                            prepared.insert(job_id.clone(), job.clone());
                        }),
                };
                match job {
                    Ok(job) => {
                        step::run_step(StepRequest {
                            step_id: job_id.clone(),
                            code: job.code,
                            positions: job.positions,
                            operations: job.operations,
                            input: state,
                            immutable: options.immutable,
                            remove_props: if options.worker_mode {
                                vec!["configuration".into(), "response".into()]
                            } else {
                                vec!["configuration".into()]
                            },
                            timeout: options.limits.step_timeout,
                            memory_bytes: options.limits.memory_bytes,
                            max_state_bytes: options.limits.max_state_bytes,
                            cancel: options.cancel.clone(),
                            sink: sink.log_sink(),
                            packages: job.packages,
                            globals: globals.clone(),
                        })
                        .await
                    }
                    Err(error) => StepOutcome::Aborted { error: *error },
                }
            }
        };
        let duration = started.elapsed();
        let duration_text = format_duration(duration);
        let label = step.name.clone().unwrap_or_else(|| job_id.clone());

        let (output, failed) = match outcome {
            StepOutcome::Success { output } => {
                if step.expression.is_some() {
                    rt(
                        sink,
                        Some(&step_key),
                        Level::Success,
                        format!("{label} completed in {duration_text}"),
                    );
                }
                finished(
                    sink,
                    &step_key,
                    &job_id,
                    ExitReason::Success,
                    None,
                    output.clone(),
                    duration,
                );
                (output, false)
            }
            StepOutcome::Failed { state, error } => {
                failed_steps += 1;
                rt(
                    sink,
                    Some(&step_key),
                    Level::Error,
                    format!("{label} aborted with error ({duration_text})"),
                );
                report(sink, &step_key, &error.report);
                sink.log(LogRecord::spacer(Some(&step_key)));
                rt(
                    sink,
                    Some(&step_key),
                    Level::Error,
                    format!("Check state.errors.{job_id} for details"),
                );
                finished(
                    sink,
                    &step_key,
                    &job_id,
                    ExitReason::Fail,
                    Some(&error),
                    Some(state.clone()),
                    duration,
                );
                (Some(state), true)
            }
            StepOutcome::Aborted { error } => {
                log_abort(sink, &step_key, &label, &duration_text, &error);
                if plan.steps.len() > 1 {
                    log_source_position(sink, &step_key, &label, step, &error);
                }
                finished(
                    sink,
                    &step_key,
                    &job_id,
                    exit_reason(error.severity),
                    Some(&error),
                    None,
                    duration,
                );
                return aborted(error, failed_steps);
            }
        };

        if options.end.as_deref() == Some(job_id.as_str()) {
            leaves.push((step_key, output, failed));
            break;
        }
        let mut took_edge = false;
        for edge in &step.next {
            if edge.disabled {
                continue;
            }
            match conditions::passes(&edge.condition, output.as_ref(), &job_id) {
                Ok(true) => {
                    took_edge = true;
                    queue.push_back((
                        edge.target.clone(),
                        output.clone().unwrap_or(Value::Object(Map::new())),
                    ));
                }
                Ok(false) => {}
                Err(ConditionError::Threw(message))
                | Err(ConditionError::Compile {
                    reason: message, ..
                }) => {
                    let error = StepError::engine(Severity::Crash, "EdgeConditionError", message);
                    return aborted(error, failed_steps);
                }
            }
        }
        if !took_edge {
            leaves.push((step_key, output, failed));
        }
    }

    let defined: Vec<&(String, Option<Value>, bool)> =
        leaves.iter().filter(|(_, out, _)| out.is_some()).collect();
    let final_state = match defined.as_slice() {
        [] => None,
        [(_, out, _)] => out.clone(),
        many => Some(Value::Object(
            many.iter()
                .map(|(key, out, _)| (key.clone(), out.clone().unwrap_or(Value::Null)))
                .collect(),
        )),
    };
    let leaf_failed = leaves.iter().any(|(_, _, failed)| *failed);
    let (exit_reason, error_type, error_message) = if leaf_failed {
        let errors = final_errors(&leaves);
        (ExitReason::Fail, errors.0, errors.1)
    } else {
        (ExitReason::Success, None, None)
    };
    PlanResult {
        outcome: RunOutcome {
            exit_reason,
            error_type,
            error_message,
            final_state,
        },
        abort: None,
        failed_steps,
    }
}

/// The error type and message of the first failed leaf.
fn final_errors(leaves: &[(String, Option<Value>, bool)]) -> (Option<String>, Option<String>) {
    for (key, out, failed) in leaves {
        if !failed {
            continue;
        }
        let job_id = key
            .rsplit_once('-')
            .filter(|(_, n)| n.chars().all(|c| c.is_ascii_digit()))
            .map_or(key.as_str(), |(id, _)| id);
        let error = out
            .as_ref()
            .and_then(|o| o.get("errors"))
            .and_then(|e| e.get(job_id).or_else(|| e.get(key)));
        if let Some(error) = error {
            let kind = error
                .get("subtype")
                .or_else(|| error.get("name"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string);
            return (kind, message);
        }
    }
    (None, None)
}

fn without_configuration(state: &Value) -> Value {
    let mut state = state.clone();
    if let Value::Object(map) = &mut state {
        map.shift_remove("configuration");
    }
    state
}

fn finished(
    sink: &EventSink,
    step_key: &str,
    job_id: &str,
    reason: ExitReason,
    error: Option<&StepError>,
    output: Option<Value>,
    duration: std::time::Duration,
) {
    sink.event(EngineEvent::StepFinished {
        step_id: step_key.to_string(),
        job_id: job_id.to_string(),
        exit_reason: reason,
        error_type: error.map(StepError::error_type),
        error_message: error.map(|e| e.message.clone()),
        output,
        duration,
    });
}

fn report(sink: &EventSink, step_key: &str, lines: &[ReportLine]) {
    for line in lines {
        match line {
            ReportLine::Blank => sink.log(LogRecord::spacer(Some(step_key))),
            ReportLine::Text(text) => rt(sink, Some(step_key), Level::Error, text.clone()),
            ReportLine::Json(value) => sink.log(LogRecord::json(
                Some(step_key),
                LogSource::Runtime,
                Level::Error,
                value.clone(),
            )),
        }
    }
}

/// OpenFn's duration text: `12ms`, `1.333s`, `2m 5s`.
pub fn format_duration(duration: std::time::Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        let text = format!("{:.3}", ms as f64 / 1000.0);
        format!("{}s", text.trim_end_matches('0').trim_end_matches('.'))
    } else {
        format!("{}m {}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

/// "Error occurred at: b", the source line and a caret under the column.
fn log_source_position(
    sink: &EventSink,
    step_key: &str,
    label: &str,
    step: &PlanStep,
    error: &StepError,
) {
    let (Some((line, column)), Some(source)) = (error.pos, step.expression.as_deref()) else {
        return;
    };
    let Some(text) = source.lines().nth(line.saturating_sub(1) as usize) else {
        return;
    };
    let mut record = LogRecord::text(
        Some(step_key),
        LogSource::Runtime,
        Level::Error,
        "Error occurred at:",
    );
    record
        .args
        .push(super::logs::LogArg::Str(label.to_string()));
    sink.log(record);
    let prefix = format!("{line}: ");
    rt(
        sink,
        Some(step_key),
        Level::Error,
        format!("{prefix}{text}"),
    );
    let width = prefix.chars().count() + text.chars().count();
    let at = prefix.chars().count() + column.saturating_sub(1) as usize;
    let caret: String = (0..width.max(at + 1))
        .map(|i| if i == at { '^' } else { ' ' })
        .collect();
    rt(sink, Some(step_key), Level::Error, caret);
}

fn log_abort(
    sink: &EventSink,
    step_key: &str,
    label: &str,
    duration_text: &str,
    error: &StepError,
) {
    match error.name.as_str() {
        "TimeoutError" => {
            let limit = error
                .message
                .trim_start_matches("Job took longer than ")
                .trim_end_matches(" to complete");
            rt(
                sink,
                Some(step_key),
                Level::Error,
                format!("Error: Timeout expired ({limit})"),
            );
        }
        "SecurityError" => {
            rt(
                sink,
                Some(step_key),
                Level::Error,
                format!("{label} aborted with error ({duration_text})"),
            );
            sink.log(LogRecord::spacer(Some(step_key)));
            rt(sink, Some(step_key), Level::Error, error.message.clone());
        }
        _ => {
            rt(
                sink,
                Some(step_key),
                Level::Error,
                format!("{label} aborted with error ({duration_text})"),
            );
            sink.log(LogRecord::spacer(Some(step_key)));
            rt(
                sink,
                Some(step_key),
                Level::Error,
                "CRITICAL ERROR! Aborting execution",
            );
            for line in &error.report {
                if let ReportLine::Text(text) = line {
                    rt(sink, Some(step_key), Level::Error, text.clone());
                }
            }
            sink.log(LogRecord::spacer(Some(step_key)));
        }
    }
}
