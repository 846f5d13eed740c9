//! A workflow's versions (who, when, how, what changed), a version's diff, and reverting
//! the whole workflow or one job to a version — from the workflow screen.

use super::Outcome;
use super::popup::popup;
use crate::tui::action::Action;
use crate::tui::source::Tag;
use crate::tui::theme::{Theme, Tone};
use crate::tui::widgets::text::fit;
use bolt_shared::protocol::Request;
use bolt_shared::versions::{VersionList, WorkflowDiff};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub struct VersionsView {
    pub list: VersionList,
    pub selected: usize,
    /// The job selected on the workflow screen: what `J` reverts (key, name).
    pub job: Option<(String, String)>,
}

impl VersionsView {
    pub fn new(list: VersionList, job: Option<(String, String)>) -> VersionsView {
        VersionsView {
            list,
            selected: 0,
            job,
        }
    }

    fn version(&self) -> Option<i64> {
        self.list.versions.get(self.selected).map(|v| v.version)
    }

    fn diff(&self, from: i64, to: i64) -> Action {
        Action::Send(
            Tag::VersionDiff,
            Request::WorkflowDiff {
                workflow: self.list.workflow.id.clone(),
                from: Some(from),
                to: Some(to),
            },
        )
    }

    fn revert(&self, version: i64, job: Option<(String, String)>) -> Action {
        let current = self.list.current;
        let name = &self.list.workflow.name;
        let (what, lines) = match &job {
            None => (
                format!("{name} rolled back to version {version}"),
                vec![
                    format!("Roll {name} back to version {version}?"),
                    format!(
                        "A new version {} equal to version {version} is made (current: {current}).",
                        current + 1
                    ),
                    "Runs already under way keep the version they started with.".into(),
                ],
            ),
            Some((_, job_name)) => (
                format!("{job_name} reverted to version {version}"),
                vec![
                    format!("Put job {job_name} back as it was in version {version}?"),
                    format!(
                        "The rest of {name} stays as in version {current}; a new version {} is made.",
                        current + 1
                    ),
                ],
            ),
        };
        let send = Action::Send(
            Tag::Action { what },
            Request::WorkflowRollback {
                workflow: self.list.workflow.id.clone(),
                to: version,
                job: job.map(|(key, _)| key),
            },
        );
        Action::confirm("Revert", lines, send)
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        if let Some(at) = super::cursor::moved(key.code, self.selected, self.list.versions.len()) {
            self.selected = at;
            return Outcome::Stay;
        }
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => Outcome::Close,
            // What this version changed.
            KeyCode::Enter => match self.version() {
                Some(v) if v > 1 => Outcome::Keep(self.diff(v - 1, v)),
                Some(_) => Outcome::Keep(Action::info(
                    "version 1 is the first: press c to compare it with the current one",
                )),
                None => Outcome::Stay,
            },
            // This version against the current one.
            KeyCode::Char('c') => match self.version() {
                Some(v) if v != self.list.current => Outcome::Keep(self.diff(v, self.list.current)),
                _ => Outcome::Keep(Action::info("this is the current version")),
            },
            KeyCode::Char('R') => match self.version() {
                Some(v) if v != self.list.current => Outcome::Done(self.revert(v, None)),
                _ => Outcome::Keep(Action::info("this is the current version")),
            },
            KeyCode::Char('J') => match (self.version(), self.job.clone()) {
                (Some(v), Some(job)) => Outcome::Done(self.revert(v, Some(job))),
                (_, None) => {
                    Outcome::Keep(Action::info("select a job on the workflow screen first"))
                }
                _ => Outcome::Stay,
            },
            _ => Outcome::Stay,
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let title = format!("Versions of {}", self.list.workflow.name);
        let height = (self.list.versions.len() as u16 + 5).min(area.height);
        let inner = popup(frame, area, 110, height, &title, theme);
        let [body, help] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
        let width = body.width as usize;
        let rows = body.height as usize;
        let offset = self.selected.saturating_sub(rows.saturating_sub(1));
        let lines: Vec<Line> = self
            .list
            .versions
            .iter()
            .enumerate()
            .skip(offset)
            .take(rows)
            .map(|(i, v)| {
                let current = if v.version == self.list.current {
                    "*"
                } else {
                    " "
                };
                let text = format!(
                    "{}{:>4}{current} {}  {}  {}: {}",
                    if i == self.selected {
                        theme.pointer()
                    } else {
                        " "
                    },
                    v.version,
                    bolt_shared::time::rule().format(v.created_at, "%m-%d %H:%M"),
                    fit(v.actor.as_deref().unwrap_or("-"), 10, theme.ascii),
                    v.origin.describe(),
                    v.summary
                );
                let style = if i == self.selected {
                    theme.selected()
                } else {
                    Default::default()
                };
                Line::from(Span::styled(fit(&text, width, theme.ascii), style))
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), body);
        let job = self
            .job
            .as_ref()
            .map(|(_, name)| format!("revert {name}"))
            .unwrap_or_else(|| "revert the selected job".into());
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled("Enter", theme.key()),
                Span::raw(" what it changed  "),
                Span::styled("c", theme.key()),
                Span::raw(" vs current  "),
                Span::styled("R", theme.key()),
                Span::raw(" revert workflow  "),
                Span::styled("J", theme.key()),
                Span::raw(format!(" {job}  ")),
                Span::styled("Esc", theme.key()),
                Span::raw(" close"),
            ])),
            help,
        );
    }
}

/// A diff between two versions, as `bolt diff` prints it, coloured.
pub struct DiffText {
    pub title: String,
    pub lines: Vec<String>,
    pub scroll: usize,
}

impl DiffText {
    pub fn new(diff: &WorkflowDiff) -> DiffText {
        DiffText {
            title: format!(
                "{}: version {} → {}",
                diff.workflow.name, diff.from, diff.to
            ),
            lines: diff.render().lines().skip(1).map(str::to_string).collect(),
            scroll: 0,
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        let last = self.lines.len().saturating_sub(1);
        if let Some(at) = super::cursor::moved(key.code, self.scroll, self.lines.len()) {
            self.scroll = at;
            return Outcome::Stay;
        }
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => Outcome::Close,
            KeyCode::PageDown | KeyCode::Char(' ') => {
                self.scroll = (self.scroll + 10).min(last);
                Outcome::Stay
            }
            KeyCode::PageUp => {
                self.scroll = self.scroll.saturating_sub(10);
                Outcome::Stay
            }
            _ => Outcome::Stay,
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let height = (self.lines.len() as u16 + 4).min(area.height);
        let inner = popup(frame, area, 110, height, &self.title, theme);
        let [body, help] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
        let width = body.width as usize;
        let lines: Vec<Line> = self
            .lines
            .iter()
            .skip(self.scroll)
            .take(body.height as usize)
            .map(|line| {
                let tone = if line.starts_with("+++") || line.starts_with("---") {
                    Some(Tone::Muted)
                } else if line.starts_with('+') {
                    Some(Tone::Good)
                } else if line.starts_with('-') {
                    Some(Tone::Bad)
                } else if line.starts_with("@@") {
                    Some(Tone::Muted)
                } else {
                    None
                };
                let text = fit(line, width, theme.ascii);
                match tone {
                    Some(tone) => Line::from(Span::styled(text, theme.tone(tone))),
                    None => Line::from(text),
                }
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), body);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled("j/k", theme.key()),
                Span::raw(" scroll  "),
                Span::styled("Esc", theme.key()),
                Span::raw(" close"),
            ])),
            help,
        );
    }
}
