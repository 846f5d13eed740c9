//! One value or log line shown whole: wrapped to the window, scrollable, with copy and
//! pager at hand. For the root cause that hides at the end of a long response body.

use super::Outcome;
use super::popup::popup;
use crate::tui::action::{Action, External};
use crate::tui::theme::{Theme, Tone};
use crate::tui::widgets::text::{clean_up_to, wrap_spans};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::cell::Cell;

pub struct Zoom {
    /// What is shown ("input /data/response/body", "log line 12:04:05").
    pub title: String,
    pub text: String,
    /// First row shown (of the wrapped rows).
    pub scroll: usize,
    /// Rows and height of the last draw, so scrolling stops at the end.
    rows: Cell<usize>,
    height: Cell<usize>,
}

impl Zoom {
    pub fn new(title: impl Into<String>, text: impl Into<String>) -> Zoom {
        Zoom {
            title: title.into(),
            text: text.into(),
            scroll: 0,
            rows: Cell::new(0),
            height: Cell::new(10),
        }
    }

    fn scroll_by(&mut self, delta: isize) {
        let max = self.rows.get().saturating_sub(self.height.get());
        self.scroll = (self.scroll as isize + delta).clamp(0, max as isize) as usize;
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let page = (self.height.get() / 2).max(1) as isize;
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('z') => return Outcome::Close,
            KeyCode::Char('j') | KeyCode::Down => self.scroll_by(1),
            KeyCode::Char('k') | KeyCode::Up => self.scroll_by(-1),
            KeyCode::Char('d') if ctrl => self.scroll_by(page),
            KeyCode::Char('u') if ctrl => self.scroll_by(-page),
            KeyCode::PageDown | KeyCode::Char(' ') => self.scroll_by(page * 2),
            KeyCode::PageUp => self.scroll_by(-page * 2),
            KeyCode::Char('g') | KeyCode::Home => self.scroll = 0,
            KeyCode::Char('G') | KeyCode::End => self.scroll_by(isize::MAX / 2),
            KeyCode::Char('y') => {
                return Outcome::Keep(Action::External(External::Copy {
                    what: self.title.clone(),
                    text: self.text.clone(),
                }));
            }
            KeyCode::Char('|') => {
                return Outcome::Keep(Action::External(External::Page {
                    text: self.text.clone(),
                }));
            }
            _ => {}
        }
        Outcome::Stay
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let inner = popup(
            frame,
            area,
            area.width.saturating_sub(2),
            area.height.saturating_sub(2),
            &self.title,
            theme,
        );
        let [body, help] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
        let width = body.width as usize;
        let mut rows: Vec<Line> = Vec::new();
        for line in self.text.lines() {
            // Each stored line on rows of its own; nothing cut, control characters escaped.
            let clean = clean_up_to(line, usize::MAX).into_owned();
            rows.extend(
                wrap_spans(vec![Span::raw(clean)], width, 0)
                    .into_iter()
                    .map(Line::from),
            );
        }
        self.rows.set(rows.len());
        self.height.set(body.height as usize);
        let shown: Vec<Line> = rows
            .into_iter()
            .skip(self.scroll)
            .take(body.height as usize)
            .collect();
        frame.render_widget(Paragraph::new(shown), body);
        let last = (self.scroll + body.height as usize).min(self.rows.get());
        let hint = format!(
            " rows {}–{last} of {} · j/k scroll · y copy · | pager · Esc close",
            (self.scroll + 1).min(last),
            self.rows.get()
        );
        frame.render_widget(
            Paragraph::new(Span::styled(hint, theme.tone(Tone::Muted))),
            help,
        );
    }
}
