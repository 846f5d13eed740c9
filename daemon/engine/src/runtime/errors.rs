//! Classifying what a job threw the way OpenFn's runtime does, and serializing it into
//! `state.errors[stepId]` with OpenFn's field order.

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// How bad an error is: `fail` lets the run continue, the others abort it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Fail,
    Crash,
    Kill,
    Cancel,
}

/// An error that ended a step.
#[derive(Debug, Clone, PartialEq)]
pub struct StepError {
    pub severity: Severity,
    /// OpenFn's error class: JobError, RuntimeError, AdaptorError, RuntimeCrash, TimeoutError…
    pub name: String,
    /// TypeError/ReferenceError/… for runtime errors.
    pub subtype: Option<String>,
    pub message: String,
    /// The object written to `state.errors[stepId]` (fail severity only).
    pub serialized: Value,
    /// Extra lines the runtime logs after "aborted with error" (stack, details).
    pub report: Vec<ReportLine>,
    /// Where in the original job source it happened (1-based line and column).
    pub pos: Option<(u32, u32)>,
}

/// A runtime log line describing an error.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportLine {
    Text(String),
    Json(Value),
    Blank,
}

impl StepError {
    /// The `error_type` Lightning stores: subtype for runtime errors, else the class.
    pub fn error_type(&self) -> String {
        self.subtype.clone().unwrap_or_else(|| self.name.clone())
    }

    /// An error raised by the engine itself rather than by job code.
    pub fn engine(severity: Severity, name: &str, message: impl Into<String>) -> StepError {
        let message = message.into();
        let sev = severity_name(severity);
        StepError {
            severity,
            name: name.to_string(),
            subtype: None,
            serialized: json!({"source": "runtime", "name": name, "severity": sev, "message": message}),
            report: vec![ReportLine::Text(format!("{name}: {message}"))],
            pos: None,
            message,
        }
    }
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Fail => "fail",
        Severity::Crash => "crash",
        Severity::Kill => "kill",
        Severity::Cancel => "cancel",
    }
}

/// What the prelude's `errorInfo` reports about a thrown value.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ThrownInfo {
    pub nullish: bool,
    #[serde(rename = "type")]
    pub kind: String,
    pub repr: Option<String>,
    pub constructor_name: Option<String>,
    pub name: Option<String>,
    pub message: Option<String>,
    pub stack: Option<String>,
    pub severity: Option<String>,
    pub adaptor_operation: Option<usize>,
    pub crash: Option<String>,
    pub props: Option<Value>,
}

/// Where in the original job source an error happened.
pub trait PositionMapper: Send + Sync {
    /// Maps a 1-based line and column in the compiled module to the original source.
    fn original(&self, line: u32, column: u32) -> Option<(u32, u32)>;
}

/// One entry of the compiler's operations index (`map.operations`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationInfo {
    pub name: Option<String>,
    pub line: i64,
}

/// Everything needed to attribute an error to the job's source.
pub struct ErrorContext<'a> {
    pub step_id: &'a str,
    /// The compiled module source (QuickJS positions refer to it).
    pub code: &'a str,
    pub job_module: &'a str,
    pub positions: Option<&'a dyn PositionMapper>,
    pub operations: &'a [OperationInfo],
}

/// Classifies a thrown value (OpenFn `runtime/src/errors.ts` order).
pub fn classify(info: &ThrownInfo, cx: &ErrorContext<'_>) -> StepError {
    // QuickJS throws `null` when it runs out of memory while making its own "out of
    // memory" error (the limit left no room for it). A job whose code never throws or
    // rejects can't have thrown it itself.
    if info.nullish && !may_throw_nullish(cx.code) {
        return StepError::engine(
            Severity::Kill,
            "OOMError",
            "Run exceeded maximum memory usage",
        );
    }
    // `throw null` / `throw undefined`: OpenFn reads `.stack` of it and fails with a TypeError.
    if info.nullish {
        let message = format!(
            "Cannot read properties of {} (reading 'stack')",
            info.repr.as_deref().unwrap_or("null")
        );
        return runtime_error("TypeError", &message, None, None, cx);
    }
    let is_object = info.kind == "object" || info.kind == "function";
    if !is_object {
        // A thrown string/number: JobError with the value as message.
        return job_error(info.repr.clone().unwrap_or_default(), None);
    }
    let class = info
        .constructor_name
        .clone()
        .or_else(|| info.name.clone())
        .unwrap_or_default();
    let stack = info.stack.as_deref();
    let raw = compiled_position(stack, cx);
    let message = translate_message(info.message.as_deref().unwrap_or(""));
    let (message, refined) = match raw {
        Some((line, column)) => {
            let (message, column) = v8_style(cx.code, line, column, &message);
            (message, Some((line, column)))
        }
        None => (message, None),
    };
    let mapped = refined.and_then(|(line, column)| map_position(line, column, cx));

    if let Some(crash) = &info.crash {
        return crash_error(crash, &message, None, cx);
    }
    if info.name.as_deref() == Some("InternalError") || class == "InternalError" {
        if message.contains("out of memory") {
            return StepError::engine(
                Severity::Kill,
                "OOMError",
                "Run exceeded maximum memory usage",
            );
        }
        if message.contains("stack overflow") {
            return runtime_error(
                "RangeError",
                "Maximum call stack size exceeded",
                mapped,
                stack,
                cx,
            );
        }
    }
    if let Some(index) = info.adaptor_operation {
        return adaptor_error(info, &message, index, cx);
    }
    if class == "TypeError" || class == "RangeError" {
        return runtime_error(&class, &message, mapped, stack, cx);
    }
    if info.severity.as_deref() == Some("crash")
        || class == "ReferenceError"
        || class == "SyntaxError"
    {
        return crash_error(&class, &message, mapped, cx);
    }
    if class == "EvalError" {
        return StepError::engine(
            Severity::Kill,
            "SecurityError",
            "Illegal eval statement detected",
        );
    }
    job_error(message, stack)
}

fn job_error(message: String, _stack: Option<&str>) -> StepError {
    let report = vec![ReportLine::Blank, ReportLine::Text(message.clone())];
    StepError {
        severity: Severity::Fail,
        name: "JobError".into(),
        subtype: None,
        serialized: json!({"source": "runtime", "name": "JobError", "severity": "fail", "message": message}),
        report,
        pos: None,
        message,
    }
}

fn position_json(pos: Option<(u32, u32)>) -> Value {
    match pos {
        Some((line, column)) => json!({"line": line, "column": column}),
        None => json!({"line": null, "column": null}),
    }
}

fn runtime_error(
    subtype: &str,
    message: &str,
    pos: Option<(u32, u32)>,
    stack: Option<&str>,
    cx: &ErrorContext<'_>,
) -> StepError {
    let full = format!("{subtype}: {message}");
    let mut serialized = Map::new();
    serialized.insert("source".into(), json!("runtime"));
    serialized.insert("name".into(), json!("RuntimeError"));
    serialized.insert("pos".into(), position_json(pos));
    serialized.insert("step".into(), json!(cx.step_id));
    serialized.insert("severity".into(), json!("fail"));
    serialized.insert("subtype".into(), json!(subtype));
    serialized.insert("message".into(), json!(full));
    StepError {
        severity: Severity::Fail,
        name: "RuntimeError".into(),
        subtype: Some(subtype.to_string()),
        message: full.clone(),
        serialized: Value::Object(serialized),
        report: vec![
            ReportLine::Blank,
            ReportLine::Text(with_stack(&full, stack, pos)),
        ],
        pos,
    }
}

fn crash_error(
    subtype: &str,
    message: &str,
    pos: Option<(u32, u32)>,
    cx: &ErrorContext<'_>,
) -> StepError {
    let full = format!("{subtype}: {message}");
    StepError {
        severity: Severity::Crash,
        name: "RuntimeCrash".into(),
        subtype: Some(subtype.to_string()),
        message: full.clone(),
        serialized: json!({
            "source": "runtime", "name": "RuntimeCrash", "pos": position_json(pos), "step": cx.step_id,
            "severity": "crash", "subtype": subtype, "message": full,
        }),
        report: {
            let mut report = vec![
                ReportLine::Blank,
                ReportLine::Text(with_stack(&full, None, pos)),
            ];
            if subtype == "InvalidOperationError" {
                report.push(ReportLine::Text(
                    "Ensure all top-level function or method calls are wrapped in an operation, like fn()".into(),
                ));
            }
            report
        },
        pos,
    }
}

fn adaptor_error(
    info: &ThrownInfo,
    message: &str,
    index: usize,
    cx: &ErrorContext<'_>,
) -> StepError {
    let operation = cx.operations.get(index);
    let mut details = Map::new();
    details.insert("message".into(), json!(message));
    if let Some(Value::Object(props)) = &info.props {
        for (k, v) in props {
            details.insert(k.clone(), v.clone());
        }
    }
    let mut serialized = Map::new();
    serialized.insert("source".into(), json!("runtime"));
    serialized.insert("name".into(), json!("AdaptorError"));
    serialized.insert("details".into(), Value::Object(details.clone()));
    serialized.insert("severity".into(), json!("fail"));
    serialized.insert("message".into(), json!(message));
    if let Some(op) = operation {
        serialized.insert("line".into(), json!(op.line));
        if let Some(name) = &op.name {
            serialized.insert("operationName".into(), json!(name));
        }
    }
    let mut report = vec![ReportLine::Blank];
    if let Some(op) = operation {
        let name = op.name.as_deref().unwrap_or("anonymous");
        report.push(ReportLine::Text(format!(
            "Error reported by \"{name}()\" operation line {}:",
            op.line
        )));
    }
    let class = info.name.clone().unwrap_or_else(|| "Error".into());
    report.push(ReportLine::Text(with_stack(
        &format!("{class}: {message}"),
        info.stack.as_deref(),
        None,
    )));
    report.push(ReportLine::Text("Additional error details:".into()));
    report.push(ReportLine::Json(Value::Object(details)));
    StepError {
        severity: Severity::Fail,
        name: "AdaptorError".into(),
        subtype: None,
        message: message.to_string(),
        serialized: Value::Object(serialized),
        report,
        pos: None,
    }
}

fn with_stack(headline: &str, stack: Option<&str>, pos: Option<(u32, u32)>) -> String {
    let mut text = headline.to_string();
    if let Some((line, column)) = pos {
        text.push_str(&format!("\n    at vm:module(0):{line}:{column}"));
    }
    if let Some(stack) = stack {
        let frames = stack.lines().map(short_frame);
        for frame in frames.filter(|l| l.contains("@openfn/language-")) {
            text.push_str(&format!("\n    {}", frame.trim().trim_start_matches("at ")));
        }
    }
    text
}

/// A stack frame in an installed package, shown from its `node_modules` on (as OpenFn
/// shows `@openfn/language-openmrs/dist/index.js:346:13`), not from the install root.
fn short_frame(frame: &str) -> String {
    const NODE_MODULES: &str = "/node_modules/";
    match frame.find(NODE_MODULES) {
        Some(at) => {
            let path_start = frame[..at].rfind(['(', ' ']).map_or(0, |i| i + 1);
            format!(
                "{}{}",
                &frame[..path_start],
                &frame[at + NODE_MODULES.len()..]
            )
        }
        None => frame.to_string(),
    }
}

/// The first stack frame inside the job module (compiled-code line and column).
pub fn compiled_position(stack: Option<&str>, cx: &ErrorContext<'_>) -> Option<(u32, u32)> {
    let stack = stack?;
    let marker = format!("{}:", cx.job_module);
    for line in stack.lines().filter(|l| l.trim_start().starts_with("at ")) {
        if line.contains("(native)") || line.contains(BOLT_PRELUDE) {
            continue;
        }
        // Only an error raised in the job's own code has a position (OpenFn reads the top frame).
        let at = line.find(&marker)?;
        let rest = &line[at + marker.len()..];
        let mut nums = rest
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty());
        let line_no: u32 = nums.next()?.parse().ok()?;
        let column: u32 = nums.next().and_then(|c| c.parse().ok()).unwrap_or(1);
        return Some((line_no, column));
    }
    None
}

fn map_position(line: u32, column: u32, cx: &ErrorContext<'_>) -> Option<(u32, u32)> {
    match cx.positions {
        Some(mapper) => mapper.original(line, column),
        None => Some((line, column)),
    }
}

fn is_chain_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$' || c == '.'
}

/// The `a.b.c` chain around a 0-based char index: (start, end) char indices.
fn chain_at(chars: &[char], index: usize) -> Option<(usize, usize)> {
    if index >= chars.len() || !is_chain_char(chars[index]) {
        return None;
    }
    let mut start = index;
    while start > 0 && is_chain_char(chars[start - 1]) {
        start -= 1;
    }
    let mut end = index;
    while end < chars.len() && is_chain_char(chars[end]) {
        end += 1;
    }
    Some((start, end))
}

/// QuickJS reports positions and messages a little differently from V8; OpenFn's outputs
/// carry V8's. Using the source line, names the callee of "is not a function" and moves the
/// column to where V8 puts it (the property read, the `new` keyword).
fn v8_style(code: &str, line: u32, column: u32, message: &str) -> (String, u32) {
    let Some(text) = code.lines().nth(line.saturating_sub(1) as usize) else {
        return (message.to_string(), column);
    };
    let chars: Vec<char> = text.chars().collect();
    let index = column.saturating_sub(1) as usize;
    if message == "is not a function" {
        let callee = |start: usize, end: usize| -> Option<String> {
            (chars.get(end) == Some(&'(')).then(|| chars[start..end].iter().collect())
        };
        let mut found = chain_at(&chars, index).and_then(|(s, e)| callee(s, e).map(|c| (c, s)));
        if found.is_none() {
            let mut i = index.min(chars.len());
            while i > 0 {
                i -= 1;
                if chars[i] == '('
                    && i > 0
                    && let Some((s, e)) = chain_at(&chars, i - 1)
                    && e == i
                {
                    found = Some((chars[s..e].iter().collect(), s));
                    break;
                }
            }
        }
        if let Some((name, start)) = found {
            let column = name.rfind('.').map_or(start + 1, |dot| start + dot + 2) as u32;
            return (format!("{name} is not a function"), column);
        }
        return (message.to_string(), column);
    }
    if let Some(rest) = message
        .strip_prefix("Cannot read properties of ")
        .or_else(|| message.strip_prefix("Cannot set properties of "))
    {
        let property = rest
            .split_once("'")
            .and_then(|(_, p)| p.split_once('\''))
            .map(|(p, _)| p);
        if let (Some(property), Some((start, end))) = (property, chain_at(&chars, index)) {
            let chain: String = chars[start..end].iter().collect();
            let needle = format!(".{property}");
            if let Some(at) = chain.find(&needle) {
                let column = (start + chain[..at].chars().count() + 2) as u32;
                return (message.to_string(), column);
            }
        }
    }
    if index >= 4 && chars[index - 4..index].iter().collect::<String>() == "new " {
        return (message.to_string(), column - 4);
    }
    (message.to_string(), column)
}

/// Frames of bolt's prelude are not the job's.
const BOLT_PRELUDE: &str = "bolt:prelude";

/// Rewrites QuickJS error messages into V8's wording, which OpenFn's outputs contain.
pub fn translate_message(message: &str) -> String {
    let quoted = |rest: &str| -> Option<(String, String)> {
        // "'x' of undefined" → (x, undefined)
        let rest = rest.strip_prefix('\'')?;
        let (prop, tail) = rest.split_once('\'')?;
        let target = tail.strip_prefix(" of ")?;
        Some((prop.to_string(), target.to_string()))
    };
    if let Some(rest) = message.strip_prefix("cannot read property ")
        && let Some((prop, target)) = quoted(rest)
    {
        return format!("Cannot read properties of {target} (reading '{prop}')");
    }
    if let Some(rest) = message.strip_prefix("cannot set property ")
        && let Some((prop, target)) = quoted(rest)
    {
        return format!("Cannot set properties of {target} (setting '{prop}')");
    }
    // V8 (Node 20) has no "(line 1 column 2)" suffix on JSON.parse errors.
    if let Some(at) = message.find(" (line ")
        && message.ends_with(')')
        && message[at..].contains(" column ")
    {
        return message[..at].to_string();
    }
    match message {
        "invalid array length" => "Invalid array length".to_string(),
        "not a function" => "is not a function".to_string(),
        _ => message.to_string(),
    }
}

/// Whether job code could throw or reject with a value of its own choosing.
fn may_throw_nullish(code: &str) -> bool {
    code.contains("throw") || code.contains("reject")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn package_frames_show_from_node_modules_on_and_dependencies_are_left_out() {
        let stack = "Error: no\n    at request (/data/adaptors/@openfn/language-x@1.0.0/node_modules/@openfn/language-x/dist/index.js:12:3)\n    at /data/adaptors/@openfn/language-x@1.0.0/node_modules/lodash/set.js:4:1\n    at job.js:3:1";
        assert_eq!(
            with_stack("Error: no", Some(stack), None),
            "Error: no\n    request (@openfn/language-x/dist/index.js:12:3)"
        );
    }

    #[test]
    fn translates_quickjs_property_errors_to_v8_wording() {
        assert_eq!(
            translate_message("cannot read property 'deep' of undefined"),
            "Cannot read properties of undefined (reading 'deep')"
        );
        assert_eq!(
            translate_message("invalid array length"),
            "Invalid array length"
        );
    }

    #[test]
    fn thrown_string_is_a_job_error() {
        let info = ThrownInfo {
            kind: "string".into(),
            repr: Some("boom".into()),
            ..Default::default()
        };
        let cx = ErrorContext {
            step_id: "job-1",
            code: "",
            job_module: "job",
            positions: None,
            operations: &[],
        };
        let e = classify(&info, &cx);
        assert_eq!(
            e.serialized,
            json!({"source":"runtime","name":"JobError","severity":"fail","message":"boom"})
        );
    }
}
