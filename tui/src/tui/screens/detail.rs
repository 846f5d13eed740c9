//! Run detail: the runs of a work order, their steps, and the input, output and logs of
//! the selected step. Opens on the failed step with its error in view.

use crate::tui::action::{Action, External, Open, PromptPurpose};
use crate::tui::keymap::Command;
use crate::tui::source::Tag;
use crate::tui::theme::{Theme, Tone};
use crate::tui::widgets::json::{JsonView, WRAP_MAX_CHARS};
use crate::tui::widgets::text::{
    MAX_SHOWN_CHARS, clean, clip_spans, fit, highlight_up_to, when, wrap_spans,
};
use bolt_shared::model::{
    DataclipInfo, ExitReason, LogLevel, LogLine, RunView, ShowResult, StepView, WipeReason,
};
use bolt_shared::protocol::{Event, Request};
use bolt_shared::timespec::format_duration_ms;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use std::cell::Cell;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Input,
    Output,
    Logs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Steps,
    Content,
}

pub struct Detail {
    pub reference: String,
    pub shown: Option<ShowResult>,
    pub run_index: usize,
    pub step_index: usize,
    pub focus: Focus,
    pub tab: Tab,
    pub input: JsonView,
    pub output: JsonView,
    pub logs: Vec<LogLine>,
    pub logs_run: Option<String>,
    pub log_level: Option<LogLevel>,
    pub log_offset: usize,
    log_height: Cell<usize>,
    pub follow: bool,
    /// Long lines (JSON values, log lines) wrap instead of ending in an ellipsis.
    pub wrap: bool,
    pub search: Option<String>,
    /// (key, name) of the workflow's jobs, to list the ones this run did not reach.
    pub workflow_jobs: Vec<(String, String)>,
    refresh_in_flight: bool,
    refresh_again: bool,
}

impl Detail {
    pub fn new(reference: String, search: Option<String>) -> Detail {
        Detail {
            reference,
            shown: None,
            run_index: 0,
            step_index: 0,
            focus: Focus::Steps,
            tab: Tab::Input,
            input: JsonView::default(),
            output: JsonView::default(),
            logs: Vec::new(),
            logs_run: None,
            log_level: None,
            log_offset: 0,
            log_height: Cell::new(10),
            follow: false,
            wrap: false,
            search,
            workflow_jobs: Vec::new(),
            refresh_in_flight: false,
            refresh_again: false,
        }
    }

    pub fn load(&mut self) -> Action {
        self.refresh_in_flight = true;
        Action::Send(
            Tag::Show {
                reference: self.reference.clone(),
            },
            Request::Show {
                reference: self.reference.clone(),
                bodies: true,
            },
        )
    }

    /// Runs newest first.
    pub fn runs(&self) -> Vec<&RunView> {
        let mut runs: Vec<&RunView> = self
            .shown
            .iter()
            .flat_map(|s| s.work_order.runs.iter())
            .collect();
        runs.sort_by_key(|r| std::cmp::Reverse(r.created_at));
        runs
    }

    pub fn run(&self) -> Option<&RunView> {
        self.runs().get(self.run_index).copied()
    }

    pub fn step(&self) -> Option<&StepView> {
        self.run().and_then(|r| r.steps.get(self.step_index))
    }

    fn work_order_id(&self) -> Option<String> {
        self.shown.as_ref().map(|s| s.work_order.row.id.clone())
    }

    pub fn apply_show(&mut self, result: ShowResult) -> Action {
        self.refresh_in_flight = false;
        let first_load = self.shown.is_none();
        // Someone looking at the newest run keeps looking at the newest one, so a rerun
        // started from here comes into view; an older run stays selected.
        let keep_run = self
            .run()
            .map(|r| r.id.clone())
            .filter(|_| self.run_index != 0);
        let old_newest = self.runs().first().map(|r| r.id.clone());
        let keep_job = self.step().map(|s| s.job_id.clone());
        let resolved_run =
            (result.kind == bolt_shared::model::RefKind::Run).then(|| result.id.clone());
        let resolved_step =
            (result.kind == bolt_shared::model::RefKind::Step).then(|| result.id.clone());
        self.shown = Some(result);
        let runs: Vec<RunView> = self.runs().into_iter().cloned().collect();
        self.run_index = keep_run
            .or(resolved_run)
            .and_then(|id| runs.iter().position(|r| r.id == id))
            .or_else(|| {
                resolved_step.as_ref().and_then(|id| {
                    runs.iter()
                        .position(|r| r.steps.iter().any(|s| &s.id == id))
                })
            })
            .unwrap_or(0);
        let run = runs.get(self.run_index);
        let steps = run.map(|r| r.steps.as_slice()).unwrap_or(&[]);
        self.step_index = match (keep_job, &resolved_step) {
            (Some(job), _) if !first_load => steps.iter().position(|s| s.job_id == job),
            (_, Some(step)) => steps.iter().position(|s| &s.id == step),
            _ => None,
        }
        .or_else(|| failed_step(steps))
        .unwrap_or(steps.len().saturating_sub(1));
        let live = run.is_some_and(|r| !r.state.is_final());
        if first_load || run.map(|r| r.id.clone()) != old_newest && self.run_index == 0 {
            self.follow = live;
        }
        self.rebuild_views();
        self.fetch_logs_if_needed()
    }

    fn rebuild_views(&mut self) {
        let (input, output) = match self.step() {
            Some(step) => (
                body_text(step.input.as_ref()),
                body_text(step.output.as_ref()),
            ),
            None => (None, None),
        };
        self.input = JsonView::new(input.as_deref().unwrap_or(""));
        self.output = JsonView::new(output.as_deref().unwrap_or(""));
        self.input.wrap = self.wrap;
        self.output.wrap = self.wrap;
        if self.search.is_some() {
            self.input.set_search(self.search.clone());
            self.output.set_search(self.search.clone());
        }
    }

    fn fetch_logs_if_needed(&mut self) -> Action {
        let Some(run) = self.run() else {
            return Action::None;
        };
        if self.logs_run.as_deref() == Some(run.id.as_str()) {
            return Action::None;
        }
        let run_id = run.id.clone();
        self.logs_run = Some(run_id.clone());
        self.logs.clear();
        self.log_offset = 0;
        Action::Send(
            Tag::Logs {
                run_id: run_id.clone(),
            },
            Request::Logs {
                reference: run_id,
                level: None,
                after_id: None,
            },
        )
    }

    /// The shown run's log lines after the last one here (after missed live events).
    fn fetch_missed_logs(&self) -> Action {
        let Some(run_id) = self.logs_run.clone() else {
            return Action::None;
        };
        Action::Send(
            Tag::Logs {
                run_id: run_id.clone(),
            },
            Request::Logs {
                reference: run_id,
                level: None,
                after_id: self.logs.last().map(|l| l.id),
            },
        )
    }

    /// A page of the run's log; asks for the next one while boltd says there is more.
    pub fn apply_log_page(&mut self, run_id: &str, lines: Vec<LogLine>, more: bool) -> Action {
        let last = lines.last().map(|l| l.id);
        self.apply_logs(run_id, lines);
        match last {
            Some(after) if more && self.logs_run.as_deref() == Some(run_id) => Action::Send(
                Tag::Logs {
                    run_id: run_id.to_string(),
                },
                Request::Logs {
                    reference: run_id.to_string(),
                    level: None,
                    after_id: Some(after),
                },
            ),
            _ => Action::None,
        }
    }

    pub fn apply_logs(&mut self, run_id: &str, lines: Vec<LogLine>) {
        if self.logs_run.as_deref() != Some(run_id) {
            return;
        }
        // Kept ordered by id; lines nearly always come in order, so this appends.
        for line in lines {
            if let Err(at) = self.logs.binary_search_by_key(&line.id, |l| l.id) {
                self.logs.insert(at, line);
            }
        }
        if self.follow {
            self.scroll_logs_to_end();
        }
    }

    pub fn request_failed(&mut self) {
        self.refresh_in_flight = false;
    }

    pub fn refresh(&mut self) -> Action {
        if self.refresh_in_flight {
            self.refresh_again = true;
            return Action::None;
        }
        self.load()
    }

    /// Follow-up after a Show answer: a refresh that was asked for meanwhile.
    pub fn take_pending_refresh(&mut self) -> Action {
        if std::mem::take(&mut self.refresh_again) {
            self.load()
        } else {
            Action::None
        }
    }

    pub fn on_event(&mut self, event: &Event) -> (bool, Action) {
        let Some(work_order_id) = self.work_order_id() else {
            return (false, Action::None);
        };
        let ours = |run_id: &str| self.runs().iter().any(|r| r.id == run_id);
        match event {
            Event::Log(line) if self.logs_run.as_deref() == Some(line.run_id.as_str()) => {
                self.apply_logs(&line.run_id.clone(), vec![line.clone()]);
                (true, Action::None)
            }
            Event::WorkOrderChanged { id, .. } if *id == work_order_id => (false, self.refresh()),
            Event::RunChanged {
                work_order_id: wo, ..
            } if *wo == work_order_id => (false, self.refresh()),
            Event::StepChanged { run_id, .. } if ours(run_id) => (false, self.refresh()),
            // boltd dropped events this screen didn't take in time: read what was missed.
            Event::Lagged { .. } => {
                let refresh = self.refresh();
                (false, Action::Many(vec![refresh, self.fetch_missed_logs()]))
            }
            _ => (false, Action::None),
        }
    }

    fn visible_logs(&self) -> Vec<&LogLine> {
        let min = self.log_level.map(|l| l.rank()).unwrap_or(0);
        self.logs.iter().filter(|l| l.level.rank() >= min).collect()
    }

    fn scroll_logs_to_end(&mut self) {
        let count = self.visible_logs().len();
        self.log_offset = count.saturating_sub(self.log_height.get().max(1));
    }

    fn select_step(&mut self, index: usize) {
        let count = self.run().map(|r| r.steps.len()).unwrap_or(0);
        self.step_index = index.min(count.saturating_sub(1));
        self.rebuild_views();
    }

    fn select_run(&mut self, index: usize) -> Action {
        let count = self.runs().len();
        self.run_index = index.min(count.saturating_sub(1));
        let steps = self.run().map(|r| r.steps.clone()).unwrap_or_default();
        self.step_index = failed_step(&steps).unwrap_or(steps.len().saturating_sub(1));
        self.rebuild_views();
        self.fetch_logs_if_needed()
    }

    fn scroll_content(&mut self, delta: isize) {
        match self.tab {
            Tab::Input => self.input.move_by(delta),
            Tab::Output => self.output.move_by(delta),
            Tab::Logs => {
                let count = self.visible_logs().len();
                let max = count.saturating_sub(self.log_height.get().max(1));
                self.log_offset =
                    (self.log_offset as isize + delta).clamp(0, max as isize) as usize;
                if delta < 0 {
                    self.follow = false;
                }
            }
        }
    }

    fn json(&mut self) -> Option<&mut JsonView> {
        match self.tab {
            Tab::Input => Some(&mut self.input),
            Tab::Output => Some(&mut self.output),
            Tab::Logs => None,
        }
    }

    pub fn apply_search(&mut self, term: String) -> Action {
        self.search = Some(term).filter(|t| !t.is_empty());
        let input = self.input.set_search(self.search.clone());
        let output = self.output.set_search(self.search.clone());
        let logs = self.log_matches().len();
        // Show the cursor on the match in the tab being looked at.
        let here = match self.tab {
            Tab::Input => input,
            Tab::Output => output,
            Tab::Logs => logs,
        };
        if here > 0 {
            self.focus = Focus::Content;
        }
        if let Some(first) = self.log_matches().first() {
            self.log_offset = *first;
        }
        match &self.search {
            Some(term) => Action::info(format!(
                "\"{term}\": {input} in input, {output} in output, {logs} in logs"
            )),
            None => Action::None,
        }
    }

    fn log_matches(&self) -> Vec<usize> {
        let Some(term) = self.search.as_deref().map(str::to_lowercase) else {
            return Vec::new();
        };
        self.visible_logs()
            .iter()
            .enumerate()
            .filter(|(_, l)| l.message.to_lowercase().contains(&term))
            .map(|(i, _)| i)
            .collect()
    }

    pub fn handle(&mut self, command: Command) -> Action {
        let half = (self.log_height.get() / 2).max(1) as isize;
        match command {
            Command::Back | Command::Quit => Action::Back,
            Command::Refresh => self.load(),
            Command::NextPane => {
                self.focus = match self.focus {
                    Focus::Steps => Focus::Content,
                    Focus::Content => Focus::Steps,
                };
                Action::None
            }
            Command::NextTab | Command::PrevTab => {
                let order = [Tab::Input, Tab::Output, Tab::Logs];
                let at = order.iter().position(|t| *t == self.tab).unwrap_or(0);
                let next = if command == Command::NextTab {
                    (at + 1) % 3
                } else {
                    (at + 2) % 3
                };
                self.tab = order[next];
                if self.tab == Tab::Logs && self.follow {
                    self.scroll_logs_to_end();
                }
                Action::None
            }
            Command::Up | Command::Down => {
                let delta = if command == Command::Up { -1 } else { 1 };
                match self.focus {
                    Focus::Steps => {
                        let index = (self.step_index as isize + delta).max(0) as usize;
                        self.select_step(index);
                    }
                    Focus::Content => self.scroll_content(delta),
                }
                Action::None
            }
            Command::HalfPageDown => {
                self.scroll_content(half);
                Action::None
            }
            Command::HalfPageUp => {
                self.scroll_content(-half);
                Action::None
            }
            Command::Top | Command::Bottom => {
                let top = command == Command::Top;
                match (self.focus, self.tab) {
                    (Focus::Steps, _) => self.select_step(if top { 0 } else { usize::MAX }),
                    (_, Tab::Logs) if top => {
                        self.log_offset = 0;
                        self.follow = false;
                    }
                    (_, Tab::Logs) => self.scroll_logs_to_end(),
                    _ => {
                        if let Some(json) = self.json() {
                            json.move_to(if top { 0 } else { usize::MAX });
                        }
                    }
                }
                Action::None
            }
            Command::NextRun => self.select_run(self.run_index + 1),
            Command::PrevRun => self.select_run(self.run_index.saturating_sub(1)),
            Command::Fold => {
                if let Some(json) = self.json() {
                    json.toggle_fold();
                }
                self.focus = Focus::Content;
                Action::None
            }
            Command::Search => Action::prompt(
                "Search input, output and logs",
                self.search.clone().unwrap_or_default(),
                PromptPurpose::DetailSearch,
            ),
            Command::SearchNext | Command::SearchPrev => {
                if self.search.is_none() {
                    return Action::info("no search yet: / searches input, output and logs");
                }
                let forward = command == Command::SearchNext;
                match self.tab {
                    Tab::Logs => {
                        let matches = self.log_matches();
                        let found = if forward {
                            matches
                                .iter()
                                .find(|i| **i > self.log_offset)
                                .or(matches.first())
                        } else {
                            matches
                                .iter()
                                .rev()
                                .find(|i| **i < self.log_offset)
                                .or(matches.last())
                        };
                        if let Some(at) = found {
                            self.log_offset = *at;
                            self.follow = false;
                        }
                    }
                    _ => {
                        if let Some(json) = self.json() {
                            if forward {
                                json.next_match();
                            } else {
                                json.prev_match();
                            }
                        }
                    }
                }
                self.focus = Focus::Content;
                Action::None
            }
            Command::LogLevel => {
                self.log_level = match self.log_level {
                    None => Some(LogLevel::Info),
                    Some(LogLevel::Info) => Some(LogLevel::Warn),
                    Some(LogLevel::Warn) => Some(LogLevel::Error),
                    _ => None,
                };
                self.tab = Tab::Logs;
                self.log_offset = 0;
                if self.follow {
                    self.scroll_logs_to_end();
                }
                Action::None
            }
            Command::Follow => {
                self.follow = !self.follow;
                self.tab = Tab::Logs;
                if self.follow {
                    self.scroll_logs_to_end();
                }
                Action::None
            }
            Command::Rerun | Command::RerunFrom => {
                // From the start: the work order. From a step: the run on screen, so the
                // step's input is taken from that run (boltd matches the job by key or name).
                let Some(wo) = self.work_order_id() else {
                    return Action::None;
                };
                let run_id = self.run().map(|r| r.id.clone());
                let from = if command == Command::RerunFrom {
                    self.step().map(|s| (s.job_id.clone(), s.job.clone()))
                } else {
                    None
                };
                let what = match &from {
                    Some((_, job)) => format!("rerun from {job}"),
                    None => "rerun from the start".to_string(),
                };
                let reference = match (&from, run_id) {
                    (Some(_), Some(run_id)) => run_id,
                    _ => wo,
                };
                Action::Send(
                    Tag::Action { what },
                    Request::Rerun {
                        reference,
                        from_job: from.map(|(key, _)| key),
                    },
                )
            }
            Command::Cancel => {
                let Some(shown) = &self.shown else {
                    return Action::None;
                };
                let row = &shown.work_order.row;
                if row.state.is_final() {
                    return Action::info(format!(
                        "{} already finished ({})",
                        row.short_ref, row.state
                    ));
                }
                Action::confirm(
                    "Cancel work order",
                    vec![format!("Cancel {} ({})?", row.short_ref, row.workflow)],
                    Action::Send(
                        Tag::Action {
                            what: format!("cancel {}", row.short_ref),
                        },
                        Request::Cancel {
                            reference: row.id.clone(),
                        },
                    ),
                )
            }
            Command::SaveInput => {
                // boltd finds the step within the referenced run, by step id.
                let (Some(run), Some(step)) = (self.run(), self.step()) else {
                    return Action::None;
                };
                let run_id = run.id.clone();
                if step.input.as_ref().is_none_or(|i| i.body.is_none()) {
                    return Action::error("this step's input is not stored, so it cannot be saved");
                }
                Action::prompt(
                    format!("Save the input of {} as (name)", step.job),
                    String::new(),
                    PromptPurpose::SaveInputName {
                        reference: run_id,
                        step: step.id.clone(),
                    },
                )
            }
            Command::WriteFile => {
                let Some(step) = self.step() else {
                    return Action::None;
                };
                let (what, contents) = match self.tab {
                    Tab::Input => ("input", self.input.value_at_cursor()),
                    Tab::Output => ("output", self.output.value_at_cursor()),
                    Tab::Logs => (
                        "logs",
                        self.visible_logs()
                            .iter()
                            .map(|l| {
                                format!("{} {} {}\n", l.timestamp.to_rfc3339(), l.level, l.message)
                            })
                            .collect(),
                    ),
                };
                if contents.is_empty() {
                    return Action::error(format!("the {what} of this step is not stored"));
                }
                let extension = if self.tab == Tab::Logs { "log" } else { "json" };
                let path = format!("bolt-{}-{}.{extension}", step.short_ref, what);
                Action::prompt("Write to file", path, PromptPurpose::WritePath { contents })
            }
            Command::Wrap => {
                self.wrap = !self.wrap;
                self.input.wrap = self.wrap;
                self.output.wrap = self.wrap;
                Action::info(if self.wrap {
                    "long lines wrap (W: cut them again)"
                } else {
                    "long lines are cut with … (W: wrap them)"
                })
            }
            Command::Zoom => match self.selected_text() {
                Some((what, text)) => Action::open(Open::Zoom { title: what, text }),
                None => {
                    Action::error("nothing to show here: this step has no stored data in this tab")
                }
            },
            Command::Copy => match self.selected_text() {
                Some((what, text)) => Action::External(External::Copy { what, text }),
                None => Action::error("nothing to copy: this step has no stored data in this tab"),
            },
            Command::Pager => match self.tab_text() {
                Some(text) => Action::External(External::Page { text }),
                None => Action::error("nothing to page: this step has no stored data in this tab"),
            },
            Command::EditJob | Command::ExternalEdit => match (&self.shown, self.step()) {
                (Some(shown), Some(step)) => Action::EditJob {
                    workflow_id: shown.work_order.row.workflow_id.clone(),
                    job_id: step.job_id.clone(),
                    external: command == Command::ExternalEdit,
                },
                _ => Action::None,
            },
            _ => Action::None,
        }
    }

    /// (what it is, its whole text) of the selected JSON value or log line (the top one of
    /// the logs view), for zoom and copy.
    pub fn selected_text(&self) -> Option<(String, String)> {
        let step = self.step()?;
        match self.tab {
            Tab::Input | Tab::Output => {
                let (tab, view) = if self.tab == Tab::Input {
                    ("input", &self.input)
                } else {
                    ("output", &self.output)
                };
                let info = if self.tab == Tab::Input {
                    &step.input
                } else {
                    &step.output
                };
                info.as_ref().and_then(|i| i.body.as_ref())?;
                Some((
                    format!("{} {tab} {}", step.job, view.name_at_cursor()),
                    view.text_at_cursor(),
                ))
            }
            Tab::Logs => {
                let logs = self.visible_logs();
                let line = logs.get(self.log_offset)?;
                Some((
                    format!(
                        "log line {}",
                        bolt_shared::time::rule().format(line.timestamp, "%H:%M:%S")
                    ),
                    line.message.clone(),
                ))
            }
        }
    }

    /// The whole tab as text, for `$PAGER`: the pretty JSON, or the log lines.
    pub fn tab_text(&self) -> Option<String> {
        let step = self.step()?;
        let body = |info: &Option<DataclipInfo>| {
            let body = info.as_ref().and_then(|i| i.body.as_ref())?;
            Some(match serde_json::from_str::<serde_json::Value>(body) {
                Ok(value) => serde_json::to_string_pretty(&value).unwrap_or_else(|_| body.clone()),
                Err(_) => body.clone(),
            })
        };
        match self.tab {
            Tab::Input => body(&step.input),
            Tab::Output => body(&step.output),
            Tab::Logs => {
                let logs = self.visible_logs();
                (!logs.is_empty()).then(|| {
                    logs.iter()
                        .map(|l| {
                            format!(
                                "{} {:<5} {}\n",
                                l.timestamp.to_rfc3339(),
                                l.level,
                                l.message
                            )
                        })
                        .collect()
                })
            }
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, now: DateTime<Utc>) {
        let Some(shown) = &self.shown else {
            frame.render_widget(
                Paragraph::new(format!(" loading {}…", self.reference)),
                area,
            );
            return;
        };
        let row = &shown.work_order.row;
        let [title, runs_line, body] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(3),
        ])
        .areas(area);
        let (state_text, state_style) = theme.state_label(row.state);
        let arrow = theme.arrow();
        let header = vec![
            Span::styled(
                format!(" bolt {arrow} History {arrow} wo {}  ", row.short_ref),
                theme.title(),
            ),
            Span::raw(format!("{}   ", row.workflow)),
            Span::styled(state_text, state_style),
            // The header names the zone of every time on this screen.
            Span::raw(format!(
                "   received {} {} ({})   {}",
                when(row.received_at, now),
                bolt_shared::time::rule().zone_label_at(row.received_at),
                bolt_shared::time::ago(row.received_at, now),
                row.origin
            )),
        ];
        frame.render_widget(
            Paragraph::new(Line::from(clip_spans(header, area.width as usize))),
            title,
        );
        frame.render_widget(
            Paragraph::new(Line::from(self.runs_spans(theme, area.width as usize))),
            runs_line,
        );

        let steps_width = if area.width >= 100 {
            area.width * 2 / 5
        } else {
            34.min(area.width / 2)
        };
        let [left, right] =
            Layout::horizontal([Constraint::Length(steps_width), Constraint::Min(10)]).areas(body);
        self.draw_steps(frame, left, theme);
        self.draw_content(frame, right, theme);
    }

    fn runs_spans(&self, theme: &Theme, width: usize) -> Vec<Span<'static>> {
        let runs = self.runs();
        let total = runs.len();
        let mut spans = vec![Span::raw(" Runs: ")];
        for (index, run) in runs.iter().enumerate() {
            let (symbol, tone) =
                theme.work_order_state(bolt_shared::model::WorkOrderState::from_run(run.state));
            let selected = index == self.run_index;
            let mut style = theme.tone(tone);
            if selected {
                style = style.add_modifier(Modifier::REVERSED);
            }
            let time = bolt_shared::time::rule().format(run.created_at, "%H:%M");
            let mut text = format!("#{} {symbol} {} {time}", total - index, run.state);
            if let Some(job) = &run.starting_job {
                // The starting job's display name, from the step that ran it.
                let name = run
                    .steps
                    .iter()
                    .find(|s| &s.job_id == job)
                    .map(|s| s.job.as_str())
                    .unwrap_or(job.as_str());
                text.push_str(&format!(" (from {name})"));
            }
            spans.push(Span::styled(text, style));
            spans.push(Span::raw("  "));
        }
        if total > 1 {
            spans.push(Span::styled("([ ] switch)", theme.tone(Tone::Muted)));
        }
        clip_spans(spans, width)
    }

    fn block<'a>(&self, title: Line<'a>, focused: bool, theme: &Theme) -> Block<'a> {
        let mut block = Block::default().borders(Borders::ALL).title(title);
        if theme.ascii {
            block = block.border_set(ratatui::symbols::border::PLAIN);
        }
        if focused {
            block = block.border_style(Style::default().add_modifier(Modifier::BOLD));
        } else {
            block = block.border_style(theme.tone(Tone::Muted));
        }
        block
    }

    fn draw_steps(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let focused = self.focus == Focus::Steps;
        let block = self.block(Line::from(" Steps "), focused, theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let width = inner.width as usize;
        let mut lines = Vec::new();
        let Some(run) = self.run() else {
            frame.render_widget(Paragraph::new(" no runs"), inner);
            return;
        };
        for (index, step) in run.steps.iter().enumerate() {
            let (symbol, tone) = theme.step_symbol(step.exit_reason);
            let selected = index == self.step_index;
            let base = if selected && focused {
                theme.selected()
            } else {
                Style::default()
            };
            let pointer = if selected { theme.pointer() } else { " " };
            let duration = step
                .duration_ms
                .map(format_duration_ms)
                .unwrap_or_else(|| "…".into());
            let error = step.error_type.clone().unwrap_or_default();
            let attached = if step.attached { " (earlier run)" } else { "" };
            // Narrow panes keep the job name readable; the error type is spelled out below.
            let tail = if width >= 44 {
                format!(" {error:<10} {duration:>6}")
            } else {
                format!(" {duration:>6}")
            };
            let name_width = width.saturating_sub(4 + tail.chars().count());
            let name = format!("{}{attached}", step.job);
            lines.push(Line::from(vec![
                Span::styled(pointer.to_string(), base),
                Span::styled(format!("{symbol} "), base.patch(theme.tone(tone))),
                Span::styled(fit(&name, name_width, theme.ascii), base),
                Span::styled(
                    fit(
                        &tail,
                        width.saturating_sub(2 + name_width + symbol.chars().count()),
                        theme.ascii,
                    ),
                    base.patch(theme.tone(tone)),
                ),
            ]));
        }
        for (key, name) in &self.workflow_jobs {
            if !run.steps.iter().any(|s| &s.job_id == key) {
                let dot = if theme.ascii { "." } else { "·" };
                lines.push(Line::from(Span::styled(
                    fit(&format!(" {dot} {name}  (not run)"), width, theme.ascii),
                    theme.tone(Tone::Muted),
                )));
            }
        }
        if run.steps.is_empty() {
            lines.push(Line::from(Span::styled(
                format!(" no steps yet ({})", run.state),
                theme.tone(Tone::Muted),
            )));
        }
        if let Some(step) = self.step() {
            lines.push(Line::from(""));
            lines.extend(step_facts(step, theme));
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    }

    fn draw_content(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let focused = self.focus == Focus::Content;
        let name = self.step().map(|s| s.job.clone()).unwrap_or_default();
        let mut title = vec![Span::styled(format!(" {name} "), theme.title())];
        for (tab, label) in [
            (Tab::Input, "input"),
            (Tab::Output, "output"),
            (Tab::Logs, "logs"),
        ] {
            if tab == self.tab {
                title.push(Span::styled(
                    format!("[{label}]"),
                    theme.title().add_modifier(Modifier::UNDERLINED),
                ));
            } else {
                title.push(Span::styled(format!(" {label} "), theme.tone(Tone::Muted)));
            }
        }
        if self.tab == Tab::Logs {
            let level = self.log_level.map(|l| format!(" ≥{l}")).unwrap_or_default();
            let follow = if self.follow { " following" } else { "" };
            title.push(Span::styled(
                format!("{level}{follow} "),
                theme.tone(Tone::Live),
            ));
        }
        let block = self.block(Line::from(title), focused, theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let step = self.step();
        match self.tab {
            Tab::Input | Tab::Output => {
                let (info, view) = match self.tab {
                    Tab::Input => (step.and_then(|s| s.input.as_ref()), &self.input),
                    _ => (step.and_then(|s| s.output.as_ref()), &self.output),
                };
                match missing_reason(info, step) {
                    Some(reason) => frame.render_widget(
                        Paragraph::new(Span::styled(format!(" {reason}"), theme.tone(Tone::Muted)))
                            .wrap(Wrap { trim: false }),
                        inner,
                    ),
                    None => view.draw(frame, inner, theme, focused),
                }
            }
            Tab::Logs => self.draw_logs(frame, inner, theme, focused),
        }
    }

    fn draw_logs(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        self.log_height.set(area.height as usize);
        let logs = self.visible_logs();
        if logs.is_empty() {
            let text = if self.logs.is_empty() {
                " no log lines"
            } else {
                " no lines at this level (L changes it)"
            };
            frame.render_widget(
                Paragraph::new(Span::styled(text, theme.tone(Tone::Muted))),
                area,
            );
            return;
        }
        let step_id = self.step().map(|s| s.id.clone());
        let width = area.width as usize;
        let limit = if self.wrap {
            WRAP_MAX_CHARS
        } else {
            MAX_SHOWN_CHARS
        };
        let mut rows: Vec<Line> = Vec::new();
        for (index, line) in logs.iter().enumerate().skip(self.log_offset) {
            if rows.len() >= area.height as usize {
                break;
            }
            let time = bolt_shared::time::rule().format(line.timestamp, "%H:%M:%S");
            let level_style = theme.log_level(line.level);
            let mine = step_id.is_some() && line.step_id == step_id;
            // The top line is the one zoom and copy take; it is marked when the pane has focus.
            let selected = focused && index == self.log_offset;
            let gutter = if selected {
                theme.pointer()
            } else if mine {
                "│"
            } else {
                " "
            };
            let mut spans = vec![
                Span::styled(format!("{gutter}{time} "), theme.tone(Tone::Muted)),
                Span::styled(
                    format!("{:<7} ", line.level.as_str().to_uppercase()),
                    level_style,
                ),
            ];
            spans.extend(highlight_up_to(
                &line.message,
                self.search.as_deref(),
                level_style,
                theme.matched(),
                limit,
            ));
            if self.wrap {
                rows.extend(wrap_spans(spans, width, 18).into_iter().map(Line::from));
            } else {
                rows.push(Line::from(clip_spans(spans, width)));
            }
        }
        rows.truncate(area.height as usize);
        frame.render_widget(Paragraph::new(rows), area);
    }
}

/// The first step that did not succeed, where on-call people look first.
fn failed_step(steps: &[StepView]) -> Option<usize> {
    steps
        .iter()
        .position(|s| matches!(s.exit_reason, Some(reason) if reason != ExitReason::Success))
}

fn body_text(info: Option<&DataclipInfo>) -> Option<String> {
    info.and_then(|i| i.body.clone())
}

/// Why a dataclip cannot be shown, in words; `None` when its body is there.
pub fn missing_reason(info: Option<&DataclipInfo>, step: Option<&StepView>) -> Option<String> {
    let Some(step) = step else {
        return Some("no step selected".into());
    };
    let Some(info) = info else {
        return Some(if step.finished_at.is_none() {
            "not produced yet: the step is still running".into()
        } else {
            "this step has no data here".into()
        });
    };
    if info.body.is_some() {
        return None;
    }
    let on = info
        .wiped_at
        .map(|at| {
            format!(
                " on {}",
                bolt_shared::time::rule().format(at, "%Y-%m-%d %H:%M %Z")
            )
        })
        .unwrap_or_default();
    Some(match info.wipe_reason {
        Some(WipeReason::Retention) => format!("erased by the project's retention policy{on}"),
        Some(WipeReason::ZeroPersistence) => {
            "not kept: the project is set to zero persistence (no data is stored)".into()
        }
        Some(WipeReason::TooLarge) => {
            let size = info
                .size_bytes
                .map(|b| format!(" ({} KB)", b / 1024))
                .unwrap_or_default();
            format!("too large to store{size}: the data was processed but not saved")
        }
        None => "not loaded".into(),
    })
}

fn step_facts(step: &StepView, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if let Some(reason) = step.exit_reason.filter(|r| *r != ExitReason::Success) {
        let kind = step
            .error_type
            .clone()
            .unwrap_or_else(|| reason.to_string());
        lines.push(Line::from(Span::styled(
            format!("Error: {kind}"),
            theme.tone(Tone::Bad),
        )));
        if let Some(message) = &step.error_message {
            for part in message.lines() {
                lines.push(Line::from(clean(part).into_owned()));
            }
        }
    } else if step.exit_reason.is_none() {
        lines.push(Line::from(Span::styled("running…", theme.tone(Tone::Live))));
    }
    lines
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tui::fixtures;

    #[test]
    fn opens_on_the_failed_step_of_the_newest_run() {
        let mut detail = Detail::new("7qk2m9".into(), None);
        let action = detail.apply_show(fixtures::show_failed());
        assert!(matches!(
            action,
            Action::Send(Tag::Logs { .. }, Request::Logs { .. })
        ));
        assert_eq!(detail.run_index, 0);
        assert_eq!(detail.step().unwrap().job, "Validate Visit");
        assert!(detail.input.lines().len() > 3);
    }

    #[test]
    fn rerun_from_step_names_the_job() {
        let mut detail = Detail::new("7qk2m9".into(), None);
        detail.apply_show(fixtures::show_failed());
        match detail.handle(Command::RerunFrom) {
            Action::Send(
                _,
                Request::Rerun {
                    reference,
                    from_job,
                },
            ) => {
                // the newest run, where the failed step on screen comes from
                assert_eq!(reference, fixtures::show_failed().work_order.runs[1].id);
                assert_eq!(from_job.as_deref(), Some("job-validate"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn wiped_data_says_why() {
        let mut info = fixtures::dataclip(None);
        info.wipe_reason = Some(WipeReason::Retention);
        let step = &fixtures::show_failed().work_order.runs[0].steps[0];
        assert!(
            missing_reason(Some(&info), Some(step))
                .unwrap()
                .contains("retention policy")
        );
        info.wipe_reason = Some(WipeReason::TooLarge);
        assert!(
            missing_reason(Some(&info), Some(step))
                .unwrap()
                .contains("too large")
        );
        info.wipe_reason = Some(WipeReason::ZeroPersistence);
        assert!(
            missing_reason(Some(&info), Some(step))
                .unwrap()
                .contains("zero persistence")
        );
    }

    #[test]
    fn log_events_for_the_run_are_appended_and_followed() {
        let mut detail = Detail::new("x".into(), None);
        detail.apply_show(fixtures::show_failed());
        let run_id = detail.run().unwrap().id.clone();
        detail.apply_logs(&run_id, fixtures::logs(&run_id, 3));
        detail.follow = true;
        let mut line = fixtures::logs(&run_id, 4).pop().unwrap();
        line.id = 99;
        let (changed, _) = detail.on_event(&Event::Log(line));
        assert!(changed);
        assert_eq!(detail.logs.len(), 4);
        detail.handle(Command::LogLevel);
        assert_eq!(detail.log_level, Some(LogLevel::Info));
    }
}
