//! Printing log records the way OpenFn's CLI does: per-component level filters, text lines
//! `[JOB] ℹ …` or JSON lines, raw adaptor output, blank spacer lines.

use crate::runtime::logs::{LogRecord, LogSource, Sanitize, json_args, render_args};
use std::io::Write;
use std::sync::{Arc, Mutex};

/// A component's threshold: debug 0, info 1, default 2, none 9 (errors still print).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold(u8);

impl Threshold {
    pub const DEBUG: Threshold = Threshold(0);
    pub const INFO: Threshold = Threshold(1);
    pub const DEFAULT: Threshold = Threshold(2);
    pub const NONE: Threshold = Threshold(9);

    fn parse(name: &str) -> Option<Threshold> {
        match name {
            "debug" => Some(Threshold::DEBUG),
            "info" => Some(Threshold::INFO),
            "default" => Some(Threshold::DEFAULT),
            "none" => Some(Threshold::NONE),
            _ => None,
        }
    }
}

/// Levels per component (`--log`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLevels {
    pub cli: Threshold,
    pub runtime: Threshold,
    pub job: Threshold,
}

impl Default for LogLevels {
    fn default() -> Self {
        LogLevels {
            cli: Threshold::DEFAULT,
            runtime: Threshold::DEFAULT,
            job: Threshold::DEBUG,
        }
    }
}

impl LogLevels {
    /// Parses `--log` values: `info`, `none`, `job=debug,r/t=none`…
    pub fn parse(specs: &[String]) -> Result<LogLevels, String> {
        let mut levels = LogLevels::default();
        for spec in specs.iter().flat_map(|s| s.split(',')) {
            let spec = spec.trim();
            if spec.is_empty() {
                continue;
            }
            match spec.split_once('=') {
                None => {
                    let t = Threshold::parse(spec)
                        .ok_or_else(|| format!("unknown log level {spec:?}"))?;
                    if t != Threshold::DEFAULT {
                        levels = LogLevels {
                            cli: t,
                            runtime: t,
                            job: t,
                        };
                    }
                }
                Some((component, level)) => {
                    let t = Threshold::parse(level)
                        .ok_or_else(|| format!("unknown log level {level:?}"))?;
                    match component.to_ascii_lowercase().as_str() {
                        "cli" => levels.cli = t,
                        "runtime" | "rt" | "r/t" => levels.runtime = t,
                        "job" => levels.job = t,
                        "compiler" | "cmp" => {}
                        other => return Err(format!("unknown log component {other:?}")),
                    }
                }
            }
        }
        Ok(levels)
    }
}

/// Where and how logs are printed.
#[derive(Clone)]
pub struct LogPrinter {
    out: Arc<Mutex<Box<dyn Write + Send>>>,
    pub levels: LogLevels,
    pub json: bool,
    pub sanitize: Sanitize,
}

impl LogPrinter {
    pub fn new(
        out: Box<dyn Write + Send>,
        levels: LogLevels,
        json: bool,
        sanitize: Sanitize,
    ) -> Self {
        LogPrinter {
            out: Arc::new(Mutex::new(out)),
            levels,
            json,
            sanitize,
        }
    }

    fn threshold(&self, source: LogSource) -> Threshold {
        match source {
            LogSource::Job => self.levels.job,
            LogSource::Runtime | LogSource::Spacer => self.levels.runtime,
            LogSource::Cli => self.levels.cli,
            LogSource::Adaptor => Threshold::DEBUG,
        }
    }

    /// The line(s) a record prints as, or `None` when filtered out.
    pub fn format(&self, record: &LogRecord) -> Option<String> {
        if record.level.priority() < self.threshold(record.source).0 {
            return None;
        }
        match record.source {
            LogSource::Spacer => Some(String::new()),
            LogSource::Adaptor => render_args(&record.args, Sanitize::None),
            source => {
                let policy = if source == LogSource::Job {
                    self.sanitize
                } else {
                    Sanitize::None
                };
                if self.json {
                    let message = json_args(&record.args, policy)?;
                    let nanos = record.time.timestamp_nanos_opt().unwrap_or_default();
                    let line = serde_json::json!({
                        "level": record.level.as_str(),
                        "name": source.as_str(),
                        "message": message,
                        "time": nanos.to_string(),
                    });
                    Some(line.to_string())
                } else {
                    let text = render_args(&record.args, policy)?;
                    Some(format!(
                        "[{}] {} {}",
                        source.as_str(),
                        record.level.icon(),
                        text
                    ))
                }
            }
        }
    }

    pub fn print(&self, record: &LogRecord) {
        if let Some(line) = self.format(record) {
            self.write_raw(&line);
        }
    }

    pub fn write_raw(&self, line: &str) {
        if let Ok(mut out) = self.out.lock() {
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}
