//! "Are you sure?" with the facts: how many, from where, in what order.

use super::Outcome;
use super::popup::popup;
use crate::tui::action::Action;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    pub on_yes: Option<Action>,
}

impl Confirm {
    pub fn new(title: impl Into<String>, lines: Vec<String>, on_yes: Action) -> Confirm {
        Confirm {
            title: title.into(),
            lines,
            on_yes: Some(on_yes),
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => match self.on_yes.take() {
                Some(action) => Outcome::Done(action),
                None => Outcome::Close,
            },
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                Outcome::Close
            }
            _ => Outcome::Stay,
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        // Wrapped lines count as the rows they take, so the key hints always show.
        let width = 72.min(area.width);
        let text_width = width.saturating_sub(2).max(1) as usize;
        let rows: usize = self
            .lines
            .iter()
            .map(|l| {
                let w = unicode_width::UnicodeWidthStr::width(l.as_str());
                // Word wrapping can take a row more than the characters need.
                if w > text_width {
                    w.div_ceil(text_width) + 1
                } else {
                    1
                }
            })
            .sum();
        let height = rows as u16 + 4;
        let inner = popup(frame, area, width, height, &self.title, theme);
        let mut lines: Vec<Line> = self.lines.iter().map(|l| Line::from(l.as_str())).collect();
        lines.push(Line::from(""));
        lines.push(Line::from(vec![
            Span::styled("y", theme.key()),
            Span::raw("/Enter yes   "),
            Span::styled("n", theme.key()),
            Span::raw("/Esc no"),
        ]));
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    }
}
