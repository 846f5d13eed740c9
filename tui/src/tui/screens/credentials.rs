//! Credentials: names, keys and which jobs use them. Values never reach the TUI.

use crate::tui::action::{Action, Open};
use crate::tui::keymap::Command;
use crate::tui::source::Tag;
use crate::tui::theme::{Theme, Tone};
use crate::tui::widgets::text::{fit, when};
use bolt_shared::model::CredentialSummary;
use bolt_shared::protocol::Request;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

#[derive(Debug, Default)]
pub struct Credentials {
    pub list: Vec<CredentialSummary>,
    pub selected: usize,
    pub loaded: bool,
}

impl Credentials {
    pub fn load() -> Action {
        Action::Send(Tag::Credentials, Request::CredentialList)
    }

    pub fn apply(&mut self, mut list: Vec<CredentialSummary>) {
        list.sort_by(|a, b| a.name.cmp(&b.name));
        self.list = list;
        self.loaded = true;
        self.selected = self.selected.min(self.list.len().saturating_sub(1));
    }

    pub fn handle(&mut self, command: Command) -> Action {
        match command {
            Command::Up => self.selected = self.selected.saturating_sub(1),
            Command::Down => {
                self.selected = (self.selected + 1).min(self.list.len().saturating_sub(1))
            }
            Command::Top => self.selected = 0,
            Command::Bottom => self.selected = self.list.len().saturating_sub(1),
            Command::Refresh => return Self::load(),
            Command::Back | Command::Quit => return Action::Back,
            Command::New => {
                return Action::open(Open::NewCredential);
            }
            Command::Edit | Command::Open => {
                // The form opens with boltd's view of it (non-secret values filled in).
                if let Some(c) = self.list.get(self.selected) {
                    return Action::Send(
                        Tag::CredentialEdit,
                        Request::CredentialShow {
                            name: c.name.clone(),
                        },
                    );
                }
            }
            Command::Delete => {
                if let Some(c) = self.list.get(self.selected) {
                    let mut lines = vec![format!("Remove credential {}?", c.name)];
                    if !c.used_by.is_empty() {
                        lines.push(format!(
                            "Used by: {} — these jobs will run without it.",
                            c.used_by.join(", ")
                        ));
                    }
                    return Action::confirm(
                        "Remove credential",
                        lines,
                        Action::Send(
                            Tag::Action {
                                what: format!("credential {} removed", c.name),
                            },
                            Request::CredentialRemove {
                                name: c.name.clone(),
                            },
                        ),
                    );
                }
            }
            _ => {}
        }
        Action::None
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, now: DateTime<Utc>) {
        let width = area.width as usize;
        let mut lines = vec![
            Line::from(vec![
                Span::styled(
                    format!(" bolt {} Credentials", theme.arrow()),
                    theme.title(),
                ),
                Span::styled("   values are never shown", theme.tone(Tone::Muted)),
            ]),
            Line::from(Span::styled(
                fit(
                    &format!(
                        "    {}{}{}{}",
                        fit("NAME", 20, true),
                        fit("KEYS", 34, true),
                        fit(
                            &bolt_shared::time::rule().column_label("UPDATED", 13),
                            14,
                            true
                        ),
                        "USED BY"
                    ),
                    width,
                    theme.ascii,
                ),
                theme.title(),
            )),
        ];
        for (index, credential) in self.list.iter().enumerate() {
            let selected = index == self.selected;
            let base = if selected {
                theme.selected()
            } else {
                Style::default()
            };
            let pointer = if selected { theme.pointer() } else { " " };
            let used = if credential.used_by.is_empty() {
                "(unused)".to_string()
            } else {
                credential.used_by.join(", ")
            };
            let text = format!(
                "  {pointer} {}{}{}{}",
                fit(&credential.name, 20, theme.ascii),
                fit(&credential.keys.join(", "), 34, theme.ascii),
                fit(&when(credential.updated_at, now), 14, theme.ascii),
                used
            );
            lines.push(Line::from(Span::styled(
                fit(&text, width, theme.ascii),
                base,
            )));
        }
        if self.list.is_empty() {
            let text = if self.loaded {
                "   no credentials — n creates one"
            } else {
                "   loading…"
            };
            lines.push(Line::from(Span::styled(text, theme.tone(Tone::Muted))));
        }
        frame.render_widget(Paragraph::new(lines), area);
    }
}
