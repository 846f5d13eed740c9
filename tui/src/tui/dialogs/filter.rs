//! The filter form: status toggles, workflow (fuzzy picker), since/until, time field.

use super::Outcome;
use super::popup::{line_input, popup, single_line};
use crate::tui::action::Action;
use crate::tui::action::FilterText;
use crate::tui::theme::{Theme, Tone};
use bolt_shared::model::{TimeField, WorkOrderFilter, WorkOrderState};
use bolt_shared::timespec::parse_time;
use chrono::Utc;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui_textarea::TextArea;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    States,
    Workflow,
    Since,
    Until,
    By,
}

const FIELDS: [Field; 5] = [
    Field::States,
    Field::Workflow,
    Field::Since,
    Field::Until,
    Field::By,
];

pub struct FilterForm {
    pub states: Vec<WorkOrderState>,
    pub state_cursor: usize,
    pub workflow: Option<String>,
    pub since: TextArea<'static>,
    pub until: TextArea<'static>,
    pub by: TimeField,
    pub field: Field,
    pub error: Option<String>,
    search: Option<String>,
}

impl FilterForm {
    pub fn new(filter: &WorkOrderFilter, text: &FilterText) -> FilterForm {
        FilterForm {
            states: filter.states.clone(),
            state_cursor: 0,
            workflow: filter.workflow.clone(),
            since: single_line(&text.since),
            until: single_line(&text.until),
            by: filter.by.unwrap_or(TimeField::Received),
            field: Field::States,
            error: None,
            search: filter.search.clone(),
        }
    }

    fn move_field(&mut self, forward: bool) {
        let index = FIELDS.iter().position(|f| *f == self.field).unwrap_or(0);
        let next = if forward {
            (index + 1) % FIELDS.len()
        } else {
            (index + FIELDS.len() - 1) % FIELDS.len()
        };
        self.field = FIELDS[next];
    }

    /// Builds the filter, reading since/until like `--since`: `2h`, `7d`, dates.
    pub fn build(&self) -> Result<(WorkOrderFilter, FilterText), String> {
        let now = Utc::now();
        let since_text = self.since.lines().join("").trim().to_string();
        let until_text = self.until.lines().join("").trim().to_string();
        let read = |t: &str| {
            if t.is_empty() {
                Ok(None)
            } else {
                parse_time(t, now).map(Some)
            }
        };
        let filter = WorkOrderFilter {
            states: self.states.clone(),
            workflow: self.workflow.clone(),
            since: read(&since_text)?,
            until: read(&until_text)?,
            by: Some(self.by),
            search: self.search.clone(),
        };
        Ok((
            filter,
            FilterText {
                since: since_text,
                until: until_text,
            },
        ))
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        match key.code {
            KeyCode::Esc => return Outcome::Close,
            KeyCode::Enter => {
                return match self.build() {
                    Ok(built) => Outcome::Done(Action::ApplyFilter(Box::new(built))),
                    Err(message) => {
                        self.error = Some(message);
                        Outcome::Stay
                    }
                };
            }
            KeyCode::Tab | KeyCode::Down => {
                self.move_field(true);
                return Outcome::Stay;
            }
            KeyCode::BackTab | KeyCode::Up => {
                self.move_field(false);
                return Outcome::Stay;
            }
            _ => {}
        }
        self.error = None;
        match self.field {
            Field::States => match key.code {
                KeyCode::Left | KeyCode::Char('h') => {
                    self.state_cursor = self.state_cursor.saturating_sub(1)
                }
                KeyCode::Right | KeyCode::Char('l') => {
                    self.state_cursor = (self.state_cursor + 1).min(WorkOrderState::ALL.len() - 1)
                }
                KeyCode::Char(' ') | KeyCode::Char('x') => {
                    let state = WorkOrderState::ALL[self.state_cursor];
                    match self.states.iter().position(|s| *s == state) {
                        Some(at) => {
                            self.states.remove(at);
                        }
                        None => self.states.push(state),
                    }
                }
                KeyCode::Char('a') => self.states.clear(),
                _ => {}
            },
            Field::Workflow => match key.code {
                KeyCode::Char(' ') | KeyCode::Right | KeyCode::Char('p') => {
                    return Outcome::Keep(Action::PickFilterWorkflow);
                }
                KeyCode::Backspace | KeyCode::Delete => self.workflow = None,
                _ => {}
            },
            Field::Since => {
                line_input(&mut self.since, key);
            }
            Field::Until => {
                line_input(&mut self.until, key);
            }
            Field::By => {
                if matches!(
                    key.code,
                    KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right
                ) {
                    self.by = match self.by {
                        TimeField::Received => TimeField::Activity,
                        TimeField::Activity => TimeField::Received,
                    };
                }
            }
        }
        Outcome::Stay
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let inner = popup(frame, area, 96, 13, "Filter", theme);
        let label = |field: Field, text: &str| {
            let style = if self.field == field {
                theme.selected()
            } else {
                theme.title()
            };
            Span::styled(format!(" {text:<9}"), style)
        };
        // Two rows of five states, each with its word: symbols alone are too cryptic here.
        let mut rows = [
            vec![label(Field::States, "Status")],
            vec![Span::raw(" ".repeat(10))],
        ];
        for (index, state) in WorkOrderState::ALL.iter().enumerate() {
            let (symbol, tone) = theme.work_order_state(*state);
            let on = self.states.contains(state);
            let check = if on { "[x]" } else { "[ ]" };
            let mut style = theme.tone(tone);
            if self.field == Field::States && index == self.state_cursor {
                style = style.patch(theme.selected());
            }
            let cell = format!("{check} {symbol} {state}");
            rows[index / 5].push(Span::styled(format!(" {cell:<15}"), style));
        }
        let muted = theme.tone(Tone::Muted);
        let [first, second] = rows;
        let mut lines = vec![
            Line::from(first),
            Line::from(second),
            Line::from(Span::styled(
                "           ←/→ choose, space toggles, a = any state",
                muted,
            )),
            Line::from(vec![
                label(Field::Workflow, "Workflow"),
                Span::raw(format!(" {}", self.workflow.as_deref().unwrap_or("any"))),
                Span::styled("   space: pick, Backspace: any", muted),
            ]),
            Line::from(vec![label(Field::Since, "Since")]),
            Line::from(vec![label(Field::Until, "Until")]),
            Line::from(vec![
                label(Field::By, "Time by"),
                Span::raw(match self.by {
                    TimeField::Received => " received",
                    TimeField::Activity => " last activity",
                }),
                Span::styled("   space switches", muted),
            ]),
            Line::from(Span::styled(
                "           times: 2h, 7d, 30m, 2026-11-27 or 2026-11-27T10:00:00Z",
                muted,
            )),
        ];
        match &self.error {
            Some(error) => lines.push(Line::from(Span::styled(
                format!(" {error}"),
                theme.tone(Tone::Bad),
            ))),
            None => lines.push(Line::from("")),
        }
        lines.push(Line::from(Span::styled(
            " Enter apply · Tab next field · Esc cancel",
            muted,
        )));
        frame.render_widget(Paragraph::new(lines), inner);
        let text_rect = |row: u16| Rect {
            x: inner.x + 11,
            y: inner.y + row,
            width: inner.width.saturating_sub(12),
            height: 1,
        };
        let mut since = self.since.clone();
        let mut until = self.until.clone();
        for (area, field) in [(&mut since, Field::Since), (&mut until, Field::Until)] {
            if self.field != field {
                area.set_cursor_style(Style::default());
            }
        }
        frame.render_widget(&since, text_rect(4));
        frame.render_widget(&until, text_rect(5));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyModifiers;

    fn press(form: &mut FilterForm, code: KeyCode) -> Outcome {
        form.handle_key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn toggles_states_and_reads_relative_times() {
        let mut form = FilterForm::new(&WorkOrderFilter::default(), &FilterText::default());
        press(&mut form, KeyCode::Right); // failed
        press(&mut form, KeyCode::Char(' '));
        press(&mut form, KeyCode::Tab);
        press(&mut form, KeyCode::Tab);
        for c in "2h".chars() {
            press(&mut form, KeyCode::Char(c));
        }
        match press(&mut form, KeyCode::Enter) {
            Outcome::Done(Action::ApplyFilter(built)) => {
                let (filter, text) = *built;
                assert_eq!(filter.states, vec![WorkOrderState::Running]);
                let since = filter.since.unwrap();
                let age = Utc::now() - since;
                assert!((age.num_minutes() - 120).abs() <= 1, "{age}");
                assert_eq!(text.since, "2h");
            }
            _ => panic!("expected the filter to apply"),
        }
    }

    #[test]
    fn bad_times_keep_the_form_open_with_the_reason() {
        let mut form = FilterForm::new(&WorkOrderFilter::default(), &FilterText::default());
        form.field = Field::Until;
        for c in "yesterday-ish".chars() {
            press(&mut form, KeyCode::Char(c));
        }
        assert!(matches!(press(&mut form, KeyCode::Enter), Outcome::Stay));
        assert!(
            form.error.as_deref().unwrap_or("").contains("2h"),
            "{:?}",
            form.error
        );
    }
}
