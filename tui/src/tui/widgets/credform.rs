//! Create a credential, or change some of its fields and keep the others. Values are never
//! shown: the daemon never sends them, and secret fields are masked while typing.

use super::overlay::{Outcome, is_save, line_input, popup, single_line};
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
    /// Editing: one row per field; a blank row keeps its value.
    Fields,
}

/// What an edit changes: fields set to typed values, and fields removed.
#[derive(Debug, PartialEq)]
pub struct FieldChanges {
    pub name: String,
    pub set: Map<String, Value>,
    pub unset: Vec<String>,
}

/// One field of the credential being edited.
pub struct FieldRow {
    pub key: String,
    pub value: TextArea<'static>,
    /// The credential has this field now (a blank value keeps it).
    pub exists: bool,
    /// Marked for removal (ctrl-d).
    pub remove: bool,
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
    /// Editing field by field: the credential's fields (and the http ones it lacks).
    pub rows: Vec<FieldRow>,
    /// A field to add: its name and value.
    pub new_key: TextArea<'static>,
    pub new_value: TextArea<'static>,
}

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
        let masked = |key: &str| {
            let mut area = single_line("");
            if is_secret_key(key) {
                area.set_mask_char(mask);
            }
            area
        };
        let mut rows: Vec<FieldRow> = existing_keys
            .iter()
            .map(|key| FieldRow {
                key: key.clone(),
                value: masked(key),
                exists: true,
                remove: false,
            })
            .collect();
        if http_like {
            for (key, _, _) in HTTP_FIELDS {
                if !existing_keys.iter().any(|k| k == key) {
                    rows.push(FieldRow {
                        key: key.to_string(),
                        value: masked(key),
                        exists: false,
                        remove: false,
                    });
                }
            }
        }
        let mut new_value = single_line("");
        new_value.set_mask_char(mask);
        CredForm {
            editing: existing.map(|(name, _)| name.to_string()),
            name: single_line(existing.map(|(name, _)| name).unwrap_or("")),
            kind: match (existing.is_some(), http_like) {
                (true, _) => Kind::Fields,
                (false, true) => Kind::Http,
                (false, false) => Kind::Raw,
            },
            fields,
            raw,
            focus: if existing.is_some() { 1 } else { 0 },
            error: None,
            existing_keys,
            rows,
            new_key: single_line(""),
            new_value,
        }
    }

    fn field_count(&self) -> usize {
        match self.kind {
            Kind::Http => 1 + HTTP_FIELDS.len(),
            Kind::Raw => 2,
            // The rows, then the new field's name and value.
            Kind::Fields => 1 + self.rows.len() + 2,
        }
    }

    /// The changes of a field-by-field edit: fields to set (typed values) and to remove.
    pub fn changes(&self) -> Result<FieldChanges, String> {
        let name = self.editing.clone().unwrap_or_default();
        let mut set = Map::new();
        let mut unset = Vec::new();
        for row in &self.rows {
            let value = row.value.lines().join("");
            if row.remove {
                if row.exists {
                    unset.push(row.key.clone());
                }
            } else if !value.is_empty() {
                set.insert(row.key.clone(), Value::String(value));
            }
        }
        let new_key = self.new_key.lines().join("").trim().to_string();
        let new_value = self.new_value.lines().join("");
        match (new_key.is_empty(), new_value.is_empty()) {
            (true, true) => {}
            (true, false) => return Err("the new field needs a name".into()),
            (false, true) => return Err(format!("give the new field `{new_key}` a value")),
            (false, false) => {
                if self.rows.iter().any(|r| r.key == new_key) {
                    return Err(format!(
                        "`{new_key}` is already a field: type its new value in its own row"
                    ));
                }
                set.insert(new_key, Value::String(new_value));
            }
        }
        if set.is_empty() && unset.is_empty() {
            return Err(
                "nothing to save: type a new value in a field (blank keeps it), or ctrl-d to remove one"
                    .into(),
            );
        }
        bolt_daemon::secrets::check_secret_lengths(&name, &Value::Object(set.clone()))
            .map_err(|short| short.summary())?;
        Ok(FieldChanges { name, set, unset })
    }

    /// The request a save sends.
    fn save(&self) -> Result<(String, Request), String> {
        if self.kind == Kind::Fields {
            let FieldChanges { name, set, unset } = self.changes()?;
            let count = set.len() + unset.len();
            return Ok((
                format!(
                    "credential {name} updated ({count} field{} changed, the others kept)",
                    if count == 1 { "" } else { "s" }
                ),
                Request::CredentialUpdate { name, set, unset },
            ));
        }
        let (name, body) = self.body()?;
        Ok((
            format!("credential {name} saved"),
            Request::CredentialSet { name, body },
        ))
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
            Kind::Raw | Kind::Fields => {
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
        if is_save(&key) {
            return match self.save() {
                Ok((what, request)) => Outcome::Done(Action::Send(Tag::Action { what }, request)),
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
                self.kind = match (self.kind, self.editing.is_some()) {
                    (Kind::Http, _) => Kind::Raw,
                    (Kind::Raw, false) => Kind::Http,
                    // Editing: field by field, or the whole credential replaced as JSON.
                    (Kind::Raw, true) => Kind::Fields,
                    (Kind::Fields, _) => Kind::Raw,
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
            KeyCode::Char('d') if ctrl && self.kind == Kind::Fields => {
                if let Some(row) = self.focus.checked_sub(1).and_then(|i| self.rows.get_mut(i)) {
                    row.remove = !row.remove;
                }
                return Outcome::Stay;
            }
            KeyCode::Enter if self.kind != Kind::Raw || self.focus == 0 => {
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
            (Kind::Fields, n) => {
                let rows = self.rows.len();
                if n <= rows {
                    if let Some(row) = self.rows.get_mut(n - 1) {
                        row.value.input(key);
                    }
                } else if n == rows + 1 {
                    self.new_key.input(key);
                } else {
                    self.new_value.input(key);
                }
            }
        }
        Outcome::Stay
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        if self.kind == Kind::Fields {
            return self.draw_fields(frame, area, theme);
        }
        let title = match &self.editing {
            Some(name) => format!("Replace credential {name}"),
            None => "New credential".to_string(),
        };
        let inner = popup(frame, area, 76, 16, &title, theme);
        let muted = theme.tone(Tone::Muted);
        let label = |index: usize, text: &str| {
            let style = if self.focus == index {
                theme.selected()
            } else {
                theme.title()
            };
            Span::styled(format!(" {text:<13}"), style)
        };
        let mut lines = vec![Line::from(label(0, "Name"))];
        let kind_text = match self.kind {
            Kind::Http => "http (baseUrl, username, password, access_token)",
            Kind::Raw if self.editing.is_some() => "raw JSON, replacing every field",
            Kind::Raw | Kind::Fields => "raw JSON",
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
                        spans.push(Span::raw(" ".repeat(40)));
                        spans.push(Span::styled("(hidden)", muted));
                    }
                    lines.push(Line::from(spans));
                }
            }
            Kind::Raw | Kind::Fields => lines.push(Line::from(vec![
                label(1, "JSON"),
                Span::styled("(hidden; ctrl-r reveals)", muted),
            ])),
        }
        let fields_end = lines.len() as u16;
        let raw_height = if self.kind == Kind::Raw { 6 } else { 0 };
        for _ in 0..raw_height {
            lines.push(Line::from(""));
        }
        if !self.existing_keys.is_empty() {
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
                    frame.render_widget(
                        &hide_cursor(field, self.focus == index + 1),
                        field_rect(2 + index as u16, 38),
                    );
                }
            }
            Kind::Raw | Kind::Fields => {
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

    /// Editing field by field: a row per field, blank keeps the value.
    fn draw_fields(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let name = self.editing.as_deref().unwrap_or_default();
        let height = (self.rows.len() as u16 + 9).min(area.height.saturating_sub(2));
        let inner = popup(
            frame,
            area,
            76,
            height,
            &format!("Edit credential {name}"),
            theme,
        );
        let muted = theme.tone(Tone::Muted);
        let label = |index: usize, text: &str| {
            let style = if self.focus == index {
                theme.selected()
            } else {
                theme.title()
            };
            Span::styled(format!(" {:<16}", fit_key(text)), style)
        };
        let mut lines = vec![Line::from(Span::styled(
            " Type a new value where it changes; blank fields keep theirs.",
            muted,
        ))];
        let first_row = lines.len() as u16;
        for (index, row) in self.rows.iter().enumerate() {
            let blank = row.value.lines().join("").is_empty();
            let note = match (row.remove, row.exists, blank) {
                (true, _, _) => Span::styled("removed (ctrl-d keeps it)", theme.tone(Tone::Bad)),
                (false, true, true) => Span::styled("unchanged", muted),
                (false, false, true) => Span::styled("not set", muted),
                (false, _, false) => Span::styled("new value", theme.tone(Tone::Warn)),
            };
            lines.push(Line::from(vec![
                label(index + 1, &row.key),
                Span::raw(" ".repeat(40)),
                note,
            ]));
        }
        let new_row = lines.len() as u16;
        lines.push(Line::from(label(self.rows.len() + 1, "New field")));
        lines.push(Line::from(label(self.rows.len() + 2, "  its value")));
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
            " ctrl-s save · Tab next · ctrl-d remove field · ctrl-t replace all as JSON · Esc",
            muted,
        )));
        frame.render_widget(Paragraph::new(lines), inner);
        let rect = |row: u16| Rect {
            x: inner.x + 18,
            y: inner.y + row,
            width: 38.min(inner.width.saturating_sub(20)),
            height: 1,
        };
        let mut show = |area: &TextArea<'static>, focused: bool, row: u16| {
            if row >= inner.height {
                return;
            }
            let mut area = area.clone();
            if !focused {
                area.set_cursor_style(Style::default());
            }
            frame.render_widget(&area, rect(row));
        };
        for (index, row) in self.rows.iter().enumerate() {
            show(
                &row.value,
                self.focus == index + 1,
                first_row + index as u16,
            );
        }
        let rows = self.rows.len();
        show(&self.new_key, self.focus == rows + 1, new_row);
        show(&self.new_value, self.focus == rows + 2, new_row + 1);
    }
}

/// A field name cut to its column.
fn fit_key(key: &str) -> String {
    if key.chars().count() > 16 {
        let cut: String = key.chars().take(15).collect();
        format!("{cut}…")
    } else {
        key.to_string()
    }
}

/// Whether values under `key` are secret (masked while typed), as boltd's scrubbing sees
/// them.
fn is_secret_key(key: &str) -> bool {
    bolt_daemon::secrets::is_secret_leaf(Some(key), &Value::String("x".into()))
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
    fn editing_changes_one_field_and_keeps_the_others() {
        let keys = ["baseUrl".to_string(), "username".into(), "password".into()];
        let mut form = CredForm::new(Some(("dhis2", &keys)), &theme());
        assert_eq!(form.kind, Kind::Fields);
        // Rows: baseUrl, username, password, then access_token (not set yet).
        assert_eq!(form.focus, 1);
        let err = form.changes().unwrap_err();
        assert!(err.contains("nothing to save"), "{err}");
        form.handle_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
        form.handle_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
        type_text(&mut form, "n3w-s3cret");
        form.handle_key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::NONE));
        form.handle_key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL));
        let FieldChanges { name, set, unset } = form.changes().unwrap();
        assert_eq!(name, "dhis2");
        assert_eq!(
            Value::Object(set),
            serde_json::json!({"password": "n3w-s3cret"})
        );
        assert_eq!(unset, ["username"]);
        // A new field needs a value, and a value long enough to hide.
        for _ in 0..3 {
            form.handle_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
        }
        type_text(&mut form, "apiKey");
        let err = form.changes().unwrap_err();
        assert!(err.contains("give the new field `apiKey` a value"), "{err}");
        form.handle_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
        type_text(&mut form, "k-123456");
        let changes = form.changes().unwrap();
        assert_eq!(changes.set["apiKey"], "k-123456");
    }

    #[test]
    fn raw_form_requires_a_json_object() {
        let mut form = CredForm::new(
            Some(("odk", &["token".to_string(), "project".to_string()])),
            &theme(),
        );
        assert_eq!(form.kind, Kind::Fields);
        form.handle_key(KeyEvent::new(KeyCode::Char('t'), KeyModifiers::CONTROL));
        assert_eq!(form.kind, Kind::Raw);
        form.raw = TextArea::new(vec!["[1]".into()]);
        assert!(form.body().unwrap_err().contains("JSON object"));
    }
}
