//! Workflows: what triggers them, whether they are on, how they did in the last 24 hours;
//! and one workflow's graph, from which jobs are edited and runs started.

use super::graph::{draw_graph, job_order, trigger_text};
use crate::tui::action::{Action, Open, PromptPurpose};
use crate::tui::keymap::Command;
use crate::tui::source::Tag;
use crate::tui::theme::{Theme, Tone};
use crate::tui::widgets::text::{clip_spans, fit, until};
use bolt_shared::model::WorkflowView;
use bolt_shared::protocol::Request;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::cell::Cell;

#[derive(Debug, Default)]
pub struct Workflows {
    pub list: Vec<WorkflowView>,
    pub selected: usize,
    pub offset: usize,
    pub height: Cell<usize>,
    pub loaded: bool,
    pub search: Option<String>,
}

pub fn toggle_enabled(workflow: &WorkflowView) -> Action {
    let enabled = !workflow.enabled;
    let send = Action::Send(
        Tag::Action {
            what: format!(
                "{} {}",
                workflow.name,
                if enabled { "enabled" } else { "disabled" }
            ),
        },
        Request::SetWorkflowEnabled {
            workflow: workflow.id.clone(),
            enabled,
        },
    );
    if enabled {
        return send;
    }
    Action::confirm(
        "Disable workflow",
        vec![
            format!("Disable {}?", workflow.name),
            "Its webhooks will refuse requests and its cron triggers will not fire.".into(),
        ],
        send,
    )
}

impl Workflows {
    pub fn load() -> Action {
        Action::Send(Tag::Workflows, Request::ListWorkflows)
    }

    pub fn apply(&mut self, list: Vec<WorkflowView>) {
        let keep = self.selected_workflow().map(|w| w.id.clone());
        self.list = list;
        self.list.sort_by_key(|w| w.name.to_lowercase());
        self.loaded = true;
        self.selected = keep
            .and_then(|id| self.list.iter().position(|w| w.id == id))
            .unwrap_or(0);
    }

    pub fn selected_workflow(&self) -> Option<&WorkflowView> {
        self.list.get(self.selected)
    }

    pub fn find(&mut self, term: &str) -> Action {
        let term = term.to_lowercase();
        self.search = Some(term.clone()).filter(|t| !t.is_empty());
        match self
            .list
            .iter()
            .position(|w| w.name.to_lowercase().contains(&term))
        {
            Some(at) => {
                self.move_to(at);
                Action::None
            }
            None => Action::info(format!("no workflow named like \"{term}\"")),
        }
    }

    /// `n`/`N`: the next (or previous) workflow named like the search, wrapping around.
    fn find_again(&mut self, forward: bool) -> Action {
        let Some(term) = self.search.clone() else {
            return Action::info("no search yet: / finds a workflow");
        };
        let count = self.list.len();
        let hit = (1..=count)
            .map(|step| {
                if forward {
                    (self.selected + step) % count
                } else {
                    (self.selected + count * 2 - step) % count
                }
            })
            .find(|&i| self.list[i].name.to_lowercase().contains(&term));
        match hit {
            Some(at) => {
                self.move_to(at);
                Action::None
            }
            None => Action::info(format!("no workflow named like \"{term}\"")),
        }
    }

    fn move_to(&mut self, index: usize) {
        self.selected = index.min(self.list.len().saturating_sub(1));
        let height = self.height.get().max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
    }

    pub fn handle(&mut self, command: Command) -> Action {
        let half = (self.height.get() / 2).max(1);
        match command {
            Command::SearchNext => return self.find_again(true),
            Command::SearchPrev => return self.find_again(false),
            Command::Up => self.move_to(self.selected.saturating_sub(1)),
            Command::Down => self.move_to(self.selected + 1),
            Command::Top => self.move_to(0),
            Command::Bottom => self.move_to(usize::MAX),
            Command::HalfPageDown => self.move_to(self.selected + half),
            Command::HalfPageUp => self.move_to(self.selected.saturating_sub(half)),
            Command::Refresh => return Self::load(),
            Command::Back | Command::Quit => return Action::Back,
            Command::Search => {
                return Action::prompt(
                    "Find workflow",
                    String::new(),
                    PromptPurpose::WorkflowSearch,
                );
            }
            Command::Open => {
                if let Some(w) = self.selected_workflow() {
                    return Action::OpenGraph {
                        workflow_id: w.id.clone(),
                    };
                }
            }
            Command::ToggleEnabled => {
                if let Some(w) = self.selected_workflow() {
                    return toggle_enabled(w);
                }
            }
            Command::TriggerRun => {
                if let Some(w) = self.selected_workflow() {
                    return Action::TriggerInput {
                        workflow_id: w.id.clone(),
                    };
                }
            }
            _ => {}
        }
        Action::None
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, now: DateTime<Utc>) {
        let width = area.width as usize;
        let mut lines = vec![Line::from(Span::styled(
            format!(" bolt {} Workflows", theme.arrow()),
            theme.title(),
        ))];
        let name_width = if width >= 110 { 24 } else { 18 };
        let fixed = 4 + name_width + 6 + 14 + 12;
        let trigger_width = width.saturating_sub(fixed).max(10);
        lines.push(Line::from(Span::styled(
            fit(
                &format!(
                    "    {}{}{}{}{}",
                    fit("NAME", name_width, true),
                    fit("TRIGGER", trigger_width, true),
                    fit("ON", 6, true),
                    fit("24h ok/fail", 14, true),
                    "NEXT"
                ),
                width,
                theme.ascii,
            ),
            theme.title(),
        )));
        let height = (area.height as usize).saturating_sub(lines.len());
        self.height.set(height.max(1));
        for (index, workflow) in self.list.iter().enumerate().skip(self.offset).take(height) {
            let selected = index == self.selected;
            let base = if selected {
                theme.selected()
            } else {
                Style::default()
            };
            let pointer = if selected { theme.pointer() } else { " " };
            let on = if workflow.enabled {
                ("on", Tone::Good)
            } else {
                ("off", Tone::Muted)
            };
            let next = workflow
                .triggers
                .iter()
                .filter_map(|t| t.next_fire)
                .min()
                .map(|at| until(at, now))
                .unwrap_or_default();
            let (good, _) = theme.work_order_state(bolt_shared::model::WorkOrderState::Success);
            let (bad, _) = theme.work_order_state(bolt_shared::model::WorkOrderState::Failed);
            let counts = format!(
                "{good}{} / {bad}{}",
                workflow.success_24h, workflow.failed_24h
            );
            let count_tone = if workflow.failed_24h > 0 {
                Tone::Bad
            } else {
                Tone::Good
            };
            let spans = vec![
                Span::styled(format!("  {pointer} "), base),
                Span::styled(
                    fit(&workflow.name, name_width, theme.ascii),
                    base.patch(theme.title()),
                ),
                Span::styled(
                    fit(
                        &trigger_text(workflow).join("; "),
                        trigger_width,
                        theme.ascii,
                    ),
                    base,
                ),
                Span::styled(fit(on.0, 6, theme.ascii), base.patch(theme.tone(on.1))),
                Span::styled(
                    fit(&counts, 14, theme.ascii),
                    base.patch(theme.tone(count_tone)),
                ),
                Span::styled(fit(&next, 12, theme.ascii), base),
            ];
            lines.push(Line::from(clip_spans(spans, width)));
        }
        if self.list.is_empty() {
            let text = if self.loaded {
                "   no workflows deployed — `bolt deploy project.yaml`"
            } else {
                "   loading…"
            };
            lines.push(Line::from(Span::styled(text, theme.tone(Tone::Muted))));
        }
        frame.render_widget(Paragraph::new(lines), area);
    }
}

/// One workflow's graph.
#[derive(Debug)]
pub struct Graph {
    pub workflow: WorkflowView,
    pub selected_job: Option<String>,
    pub scroll: usize,
    height: Cell<usize>,
}

impl Graph {
    pub fn new(workflow: WorkflowView, theme: &Theme) -> Graph {
        let selected_job = job_order(&workflow, theme).into_iter().next();
        Graph {
            workflow,
            selected_job,
            scroll: 0,
            height: Cell::new(20),
        }
    }

    pub fn replace(&mut self, workflow: WorkflowView) {
        if let Some(job) = &self.selected_job
            && !workflow.jobs.iter().any(|j| &j.id == job)
        {
            self.selected_job = workflow.jobs.first().map(|j| j.id.clone());
        }
        self.workflow = workflow;
    }

    fn move_job(&mut self, delta: isize, theme: &Theme) {
        let order = job_order(&self.workflow, theme);
        if order.is_empty() {
            return;
        }
        let at = self
            .selected_job
            .as_ref()
            .and_then(|j| order.iter().position(|o| o == j))
            .unwrap_or(0) as isize;
        let next = (at + delta).clamp(0, order.len() as isize - 1) as usize;
        self.selected_job = Some(order[next].clone());
        // Keep the selected box on screen.
        let lines = draw_graph(&self.workflow, self.selected_job.as_deref(), theme);
        if let Some(row) = lines
            .iter()
            .position(|l| l.job.as_deref() == self.selected_job.as_deref())
        {
            let height = self.height.get().max(3);
            if row < self.scroll + 1 {
                self.scroll = row.saturating_sub(1);
            } else if row + 2 > self.scroll + height {
                self.scroll = row + 2 - height;
            }
        }
    }

    pub fn handle(&mut self, command: Command, theme: &Theme) -> Action {
        match command {
            Command::Up => self.move_job(-1, theme),
            Command::Down => self.move_job(1, theme),
            Command::Top => self.move_job(-1000, theme),
            Command::Bottom => self.move_job(1000, theme),
            Command::Back | Command::Quit => return Action::Back,
            Command::Refresh => return Workflows::load(),
            Command::EditJob | Command::ExternalEdit => {
                if let Some(job) = &self.selected_job {
                    return Action::EditJob {
                        workflow_id: self.workflow.id.clone(),
                        job_id: job.clone(),
                        external: command == Command::ExternalEdit,
                    };
                }
            }
            Command::ToggleEnabled => return toggle_enabled(&self.workflow),
            Command::TriggerRun => {
                return Action::TriggerInput {
                    workflow_id: self.workflow.id.clone(),
                };
            }
            Command::Versions => {
                let job = self.selected_job.as_ref().and_then(|id| {
                    self.workflow
                        .jobs
                        .iter()
                        .find(|j| &j.id == id)
                        .map(|j| (j.key.clone(), j.name.clone()))
                });
                return Action::Send(
                    Tag::Versions { job },
                    Request::WorkflowVersions {
                        workflow: self.workflow.id.clone(),
                    },
                );
            }
            Command::Constants => {
                return Action::open(Open::Constants {
                    workflow_id: self.workflow.id.clone(),
                    workflow_name: self.workflow.name.clone(),
                    constants: self.workflow.constants.clone(),
                });
            }
            _ => {}
        }
        Action::None
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let on = if self.workflow.enabled { "on" } else { "off" };
        let arrow = theme.arrow();
        let mut lines = vec![
            Line::from(vec![
                Span::styled(
                    format!(" bolt {arrow} Workflows {arrow} {}", self.workflow.name),
                    theme.title(),
                ),
                Span::styled(
                    format!("   {on} · version {} · ", self.workflow.version),
                    theme.tone(Tone::Muted),
                ),
                Span::styled(
                    format!(
                        "24h: {} ok, {} failed",
                        self.workflow.success_24h, self.workflow.failed_24h
                    ),
                    theme.tone(Tone::Muted),
                ),
            ]),
            Line::from(""),
        ];
        let height = (area.height as usize).saturating_sub(lines.len());
        self.height.set(height);
        lines.extend(
            draw_graph(&self.workflow, self.selected_job.as_deref(), theme)
                .into_iter()
                .skip(self.scroll)
                .take(height)
                .map(|l| l.line),
        );
        let lines: Vec<Line> = lines
            .into_iter()
            .map(|l| Line::from(clip_spans(l.spans, area.width as usize)))
            .collect();
        frame.render_widget(Paragraph::new(lines), area);
    }
}
