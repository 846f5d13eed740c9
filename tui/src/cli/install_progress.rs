//! Showing an install as it happens, on stderr: one line rewritten in place on a terminal,
//! plain lines otherwise (logs, CI), JSON lines with `--json` (stdout keeps the result).

use bolt_shared::adaptors::InstallProgress;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

pub struct ProgressPrinter {
    style: Style,
    /// A progress line is on screen (terminal only) and must be cleared before other output.
    line_open: Mutex<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Terminal,
    Lines,
    Json,
}

impl ProgressPrinter {
    pub fn new(json: bool) -> ProgressPrinter {
        let style = if json {
            Style::Json
        } else if std::io::stderr().is_terminal() {
            Style::Terminal
        } else {
            Style::Lines
        };
        ProgressPrinter {
            style,
            line_open: Mutex::new(false),
        }
    }

    pub fn event(&self, event: InstallProgress) {
        let mut stderr = std::io::stderr().lock();
        let mut open = self.line_open.lock().unwrap_or_else(|p| p.into_inner());
        if self.style == Style::Json {
            if let Ok(text) = serde_json::to_string(&event) {
                let _ = writeln!(stderr, "{text}");
            }
            return;
        }
        let (Some(text), transient) = describe(&event) else {
            return;
        };
        if self.style == Style::Terminal {
            if transient {
                // One screen line, or the next rewrite would leave the wrapped part behind.
                let width = ratatui::crossterm::terminal::size()
                    .map(|(w, _)| usize::from(w).saturating_sub(1))
                    .unwrap_or(79)
                    .max(20);
                let text: String = text.chars().take(width).collect();
                let _ = write!(stderr, "\r\x1b[K{text}");
                *open = true;
            } else {
                let clear = if *open { "\r\x1b[K" } else { "" };
                let _ = writeln!(stderr, "{clear}{text}");
                *open = false;
            }
            let _ = stderr.flush();
        } else {
            let _ = writeln!(stderr, "{text}");
        }
    }

    /// Clears a progress line left on the terminal before the result is printed.
    pub fn finish(&self) {
        let mut open = self.line_open.lock().unwrap_or_else(|p| p.into_inner());
        if *open {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
            *open = false;
        }
    }
}

/// The text of an event, and whether it is a transient progress line.
fn describe(event: &InstallProgress) -> (Option<String>, bool) {
    match event {
        InstallProgress::Waiting { lock } => (
            Some(format!(
                "waiting for another adaptor install to finish (lock {lock})"
            )),
            false,
        ),
        InstallProgress::Resolving { adaptor } => {
            (Some(format!("{adaptor}: resolving dependencies…")), true)
        }
        InstallProgress::Resolved {
            adaptor,
            packages,
            to_fetch,
        } => (
            Some(format!(
                "{adaptor}: {packages} package{} in its tree, fetching {to_fetch}",
                plural(*packages)
            )),
            true,
        ),
        InstallProgress::Fetched {
            adaptor,
            package,
            bytes,
            done,
            total,
            done_bytes,
        } => (
            Some(format!(
                "{adaptor}: {done}/{total} packages, {} (fetched {package}, {})",
                human_bytes(*done_bytes),
                human_bytes(*bytes)
            )),
            true,
        ),
        InstallProgress::Unpacking { adaptor, packages } => (
            Some(format!(
                "{adaptor}: unpacking {packages} package{}…",
                plural(*packages)
            )),
            true,
        ),
        InstallProgress::Installed {
            adaptor,
            packages,
            bytes,
            millis,
        } => (
            Some(format!(
                "{adaptor}: installed {packages} package{} ({}) in {:.1} s",
                plural(*packages),
                human_bytes(*bytes),
                *millis as f64 / 1000.0
            )),
            false,
        ),
        InstallProgress::Warning { message } => (Some(format!("warning: {message}")), false),
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `1.2 MB`, `340 KB`, `512 B`.
pub fn human_bytes(bytes: u64) -> String {
    const KB: f64 = 1000.0;
    let b = bytes as f64;
    if b >= KB * KB {
        format!("{:.1} MB", b / (KB * KB))
    } else if b >= KB {
        format!("{:.0} KB", b / KB)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_as_sentences() {
        let (text, transient) = describe(&InstallProgress::Fetched {
            adaptor: "@openfn/language-fhir@5.0.15".into(),
            package: "lodash@4.17.21".into(),
            bytes: 318_000,
            done: 3,
            total: 18,
            done_bytes: 1_250_000,
        });
        assert_eq!(
            text.as_deref(),
            Some(
                "@openfn/language-fhir@5.0.15: 3/18 packages, 1.2 MB (fetched lodash@4.17.21, 318 KB)"
            )
        );
        assert!(transient);
        assert_eq!(human_bytes(512), "512 B");
    }
}
