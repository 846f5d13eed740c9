//! Failures of the last 24 hours grouped by workflow, step and error (what `bolt failures`
//! prints): where to look first. Enter opens the example work order; `f` filters the
//! history to that workflow's failures.

use super::Outcome;
use super::popup::popup;
use crate::tui::action::Action;
use crate::tui::action::FilterText;
use crate::tui::theme::{Theme, Tone};
use crate::tui::widgets::text::{clip_spans, fit, thousands, when};
use bolt_shared::model::{FailureGroup, WorkOrderFilter, WorkOrderState};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub struct Failures {
    pub groups: Vec<FailureGroup>,
    pub selected: usize,
    pub since: DateTime<Utc>,
}

impl Failures {
    pub fn new(groups: Vec<FailureGroup>, since: DateTime<Utc>) -> Failures {
        Failures {
            groups,
            selected: 0,
            since,
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        let last = self.groups.len().saturating_sub(1);
        if let Some(at) = super::cursor::moved(key.code, self.selected, self.groups.len()) {
            self.selected = at;
            return Outcome::Stay;
        }
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => return Outcome::Close,
            KeyCode::Char('g') | KeyCode::Home => self.selected = 0,
            KeyCode::Char('G') | KeyCode::End => self.selected = last,
            KeyCode::Enter => {
                if let Some(group) = self.groups.get(self.selected) {
                    return Outcome::Done(Action::OpenDetail {
                        reference: group.example_ref.clone(),
                        search: None,
                    });
                }
            }
            KeyCode::Char('f') => {
                if let Some(group) = self.groups.get(self.selected) {
                    let filter = WorkOrderFilter {
                        workflow: Some(group.workflow.clone()),
                        states: vec![
                            WorkOrderState::Failed,
                            WorkOrderState::Crashed,
                            WorkOrderState::Killed,
                            WorkOrderState::Exception,
                            WorkOrderState::Lost,
                        ],
                        since: Some(self.since),
                        ..WorkOrderFilter::default()
                    };
                    let text = FilterText {
                        since: "24h".into(),
                        until: String::new(),
                    };
                    return Outcome::Done(Action::Many(vec![
                        Action::Go(crate::tui::action::ScreenId::History),
                        Action::ApplyFilter(Box::new((filter, text))),
                    ]));
                }
            }
            _ => {}
        }
        Outcome::Stay
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let now = Utc::now();
        let height = (self.groups.len() as u16 + 5).clamp(7, area.height);
        let title = format!(
            "Failures in the last 24 hours: {} in {} groups",
            thousands(self.groups.iter().map(|g| g.count).sum()),
            self.groups.len()
        );
        let inner = popup(
            frame,
            area,
            area.width.saturating_sub(2),
            height,
            &title,
            theme,
        );
        let [head, body, help] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(1),
        ])
        .areas(inner);
        let width = inner.width as usize;
        let columns =
            |count: &str, workflow: &str, job: &str, error: &str, last: &str, rest: &str| {
                format!(
                    "{}{}{}{}{}{}",
                    fit(count, 7, theme.ascii),
                    fit(workflow, 18, theme.ascii),
                    fit(job, 18, theme.ascii),
                    fit(error, 14, theme.ascii),
                    fit(last, 14, theme.ascii),
                    rest
                )
            };
        frame.render_widget(
            Paragraph::new(Span::styled(
                fit(
                    &columns("  COUNT", "WORKFLOW", "STEP", "ERROR", "LAST", "EXAMPLE"),
                    width,
                    theme.ascii,
                ),
                theme.title(),
            )),
            head,
        );
        let mut lines = Vec::new();
        if self.groups.is_empty() {
            lines.push(Line::from(Span::styled(
                "  no failures in the last 24 hours",
                theme.tone(Tone::Good),
            )));
        }
        for (index, group) in self.groups.iter().enumerate() {
            let selected = index == self.selected;
            let base = if selected {
                theme.selected()
            } else {
                ratatui::style::Style::default()
            };
            let pointer = if selected { theme.pointer() } else { " " };
            let example = format!(
                "{}  {}",
                bolt_shared::model::short_ref(&group.example_ref),
                group.example_message.as_deref().unwrap_or("")
            );
            let text = columns(
                &format!("{pointer} {}", thousands(group.count)),
                &group.workflow,
                &group.job,
                &group.error_type,
                &when(group.last_seen, now),
                &example,
            );
            lines.push(Line::from(clip_spans(
                vec![Span::styled(text, base.patch(theme.tone(Tone::Bad)))],
                width,
            )));
        }
        frame.render_widget(Paragraph::new(lines), body);
        frame.render_widget(
            Paragraph::new(Span::styled(
                " Enter open the example · f filter the history to it · j/k move · Esc close",
                theme.tone(Tone::Muted),
            )),
            help,
        );
    }
}
