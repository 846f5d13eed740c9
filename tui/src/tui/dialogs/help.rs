//! `?`: the keys of the current screen, generated from the keymap.

use super::Outcome;
use super::popup::popup;
use crate::tui::keymap::{Command, Context, Keymap};
use crate::tui::theme::{Theme, Tone};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::cell::Cell;

pub struct Help {
    pub context: Context,
    pub scroll: usize,
    height: Cell<usize>,
}

impl Help {
    pub fn new(context: Context) -> Help {
        Help {
            context,
            scroll: 0,
            height: Cell::new(10),
        }
    }

    /// (keys, help) rows: the screen's own first, then the global ones it does not shadow.
    pub fn rows(&self, keymap: &Keymap) -> Vec<(String, String, bool)> {
        keymap
            .for_context(self.context)
            .into_iter()
            .map(|b| {
                let keys = b
                    .keys
                    .iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join(" ");
                (keys, b.help.to_string(), b.context == Context::Global)
            })
            .collect()
    }

    pub fn handle_key(&mut self, key: KeyEvent, keymap: &Keymap) -> Outcome {
        let total = self.rows(keymap).len();
        match keymap.resolve(Context::Global, &key) {
            Some(Command::Down) => {
                if self.scroll + self.height.get() < total {
                    self.scroll += 1;
                }
                return Outcome::Stay;
            }
            Some(Command::Up) => {
                self.scroll = self.scroll.saturating_sub(1);
                return Outcome::Stay;
            }
            _ => {}
        }
        match key.code {
            KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter => {
                Outcome::Close
            }
            _ => Outcome::Stay,
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, keymap: &Keymap) {
        let rows = self.rows(keymap);
        let height = (rows.len() as u16 + 4).min(area.height);
        let title = format!("Keys — {}", self.context.title());
        let inner = popup(frame, area, 70, height, &title, theme);
        let visible = (inner.height as usize).saturating_sub(1);
        self.height.set(visible);
        let key_width = rows
            .iter()
            .map(|r| r.0.chars().count())
            .max()
            .unwrap_or(4)
            .min(22);
        let mut lines: Vec<Line> = rows
            .iter()
            .skip(self.scroll)
            .take(visible)
            .map(|(keys, help, global)| {
                let help_style = if *global {
                    theme.tone(Tone::Muted)
                } else {
                    ratatui::style::Style::default()
                };
                Line::from(vec![
                    Span::styled(format!(" {:<key_width$}  ", keys), theme.key()),
                    Span::styled(help.clone(), help_style),
                ])
            })
            .collect();
        let more = if self.scroll + visible < rows.len() {
            "  j/↓ more"
        } else {
            ""
        };
        lines.push(Line::from(Span::styled(
            format!(" Esc/? close{more}"),
            theme.tone(Tone::Muted),
        )));
        frame.render_widget(Paragraph::new(lines), inner);
    }
}
