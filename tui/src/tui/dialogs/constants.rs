//! A workflow's constants as a name/value table: add, change and remove values without
//! touching job code; saving makes a new version.

use super::Outcome;
use super::popup::popup;
use crate::tui::action::Action;
use crate::tui::source::Tag;
use crate::tui::theme::{Theme, Tone};
use crate::tui::widgets::text::fit;
use bolt_shared::protocol::Request;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Name,
    Value,
}

pub struct ConstantsForm {
    workflow_id: String,
    workflow_name: String,
    /// (name, value as typed: JSON, or plain text for a string).
    pub rows: Vec<(String, String)>,
    pub selected: usize,
    /// Editing the selected row's name or value, with the text typed so far.
    editing: Option<(Field, String)>,
    original: Vec<(String, String)>,
    pub error: Option<String>,
}

/// How a value is shown for editing: strings as they are, the rest as JSON.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What a typed value means: JSON when it is (numbers, true, lists, objects, "quoted"),
/// else the text itself.
pub fn parse_value(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|_| Value::String(text.to_string()))
}

impl ConstantsForm {
    pub fn new(
        workflow_id: String,
        workflow_name: String,
        constants: &serde_json::Map<String, Value>,
    ) -> ConstantsForm {
        let rows: Vec<(String, String)> = constants
            .iter()
            .map(|(k, v)| (k.clone(), as_text(v)))
            .collect();
        ConstantsForm {
            workflow_id,
            workflow_name,
            original: rows.clone(),
            rows,
            selected: 0,
            editing: None,
            error: None,
        }
    }

    fn save(&mut self) -> Outcome {
        let mut constants = serde_json::Map::new();
        for (name, text) in &self.rows {
            if name.trim().is_empty() {
                self.error = Some("every constant needs a name".into());
                return Outcome::Stay;
            }
            if constants.insert(name.clone(), parse_value(text)).is_some() {
                self.error = Some(format!("two constants are named {name}"));
                return Outcome::Stay;
            }
        }
        if self.rows == self.original {
            return Outcome::Keep(Action::info("no change to save"));
        }
        Outcome::Done(Action::Send(
            Tag::Action {
                what: format!("constants of {} saved", self.workflow_name),
            },
            Request::SetWorkflowConstants {
                workflow: self.workflow_id.clone(),
                constants,
            },
        ))
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        if let Some((field, text)) = self.editing.as_mut() {
            match key.code {
                KeyCode::Esc => {
                    // A new row abandoned before it had a name goes away.
                    if *field == Field::Name
                        && self.rows.get(self.selected).is_some_and(|r| r.0.is_empty())
                    {
                        self.rows.remove(self.selected);
                        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
                    }
                    self.editing = None;
                }
                KeyCode::Enter => {
                    let text = std::mem::take(text);
                    let field = *field;
                    if let Some(row) = self.rows.get_mut(self.selected) {
                        match field {
                            Field::Name => {
                                row.0 = text.trim().to_string();
                                let value = row.1.clone();
                                self.editing = Some((Field::Value, value));
                                return Outcome::Stay;
                            }
                            Field::Value => row.1 = text,
                        }
                    }
                    self.editing = None;
                }
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => text.push(c),
                _ => {}
            }
            return Outcome::Stay;
        }
        self.error = None;
        if let Some(at) = super::cursor::moved(key.code, self.selected, self.rows.len()) {
            self.selected = at;
            return Outcome::Stay;
        }
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => Outcome::Close,
            KeyCode::Char('a') => {
                self.rows.push((String::new(), String::new()));
                self.selected = self.rows.len() - 1;
                self.editing = Some((Field::Name, String::new()));
                Outcome::Stay
            }
            KeyCode::Enter | KeyCode::Char('e') => {
                if let Some(row) = self.rows.get(self.selected) {
                    self.editing = Some((Field::Value, row.1.clone()));
                }
                Outcome::Stay
            }
            KeyCode::Char('n') => {
                if let Some(row) = self.rows.get(self.selected) {
                    self.editing = Some((Field::Name, row.0.clone()));
                }
                Outcome::Stay
            }
            KeyCode::Char('d') | KeyCode::Delete => {
                if self.selected < self.rows.len() {
                    self.rows.remove(self.selected);
                    self.selected = self.selected.min(self.rows.len().saturating_sub(1));
                }
                Outcome::Stay
            }
            KeyCode::Char('s') => self.save(),
            KeyCode::Char('S') if key.modifiers.contains(KeyModifiers::CONTROL) => self.save(),
            _ => Outcome::Stay,
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let title = format!("Constants of {}", self.workflow_name);
        let height = (self.rows.len() as u16 + 6).clamp(8, area.height);
        let inner = popup(frame, area, 90, height, &title, theme);
        let [body, message, help] = Layout::vertical([
            Constraint::Min(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(inner);
        let width = body.width as usize;
        let name_width = self
            .rows
            .iter()
            .map(|r| r.0.len())
            .max()
            .unwrap_or(4)
            .clamp(8, 28);
        let mut lines = vec![Line::from(Span::styled(
            format!("  {}  VALUE", fit("NAME", name_width, theme.ascii)),
            theme.title(),
        ))];
        for (i, (name, value)) in self.rows.iter().enumerate() {
            let selected = i == self.selected;
            let (name, value) = match (&self.editing, selected) {
                (Some((Field::Name, text)), true) => (format!("{text}▏"), value.clone()),
                (Some((Field::Value, text)), true) => (name.clone(), format!("{text}▏")),
                _ => (name.clone(), value.clone()),
            };
            let text = format!(
                "{} {}  {}",
                if selected { theme.pointer() } else { " " },
                fit(&name, name_width, theme.ascii),
                value
            );
            let style = if selected {
                theme.selected()
            } else {
                Default::default()
            };
            lines.push(Line::from(Span::styled(
                fit(&text, width, theme.ascii),
                style,
            )));
        }
        if self.rows.is_empty() {
            lines.push(Line::from(Span::styled(
                "  no constants yet — press a to add one",
                theme.tone(Tone::Muted),
            )));
        }
        frame.render_widget(Paragraph::new(lines), body);
        let note = match &self.error {
            Some(error) => Span::styled(error.clone(), theme.tone(Tone::Bad)),
            None => Span::styled(
                "values are JSON (10, true, [1,2], {\"a\":1}) or plain text",
                theme.tone(Tone::Muted),
            ),
        };
        frame.render_widget(Paragraph::new(Line::from(note)), message);
        let keys: Vec<Span> = if self.editing.is_some() {
            vec![
                Span::styled("Enter", theme.key()),
                Span::raw(" done  "),
                Span::styled("Esc", theme.key()),
                Span::raw(" cancel"),
            ]
        } else {
            vec![
                Span::styled("a", theme.key()),
                Span::raw(" add  "),
                Span::styled("Enter", theme.key()),
                Span::raw(" edit value  "),
                Span::styled("n", theme.key()),
                Span::raw(" rename  "),
                Span::styled("d", theme.key()),
                Span::raw(" delete  "),
                Span::styled("s", theme.key()),
                Span::raw(" save (new version)  "),
                Span::styled("Esc", theme.key()),
                Span::raw(" close"),
            ]
        };
        frame.render_widget(Paragraph::new(Line::from(keys)), help);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyEvent;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn typed(form: &mut ConstantsForm, text: &str) {
        for c in text.chars() {
            form.handle_key(key(KeyCode::Char(c)));
        }
    }

    #[test]
    fn a_value_changed_and_a_constant_added_save_as_one_request() {
        let mut constants = serde_json::Map::new();
        constants.insert("LIMIT".into(), serde_json::json!(10));
        constants.insert("REGION".into(), serde_json::json!("east"));
        let mut form = ConstantsForm::new("wf-1".into(), "Intake".into(), &constants);
        // Change LIMIT to 25.
        form.handle_key(key(KeyCode::Enter));
        for _ in 0..2 {
            form.handle_key(key(KeyCode::Backspace));
        }
        typed(&mut form, "25");
        form.handle_key(key(KeyCode::Enter));
        // Add CODES = ["a","b"].
        form.handle_key(key(KeyCode::Char('a')));
        typed(&mut form, "CODES");
        form.handle_key(key(KeyCode::Enter));
        typed(&mut form, r#"["a","b"]"#);
        form.handle_key(key(KeyCode::Enter));
        let Outcome::Done(Action::Send(
            _,
            Request::SetWorkflowConstants {
                workflow,
                constants,
            },
        )) = form.handle_key(key(KeyCode::Char('s')))
        else {
            panic!("save sends the constants");
        };
        assert_eq!(workflow, "wf-1");
        assert_eq!(
            serde_json::Value::Object(constants),
            serde_json::json!({"LIMIT": 25, "REGION": "east", "CODES": ["a", "b"]})
        );
    }

    #[test]
    fn nothing_changed_sends_nothing() {
        let mut form = ConstantsForm::new("wf".into(), "W".into(), &serde_json::Map::new());
        assert!(matches!(
            form.handle_key(key(KeyCode::Char('s'))),
            Outcome::Keep(_)
        ));
        form.handle_key(key(KeyCode::Char('a')));
        form.handle_key(key(KeyCode::Esc));
        assert!(form.rows.is_empty(), "an abandoned new row goes away");
    }
}
