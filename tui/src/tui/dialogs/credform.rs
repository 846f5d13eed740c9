//! Create or replace a credential. Values are never shown: the daemon never sends them, and
//! secret fields are masked while typing.

use super::Outcome;
use super::popup::{is_save, line_input, popup, single_line};
use crate::tui::action::Action;
use crate::tui::source::Tag;
use crate::tui::theme::{Theme, Tone};
use bolt_shared::protocol::Request;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui_textarea::TextArea;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Http,
    Raw,
}

/// The fields of an http credential: (key in the body, label, secret).
pub const HTTP_FIELDS: [(&str, &str, bool); 4] = [
    ("baseUrl", "Base URL", false),
    ("username", "Username", false),
    ("password", "Password", true),
    ("access_token", "Access token", true),
];

pub struct CredForm {
    pub editing: Option<String>,
    pub name: TextArea<'static>,
    pub kind: Kind,
    pub fields: Vec<TextArea<'static>>,
    pub raw: TextArea<'static>,
    /// 0 = name, 1..=4 = http fields, 1 = raw text when raw.
    pub focus: usize,
    pub error: Option<String>,
    /// Keys the credential has now (for editing: what a save replaces).
    pub existing_keys: Vec<String>,
    /// Editing: the non-secret values as boltd has them (key → value), so a save sends
    /// only what changed and keeps the rest.
    pub original: Option<Map<String, Value>>,
}

/// What a secret field shows once something is typed: always the same, so the length of
/// a secret is never on screen.
const TYPED_SECRET: &str = "•••••••• (typed)";

impl CredForm {
    pub fn new(existing: Option<(&str, &[String])>, theme: &Theme) -> CredForm {
        let mask = if theme.ascii { '*' } else { '•' };
        let fields = HTTP_FIELDS
            .iter()
            .map(|(_, _, secret)| {
                let mut area = single_line("");
                if *secret {
                    area.set_mask_char(mask);
                }
                area
            })
            .collect();
        let existing_keys: Vec<String> =
            existing.map(|(_, keys)| keys.to_vec()).unwrap_or_default();
        let http_like = existing_keys
            .iter()
            .all(|k| HTTP_FIELDS.iter().any(|(key, _, _)| key == k));
        let mut raw = TextArea::new(vec!["{".into(), "  ".into(), "}".into()]);
        raw.set_mask_char(mask);
        CredForm {
            editing: existing.map(|(name, _)| name.to_string()),
            name: single_line(existing.map(|(name, _)| name).unwrap_or("")),
            kind: if http_like { Kind::Http } else { Kind::Raw },
            fields,
            raw,
            focus: if existing.is_some() { 1 } else { 0 },
            error: None,
            existing_keys,
            original: None,
        }
    }

    /// Editing an existing credential from boltd's view of it: non-secret values filled in
    /// (and kept unless changed), secret fields blank (blank = unchanged).
    pub fn editing(
        detail: &bolt_shared::credential_view::CredentialDetail,
        theme: &Theme,
    ) -> CredForm {
        let keys: Vec<String> = detail.fields.iter().map(|f| f.key.clone()).collect();
        let mut form = CredForm::new(Some((&detail.name, &keys)), theme);
        let mut original = Map::new();
        for field in detail.fields.iter().filter(|f| !f.secret) {
            let Some(value) = &field.value else { continue };
            original.insert(field.key.clone(), value.clone());
            if let Some(at) = HTTP_FIELDS.iter().position(|(key, _, _)| *key == field.key) {
                let text = match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                form.fields[at] = single_line(&text);
            }
        }
        form.original = Some(original);
        form
    }

    /// What a save of an edit changes: (fields to set, fields to remove). Blank secrets
    /// are left as they are; a non-secret field emptied is removed.
    pub fn changes(&self) -> Result<(Map<String, Value>, Vec<String>), String> {
        let original = self.original.clone().unwrap_or_default();
        let mut set = Map::new();
        let mut unset = Vec::new();
        match self.kind {
            Kind::Http => {
                for ((key, _, secret), area) in HTTP_FIELDS.iter().zip(&self.fields) {
                    let typed = area.lines().join("");
                    let before = original.get(*key);
                    if *secret {
                        if !typed.is_empty() {
                            set.insert(key.to_string(), Value::String(typed));
                        }
                    } else if typed.is_empty() {
                        if before.is_some() {
                            unset.push(key.to_string());
                        }
                    } else if before != Some(&Value::String(typed.clone())) {
                        set.insert(key.to_string(), Value::String(typed));
                    }
                }
            }
            Kind::Raw => {
                let text = self.raw.lines().join("\n");
                match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Object(map)) => set = map,
                    Ok(_) => return Err("the fields to change must be a JSON object".into()),
                    Err(err) => return Err(format!("not valid JSON: {err}")),
                }
            }
        }
        Ok((set, unset))
    }

    fn save_edit(&mut self, name: String) -> Outcome {
        match self.changes() {
            Ok((set, unset)) if set.is_empty() && unset.is_empty() => {
                Outcome::Done(Action::info(format!("credential {name}: nothing changed")))
            }
            Ok((set, unset)) => {
                if let Err(short) =
                    bolt_daemon::secrets::check_secret_lengths(&name, &Value::Object(set.clone()))
                {
                    self.error = Some(short.summary());
                    return Outcome::Stay;
                }
                Outcome::Done(Action::Send(
                    Tag::Action {
                        what: format!("credential {name} updated"),
                    },
                    Request::CredentialUpdate { name, set, unset },
                ))
            }
            Err(message) => {
                self.error = Some(message);
                Outcome::Stay
            }
        }
    }

    fn field_count(&self) -> usize {
        match self.kind {
            Kind::Http => 1 + HTTP_FIELDS.len(),
            Kind::Raw => 2,
        }
    }

    /// The body to store: only the http fields that were filled in, or the raw JSON object.
    pub fn body(&self) -> Result<(String, Value), String> {
        let name = self.name.lines().join("").trim().to_string();
        if name.is_empty() {
            return Err("give the credential a name".into());
        }
        let body = match self.kind {
            Kind::Http => {
                let mut map = Map::new();
                for ((key, _, _), area) in HTTP_FIELDS.iter().zip(&self.fields) {
                    let value = area.lines().join("");
                    if !value.is_empty() {
                        map.insert(key.to_string(), Value::String(value));
                    }
                }
                if map.is_empty() {
                    return Err("fill in at least one field".into());
                }
                Value::Object(map)
            }
            Kind::Raw => {
                let text = self.raw.lines().join("\n");
                match serde_json::from_str::<Value>(&text) {
                    Ok(value @ Value::Object(_)) => value,
                    Ok(_) => return Err("the credential must be a JSON object".into()),
                    Err(err) => return Err(format!("not valid JSON: {err}")),
                }
            }
        };
        // boltd refuses it too; checked here so the form says why before anything is sent.
        bolt_daemon::secrets::check_secret_lengths(&name, &body)
            .map_err(|short| short.summary())?;
        Ok((name, body))
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        if is_save(&key)
            && self.original.is_some()
            && let Some(name) = self.editing.clone()
        {
            return self.save_edit(name);
        }
        if is_save(&key) {
            return match self.body() {
                Ok((name, body)) => Outcome::Done(Action::Send(
                    Tag::Action {
                        what: format!("credential {name} saved"),
                    },
                    Request::CredentialSet { name, body },
                )),
                Err(message) => {
                    self.error = Some(message);
                    Outcome::Stay
                }
            };
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return Outcome::Close,
            KeyCode::Tab => {
                self.focus = (self.focus + 1) % self.field_count();
                return Outcome::Stay;
            }
            KeyCode::BackTab => {
                self.focus = (self.focus + self.field_count() - 1) % self.field_count();
                return Outcome::Stay;
            }
            KeyCode::Char('t') if ctrl => {
                self.kind = match self.kind {
                    Kind::Http => Kind::Raw,
                    Kind::Raw => Kind::Http,
                };
                self.focus = self.focus.min(self.field_count() - 1);
                return Outcome::Stay;
            }
            KeyCode::Char('r') if ctrl && self.kind == Kind::Raw => {
                // Reveal/hide the raw JSON while typing it.
                if self.raw.mask_char().is_some() {
                    self.raw.clear_mask_char();
                } else {
                    self.raw.set_mask_char('•');
                }
                return Outcome::Stay;
            }
            KeyCode::Enter if self.kind == Kind::Http || self.focus == 0 => {
                self.focus = (self.focus + 1) % self.field_count();
                return Outcome::Stay;
            }
            _ => {}
        }
        self.error = None;
        match (self.kind, self.focus) {
            (_, 0) if self.editing.is_none() => {
                line_input(&mut self.name, key);
            }
            (_, 0) => {}
            (Kind::Http, n) => {
                if let Some(area) = self.fields.get_mut(n - 1) {
                    line_input(area, key);
                }
            }
            (Kind::Raw, _) => {
                self.raw.input(key);
            }
        }
        Outcome::Stay
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let title = match (&self.editing, &self.original) {
            (Some(name), Some(_)) => format!("Edit credential {name}"),
            (Some(name), None) => format!("Replace credential {name}"),
            (None, _) => "New credential".to_string(),
        };
        let inner = popup(frame, area, 76, 16, &title, theme);
        let muted = theme.tone(Tone::Muted);
        // The focused field is marked by a pointer and reverse video, not colour alone.
        let label = |index: usize, text: &str| {
            let (pointer, style) = if self.focus == index {
                (theme.pointer(), theme.selected())
            } else {
                (" ", theme.title())
            };
            Span::styled(format!("{pointer}{text:<13}"), style)
        };
        let mut lines = vec![Line::from(label(0, "Name"))];
        let kind_text = match self.kind {
            Kind::Http => "http (baseUrl, username, password, access_token)",
            Kind::Raw => "raw JSON",
        };
        lines.push(Line::from(vec![
            Span::raw(format!(" {:<13}{kind_text}", "Kind")),
            Span::styled("  ctrl-t switches", muted),
        ]));
        match self.kind {
            Kind::Http => {
                for (index, (_, text, secret)) in HTTP_FIELDS.iter().enumerate() {
                    let mut spans = vec![label(index + 1, text)];
                    if *secret {
                        let typed = !self.fields[index].is_empty();
                        spans.push(match (typed, self.original.is_some()) {
                            (true, _) => Span::raw(TYPED_SECRET),
                            (false, true) => Span::styled("(unchanged; type to replace)", muted),
                            (false, false) => Span::styled("(hidden as you type)", muted),
                        });
                    }
                    lines.push(Line::from(spans));
                }
            }
            Kind::Raw => lines.push(Line::from(vec![
                label(1, "JSON"),
                Span::styled("(hidden; ctrl-r reveals)", muted),
            ])),
        }
        let fields_end = lines.len() as u16;
        let raw_height = if self.kind == Kind::Raw { 6 } else { 0 };
        for _ in 0..raw_height {
            lines.push(Line::from(""));
        }
        if self.original.is_some() {
            lines.push(Line::from(Span::styled(
                match self.kind {
                    Kind::Http => " Blank secrets stay as they are; emptying a field removes it.",
                    Kind::Raw => " The fields typed are changed; the others are kept.",
                },
                muted,
            )));
        } else if !self.existing_keys.is_empty() {
            lines.push(Line::from(Span::styled(
                format!(
                    " Saving replaces all values (now: {}). Blank fields are left out.",
                    self.existing_keys.join(", ")
                ),
                theme.tone(Tone::Warn),
            )));
        }
        match &self.error {
            Some(error) => {
                for row in wrap_words(error, inner.width.saturating_sub(2) as usize) {
                    lines.push(Line::from(Span::styled(
                        format!(" {row}"),
                        theme.tone(Tone::Bad),
                    )));
                }
            }
            None => lines.push(Line::from("")),
        }
        lines.push(Line::from(Span::styled(
            " ctrl-s/F2 save · Tab next field · Esc cancel",
            muted,
        )));
        frame.render_widget(Paragraph::new(lines), inner);

        let field_rect = |row: u16, width: u16| Rect {
            x: inner.x + 14,
            y: inner.y + row,
            width: width.min(inner.width.saturating_sub(16)),
            height: 1,
        };
        let hide_cursor = |area: &TextArea<'static>, focused: bool| {
            let mut area = area.clone();
            if !focused {
                area.set_cursor_style(Style::default());
            }
            area
        };
        frame.render_widget(&hide_cursor(&self.name, self.focus == 0), field_rect(0, 50));
        match self.kind {
            Kind::Http => {
                for (index, field) in self.fields.iter().enumerate() {
                    // Secret fields are drawn above as a fixed mark, never per character.
                    if HTTP_FIELDS[index].2 {
                        continue;
                    }
                    frame.render_widget(
                        &hide_cursor(field, self.focus == index + 1),
                        field_rect(2 + index as u16, 38),
                    );
                }
            }
            Kind::Raw if self.raw.mask_char().is_some() => {
                let typed: String = self
                    .raw
                    .lines()
                    .concat()
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                let text = if typed.is_empty() || typed == "{}" {
                    "(hidden as you type; ctrl-r shows it)"
                } else {
                    TYPED_SECRET
                };
                frame.render_widget(
                    Paragraph::new(Span::raw(format!(" {text}"))),
                    Rect {
                        x: inner.x + 1,
                        y: inner.y + fields_end,
                        width: inner.width.saturating_sub(2),
                        height: 1,
                    },
                );
            }
            Kind::Raw => {
                let rect = Rect {
                    x: inner.x + 1,
                    y: inner.y + fields_end,
                    width: inner.width.saturating_sub(2),
                    height: raw_height,
                };
                frame.render_widget(&hide_cursor(&self.raw, self.focus == 1), rect);
            }
        }
    }
}

/// Splits `text` into rows of at most `width` characters, at spaces where it can.
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let mut rows = Vec::new();
    let mut row = String::new();
    for word in text.split(' ') {
        let needed = row.chars().count() + usize::from(!row.is_empty()) + word.chars().count();
        if !row.is_empty() && needed > width {
            rows.push(std::mem::take(&mut row));
        }
        if !row.is_empty() {
            row.push(' ');
        }
        row.push_str(word);
    }
    if !row.is_empty() {
        rows.push(row);
    }
    rows
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tui::theme::ColorMode;

    fn theme() -> Theme {
        Theme {
            color: ColorMode::None,
            ascii: false,
        }
    }

    fn type_text(form: &mut CredForm, text: &str) {
        for c in text.chars() {
            form.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }

    #[test]
    fn http_form_sends_only_filled_fields() {
        let mut form = CredForm::new(None, &theme());
        type_text(&mut form, "dhis2");
        form.handle_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
        type_text(&mut form, "https://play.dhis2.org");
        form.handle_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
        form.handle_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
        type_text(&mut form, "s3cre");
        let err = form.body().unwrap_err();
        assert!(err.contains("`password` (5 characters) too short"), "{err}");
        type_text(&mut form, "t");
        let (name, body) = form.body().unwrap();
        assert_eq!(name, "dhis2");
        assert_eq!(
            body,
            serde_json::json!({"baseUrl": "https://play.dhis2.org", "password": "s3cret"})
        );
    }

    #[test]
    fn raw_form_requires_a_json_object() {
        let mut form = CredForm::new(
            Some(("odk", &["token".to_string(), "project".to_string()])),
            &theme(),
        );
        assert_eq!(form.kind, Kind::Raw);
        form.raw = TextArea::new(vec!["[1]".into()]);
        assert!(form.body().unwrap_err().contains("JSON object"));
    }
}
