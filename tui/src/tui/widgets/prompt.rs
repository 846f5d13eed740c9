//! A one-line question: search terms, file names, input names.

use super::overlay::{Outcome, popup, single_line};
use crate::tui::action::Action;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui_textarea::TextArea;

#[derive(Debug, Clone, PartialEq)]
pub enum PromptPurpose {
    HistorySearch,
    DetailSearch,
    WorkflowSearch,
    AuditFilter,
    /// Write `contents` to the typed path.
    WritePath {
        contents: String,
    },
    SaveInputName {
        reference: String,
        step: String,
    },
}

pub struct Prompt {
    pub title: String,
    pub input: TextArea<'static>,
    pub purpose: PromptPurpose,
}

impl Prompt {
    pub fn new(title: impl Into<String>, initial: String, purpose: PromptPurpose) -> Prompt {
        Prompt {
            title: title.into(),
            input: single_line(&initial),
            purpose,
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
                self.input.input(key);
                Outcome::Stay
            }
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let inner = popup(frame, area, 70, 3, &self.title, theme);
        frame.render_widget(&self.input, inner);
    }
}
