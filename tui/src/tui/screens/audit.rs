//! The audit log: who did what, newest first, with a filter (`actor:alice
//! kind:credential workflow:Sync since:2h`) and the chain check.

use crate::tui::action::{Action, PromptPurpose};
use crate::tui::keymap::Command;
use crate::tui::source::Tag;
use crate::tui::theme::{Theme, Tone};
use crate::tui::widgets::text::{fit, when};
use bolt_shared::audit::{AuditEvent, AuditFilter};
use bolt_shared::protocol::Request;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Events loaded at once.
const PAGE: u32 = 500;

#[derive(Debug, Default)]
pub struct Audit {
    pub events: Vec<AuditEvent>,
    pub selected: usize,
    pub loaded: bool,
    pub filter: AuditFilter,
    /// The filter as typed.
    pub filter_text: String,
}

impl Audit {
    pub fn load(&self) -> Action {
        let mut filter = self.filter.clone();
        filter.limit = PAGE;
        Action::Send(Tag::Audit, Request::Audit { filter })
    }

    pub fn apply(&mut self, events: Vec<AuditEvent>) {
        self.events = events;
        self.loaded = true;
        self.selected = self.selected.min(self.events.len().saturating_sub(1));
    }

    pub fn handle(&mut self, command: Command) -> Action {
        let last = self.events.len().saturating_sub(1);
        match command {
            Command::Up => self.selected = self.selected.saturating_sub(1),
            Command::Down => self.selected = (self.selected + 1).min(last),
            Command::HalfPageUp => self.selected = self.selected.saturating_sub(10),
            Command::HalfPageDown => self.selected = (self.selected + 10).min(last),
            Command::Top => self.selected = 0,
            Command::Bottom => self.selected = last,
            Command::Refresh => return self.load(),
            Command::Filter | Command::Search => {
                return Action::prompt(
                    "Filter: actor:NAME kind:K workflow:W credential:C since:2h until:1h",
                    self.filter_text.clone(),
                    PromptPurpose::AuditFilter,
                );
            }
            Command::Verify => return Action::Send(Tag::AuditVerify, Request::AuditVerify),
            Command::Back | Command::Quit => return Action::Back,
            _ => {}
        }
        Action::None
    }

    /// Applies a typed filter; the error says which word it could not read.
    pub fn apply_filter(&mut self, text: &str) -> Action {
        match parse_filter(text, Utc::now()) {
            Ok(filter) => {
                self.filter = filter;
                self.filter_text = text.trim().to_string();
                self.selected = 0;
                self.load()
            }
            Err(message) => Action::error(message),
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, now: DateTime<Utc>) {
        let width = area.width as usize;
        let muted = theme.tone(Tone::Muted);
        let filter = if self.filter_text.is_empty() {
            "all events".to_string()
        } else {
            self.filter_text.clone()
        };
        let mut lines = vec![
            Line::from(vec![
                Span::styled(format!(" bolt {} Audit log", theme.arrow()), theme.title()),
                Span::styled(format!("   {filter}"), muted),
            ]),
            Line::from(Span::styled(
                fit(
                    &format!(
                        "    {}{}{}{}{}",
                        fit("ID", 7, true),
                        fit("WHEN", 12, true),
                        fit("WHO", 18, true),
                        fit("WHAT", 26, true),
                        "SUBJECT"
                    ),
                    width,
                    theme.ascii,
                ),
                theme.title(),
            )),
        ];
        // Room for the list above the selected event's details (3 lines).
        let rows = (area.height as usize).saturating_sub(2 + 4).max(1);
        let start = self.selected.saturating_sub(rows.saturating_sub(1));
        for (index, event) in self.events.iter().enumerate().skip(start).take(rows) {
            let selected = index == self.selected;
            let pointer = if selected { theme.pointer() } else { " " };
            let text = format!(
                "  {pointer} {}{}{}{}{}",
                fit(&event.id.to_string(), 7, theme.ascii),
                fit(&when(event.at, now), 12, theme.ascii),
                fit(&event.actor, 18, theme.ascii),
                fit(&event.kind, 26, theme.ascii),
                event.subject
            );
            let style = if selected {
                theme.selected()
            } else {
                Style::default()
            };
            lines.push(Line::from(Span::styled(
                fit(&text, width, theme.ascii),
                style,
            )));
        }
        if self.events.is_empty() {
            let text = if self.loaded {
                "   no audit events match — / changes the filter"
            } else {
                "   loading…"
            };
            lines.push(Line::from(Span::styled(text, muted)));
        }
        if let Some(event) = self.events.get(self.selected) {
            while lines.len() < area.height.saturating_sub(3) as usize {
                lines.push(Line::from(""));
            }
            let at = event.at.format("%Y-%m-%d %H:%M:%S UTC");
            lines.push(Line::from(Span::styled(
                fit(
                    &format!(
                        " #{} {at} · {} · {} {}",
                        event.id, event.actor, event.kind, event.subject
                    ),
                    width,
                    theme.ascii,
                ),
                theme.title(),
            )));
            let details = event
                .metadata
                .as_ref()
                .map(|m| m.to_string())
                .unwrap_or_else(|| "(no details)".into());
            lines.push(Line::from(Span::styled(
                fit(&format!(" {details}"), width, theme.ascii),
                muted,
            )));
        }
        frame.render_widget(Paragraph::new(lines), area);
    }
}

/// `actor:alice kind:credential since:2h` as a filter.
pub fn parse_filter(text: &str, now: DateTime<Utc>) -> Result<AuditFilter, String> {
    let mut filter = AuditFilter::default();
    for word in text.split_whitespace() {
        let Some((key, value)) = word.split_once(':').filter(|(_, v)| !v.is_empty()) else {
            return Err(format!(
                "cannot read `{word}` in the audit filter: write KEY:VALUE with KEY one of actor, kind, workflow, credential, since, until"
            ));
        };
        let time = |value: &str| {
            bolt_shared::timespec::parse_time(value, now).map_err(|e| format!("{key}: {e}"))
        };
        match key {
            "actor" => filter.actor = Some(value.to_string()),
            "kind" => filter.kind = Some(value.to_string()),
            "workflow" => filter.workflow = Some(value.to_string()),
            "credential" => filter.credential = Some(value.to_string()),
            "since" => filter.since = Some(time(value)?),
            "until" => filter.until = Some(time(value)?),
            other => {
                return Err(format!(
                    "the audit filter has no `{other}`: use actor, kind, workflow, credential, since or until"
                ));
            }
        }
    }
    Ok(filter)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn filters_read_as_typed() {
        let now = Utc::now();
        let filter = parse_filter("actor:alice kind:credential since:2h", now).unwrap();
        assert_eq!(filter.actor.as_deref(), Some("alice"));
        assert_eq!(filter.kind.as_deref(), Some("credential"));
        assert_eq!(filter.since, Some(now - chrono::Duration::hours(2)));
        let err = parse_filter("who:alice", now).unwrap_err();
        assert!(err.contains("no `who`"), "{err}");
        assert!(
            parse_filter("alice", now)
                .unwrap_err()
                .contains("KEY:VALUE")
        );
    }
}
