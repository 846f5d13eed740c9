//! Log records produced while a plan runs, and their rendering in OpenFn's two formats:
//! text (`[JOB] ℹ hello`) and JSON (`{"level":"info","name":"JOB","message":[…],"time":…}`).

use bolt_shared::model::LogLevel;
use serde_json::Value;
use std::sync::Arc;

/// Who logged a line, as OpenFn names its loggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSource {
    /// The job's own `console`.
    Job,
    /// The runtime (step started/completed, errors, warnings).
    Runtime,
    /// Raw lines printed by adaptor code (not prefixed in OpenFn's CLI).
    Adaptor,
    /// The command-line tool.
    Cli,
    /// An empty line OpenFn prints around error reports (text and JSON modes alike).
    Spacer,
}

impl LogSource {
    pub fn as_str(self) -> &'static str {
        match self {
            LogSource::Job => "JOB",
            LogSource::Runtime => "R/T",
            LogSource::Adaptor => "ADA",
            LogSource::Cli => "CLI",
            LogSource::Spacer => "",
        }
    }
}

/// OpenFn's log levels (a superset of bolt's stored levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
    Success,
    Always,
}

impl Level {
    pub fn parse(name: &str) -> Level {
        match name {
            "debug" => Level::Debug,
            "warn" => Level::Warn,
            "error" => Level::Error,
            "success" => Level::Success,
            "always" => Level::Always,
            _ => Level::Info,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Success => "success",
            Level::Always => "always",
        }
    }

    /// OpenFn's priority: debug 0 < info 1 < default/always/warn/success 2 < error 100.
    pub fn priority(self) -> u8 {
        match self {
            Level::Debug => 0,
            Level::Info => 1,
            Level::Warn | Level::Success | Level::Always => 2,
            Level::Error => 100,
        }
    }

    pub fn icon(self) -> &'static str {
        match self {
            Level::Debug => "❯",
            Level::Info => "ℹ",
            Level::Warn => "⚠",
            Level::Error => "✘",
            Level::Success => "✔",
            Level::Always => "♦",
        }
    }

    /// The level bolt stores.
    pub fn stored(self) -> LogLevel {
        match self {
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
            Level::Success => LogLevel::Success,
            Level::Always => LogLevel::Always,
        }
    }
}

/// One argument of a log call, as the sandbox's console describes it.
#[derive(Debug, Clone, PartialEq)]
pub enum LogArg {
    Str(String),
    /// A number or boolean: its JSON value (NaN/Infinity → null) and its text form.
    Primitive(Value, String),
    Undefined,
    Null,
    Function,
    /// An object after the JSON round trip (configuration already masked).
    Object(Value),
    /// An error logged by the runtime: JSON `{name, message}`, text `Name: message`.
    Error {
        name: String,
        message: String,
    },
}

impl LogArg {
    /// Decodes the `{t, v, s}` descriptors written by the prelude's console.
    pub fn from_descriptor(d: &Value) -> LogArg {
        let v = d.get("v").cloned().unwrap_or(Value::Null);
        match d.get("t").and_then(Value::as_str).unwrap_or("u") {
            "s" => LogArg::Str(v.as_str().unwrap_or_default().to_string()),
            "n" => {
                let text = d
                    .get("s")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string());
                LogArg::Primitive(v, text)
            }
            "b" => {
                let text = v.to_string();
                LogArg::Primitive(v, text)
            }
            "null" => LogArg::Null,
            "f" => LogArg::Function,
            "o" => LogArg::Object(v),
            _ => LogArg::Undefined,
        }
    }
}

/// One log call.
#[derive(Debug, Clone)]
pub struct LogRecord {
    pub step_id: Option<String>,
    pub source: LogSource,
    pub level: Level,
    pub args: Vec<LogArg>,
    pub time: chrono::DateTime<chrono::Utc>,
}

impl LogRecord {
    pub fn text(
        step_id: Option<&str>,
        source: LogSource,
        level: Level,
        message: impl Into<String>,
    ) -> LogRecord {
        LogRecord {
            step_id: step_id.map(str::to_string),
            source,
            level,
            args: vec![LogArg::Str(message.into())],
            time: chrono::Utc::now(),
        }
    }

    pub fn spacer(step_id: Option<&str>) -> LogRecord {
        LogRecord {
            args: Vec::new(),
            ..LogRecord::text(step_id, LogSource::Spacer, Level::Error, "")
        }
    }

    pub fn json(step_id: Option<&str>, source: LogSource, level: Level, value: Value) -> LogRecord {
        LogRecord {
            args: vec![LogArg::Object(value)],
            ..LogRecord::text(step_id, source, level, "")
        }
    }

    /// The message as one line of text (arguments joined by spaces), as stored by bolt.
    pub fn message(&self) -> String {
        render_args(&self.args, Sanitize::None).unwrap_or_default()
    }
}

/// Receives log records as they happen.
pub type LogSink = Arc<dyn Fn(LogRecord) + Send + Sync>;

/// OpenFn's `--sanitize` policies for objects and arrays in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sanitize {
    #[default]
    None,
    Remove,
    Obfuscate,
    Summarize,
}

impl Sanitize {
    pub fn parse(name: &str) -> Option<Sanitize> {
        match name {
            "none" => Some(Sanitize::None),
            "remove" => Some(Sanitize::Remove),
            "obfuscate" => Some(Sanitize::Obfuscate),
            "summarize" => Some(Sanitize::Summarize),
            _ => None,
        }
    }
}

fn sanitize_arg(arg: &LogArg, policy: Sanitize) -> LogArg {
    let LogArg::Object(value) = arg else {
        return arg.clone();
    };
    match policy {
        Sanitize::None => arg.clone(),
        Sanitize::Remove => LogArg::Null,
        Sanitize::Obfuscate => LogArg::Str(
            if value.is_array() {
                "[array]"
            } else {
                "[object]"
            }
            .to_string(),
        ),
        Sanitize::Summarize => LogArg::Str(match value {
            Value::Array(items) if items.is_empty() => "(empty array)".to_string(),
            Value::Array(items) => format!("(array with {} items)", items.len()),
            Value::Object(map) if map.is_empty() => "(empty object)".to_string(),
            Value::Object(map) => {
                let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
                keys.sort_unstable();
                format!("(object with keys {})", keys.join(", "))
            }
            other => return LogArg::Object(other.clone()),
        }),
    }
}

/// Applies a policy and drops calls OpenFn would not print (no arguments, or only nulls).
pub fn sanitized(args: &[LogArg], policy: Sanitize) -> Option<Vec<LogArg>> {
    let args: Vec<LogArg> = args.iter().map(|a| sanitize_arg(a, policy)).collect();
    if args.iter().all(|a| matches!(a, LogArg::Null)) {
        return None;
    }
    Some(args)
}

/// Text form: strings raw, objects as 2-space JSON, `undefined` for undefined/functions.
pub fn render_args(args: &[LogArg], policy: Sanitize) -> Option<String> {
    let args = sanitized(args, policy)?;
    let parts: Vec<String> = args
        .iter()
        .map(|arg| match arg {
            LogArg::Str(s) => s.clone(),
            LogArg::Primitive(_, text) => text.clone(),
            LogArg::Undefined | LogArg::Function => "undefined".to_string(),
            LogArg::Null => "null".to_string(),
            LogArg::Object(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
            LogArg::Error { name, message } => format!("{name}: {message}"),
        })
        .collect();
    Some(parts.join(" "))
}

/// JSON form of the `message` array.
pub fn json_args(args: &[LogArg], policy: Sanitize) -> Option<Value> {
    let args = sanitized(args, policy)?;
    Some(Value::Array(
        args.into_iter()
            .map(|arg| match arg {
                LogArg::Str(s) => Value::String(s),
                LogArg::Primitive(v, _) => v,
                LogArg::Undefined | LogArg::Function | LogArg::Null => Value::Null,
                LogArg::Object(v) => v,
                LogArg::Error { name, message } => {
                    serde_json::json!({"name": name, "message": message})
                }
            })
            .collect(),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lone_null_is_skipped_but_undefined_prints() {
        assert_eq!(render_args(&[LogArg::Null], Sanitize::None), None);
        assert_eq!(render_args(&[], Sanitize::None), None);
        assert_eq!(
            render_args(&[LogArg::Undefined], Sanitize::None).as_deref(),
            Some("undefined")
        );
        assert_eq!(
            json_args(&[LogArg::Undefined], Sanitize::None),
            Some(json!([null]))
        );
    }

    #[test]
    fn summarize_sorts_keys() {
        let arg = LogArg::Object(json!({"b": 1, "a": 2}));
        assert_eq!(
            render_args(&[arg], Sanitize::Summarize).as_deref(),
            Some("(object with keys a, b)")
        );
    }
}
