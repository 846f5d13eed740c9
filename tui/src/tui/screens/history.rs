//! History: the work order list, newest first, live, filterable, paged by keyset cursor.

pub use crate::tui::action::FilterText;
use crate::tui::action::{Action, Open, PromptPurpose};
use crate::tui::keymap::Command;
use crate::tui::source::Tag;
use crate::tui::theme::{Theme, Tone};
use crate::tui::widgets::text::{clip_spans, fit, focus_snippet, snippet_spans, thousands, when};
use bolt_shared::model::{
    StateCount, TimeField, WorkOrderFilter, WorkOrderPage, WorkOrderRow, WorkOrderState,
};
use bolt_shared::protocol::{Event, Request};
use bolt_shared::timespec::format_duration_ms;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::cell::Cell;
use std::collections::BTreeSet;

/// Rows per page; the next page is fetched when the cursor gets near the end.
pub const PAGE: u32 = 100;
/// Rows fetched again on live updates: at least this many, at most [`MAX_REFRESH`].
const REFRESH_PAGE: u32 = 50;
const MAX_REFRESH: u32 = 500;
/// Fetch the next page when the selection is this close to the last loaded row.
const PREFETCH: usize = 10;

/// Header counts: outcomes first (failures next to successes), then what is in flight.
const COUNT_ORDER: [WorkOrderState; 10] = [
    WorkOrderState::Success,
    WorkOrderState::Failed,
    WorkOrderState::Crashed,
    WorkOrderState::Killed,
    WorkOrderState::Exception,
    WorkOrderState::Lost,
    WorkOrderState::Rejected,
    WorkOrderState::Cancelled,
    WorkOrderState::Running,
    WorkOrderState::Pending,
];

#[derive(Debug, Default)]
pub struct History {
    pub rows: Vec<WorkOrderRow>,
    pub selected: usize,
    pub offset: usize,
    /// Rows visible at the last draw (for paging keys and scrolling).
    pub height: Cell<usize>,
    pub marked: BTreeSet<String>,
    pub all_matching: bool,
    pub filter: WorkOrderFilter,
    pub filter_text: FilterText,
    pub counts: Vec<StateCount>,
    /// The counts are lower bounds (a search matched more than boltd counts): shown "N+".
    pub counts_capped: bool,
    pub next_cursor: Option<String>,
    pub loading_more: bool,
    pub reloading: bool,
    refresh_in_flight: bool,
    refresh_again: bool,
    /// Rows that arrived above the view since the user last went to the top.
    pub new_count: usize,
    pub loaded: bool,
}

impl History {
    pub fn selected_row(&self) -> Option<&WorkOrderRow> {
        self.rows.get(self.selected)
    }

    /// How many work orders match the whole filter. boltd's counts cover every state (so the
    /// header can show them all), so a status filter is applied here.
    pub fn total_matching(&self) -> u64 {
        self.counts
            .iter()
            .filter(|c| self.filter.states.is_empty() || self.filter.states.contains(&c.state))
            .map(|c| c.count)
            .sum()
    }

    /// "+" after counts that are lower bounds.
    fn plus(&self) -> &'static str {
        if self.counts_capped { "+" } else { "" }
    }

    pub fn reload(&mut self) -> Action {
        self.reloading = true;
        Action::Send(
            Tag::HistoryReload,
            Request::ListWorkOrders {
                filter: self.filter.clone(),
                limit: PAGE,
                after: None,
            },
        )
    }

    pub fn apply_reload(&mut self, page: WorkOrderPage) {
        let keep = self.selected_row().map(|r| r.id.clone());
        self.rows = page.rows;
        self.counts = page.counts;
        self.counts_capped = page.counts_capped;
        self.next_cursor = page.next_cursor;
        self.reloading = false;
        self.loading_more = false;
        self.loaded = true;
        self.new_count = 0;
        self.selected = keep
            .and_then(|id| self.rows.iter().position(|r| r.id == id))
            .unwrap_or(0);
        self.offset = self.offset.min(self.selected);
        self.clamp_view();
    }

    pub fn apply_more(&mut self, page: WorkOrderPage) {
        self.loading_more = false;
        let known: BTreeSet<String> = self.rows.iter().map(|r| r.id.clone()).collect();
        self.rows
            .extend(page.rows.into_iter().filter(|r| !known.contains(&r.id)));
        self.next_cursor = page.next_cursor;
    }

    /// Drops marks and "all matching" (they were chosen under the old filter); says what
    /// was cleared, if anything.
    pub fn clear_selection(&mut self) -> Option<String> {
        let notice = if self.all_matching {
            Some("the filter changed: the \"all matching\" selection was cleared".to_string())
        } else if !self.marked.is_empty() {
            Some(format!(
                "the filter changed: {} marked work order{} unmarked",
                self.marked.len(),
                if self.marked.len() == 1 { "" } else { "s" }
            ))
        } else {
            None
        };
        self.all_matching = false;
        self.marked.clear();
        notice
    }

    /// Takes the newest rows as boltd has them now: changed rows update (state, duration,
    /// first error), rows that no longer match the filter go (a rerun made a failure
    /// green), new rows go on top without moving what the user is looking at.
    pub fn apply_refresh(&mut self, page: WorkOrderPage) -> Action {
        self.refresh_in_flight = false;
        self.counts = page.counts;
        self.counts_capped = page.counts_capped;
        let keep = self.selected_row().map(|r| r.id.clone());
        let old_index = self.selected;
        let old_top = self.rows.first().map(|r| r.id.clone());
        let was_empty = self.rows.is_empty();
        let in_page: BTreeSet<String> = page.rows.iter().map(|r| r.id.clone()).collect();
        let mut rows = page.rows;
        if page.next_cursor.is_some() {
            // The window ends before the loaded rows do: keep those past it as they were.
            let boundary = rows.last().map(|r| self.sort_key(r));
            rows.extend(
                std::mem::take(&mut self.rows)
                    .into_iter()
                    .filter(|r| !in_page.contains(&r.id))
                    .filter(|r| boundary.is_none_or(|b| self.sort_key(r) < b)),
            );
        } else {
            self.next_cursor = None;
        }
        self.rows = rows;
        let above_old_top = match &old_top {
            Some(id) => self.rows.iter().position(|r| &r.id == id).unwrap_or(0),
            None => 0,
        };
        match keep.and_then(|id| self.rows.iter().position(|r| r.id == id)) {
            Some(index) if !was_empty => {
                if index > old_index {
                    self.offset += index - old_index;
                } else {
                    self.offset = self.offset.saturating_sub(old_index - index);
                }
                self.selected = index;
            }
            _ => self.selected = old_index,
        }
        if !was_empty && self.offset > 0 {
            self.new_count += above_old_top;
        }
        self.clamp_view();
        if std::mem::take(&mut self.refresh_again) {
            return self.refresh();
        }
        Action::None
    }

    /// The time the list is ordered by (newest first).
    fn sort_key(&self, row: &WorkOrderRow) -> DateTime<Utc> {
        match self.filter.by.unwrap_or(TimeField::Received) {
            TimeField::Received => row.received_at,
            TimeField::Activity => row.last_activity,
        }
    }

    /// Asks for the newest page; coalesces bursts of events into one request in flight.
    fn refresh(&mut self) -> Action {
        if self.refresh_in_flight || self.reloading {
            self.refresh_again = true;
            return Action::None;
        }
        self.refresh_in_flight = true;
        // Every loaded row (up to a bound), so a change far down the list shows too.
        let limit = (self.rows.len() as u32).clamp(REFRESH_PAGE, MAX_REFRESH);
        Action::Send(
            Tag::HistoryRefresh,
            Request::ListWorkOrders {
                filter: self.filter.clone(),
                limit,
                after: None,
            },
        )
    }

    pub fn request_failed(&mut self, tag: &Tag) {
        match tag {
            Tag::HistoryReload => self.reloading = false,
            Tag::HistoryMore => self.loading_more = false,
            Tag::HistoryRefresh => self.refresh_in_flight = false,
            _ => {}
        }
    }

    /// Returns whether the event changed anything visible, and what to request.
    pub fn on_event(&mut self, event: &Event) -> (bool, Action) {
        match event {
            Event::WorkOrderChanged { id, state, created } => {
                let mut changed = false;
                if let Some(row) = self.rows.iter_mut().find(|r| &r.id == id) {
                    changed = row.state != *state;
                    row.state = *state;
                }
                let known = self.rows.iter().any(|r| &r.id == id);
                // A work order not listed may now match the filter (a rerun failed again).
                let may_match = self.filter.states.is_empty() || self.filter.states.contains(state);
                if *created || changed || known || may_match {
                    return (changed, self.refresh());
                }
                (false, Action::None)
            }
            Event::Lagged { .. } => (false, self.refresh()),
            _ => (false, Action::None),
        }
    }

    fn more_if_needed(&mut self) -> Action {
        if self.loading_more || self.reloading || self.selected + PREFETCH < self.rows.len() {
            return Action::None;
        }
        match self.next_cursor.clone() {
            Some(after) => {
                self.loading_more = true;
                Action::Send(
                    Tag::HistoryMore,
                    Request::ListWorkOrders {
                        filter: self.filter.clone(),
                        limit: PAGE,
                        after: Some(after),
                    },
                )
            }
            None => Action::None,
        }
    }

    fn clamp_view(&mut self) {
        let height = self.height.get().max(1);
        if self.selected >= self.rows.len() {
            self.selected = self.rows.len().saturating_sub(1);
        }
        if self.selected < self.offset {
            self.offset = self.selected;
        }
        if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
    }

    fn move_to(&mut self, index: usize) -> Action {
        self.selected = index.min(self.rows.len().saturating_sub(1));
        self.clamp_view();
        if self.offset == 0 {
            self.new_count = 0;
        }
        self.more_if_needed()
    }

    pub fn handle(&mut self, command: Command) -> Action {
        let half = (self.height.get() / 2).max(1);
        match command {
            Command::SearchNext | Command::SearchPrev if self.filter.search.is_none() => {
                Action::info("no search yet: / searches inputs, outputs and logs")
            }
            // With a search every row listed is a match: n/N step through them.
            Command::SearchNext => self.move_to(self.selected + 1),
            Command::SearchPrev => self.move_to(self.selected.saturating_sub(1)),
            Command::Up => self.move_to(self.selected.saturating_sub(1)),
            Command::Down => self.move_to(self.selected + 1),
            Command::Top => {
                self.new_count = 0;
                self.move_to(0)
            }
            Command::Bottom => self.move_to(self.rows.len().saturating_sub(1)),
            Command::HalfPageDown => self.move_to(self.selected + half),
            Command::HalfPageUp => self.move_to(self.selected.saturating_sub(half)),
            Command::Refresh => self.reload(),
            Command::Open => match self.selected_row() {
                Some(row) => Action::OpenDetail {
                    reference: row.id.clone(),
                    search: self.filter.search.clone(),
                },
                None => Action::None,
            },
            Command::Mark => {
                if let Some(id) = self.selected_row().map(|r| r.id.clone()) {
                    if !self.marked.remove(&id) {
                        self.marked.insert(id);
                    }
                    self.all_matching = false;
                }
                self.move_to(self.selected + 1)
            }
            Command::MarkAllMatching => {
                self.all_matching = !self.all_matching;
                if self.all_matching {
                    self.marked.clear();
                }
                Action::None
            }
            Command::Rerun => self.rerun(None),
            Command::RerunFrom if self.all_matching || !self.marked.is_empty() => {
                self.pick_bulk_rerun_job()
            }
            Command::RerunFrom => match self.selected_row() {
                Some(row) => Action::PickRerunJob {
                    reference: row.id.clone(),
                    workflow_id: row.workflow_id.clone(),
                    failed_job: row.first_error.as_ref().map(|e| e.job.clone()),
                },
                None => Action::None,
            },
            Command::Cancel => match self.selected_row() {
                Some(row) if !row.state.is_final() => Action::confirm(
                    "Cancel work order",
                    vec![format!(
                        "Cancel {} ({}) — {}?",
                        row.short_ref, row.workflow, row.state
                    )],
                    Action::Send(
                        Tag::Action {
                            what: format!("cancel {}", row.short_ref),
                        },
                        Request::Cancel {
                            reference: row.id.clone(),
                        },
                    ),
                ),
                Some(row) => Action::info(format!(
                    "{} already finished ({})",
                    row.short_ref, row.state
                )),
                None => Action::None,
            },
            Command::Search => Action::prompt(
                "Search inputs, outputs and logs (empty clears)",
                self.filter.search.clone().unwrap_or_default(),
                PromptPurpose::HistorySearch,
            ),
            Command::Filter => Action::open(Open::Filter {
                filter: self.filter.clone(),
                text: self.filter_text.clone(),
            }),
            Command::Back if self.filter.search.is_some() => {
                self.filter.search = None;
                self.reload()
            }
            Command::Back if self.all_matching || !self.marked.is_empty() => {
                self.all_matching = false;
                self.marked.clear();
                Action::None
            }
            Command::Quit => Action::Quit,
            _ => Action::None,
        }
    }

    /// `R` with marked rows or all matching: a step can be chosen when they all belong to
    /// one workflow (as in Lightning), whatever the filter says about workflows.
    fn pick_bulk_rerun_job(&self) -> Action {
        let selected: Vec<&WorkOrderRow> = if self.all_matching {
            self.rows.iter().collect()
        } else {
            self.rows
                .iter()
                .filter(|r| self.marked.contains(&r.id))
                .collect()
        };
        let workflows: BTreeSet<(&str, &str)> = selected
            .iter()
            .map(|r| (r.workflow_id.as_str(), r.workflow.as_str()))
            .collect();
        let failed_job = most_failed_step(&selected);
        match workflows.into_iter().collect::<Vec<_>>().as_slice() {
            [] => Action::info("nothing selected to rerun"),
            // Not every matching row is loaded: boltd counts those of this workflow.
            [(id, name)]
                if self.all_matching
                    && self.next_cursor.is_some()
                    && self.filter.workflow.is_none() =>
            {
                let mut filter = self.filter.clone();
                filter.workflow = Some(name.to_string());
                Action::Send(
                    Tag::BulkScope(Box::new(crate::tui::source::BulkScope {
                        workflow_id: id.to_string(),
                        workflow: name.to_string(),
                        failed_job,
                    })),
                    Request::ListWorkOrders {
                        filter,
                        limit: 1,
                        after: None,
                    },
                )
            }
            [(id, _)] => Action::PickBulkRerunJob {
                workflow_id: id.to_string(),
                failed_job,
            },
            several => Action::error(format!(
                "the {} work orders belong to {} workflows ({}): a step can be chosen for one workflow only; mark rows of one (space) or filter by workflow (f)",
                if self.all_matching {
                    "matching"
                } else {
                    "marked"
                },
                several.len(),
                several
                    .iter()
                    .map(|(_, name)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// boltd's count of the matching work orders in one workflow: if that is all of them,
    /// go on to the step picker.
    pub fn apply_bulk_scope(
        &self,
        scope: crate::tui::source::BulkScope,
        page: &WorkOrderPage,
    ) -> Action {
        let crate::tui::source::BulkScope {
            workflow_id,
            workflow,
            failed_job,
        } = scope;
        let in_workflow: u64 = page
            .counts
            .iter()
            .filter(|c| self.filter.states.is_empty() || self.filter.states.contains(&c.state))
            .map(|c| c.count)
            .sum();
        let total = self.total_matching();
        if in_workflow >= total {
            Action::PickBulkRerunJob {
                workflow_id,
                failed_job,
            }
        } else {
            Action::error(format!(
                "only {} of the {} matching work orders are in {workflow}: a step can be chosen for one workflow only; filter by workflow (f) first",
                thousands(in_workflow),
                thousands(total)
            ))
        }
    }

    /// `r`: all matching, the marked rows, or the selected one; `from` is (key, name) of
    /// the step to start from (None: from the start).
    pub fn rerun(&mut self, from: Option<(String, String)>) -> Action {
        let from_name = from.as_ref().map(|(_, name)| name.clone());
        let from_job = from.map(|(key, _)| key);
        if self.all_matching {
            let total = self.total_matching();
            let mut filter = self.filter.clone();
            // From a step: only the workflow that step belongs to (checked to be all of them).
            let workflow = self.rows.first().map(|r| r.workflow.clone());
            if from_job.is_some() && filter.workflow.is_none() {
                filter.workflow = workflow.clone();
            }
            let of = match (&from_job, &workflow) {
                (Some(_), Some(name)) => format!(" of {name}"),
                _ => String::new(),
            };
            return Action::confirm(
                "Rerun all matching",
                vec![
                    format!(
                        "Rerun ALL {}{} work orders{of} matching the filter, {}?",
                        thousands(total),
                        self.plus(),
                        from_text(&from_name)
                    ),
                    format!("Filter: {}", self.filter_summary()),
                    "boltd queues them oldest first; progress shows below.".to_string(),
                ],
                Action::Send(
                    Tag::BulkMatching,
                    Request::RerunMatching { filter, from_job },
                ),
            );
        }
        if !self.marked.is_empty() {
            // Oldest first, so reruns happen in the order the work arrived.
            let mut refs: Vec<&WorkOrderRow> = self
                .rows
                .iter()
                .filter(|r| self.marked.contains(&r.id))
                .collect();
            refs.sort_by_key(|r| r.received_at);
            let references: Vec<String> = refs.iter().map(|r| r.id.clone()).collect();
            let count = references.len();
            let workflows: BTreeSet<&str> = refs.iter().map(|r| r.workflow.as_str()).collect();
            return Action::confirm(
                "Rerun marked",
                vec![
                    format!(
                        "Rerun {count} marked work order{} {}, oldest first?",
                        if count == 1 { "" } else { "s" },
                        from_text(&from_name)
                    ),
                    format!(
                        "Workflow{}: {}",
                        if workflows.len() == 1 { "" } else { "s" },
                        workflows.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                ],
                Action::BulkRerun {
                    references,
                    from_job,
                },
            );
        }
        match self.selected_row() {
            Some(row) => Action::Send(
                Tag::Action {
                    what: format!("rerun of {} {}", row.short_ref, from_text(&from_name)),
                },
                Request::Rerun {
                    reference: row.id.clone(),
                    from_job,
                },
            ),
            None => Action::None,
        }
    }

    pub fn filter_summary(&self) -> String {
        let f = &self.filter;
        let states = if f.states.is_empty() {
            "any".to_string()
        } else {
            f.states
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(",")
        };
        let workflow = f.workflow.clone().unwrap_or_else(|| "any".into());
        let time = match (
            self.filter_text.since.as_str(),
            self.filter_text.until.as_str(),
        ) {
            ("", "") => "any time".to_string(),
            (since, "") => format!("since {since}"),
            ("", until) => format!("until {until}"),
            (since, until) => format!("{since} to {until}"),
        };
        let by = match f.by.unwrap_or(TimeField::Received) {
            TimeField::Received => "received",
            TimeField::Activity => "last activity",
        };
        let mut text = format!("status {states} | workflow {workflow} | {time} ({by})");
        if let Some(search) = &f.search {
            text.push_str(&format!(" | search \"{search}\""));
        }
        text
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, now: DateTime<Utc>) {
        if area.height < 4 {
            return;
        }
        let width = area.width as usize;
        let mut lines: Vec<Line> = Vec::new();
        // Title with counts for the current filter.
        let mut title = vec![Span::styled(
            format!(" bolt {} History ", theme.arrow()),
            theme.title(),
        )];
        for state in &COUNT_ORDER {
            if let Some(count) = self
                .counts
                .iter()
                .find(|c| c.state == *state)
                .filter(|c| c.count > 0)
            {
                let (symbol, tone) = theme.work_order_state(*state);
                title.push(Span::styled(
                    format!(" {symbol} {}{}", thousands(count.count), self.plus()),
                    theme.tone(tone),
                ));
            }
        }
        lines.push(Line::from(clip_spans(title, width)));
        lines.push(Line::from(Span::styled(
            fit(
                &format!(" Filter: {}", self.filter_summary()),
                width,
                theme.ascii,
            ),
            theme.tone(Tone::Muted),
        )));
        lines.push(Line::from(self.info_line(theme, width)));
        lines.push(Line::from(Span::styled(
            self.header_text(width, theme),
            theme.title(),
        )));
        let table_height = (area.height as usize).saturating_sub(lines.len());
        self.height.set(table_height.max(1));
        for index in self.offset..(self.offset + table_height).min(self.rows.len()) {
            lines.push(self.row_line(&self.rows[index], index == self.selected, theme, width, now));
        }
        let shown = self
            .rows
            .len()
            .saturating_sub(self.offset)
            .min(table_height);
        if shown < table_height {
            let tail = if self.reloading {
                "loading…"
            } else if !self.loaded {
                "not loaded (boltd unreachable?) — ctrl-r retries"
            } else if self.rows.is_empty() {
                "no work orders match this filter"
            } else if self.loading_more {
                "loading more…"
            } else if self.next_cursor.is_none() {
                "end of history"
            } else {
                ""
            };
            lines.push(Line::from(Span::styled(
                fit(&format!("   {tail}"), width, theme.ascii),
                theme.tone(Tone::Muted),
            )));
        }
        frame.render_widget(Paragraph::new(lines), area);
    }

    fn info_line(&self, theme: &Theme, width: usize) -> Vec<Span<'static>> {
        let mut parts: Vec<Span> = Vec::new();
        if self.new_count > 0 {
            let arrow = if theme.ascii { "^" } else { "▲" };
            parts.push(Span::styled(
                format!(" {arrow} {} new — g to show ", self.new_count),
                theme.tone(Tone::Live),
            ));
        }
        if self.all_matching {
            parts.push(Span::styled(
                format!(
                    " {} all {}{} matching selected (r reruns, Esc clears) ",
                    theme.mark(),
                    thousands(self.total_matching()),
                    self.plus()
                ),
                theme.tone(Tone::Warn),
            ));
        } else if !self.marked.is_empty() {
            parts.push(Span::styled(
                format!(
                    " {} {} marked (r reruns, Esc clears) ",
                    theme.mark(),
                    self.marked.len()
                ),
                theme.tone(Tone::Warn),
            ));
        }
        let used: usize = parts
            .iter()
            .map(|s| unicode_width::UnicodeWidthStr::width(s.content.as_ref()))
            .sum();
        let rule = if theme.ascii { "-" } else { "─" };
        parts.push(Span::styled(
            rule.repeat(width.saturating_sub(used)),
            theme.tone(Tone::Muted),
        ));
        clip_spans(parts, width)
    }

    /// (workflow width, show REF, show TRIGGER): narrow terminals keep room for the error.
    /// (workflow width, show REF, show TRIGGER). REF is what people copy into `bolt show`
    /// and `bolt open`: it stays down to 60 columns; TRIGGER and workflow width go first.
    fn columns(width: usize) -> (usize, bool, bool) {
        let workflow = match width {
            110.. => 20,
            90.. => 16,
            _ => 14,
        };
        (workflow, width >= 60, width >= 100)
    }

    fn header_text(&self, width: usize, theme: &Theme) -> String {
        let (wf, show_ref, show_trigger) = Self::columns(width);
        let last = if self.filter.search.is_some() {
            "MATCH"
        } else {
            "FIRST ERROR"
        };
        let mut text = format!(
            "    {}{}{}{}",
            fit(
                &bolt_shared::time::rule().column_label("RECEIVED", 12),
                13,
                true
            ),
            fit("WORKFLOW", wf, true),
            fit("STATE", 13, true),
            fit("DUR", 8, true),
        );
        if show_trigger {
            text.push_str(&fit("TRIGGER", 9, true));
        }
        if show_ref {
            text.push_str(&fit("REF", 10, true));
        }
        text.push_str(last);
        fit(&text, width, theme.ascii)
    }

    fn row_line(
        &self,
        row: &WorkOrderRow,
        selected: bool,
        theme: &Theme,
        width: usize,
        now: DateTime<Utc>,
    ) -> Line<'static> {
        let (wf, show_ref, show_trigger) = Self::columns(width);
        let base = if selected {
            theme.selected()
        } else {
            Style::default()
        };
        let pointer = if selected { theme.pointer() } else { " " };
        let mark = if self.all_matching || self.marked.contains(&row.id) {
            theme.mark()
        } else {
            " "
        };
        let (state_text, state_style) = theme.state_label(row.state);
        let duration = row.duration_ms.map(format_duration_ms).unwrap_or_default();
        let mut spans = vec![
            Span::styled(format!(" {pointer}{mark} "), base),
            Span::styled(fit(&when(row.received_at, now), 13, theme.ascii), base),
            Span::styled(fit(&row.workflow, wf - 1, theme.ascii) + " ", base),
            Span::styled(fit(&state_text, 13, theme.ascii), base.patch(state_style)),
            Span::styled(fit(&duration, 8, theme.ascii), base),
        ];
        if show_trigger {
            spans.push(Span::styled(fit(row.origin.as_str(), 9, theme.ascii), base));
        }
        if show_ref {
            spans.push(Span::styled(
                fit(&row.short_ref, 10, theme.ascii),
                base.patch(theme.tone(Tone::Muted)),
            ));
        }
        let used: usize = crate::tui::widgets::text::spans_width(&spans);
        let rest = width.saturating_sub(used);
        let mut tail: Vec<Span<'static>> = if let Some(hit) = &row.hit {
            let label = format!("in {}: ", hit.source);
            let room = rest.saturating_sub(label.len());
            let mut v = vec![Span::styled(label, base.patch(theme.tone(Tone::Muted)))];
            v.extend(snippet_spans(
                &focus_snippet(&hit.snippet, room),
                base,
                base.patch(theme.matched()),
            ));
            v
        } else if let Some(error) = &row.first_error {
            let message = error
                .message
                .clone()
                .or_else(|| error.error_type.clone())
                .unwrap_or_default();
            vec![Span::styled(
                format!("{}: {}", error.job, message),
                base.patch(theme.tone(Tone::Bad)),
            )]
        } else if row.input_wiped {
            vec![Span::styled(
                "input erased".to_string(),
                base.patch(theme.tone(Tone::Muted)),
            )]
        } else {
            Vec::new()
        };
        tail = clip_spans(tail, rest);
        let tail_width = crate::tui::widgets::text::spans_width(&tail);
        tail.push(Span::styled(
            " ".repeat(rest.saturating_sub(tail_width)),
            base,
        ));
        spans.extend(tail);
        Line::from(spans)
    }
}

/// "from the start" or "from step <job>", for confirmations.
fn from_text(from_job: &Option<String>) -> String {
    match from_job {
        Some(job) => format!("from step {job}"),
        None => "from the start".to_string(),
    }
}

/// The step that failed in most of these work orders (their FIRST ERROR), if any did.
fn most_failed_step(rows: &[&WorkOrderRow]) -> Option<String> {
    let mut tally: std::collections::BTreeMap<&str, usize> = Default::default();
    for row in rows {
        if let Some(error) = &row.first_error {
            *tally.entry(error.job.as_str()).or_default() += 1;
        }
    }
    tally
        .into_iter()
        .max_by_key(|(_, count)| *count)
        .map(|(job, _)| job.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tui::fixtures;

    fn loaded(rows: usize) -> History {
        let mut history = History::default();
        history.height.set(10);
        history.apply_reload(fixtures::page(rows, Some("cursor-1")));
        history
    }

    #[test]
    fn moving_near_the_end_fetches_the_next_page_once() {
        let mut history = loaded(15);
        assert!(matches!(history.handle(Command::Down), Action::None));
        let action = history.handle(Command::Bottom);
        match action {
            Action::Send(Tag::HistoryMore, Request::ListWorkOrders { after, .. }) => {
                assert_eq!(after.as_deref(), Some("cursor-1"))
            }
            other => panic!("expected a page request, got {other:?}"),
        }
        assert!(
            matches!(history.handle(Command::Up), Action::None),
            "no second request while one is in flight"
        );
    }

    #[test]
    fn live_rows_do_not_steal_the_selection() {
        let mut history = loaded(5);
        history.handle(Command::Down);
        history.handle(Command::Down);
        let selected_id = history.selected_row().unwrap().id.clone();
        let (_, action) = history.on_event(&Event::WorkOrderChanged {
            id: "new".into(),
            state: WorkOrderState::Running,
            created: true,
        });
        assert!(matches!(action, Action::Send(Tag::HistoryRefresh, _)));
        // A second event while the refresh is in flight is coalesced.
        let (_, again) = history.on_event(&Event::WorkOrderChanged {
            id: "new2".into(),
            state: WorkOrderState::Running,
            created: true,
        });
        assert!(matches!(again, Action::None));
        let mut page = fixtures::page(5, None);
        page.rows
            .insert(0, fixtures::row(100, WorkOrderState::Running));
        page.rows
            .insert(0, fixtures::row(101, WorkOrderState::Pending));
        let follow_up = history.apply_refresh(page);
        assert!(
            matches!(follow_up, Action::Send(Tag::HistoryRefresh, _)),
            "the coalesced event is fetched after"
        );
        assert_eq!(history.selected_row().unwrap().id, selected_id);
        assert_eq!(history.new_count, 2);
        assert_eq!(history.offset, 2);
        history.handle(Command::Top);
        assert_eq!(history.new_count, 0);
        assert_eq!(history.selected, 0);
    }

    #[test]
    fn rerun_from_a_step_in_bulk_needs_one_workflow() {
        let mut history = loaded(6);
        // Marked rows of one workflow: pick a step of that workflow.
        let first = history.rows[0].clone();
        let same: Vec<usize> = (0..history.rows.len())
            .filter(|&i| history.rows[i].workflow_id == first.workflow_id)
            .collect();
        for &i in &same[..2.min(same.len())] {
            history.marked.insert(history.rows[i].id.clone());
        }
        match history.handle(Command::RerunFrom) {
            Action::PickBulkRerunJob { workflow_id, .. } => {
                assert_eq!(workflow_id, first.workflow_id)
            }
            other => panic!("{other:?}"),
        }
        // The confirmation names the step.
        match history.rerun(Some(("transform".into(), "Transform".into()))) {
            Action::Open(open) => match *open {
                Open::Confirm { lines, .. } => {
                    assert!(lines.join(" ").contains("from step Transform"), "{lines:?}")
                }
                other => panic!("{}", other.name()),
            },
            other => panic!("{other:?}"),
        }
        // Marks across workflows are refused with a reason.
        if let Some(other) = history
            .rows
            .iter()
            .find(|r| r.workflow_id != first.workflow_id)
        {
            history.marked.insert(other.id.clone());
            assert!(matches!(
                history.handle(Command::RerunFrom),
                Action::Banner(_)
            ));
        }
    }

    #[test]
    fn rerun_uses_marks_then_all_matching_then_the_row() {
        let mut history = loaded(5);
        match history.handle(Command::Rerun) {
            Action::Send(
                _,
                Request::Rerun {
                    reference,
                    from_job: None,
                },
            ) => assert_eq!(reference, history.rows[0].id),
            other => panic!("{other:?}"),
        }
        history.handle(Command::Mark);
        history.handle(Command::Mark);
        match history.handle(Command::Rerun) {
            Action::Open(open) => match *open {
                Open::Confirm { lines, on_yes, .. } => {
                    assert!(lines[0].contains("Rerun 2 marked"), "{lines:?}");
                    match on_yes {
                        Action::BulkRerun { references, .. } => {
                            // oldest first: row 1 is older than row 0
                            assert_eq!(
                                references,
                                vec![history.rows[1].id.clone(), history.rows[0].id.clone()]
                            );
                        }
                        other => panic!("{other:?}"),
                    }
                }
                other => panic!("{}", other.name()),
            },
            other => panic!("{other:?}"),
        }
        history.handle(Command::MarkAllMatching);
        assert!(history.marked.is_empty());
        match history.handle(Command::Rerun) {
            Action::Open(open) => match *open {
                Open::Confirm { lines, on_yes, .. } => {
                    assert!(lines[0].contains("ALL 1,224"), "{lines:?}");
                    assert!(matches!(
                        on_yes,
                        Action::Send(Tag::BulkMatching, Request::RerunMatching { .. })
                    ));
                }
                other => panic!("{}", other.name()),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn all_matching_counts_only_the_filtered_states() {
        let mut history = loaded(3);
        assert_eq!(history.total_matching(), 1224);
        history.filter.states = vec![WorkOrderState::Failed, WorkOrderState::Crashed];
        assert_eq!(history.total_matching(), 19);
    }

    #[test]
    fn capped_search_counts_read_as_lower_bounds() {
        fn confirm_text(history: &mut History) -> String {
            match history.rerun(None) {
                Action::Open(open) => match *open {
                    Open::Confirm { lines, .. } => lines.join("\n"),
                    _ => panic!("expected a confirmation"),
                },
                other => panic!("expected a confirmation, got {other:?}"),
            }
        }
        let mut history = History::default();
        history.height.set(10);
        let mut page = fixtures::page(3, None);
        page.counts_capped = true;
        history.apply_reload(page);
        history.all_matching = true;
        let text = confirm_text(&mut history);
        assert!(text.contains("ALL 1,224+ work orders"), "{text}");
        history.apply_refresh(fixtures::page(3, None));
        let text = confirm_text(&mut history);
        assert!(text.contains("ALL 1,224 work orders"), "{text}");
    }

    #[test]
    fn esc_clears_search_before_quitting() {
        let mut history = loaded(3);
        history.filter.search = Some("P-0042".into());
        assert!(matches!(
            history.handle(Command::Back),
            Action::Send(Tag::HistoryReload, _)
        ));
        assert!(history.filter.search.is_none());
        assert!(
            matches!(history.handle(Command::Back), Action::None),
            "Esc never quits"
        );
        assert!(matches!(history.handle(Command::Quit), Action::Quit));
    }
}
