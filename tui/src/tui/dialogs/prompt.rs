//! A one-line question: search terms, file names, input names.

use super::Outcome;
use super::popup::{line_input, popup, single_line};
use crate::tui::action::{Action, PromptPurpose};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui_textarea::TextArea;

pub struct Prompt {
    pub title: String,
    pub input: TextArea<'static>,
    pub purpose: PromptPurpose,
    /// The text is the suggestion it opened with: typing a character replaces it (shown
    /// selected); a cursor key keeps it for editing.
    pub prefilled: bool,
}

impl Prompt {
    pub fn new(title: impl Into<String>, initial: String, purpose: PromptPurpose) -> Prompt {
        let mut input = single_line(&initial);
        let prefilled = !initial.is_empty();
        if prefilled {
            input.select_all();
        }
        Prompt {
            title: title.into(),
            input,
            purpose,
            prefilled,
        }
    }

    pub fn text(&self) -> String {
        self.input.lines().join("")
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        match key.code {
            KeyCode::Enter => Outcome::Done(Action::Prompted(self.purpose.clone(), self.text())),
            KeyCode::Esc => Outcome::Close,
            _ => {
                if std::mem::take(&mut self.prefilled) {
                    let typed = matches!(key.code, KeyCode::Char(_))
                        && !key.modifiers.contains(KeyModifiers::CONTROL);
                    if typed {
                        self.input = single_line("");
                    } else {
                        self.input.cancel_selection();
                        self.input.move_cursor(ratatui_textarea::CursorMove::End);
                    }
                }
                line_input(&mut self.input, key);
                Outcome::Stay
            }
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let inner = popup(frame, area, 70, 3, &self.title, theme);
        frame.render_widget(&self.input, inner);
    }
}
