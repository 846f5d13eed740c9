//! Text editors: a job's code (saved as a new version after showing the diff) and the
//! input of a manual run.

use super::Outcome;
use super::popup::{is_save, popup};
use crate::tui::action::{Action, External, Open};
use crate::tui::source::Tag;
use crate::tui::theme::{Theme, Tone};
use crate::tui::widgets::diff::{DiffLine, diff_lines};
use crate::tui::widgets::text::{clip_spans, fit};
use bolt_shared::protocol::{ManualInput, Request};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui_textarea::{CursorMove, TextArea};

fn code_area(text: &str, theme: &Theme) -> TextArea<'static> {
    let mut area = TextArea::new(text.lines().map(str::to_string).collect());
    area.set_line_number_style(theme.tone(Tone::Muted));
    area.set_tab_length(2);
    area
}

pub struct JobEditor {
    pub workflow_id: String,
    pub job_id: String,
    pub job_name: String,
    pub original: String,
    pub text: TextArea<'static>,
    /// Why the last save was refused (a compile error with its position, or boltd's word).
    pub error: Option<String>,
}

impl JobEditor {
    pub fn new(
        workflow_id: String,
        job_id: String,
        job_name: String,
        body: String,
        theme: &Theme,
    ) -> JobEditor {
        JobEditor {
            text: code_area(&body, theme),
            workflow_id,
            job_id,
            job_name,
            original: body,
            error: None,
        }
    }

    pub fn body(&self) -> String {
        self.text.lines().join("\n")
    }

    /// Whether closing now would lose typed changes.
    pub fn is_dirty(&self) -> bool {
        self.body().trim_end() != self.original.trim_end()
    }

    /// Replaces the text (as after `$EDITOR`), keeping what it was edited from.
    pub fn replace_text(&mut self, body: &str, theme: &Theme) {
        self.text = code_area(body, theme);
        self.error = None;
    }

    /// The save path shared by ctrl-s and `$EDITOR`: compile with the daemon's compiler,
    /// refuse with the error's position (cursor moved there), else show the diff to confirm.
    pub fn review_save(&mut self) -> Outcome {
        let body = self.body();
        if !self.is_dirty() {
            return Outcome::Done(Action::info(format!(
                "{}: no changes to save",
                self.job_name
            )));
        }
        if let Err(error) = bolt_daemon::engine::compiler::check_job(&body) {
            if let Some(line) = error.line {
                let row = line.saturating_sub(1) as u16;
                let column = error.column.unwrap_or(0) as u16;
                self.text.move_cursor(CursorMove::Jump(row, column));
            }
            self.error = Some(format!("not saved: {error}"));
            return Outcome::Stay;
        }
        let diff = diff_lines(&self.original, &body, 2);
        let save = Action::Send(
            Tag::SaveJob {
                job_id: self.job_id.clone(),
                job_name: self.job_name.clone(),
            },
            Request::UpdateJob {
                workflow: self.workflow_id.clone(),
                job: self.job_id.clone(),
                body,
            },
        );
        Outcome::Keep(Action::open(Open::SaveDiff {
            job_name: self.job_name.clone(),
            lines: diff,
            on_yes: save,
        }))
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        if is_save(&key) {
            return self.review_save();
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc if self.is_dirty() => {
                return Outcome::Keep(Action::confirm(
                    format!("Discard the changes to {}?", self.job_name),
                    vec![
                        "The edit is not saved; discarding it cannot be undone.".into(),
                        "n goes back to editing.".into(),
                    ],
                    Action::Many(vec![
                        Action::CloseOverlay,
                        Action::info(format!("changes to {} discarded", self.job_name)),
                    ]),
                ));
            }
            KeyCode::Esc => return Outcome::Close,
            KeyCode::Char('z') if ctrl => {
                self.text.undo();
                return Outcome::Stay;
            }
            KeyCode::Char('y') if ctrl => {
                self.text.redo();
                return Outcome::Stay;
            }
            KeyCode::Char('o') if ctrl => {
                return Outcome::Keep(Action::External(External::EditJob {
                    job_id: self.job_id.clone(),
                    text: self.body(),
                }));
            }
            _ => {}
        }
        self.error = None;
        self.text.input(key);
        Outcome::Stay
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let inner = popup(
            frame,
            area,
            area.width.saturating_sub(4),
            area.height.saturating_sub(2),
            &format!("Edit job: {}", self.job_name),
            theme,
        );
        let [text, error, help] = Layout::vertical([
            Constraint::Min(1),
            Constraint::Length(u16::from(self.error.is_some())),
            Constraint::Length(1),
        ])
        .areas(inner);
        frame.render_widget(&self.text, text);
        if let Some(message) = &self.error {
            frame.render_widget(
                Paragraph::new(Span::styled(
                    fit(&format!(" {message}"), error.width as usize, theme.ascii),
                    theme.tone(Tone::Bad),
                )),
                error,
            );
        }
        frame.render_widget(
            Paragraph::new(Span::styled(
                fit(
                    " ctrl-s save · ctrl-z undo · ctrl-y redo · ctrl-o $EDITOR · Esc close",
                    help.width as usize,
                    theme.ascii,
                ),
                theme.tone(Tone::Muted),
            )),
            help,
        );
    }
}

/// The change a save makes, with y/n.
pub struct DiffView {
    pub title: String,
    pub lines: Vec<DiffLine>,
    pub scroll: usize,
    pub on_yes: Option<Action>,
}

impl DiffView {
    pub fn new(name: &str, lines: Vec<DiffLine>, on_yes: Action) -> DiffView {
        DiffView {
            title: format!("Save {name}? (new version)"),
            lines,
            scroll: 0,
            on_yes: Some(on_yes),
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        match key.code {
            KeyCode::Char('y') | KeyCode::Enter => match self.on_yes.take() {
                Some(action) => Outcome::Done(action),
                None => Outcome::Close,
            },
            KeyCode::Char('n') | KeyCode::Esc => Outcome::Close,
            code => {
                if let Some(at) = super::cursor::moved(code, self.scroll, self.lines.len()) {
                    self.scroll = at;
                }
                Outcome::Stay
            }
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let height = (self.lines.len() as u16 + 4).min(area.height);
        let inner = popup(frame, area, 90, height, &self.title, theme);
        let [body, help] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
        let lines: Vec<Line> = self
            .lines
            .iter()
            .skip(self.scroll)
            .map(|line| match line {
                DiffLine::Same(text) => Line::from(format!("  {text}")),
                DiffLine::Removed(text) => {
                    Line::from(Span::styled(format!("- {text}"), theme.tone(Tone::Bad)))
                }
                DiffLine::Added(text) => {
                    Line::from(Span::styled(format!("+ {text}"), theme.tone(Tone::Good)))
                }
                DiffLine::Skipped(n) => Line::from(Span::styled(
                    format!("  … {n} unchanged lines"),
                    theme.tone(Tone::Muted),
                )),
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), body);
        frame.render_widget(
            Paragraph::new(Span::styled(
                " y/Enter save · n/Esc back to editing · j/k scroll",
                theme.tone(Tone::Muted),
            )),
            help,
        );
    }
}

/// The input of a manual run: JSON, `@name` for a saved input, or empty for `{}`. By
/// default the JSON is the webhook body (the run starts with it as `state.data`); ctrl-t
/// switches to writing the whole initial state.
pub struct TriggerEditor {
    pub workflow_id: String,
    pub workflow_name: String,
    pub text: TextArea<'static>,
    pub error: Option<String>,
    pub whole_state: bool,
}

impl TriggerEditor {
    pub fn new(workflow_id: String, workflow_name: String, theme: &Theme) -> TriggerEditor {
        TriggerEditor {
            workflow_id,
            workflow_name,
            text: code_area("{\n  \n}", theme),
            error: None,
            whole_state: false,
        }
    }

    /// Reads the typed input.
    pub fn input(&self) -> Result<ManualInput, String> {
        let text = self.text.lines().join("\n");
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(ManualInput::Empty);
        }
        if let Some(name) = trimmed.strip_prefix('@') {
            return Ok(ManualInput::Named {
                name: name.trim().to_string(),
            });
        }
        let value: serde_json::Value =
            serde_json::from_str(trimmed).map_err(|err| format!("not valid JSON: {err}"))?;
        if self.whole_state {
            if !value.is_object() {
                return Err("a whole initial state is a JSON object, like {\"data\": {}}".into());
            }
            return Ok(ManualInput::Json { value });
        }
        // As a webhook delivers it: the body becomes state.data.
        Ok(ManualInput::Json {
            value: serde_json::json!({ "data": value }),
        })
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        if is_save(&key) {
            return match self.input() {
                Ok(input) => Outcome::Done(Action::Send(
                    Tag::Trigger,
                    Request::Trigger {
                        workflow: self.workflow_id.clone(),
                        input,
                        wait: false,
                    },
                )),
                Err(message) => {
                    self.error = Some(message);
                    Outcome::Stay
                }
            };
        }
        if key.code == KeyCode::Esc {
            return Outcome::Close;
        }
        if key.code == KeyCode::Char('t') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.whole_state = !self.whole_state;
            self.error = None;
            return Outcome::Stay;
        }
        self.error = None;
        self.text.input(key);
        Outcome::Stay
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let inner = popup(
            frame,
            area,
            80,
            area.height.saturating_sub(4).min(20),
            &format!("Run {} by hand", self.workflow_name),
            theme,
        );
        let [mode, text, error, help] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(inner);
        let (what, other) = if self.whole_state {
            ("the whole initial state (a JSON object)", "webhook body")
        } else {
            (
                "webhook body (the run gets it as state.data)",
                "whole state",
            )
        };
        frame.render_widget(
            Paragraph::new(Line::from(clip_spans(
                vec![
                    Span::styled(" Input: ", theme.title()),
                    Span::raw(what),
                    Span::styled(format!(" · ctrl-t: {other}"), theme.tone(Tone::Muted)),
                ],
                mode.width as usize,
            ))),
            mode,
        );
        frame.render_widget(&self.text, text);
        if let Some(message) = &self.error {
            frame.render_widget(
                Paragraph::new(Span::styled(format!(" {message}"), theme.tone(Tone::Bad))),
                error,
            );
        }
        frame.render_widget(
            Paragraph::new(Span::styled(
                " ctrl-s/F2 run · JSON, @name for a saved input, empty = {} · Esc cancel",
                theme.tone(Tone::Muted),
            )),
            help,
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tui::theme::ColorMode;
    use ratatui::crossterm::event::KeyModifiers;

    fn theme() -> Theme {
        Theme {
            color: ColorMode::None,
            ascii: false,
        }
    }

    #[test]
    fn trigger_input_reads_json_names_and_empty() {
        let mut editor = TriggerEditor::new("wf".into(), "Visit Intake".into(), &theme());
        editor.text = TextArea::new(vec!["{\"a\": 1}".into()]);
        assert_eq!(
            editor.input().unwrap(),
            ManualInput::Json {
                value: serde_json::json!({"data": {"a": 1}})
            },
            "the webhook body becomes state.data"
        );
        editor.whole_state = true;
        assert_eq!(
            editor.input().unwrap(),
            ManualInput::Json {
                value: serde_json::json!({"a": 1})
            }
        );
        editor.text = TextArea::new(vec!["[1]".into()]);
        assert!(editor.input().is_err(), "a whole state is an object");
        editor.whole_state = false;
        editor.text = TextArea::new(vec!["@monday-visits".into()]);
        assert_eq!(
            editor.input().unwrap(),
            ManualInput::Named {
                name: "monday-visits".into()
            }
        );
        editor.text = TextArea::new(vec!["".into()]);
        assert_eq!(editor.input().unwrap(), ManualInput::Empty);
        editor.text = TextArea::new(vec!["{oops".into()]);
        let ctrl_s = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL);
        assert!(matches!(editor.handle_key(ctrl_s), Outcome::Stay));
        assert!(
            editor
                .error
                .as_deref()
                .unwrap_or("")
                .contains("not valid JSON")
        );
    }

    #[test]
    fn saving_a_job_shows_the_diff_first() {
        let mut editor = JobEditor::new(
            "wf".into(),
            "job".into(),
            "Validate".into(),
            "fn(s => s)\n".into(),
            &theme(),
        );
        editor.text.insert_str("// checked\n");
        let ctrl_s = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL);
        match editor.handle_key(ctrl_s) {
            Outcome::Keep(Action::Open(open)) => match *open {
                Open::SaveDiff {
                    job_name,
                    lines,
                    on_yes,
                } => {
                    assert!(
                        lines.contains(&DiffLine::Added("// checked".into())),
                        "{lines:?}"
                    );
                    let mut diff = DiffView::new(&job_name, lines, on_yes);
                    match diff.handle_key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE)) {
                        Outcome::Done(Action::Send(_, Request::UpdateJob { body, .. })) => {
                            assert!(body.starts_with("// checked"), "{body}");
                        }
                        _ => panic!("y should save"),
                    }
                }
                other => panic!("{}", other.name()),
            },
            _ => panic!("expected the diff"),
        }
    }
}
