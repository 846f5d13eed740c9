//! A fuzzy-filtered list: the command palette, the workflow picker, the job picker.

use super::Outcome;
use super::popup::{line_input, popup, single_line};
use crate::tui::action::{Action, PickPurpose};
use crate::tui::theme::{Theme, Tone};
use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui_textarea::TextArea;

#[derive(Debug, Clone)]
pub struct PickItem {
    pub label: String,
    /// Shown dimmed after the label (keys, descriptions); not searched.
    pub hint: String,
    pub value: String,
}

pub struct Picker {
    pub title: String,
    pub items: Vec<PickItem>,
    pub query: TextArea<'static>,
    pub selected: usize,
    pub purpose: PickPurpose,
    /// Letters go to the filter. Off, j/k/g/G move as in every list and `/` (or any
    /// other letter) starts the filter; the command palette types at once.
    pub typing: bool,
}

/// Rows a page key moves in a picker.
const PICKER_PAGE: usize = 10;

/// One visible item with the matched character positions of its label.
pub struct Match<'a> {
    pub item: &'a PickItem,
    pub positions: Vec<usize>,
}

impl Picker {
    pub fn new(title: impl Into<String>, items: Vec<PickItem>, purpose: PickPurpose) -> Picker {
        let typing = purpose == PickPurpose::Palette;
        Picker {
            title: title.into(),
            items,
            query: single_line(""),
            selected: 0,
            purpose,
            typing,
        }
    }

    /// Starts on the item with this label (the failed step in a step picker).
    pub fn preselect(mut self, label: Option<&str>) -> Picker {
        if let Some(at) = label.and_then(|l| self.items.iter().position(|i| i.label == l)) {
            self.selected = at;
        }
        self
    }

    pub fn query_text(&self) -> String {
        self.query.lines().join("")
    }

    /// Items matching the query, best first (all items in order for an empty query).
    pub fn matches(&self) -> Vec<Match<'_>> {
        let query = self.query_text();
        if query.trim().is_empty() {
            return self
                .items
                .iter()
                .map(|item| Match {
                    item,
                    positions: Vec::new(),
                })
                .collect();
        }
        let matcher = SkimMatcherV2::default().ignore_case();
        let mut scored: Vec<(i64, Match)> = self
            .items
            .iter()
            .filter_map(|item| {
                matcher
                    .fuzzy_indices(&item.label, query.trim())
                    .map(|(score, positions)| (score, Match { item, positions }))
            })
            .collect();
        scored.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
        scored.into_iter().map(|(_, m)| m).collect()
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let count = self.matches().len();
        let last = count.saturating_sub(1);
        let list_key = !self.typing && !ctrl;
        match key.code {
            KeyCode::Esc => return Outcome::Close,
            KeyCode::Enter => {
                return match self.matches().get(self.selected) {
                    Some(m) => {
                        Outcome::Done(Action::Picked(self.purpose.clone(), m.item.value.clone()))
                    }
                    None => Outcome::Stay,
                };
            }
            KeyCode::Up => self.selected = self.selected.saturating_sub(1),
            KeyCode::Char('k') if list_key => self.selected = self.selected.saturating_sub(1),
            KeyCode::Char('p') | KeyCode::Char('k') if ctrl => {
                self.selected = self.selected.saturating_sub(1)
            }
            KeyCode::Down => self.step_down(),
            KeyCode::Char('j') if list_key => self.step_down(),
            KeyCode::Char('n') | KeyCode::Char('j') if ctrl => self.step_down(),
            KeyCode::Home => self.selected = 0,
            KeyCode::Char('g') if list_key => self.selected = 0,
            KeyCode::End => self.selected = last,
            KeyCode::Char('G') if list_key => self.selected = last,
            KeyCode::PageUp => self.selected = self.selected.saturating_sub(PICKER_PAGE),
            KeyCode::Char('u') if ctrl => {
                self.selected = self.selected.saturating_sub(PICKER_PAGE / 2)
            }
            KeyCode::PageDown => self.selected = (self.selected + PICKER_PAGE).min(last),
            KeyCode::Char('d') if ctrl => {
                self.selected = (self.selected + PICKER_PAGE / 2).min(last)
            }
            KeyCode::Char('/') if !self.typing => self.typing = true,
            _ => {
                if let KeyCode::Char(_) = key.code {
                    self.typing = true;
                }
                if line_input(&mut self.query, key) {
                    self.selected = 0;
                }
            }
        }
        Outcome::Stay
    }

    fn step_down(&mut self) {
        let count = self.matches().len();
        if self.selected + 1 < count {
            self.selected += 1;
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let height = (self.items.len() as u16 + 4).clamp(6, 20);
        let height = height.min(area.height);
        let inner = popup(frame, area, 76, height, &self.title, theme);
        let [input, list] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
        let prompt_width = 2;
        frame.render_widget(
            Paragraph::new(Span::styled("> ", theme.key())),
            Rect {
                width: prompt_width,
                ..input
            },
        );
        frame.render_widget(
            &self.query,
            Rect {
                x: input.x + prompt_width,
                width: input.width.saturating_sub(prompt_width),
                ..input
            },
        );
        let matches = self.matches();
        let visible = list.height as usize;
        let start = self.selected.saturating_sub(visible.saturating_sub(1));
        let mut lines = Vec::new();
        for (index, m) in matches.iter().enumerate().skip(start).take(visible) {
            let selected = index == self.selected;
            let base = if selected {
                theme.selected()
            } else {
                ratatui::style::Style::default()
            };
            let mut spans = vec![Span::styled(
                if selected {
                    format!("{} ", theme.pointer())
                } else {
                    "  ".into()
                },
                base,
            )];
            for (position, c) in m.item.label.chars().enumerate() {
                let style = if m.positions.contains(&position) {
                    base.patch(theme.matched())
                } else {
                    base
                };
                spans.push(Span::styled(c.to_string(), style));
            }
            if !m.item.hint.is_empty() {
                spans.push(Span::styled(
                    format!("  {}", m.item.hint),
                    base.patch(theme.tone(Tone::Muted)),
                ));
            }
            lines.push(Line::from(spans));
        }
        if matches.is_empty() {
            lines.push(Line::from(Span::styled(
                "  nothing matches",
                theme.tone(Tone::Muted),
            )));
        }
        frame.render_widget(Paragraph::new(lines), list);
        let hint = if self.typing {
            " ↑/↓ move · type to filter · Enter pick · Esc close "
        } else {
            " j/k move · / filter · Enter pick · Esc close "
        };
        let hint_area = Rect {
            y: inner.y + inner.height,
            height: 1,
            ..inner
        };
        if hint_area.y < area.y + area.height {
            frame.render_widget(
                Paragraph::new(Line::from(Span::styled(hint, theme.tone(Tone::Muted))))
                    .alignment(ratatui::layout::Alignment::Right),
                hint_area,
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn item(label: &str) -> PickItem {
        PickItem {
            label: label.into(),
            hint: String::new(),
            value: label.into(),
        }
    }

    #[test]
    fn typing_filters_fuzzily_and_enter_picks() {
        let mut picker = Picker::new(
            "t",
            vec![item("rerun"), item("go-workflows"), item("go-credentials")],
            PickPurpose::Palette,
        );
        for c in "gwf".chars() {
            picker.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        let labels: Vec<&str> = picker
            .matches()
            .iter()
            .map(|m| m.item.label.as_str())
            .collect();
        assert_eq!(labels, vec!["go-workflows"]);
        match picker.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)) {
            Outcome::Done(Action::Picked(PickPurpose::Palette, value)) => {
                assert_eq!(value, "go-workflows")
            }
            _ => panic!("expected a pick"),
        }
    }
}
