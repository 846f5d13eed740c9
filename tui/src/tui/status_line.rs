//! The status line: the screen's key hints on the left, boltd's connection and health
//! (queue depth, failures in the last hour) on the right.

use super::keymap::{Command, Context, Keymap};
use super::source::Connection;
use super::theme::{Theme, Tone};
use super::widgets::text::clip_spans;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Short key hints per screen for the status line (the full list is behind `?`).
const HINTS: &[(Context, &[(Command, &str)])] = &[
    (
        Context::History,
        &[
            (Command::Open, "open"),
            (Command::Rerun, "rerun"),
            (Command::RerunFrom, "from step"),
            (Command::Mark, "mark"),
            (Command::MarkAllMatching, "all"),
            (Command::Cancel, "cancel"),
            (Command::Search, "search"),
            (Command::Filter, "filter"),
        ],
    ),
    (
        Context::Detail,
        &[
            (Command::NextPane, "pane"),
            (Command::NextTab, "tab"),
            (Command::Zoom, "zoom"),
            (Command::Wrap, "wrap"),
            (Command::Rerun, "rerun"),
            (Command::RerunFrom, "from step"),
            (Command::SaveInput, "save input"),
            (Command::WriteFile, "write"),
            (Command::EditJob, "edit job"),
        ],
    ),
    (
        Context::Workflows,
        &[
            (Command::Open, "graph"),
            (Command::ToggleEnabled, "on/off"),
            (Command::TriggerRun, "run"),
        ],
    ),
    (
        Context::Graph,
        &[
            (Command::EditJob, "edit job"),
            (Command::TriggerRun, "run"),
            (Command::ToggleEnabled, "on/off"),
        ],
    ),
    (
        Context::Credentials,
        &[
            (Command::New, "new"),
            (Command::Edit, "edit"),
            (Command::Delete, "remove"),
        ],
    ),
    (
        Context::Audit,
        &[
            (Command::Filter, "filter"),
            (Command::Verify, "verify chain"),
        ],
    ),
];

fn connection_text(status: &Status) -> (String, Tone) {
    match status.connection {
        Connection::Connecting => (
            format!("boltd {} connecting", status.theme.dot(false)),
            Tone::Waiting,
        ),
        Connection::Connected { user, role, .. } => {
            let mut text = String::new();
            if let Some(queue) = status.health.0 {
                text.push_str(&format!("queue {queue} · "));
            }
            match status.health.1 {
                Some(0) => text.push_str("no failures in 1h · "),
                Some(failed) => text.push_str(&format!(
                    "{} {failed} failed in 1h · ",
                    status.theme.cross()
                )),
                None => {}
            }
            // Who boltd takes the caller for, and the role that gives.
            match (user, role) {
                (Some(user), Some(role)) => text.push_str(&format!("{user} ({role}) · ")),
                (Some(user), None) => text.push_str(&format!("{user} (no role) · ")),
                _ => {}
            }
            text.push_str(&format!("boltd {} connected", status.theme.dot(true)));
            let tone = if status.health.1.is_some_and(|f| f > 0) {
                Tone::Warn
            } else {
                Tone::Good
            };
            (text, tone)
        }
        Connection::Down { retry_in, .. } => (
            format!(
                "boltd {} down, retrying in {}s",
                status.theme.dot(false),
                retry_in.as_secs().max(1)
            ),
            Tone::Bad,
        ),
    }
}

/// What the status line shows, handed over by the app when it draws.
pub struct Status<'a> {
    pub context: Context,
    pub keymap: &'a Keymap,
    pub theme: &'a Theme,
    pub connection: &'a Connection,
    /// Queue depth and failures in the last hour, once boltd has said.
    pub health: (Option<u64>, Option<u64>),
    /// Whether the caller's role may run a command (hints it may not are greyed).
    pub may: &'a dyn Fn(Command) -> bool,
}

/// Key hints of this screen (as many as fit whole) on the left, boltd's state on the right.
pub fn draw(status: &Status, frame: &mut Frame, area: Rect) {
    let context = status.context;
    let mut spans = Vec::new();
    let width = area.width as usize;
    let (connection, tone) = connection_text(status);
    let right = unicode_width::UnicodeWidthStr::width(connection.as_str()) + 1;
    // "? keys" always shows; other hints only as many as fit whole.
    let help = format!(" {} keys", status.keymap.keys_for(context, Command::Help));
    let mut room = width.saturating_sub(right + 1 + help.len());
    if let Some((_, hints)) = HINTS.iter().find(|(c, _)| *c == context) {
        for (command, label) in hints.iter() {
            let keys = status.keymap.keys_for(context, *command);
            let first = keys.split('/').next().unwrap_or("").to_string();
            if first.is_empty() {
                continue;
            }
            let key = format!(" {first}");
            let text = format!(" {label} ");
            let cost = unicode_width::UnicodeWidthStr::width(key.as_str()) + text.len();
            if cost > room {
                break;
            }
            room -= cost;
            // What the role can't do stays listed, greyed.
            if (status.may)(*command) {
                spans.push(Span::styled(key, status.theme.key()));
                spans.push(Span::raw(text));
            } else {
                let muted = status.theme.tone(Tone::Muted);
                spans.push(Span::styled(key, muted));
                spans.push(Span::styled(text, muted));
            }
        }
    }
    spans.push(Span::styled(
        format!(" {}", status.keymap.keys_for(context, Command::Help)),
        status.theme.key(),
    ));
    spans.push(Span::raw(" keys"));
    let mut left = clip_spans(spans, width.saturating_sub(right + 1));
    let used = super::widgets::text::spans_width(&left);
    left.push(Span::raw(" ".repeat(width.saturating_sub(used + right))));
    left.push(Span::styled(connection, status.theme.tone(tone)));
    frame.render_widget(Paragraph::new(Line::from(left)), area);
}
