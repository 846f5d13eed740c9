//! The app: screens, dialogs, the action queue, and the routing of daemon answers. It does
//! no I/O except writing files the user asked for; requests go to `outbox` and the runtime
//! forwards them to the data source.

use super::action::{Action, Banner, BannerKind, External, PickPurpose, PromptPurpose, ScreenId};
use super::dialogs::Outcome;
use super::dialogs::confirm::Confirm;
use super::dialogs::editor::{JobEditor, TriggerEditor};
use super::dialogs::help::Help;
use super::dialogs::overlay::Overlay;
use super::dialogs::picker::{PickItem, Picker};
use super::keymap::{Command, Context, Keymap};
use super::screens::audit::Audit;
use super::screens::credentials::Credentials;
use super::screens::detail::Detail;
use super::screens::history::History;
use super::screens::workflows::{Graph, Workflows};
use super::source::{Connection, Incoming, Tag};
use super::theme::{Theme, Tone};
use bolt_shared::access::{self, Role};
use bolt_shared::protocol::{Event, Request, RerunOutcome, Response};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Gauge, Paragraph};
use std::collections::VecDeque;

/// A bulk rerun in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Bulk {
    pub total: u64,
    pub done: u64,
    pub skipped: Vec<String>,
    pub failed: Vec<String>,
    /// True for `RerunMatching` (progress comes from events).
    pub matching: bool,
}

pub struct App {
    pub theme: Theme,
    pub keymap: Keymap,
    pub route: Vec<ScreenId>,
    pub history: History,
    pub detail: Option<Detail>,
    pub workflows: Workflows,
    pub graph: Option<Graph>,
    pub credentials: Credentials,
    pub audit: Audit,
    pub overlays: Vec<Overlay>,
    pub banner: Option<Banner>,
    pub connection: Connection,
    pub bulk: Option<Bulk>,
    /// Requests waiting to be handed to the data source.
    pub outbox: Vec<(Tag, Request)>,
    pub quit: bool,
    /// `bolt open WORKFLOW/JOB`: the graph to open once the workflows are loaded.
    pending_job: Option<(String, Option<String>)>,
    /// Work for the runtime that needs the terminal (editor, pager, clipboard).
    pub external: Option<External>,
    /// Ctrl-R while boltd is down: the runtime reconnects at once instead of waiting.
    pub reconnect_now: bool,
    /// boltd's health for the status line: (queue depth, failures in the last hour).
    pub health: (Option<u64>, Option<u64>),
    health_in_flight: bool,
    /// A workflows request is in flight; `workflows_again`: ask once more when it answers.
    workflows_in_flight: bool,
    workflows_again: bool,
    pub now: fn() -> DateTime<Utc>,
    was_down: bool,
    /// The user boltd takes us for and its role, once connected: requests the role can't
    /// make are refused here (boltd refuses them anyway) and their keys are greyed.
    pub access: Option<(String, Option<Role>)>,
}

const QUIT_UNSAVED: &str = "Quit bolt without saving?";

impl App {
    pub fn new(theme: Theme, keymap: Keymap) -> App {
        App {
            theme,
            keymap,
            route: vec![ScreenId::History],
            history: History::default(),
            detail: None,
            workflows: Workflows::default(),
            graph: None,
            credentials: Credentials::default(),
            audit: Audit::default(),
            overlays: Vec::new(),
            banner: None,
            connection: Connection::Connecting,
            bulk: None,
            outbox: Vec::new(),
            quit: false,
            external: None,
            pending_job: None,
            reconnect_now: false,
            health: (None, None),
            health_in_flight: false,
            workflows_in_flight: false,
            workflows_again: false,
            now: Utc::now,
            was_down: false,
            access: None,
        }
    }

    /// First requests: the history, the workflows (for pickers), and a reference to open.
    pub fn start(&mut self, open_ref: Option<String>) {
        let reload = self.history.reload();
        self.run(reload);
        self.run(Workflows::load());
        if let Some(reference) = open_ref {
            self.run(Action::OpenDetail {
                reference,
                search: None,
            });
        }
    }

    /// Opens the workflow screen on a job (as a shared `bolt open WORKFLOW/JOB` link does),
    /// now if the workflows are loaded, else when they arrive.
    pub fn open_job(&mut self, workflow_id: String, job_id: Option<String>) {
        if !self.workflows.list.iter().any(|w| w.id == workflow_id) {
            self.pending_job = Some((workflow_id, job_id));
            return;
        }
        self.run(Action::Go(ScreenId::Workflows));
        if let Some(at) = self.workflows.list.iter().position(|w| w.id == workflow_id) {
            self.workflows.selected = at;
        }
        self.run(Action::OpenGraph { workflow_id });
        if let (Some(graph), Some(job)) = (self.graph.as_mut(), job_id) {
            graph.selected_job = Some(job);
        }
    }

    pub fn screen(&self) -> ScreenId {
        self.route.last().copied().unwrap_or(ScreenId::History)
    }

    pub fn context(&self) -> Context {
        match self.screen() {
            ScreenId::History => Context::History,
            ScreenId::Detail => Context::Detail,
            ScreenId::Workflows => Context::Workflows,
            ScreenId::Graph => Context::Graph,
            ScreenId::Credentials => Context::Credentials,
            ScreenId::Audit => Context::Audit,
        }
    }

    /// Handles a key. Returns whether anything may have changed on screen.
    pub fn handle_key(&mut self, key: KeyEvent) -> bool {
        if key.kind == KeyEventKind::Release {
            return false;
        }
        if self.is_quit_now(&key) {
            self.quit_now();
            return true;
        }
        if let Some(top) = self.overlays.last_mut() {
            match top.handle_key(key, &self.keymap) {
                Outcome::Stay => {}
                Outcome::Close => {
                    self.overlays.pop();
                }
                Outcome::Done(action) => {
                    self.overlays.pop();
                    self.run(action);
                }
                Outcome::Keep(action) => self.run(action),
            }
            return true;
        }
        match &self.banner {
            Some(banner) if banner.kind == BannerKind::Error && key.code == KeyCode::Esc => {
                self.banner = None;
                return true;
            }
            Some(banner) if banner.kind == BannerKind::Info => self.banner = None,
            _ => {}
        }
        if let Some(command) = self.keymap.resolve(self.context(), &key) {
            self.command(command);
        }
        true
    }

    fn is_quit_now(&self, key: &KeyEvent) -> bool {
        self.keymap
            .bindings
            .iter()
            .any(|b| b.command == Command::QuitNow && b.keys.iter().any(|k| k.matches(key)))
    }

    /// Ctrl-C: quit from anywhere, asking first only when an edit would be lost (and not
    /// again when that question is already open).
    fn quit_now(&mut self) {
        let asking =
            matches!(self.overlays.last(), Some(Overlay::Confirm(c)) if c.title == QUIT_UNSAVED);
        let unsaved: Vec<String> = self.overlays.iter().filter_map(Overlay::unsaved).collect();
        if unsaved.is_empty() || asking {
            self.quit = true;
            return;
        }
        self.overlays.push(Overlay::Confirm(Confirm::new(
            QUIT_UNSAVED,
            vec![
                format!("Unsaved: {}.", unsaved.join(", ")),
                "Quitting now throws it away.".into(),
            ],
            Action::Quit,
        )));
    }

    /// Runs a command as if its key was pressed on the current screen.
    pub fn command(&mut self, command: Command) {
        // A key the role can't use says so at once, before any form opens.
        if let (Some((user, role)), Some(kind)) =
            (self.access.as_ref(), super::access::request_kind(command))
            && !access::allows(*role, kind)
        {
            let refused = access::refusal(kind, user, *role);
            self.run(Action::error(refused));
            return;
        }
        let action = match command {
            Command::QuitNow => {
                self.quit_now();
                Action::None
            }
            Command::Refresh if matches!(self.connection, Connection::Down { .. }) => {
                // The screen reloads by itself once the connection is back.
                self.reconnect_now = true;
                self.connection = Connection::Connecting;
                Action::info("reconnecting to boltd now")
            }
            Command::Help => {
                self.overlays.push(Overlay::Help(Help::new(self.context())));
                Action::None
            }
            Command::Palette => {
                let palette = self.palette();
                self.overlays.push(Overlay::Picker(palette));
                Action::None
            }
            Command::GoHistory => Action::Go(ScreenId::History),
            Command::GoWorkflows => Action::Go(ScreenId::Workflows),
            Command::GoCredentials => Action::Go(ScreenId::Credentials),
            Command::GoAudit => Action::Go(ScreenId::Audit),
            Command::GoFailures => Action::Send(
                Tag::Failures,
                Request::Failures {
                    since: Some((self.now)() - chrono::Duration::hours(24)),
                },
            ),
            Command::WorkflowHistory => self.workflow_history(),
            _ => match self.screen() {
                ScreenId::History => self.history.handle(command),
                ScreenId::Detail => match self.detail.as_mut() {
                    Some(detail) => detail.handle(command),
                    None => Action::Back,
                },
                ScreenId::Workflows => self.workflows.handle(command),
                ScreenId::Graph => match self.graph.as_mut() {
                    Some(graph) => graph.handle(command, &self.theme),
                    None => Action::Back,
                },
                ScreenId::Credentials => self.credentials.handle(command),
                ScreenId::Audit => self.audit.handle(command),
            },
        };
        self.run(action);
    }

    /// The history filtered to the workflow on screen (Workflows or its graph).
    fn workflow_history(&self) -> Action {
        let name = match self.screen() {
            ScreenId::Graph => self.graph.as_ref().map(|g| g.workflow.name.clone()),
            ScreenId::Workflows => self
                .workflows
                .list
                .get(self.workflows.selected)
                .map(|w| w.name.clone()),
            _ => None,
        };
        let Some(name) = name else {
            return Action::None;
        };
        let filter = bolt_shared::model::WorkOrderFilter {
            workflow: Some(name),
            ..Default::default()
        };
        Action::Many(vec![
            Action::Go(ScreenId::History),
            Action::ApplyFilter(Box::new((filter, Default::default()))),
        ])
    }

    /// Asks boltd for the status line's health figures (queue, failures in the last hour),
    /// unless that is already under way.
    pub fn refresh_health(&mut self) {
        if self.health_in_flight || !matches!(self.connection, Connection::Connected { .. }) {
            return;
        }
        self.health_in_flight = true;
        self.outbox.push((Tag::HealthStatus, Request::Status));
        self.outbox.push((
            Tag::HealthFailures,
            Request::Failures {
                since: Some((self.now)() - chrono::Duration::hours(1)),
            },
        ));
    }

    fn palette(&self) -> Picker {
        let context = self.context();
        let items = self
            .keymap
            .for_context(context)
            .into_iter()
            .filter(|b| !matches!(b.command, Command::Palette))
            .map(|b| PickItem {
                label: b.command.name().to_string(),
                hint: format!(
                    "{} ({})",
                    b.help,
                    b.keys
                        .iter()
                        .map(|k| k.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                value: b.command.name().to_string(),
            })
            .collect();
        Picker::new(
            format!("Command — {}", context.title()),
            items,
            PickPurpose::Palette,
        )
    }

    /// Runs an action and everything it leads to.
    pub fn run(&mut self, action: Action) {
        let mut queue = VecDeque::from([action]);
        while let Some(action) = queue.pop_front() {
            match action {
                Action::None => {}
                Action::Quit => self.quit = true,
                Action::Back => {
                    if self.route.len() > 1 {
                        match self.route.pop() {
                            Some(ScreenId::Detail) => self.detail = None,
                            Some(ScreenId::Graph) => self.graph = None,
                            _ => {}
                        }
                    }
                }
                Action::Go(screen) => {
                    self.route.truncate(1);
                    self.detail = None;
                    self.graph = None;
                    if screen != ScreenId::History {
                        self.route.push(screen);
                    }
                    match screen {
                        ScreenId::Workflows => queue.push_back(Workflows::load()),
                        ScreenId::Credentials => {
                            queue.push_back(super::screens::credentials::Credentials::load())
                        }
                        ScreenId::Audit => queue.push_back(self.audit.load()),
                        _ => {}
                    }
                }
                Action::OpenDetail { reference, search } => {
                    let mut detail = Detail::new(reference, search);
                    queue.push_back(detail.load());
                    self.detail = Some(detail);
                    if self.screen() == ScreenId::Detail {
                        self.route.pop();
                    }
                    self.route.push(ScreenId::Detail);
                }
                Action::OpenGraph { workflow_id } => {
                    match self.workflows.list.iter().find(|w| w.id == workflow_id) {
                        Some(workflow) => {
                            self.graph = Some(Graph::new(workflow.clone(), &self.theme));
                            self.route.push(ScreenId::Graph);
                        }
                        None => queue
                            .push_back(Action::error("that workflow is gone; reloading the list")),
                    }
                }
                Action::Send(tag, request) => match self.refusal(&request) {
                    Some(refused) => queue.push_back(Action::error(refused)),
                    // Counts change with every finished run: one load at a time is enough.
                    None if matches!(tag, Tag::Workflows) => {
                        if self.workflows_in_flight {
                            self.workflows_again = true;
                        } else {
                            self.workflows_in_flight = true;
                            self.outbox.push((tag, request));
                        }
                    }
                    None => self.outbox.push((tag, request)),
                },
                Action::Banner(banner) => self.banner = Some(banner),
                Action::Open(open) => self.overlays.push(Overlay::open(*open, &self.theme)),
                Action::CloseOverlay => {
                    self.overlays.pop();
                }
                Action::PickRerunJob {
                    reference,
                    workflow_id,
                    failed_job,
                } => match self.job_picker(
                    &workflow_id,
                    |name| format!("Rerun {name} from which step?"),
                    PickPurpose::RerunFrom { reference },
                    failed_job.as_deref(),
                ) {
                    Some(picker) => self.overlays.push(Overlay::Picker(picker)),
                    None => {
                        queue.push_back(Action::error(
                            "the workflow list is not loaded yet; try again in a moment",
                        ));
                        queue.push_back(Workflows::load());
                    }
                },
                Action::PickBulkRerunJob {
                    workflow_id,
                    failed_job,
                } => match self.job_picker(
                    &workflow_id,
                    |name| format!("Rerun the selected {name} work orders from which step?"),
                    PickPurpose::BulkRerunFrom {
                        workflow_id: workflow_id.clone(),
                    },
                    failed_job.as_deref(),
                ) {
                    Some(picker) => self.overlays.push(Overlay::Picker(picker)),
                    None => {
                        queue.push_back(Action::error(
                            "the workflow list is not loaded yet; try again in a moment",
                        ));
                        queue.push_back(Workflows::load());
                    }
                },
                Action::PickFilterWorkflow => {
                    let mut items = vec![PickItem {
                        label: "any workflow".into(),
                        hint: String::new(),
                        value: String::new(),
                    }];
                    items.extend(self.workflows.list.iter().map(|w| PickItem {
                        label: w.name.clone(),
                        hint: w.project.clone(),
                        value: w.name.clone(),
                    }));
                    self.overlays.push(Overlay::Picker(Picker::new(
                        "Workflow",
                        items,
                        PickPurpose::FilterWorkflow,
                    )));
                }
                Action::External(external) => self.external = Some(external),
                Action::EditJob {
                    workflow_id,
                    job_id,
                    external,
                } => {
                    let found = self
                        .workflows
                        .list
                        .iter()
                        .find(|w| w.id == workflow_id)
                        .and_then(|w| w.jobs.iter().find(|j| j.id == job_id).map(|j| (w, j)));
                    match found {
                        Some((workflow, job)) => {
                            self.overlays
                                .push(Overlay::JobEditor(Box::new(JobEditor::new(
                                    workflow.id.clone(),
                                    job.id.clone(),
                                    job.name.clone(),
                                    job.body.clone(),
                                    &self.theme,
                                ))));
                            if external {
                                self.external = Some(super::action::External::EditJob {
                                    job_id: job.id.clone(),
                                    text: job.body.clone(),
                                });
                            }
                        }
                        None => {
                            queue.push_back(Action::error(
                                "that job is not in the loaded workflows; reloading them",
                            ));
                            queue.push_back(Workflows::load());
                        }
                    }
                }
                Action::TriggerInput { workflow_id } => {
                    let name = self
                        .workflows
                        .list
                        .iter()
                        .find(|w| w.id == workflow_id)
                        .map(|w| w.name.clone())
                        .unwrap_or_else(|| workflow_id.clone());
                    self.overlays
                        .push(Overlay::TriggerEditor(Box::new(TriggerEditor::new(
                            workflow_id,
                            name,
                            &self.theme,
                        ))));
                }
                Action::BulkRerun {
                    references,
                    from_job,
                } => {
                    let probe = Request::Rerun {
                        reference: String::new(),
                        from_job: None,
                    };
                    if let Some(refused) = self.refusal(&probe) {
                        queue.push_back(Action::error(refused));
                        continue;
                    }
                    self.bulk = Some(Bulk {
                        total: references.len() as u64,
                        done: 0,
                        skipped: Vec::new(),
                        failed: Vec::new(),
                        matching: false,
                    });
                    self.history.marked.clear();
                    for reference in references {
                        self.outbox.push((
                            Tag::BulkItem,
                            Request::Rerun {
                                reference,
                                from_job: from_job.clone(),
                            },
                        ));
                    }
                }
                Action::Prompted(purpose, text) => queue.push_back(self.prompted(purpose, text)),
                Action::Picked(purpose, value) => match purpose {
                    PickPurpose::Palette => {
                        if let Some(command) = Command::parse(&value) {
                            self.command(command);
                        }
                    }
                    PickPurpose::FilterWorkflow => {
                        if let Some(Overlay::Filter(form)) = self.overlays.last_mut() {
                            form.workflow = Some(value).filter(|v| !v.is_empty());
                        }
                    }
                    PickPurpose::BulkRerunFrom { workflow_id } => {
                        let name = self.job_name(&workflow_id, &value);
                        queue.push_back(self.history.rerun(Some((value, name))));
                    }
                    PickPurpose::RerunFrom { reference } => {
                        let name = self
                            .workflows
                            .list
                            .iter()
                            .flat_map(|w| w.jobs.iter())
                            .find(|j| j.id == value)
                            .map(|j| j.name.clone())
                            .unwrap_or_else(|| value.clone());
                        queue.push_back(Action::Send(
                            Tag::Action {
                                what: format!("rerun from {name}"),
                            },
                            Request::Rerun {
                                reference,
                                from_job: Some(value),
                            },
                        ));
                    }
                },
                Action::ApplyFilter(built) => {
                    let (filter, text) = *built;
                    let changed = filter != self.history.filter;
                    self.history.filter = filter;
                    self.history.filter_text = text;
                    if changed && let Some(notice) = self.history.clear_selection() {
                        queue.push_back(Action::info(notice));
                    }
                    queue.push_back(self.history.reload());
                }
                Action::Many(actions) => {
                    for (index, action) in actions.into_iter().enumerate() {
                        queue.insert(index, action);
                    }
                }
            }
        }
    }

    fn prompted(&mut self, purpose: PromptPurpose, text: String) -> Action {
        match purpose {
            PromptPurpose::HistorySearch => {
                if let Err(message) = bolt_shared::model::check_search(text.trim()) {
                    return Action::error(message);
                }
                let search = Some(text.trim().to_string()).filter(|t| !t.is_empty());
                let changed = search != self.history.filter.search;
                self.history.filter.search = search;
                let notice = if changed {
                    self.history.clear_selection()
                } else {
                    None
                };
                Action::Many(vec![
                    notice.map(Action::info).unwrap_or(Action::None),
                    self.history.reload(),
                ])
            }
            PromptPurpose::DetailSearch => match self.detail.as_mut() {
                Some(detail) => detail.apply_search(text),
                None => Action::None,
            },
            PromptPurpose::WorkflowSearch => self.workflows.find(&text),
            PromptPurpose::AuditFilter => self.audit.apply_filter(&text),
            PromptPurpose::WritePath { contents } => {
                let path = text.trim();
                if path.is_empty() {
                    return Action::error("no file name given; nothing written");
                }
                match std::fs::write(path, contents.as_bytes()) {
                    Ok(()) => Action::info(format!("wrote {} bytes to {path}", contents.len())),
                    Err(err) => Action::error(format!("could not write {path}: {err}")),
                }
            }
            PromptPurpose::SaveInputName { reference, step } => {
                let name = text.trim().to_string();
                if name.is_empty() {
                    return Action::error("an input needs a name; nothing saved");
                }
                Action::Send(
                    Tag::Action {
                        what: format!("input saved as \"{name}\""),
                    },
                    Request::SaveInput {
                        reference,
                        step,
                        name,
                    },
                )
            }
        }
    }

    /// Handles a message from the data source. Returns whether the screen may have changed.
    pub fn handle_incoming(&mut self, incoming: Incoming) -> bool {
        match incoming {
            Incoming::Response { tag, result } => {
                match result {
                    Ok(response) => self.response(tag, response),
                    Err(message) => self.failed(tag, message),
                }
                true
            }
            Incoming::Event(event) => self.event(event),
            Incoming::Connection(connection) => {
                let now_up = matches!(connection, Connection::Connected { .. });
                if let Connection::Connected { user, role, .. } = &connection {
                    self.access = user.clone().map(|user| (user, *role));
                }
                if now_up && self.was_down {
                    // Back after an outage: everything on screen may be stale, and the
                    // errors shown were about the outage.
                    if self.banner.is_some() {
                        self.banner = None;
                    }
                    let reload = self.history.reload();
                    self.run(reload);
                    self.run(Workflows::load());
                    if self.screen() == ScreenId::Credentials {
                        self.run(super::screens::credentials::Credentials::load());
                    }
                    if let Some(detail) = self.detail.as_mut() {
                        let refresh = detail.refresh();
                        self.run(refresh);
                    }
                }
                self.was_down = matches!(connection, Connection::Down { .. });
                let changed = self.connection != connection;
                self.connection = connection;
                if now_up {
                    self.health_in_flight = false;
                    self.refresh_health();
                }
                changed
            }
        }
    }

    fn failed(&mut self, tag: Tag, message: String) {
        self.history.request_failed(&tag);
        let what = match &tag {
            Tag::HistoryReload | Tag::HistoryMore | Tag::HistoryRefresh => {
                "loading the history".to_string()
            }
            Tag::Show { reference } => {
                if let Some(detail) = self.detail.as_mut() {
                    detail.request_failed();
                }
                format!("opening {reference}")
            }
            Tag::Logs { .. } => "loading logs".to_string(),
            Tag::Workflows => {
                self.workflows_in_flight = false;
                self.workflows_again = false;
                "loading workflows".to_string()
            }
            Tag::Credentials => "loading credentials".to_string(),
            Tag::Action { what } => what.clone(),
            Tag::BulkItem => {
                if let Some(bulk) = self.bulk.as_mut() {
                    bulk.done += 1;
                    bulk.failed.push(message);
                }
                self.finish_bulk_if_done();
                return;
            }
            Tag::BulkMatching => {
                self.bulk = None;
                "rerun of all matching".to_string()
            }
            Tag::Trigger => "manual run".to_string(),
            Tag::Versions { .. } => "loading versions".to_string(),
            Tag::VersionDiff => "loading the diff".to_string(),
            Tag::BulkScope(_) => "counting the matching work orders".to_string(),
            Tag::Failures => "loading the failures".to_string(),
            Tag::CredentialEdit => "loading the credential".to_string(),
            // The status line just shows less; an error banner would be noise.
            Tag::HealthStatus => return,
            Tag::HealthFailures => {
                self.health_in_flight = false;
                return;
            }
            Tag::SaveJob { job_id, job_name } => {
                // The editor stays open with boltd's reason, so nothing typed is lost.
                if let Some(editor) = self.job_editor(job_id) {
                    editor.error = Some(format!("not saved: {message}"));
                    return;
                }
                format!("save of {job_name}")
            }
            Tag::Audit => "loading the audit log".to_string(),
            Tag::AuditVerify => "verifying the audit chain".to_string(),
        };
        self.banner = Some(Banner {
            kind: BannerKind::Error,
            text: format!("{what} failed: {message}"),
        });
    }

    fn response(&mut self, tag: Tag, response: Response) {
        let action = match (tag, response) {
            (Tag::HistoryReload, Response::WorkOrders(page)) => {
                self.history.apply_reload(page);
                Action::None
            }
            (Tag::HistoryMore, Response::WorkOrders(page)) => {
                self.history.apply_more(page);
                Action::None
            }
            (Tag::HistoryRefresh, Response::WorkOrders(page)) => self.history.apply_refresh(page),
            (Tag::Show { reference }, Response::Shown(result)) => match self.detail.as_mut() {
                Some(detail) if detail.reference == reference => {
                    let workflow_id = result.work_order.row.workflow_id.clone();
                    detail.workflow_jobs = jobs_of(&self.workflows.list, &workflow_id);
                    let first = detail.apply_show(*result);
                    Action::Many(vec![first, detail.take_pending_refresh()])
                }
                _ => Action::None,
            },
            (Tag::Logs { run_id }, Response::Logs { lines, more }) => match self.detail.as_mut() {
                Some(detail) => detail.apply_log_page(&run_id, lines, more),
                None => Action::None,
            },
            (Tag::Workflows, Response::Workflows { workflows }) => {
                self.workflows_in_flight = false;
                let again = std::mem::take(&mut self.workflows_again);
                if let Some(graph) = self.graph.as_mut()
                    && let Some(fresh) = workflows.iter().find(|w| w.id == graph.workflow.id)
                {
                    graph.replace(fresh.clone());
                }
                self.workflows.apply(workflows);
                if let Some(detail) = self.detail.as_mut()
                    && let Some(shown) = &detail.shown
                {
                    let workflow_id = shown.work_order.row.workflow_id.clone();
                    detail.workflow_jobs = jobs_of(&self.workflows.list, &workflow_id);
                }
                if let Some((workflow_id, job_id)) = self.pending_job.take() {
                    self.open_job(workflow_id, job_id);
                }
                if again {
                    Workflows::load()
                } else {
                    Action::None
                }
            }
            (Tag::Audit, Response::Audit { events }) => {
                self.audit.apply(events);
                Action::None
            }
            (Tag::AuditVerify, Response::AuditChain(report)) => match report.broken {
                None => Action::info(format!(
                    "audit chain intact: {} events checked",
                    report.checked
                )),
                Some(broken) => Action::error(format!(
                    "audit chain broken at event {} ({}): {}",
                    broken.id, broken.problem, broken.detail
                )),
            },
            (Tag::Credentials, Response::Credentials { credentials }) => {
                self.credentials.apply(credentials);
                Action::None
            }
            (Tag::BulkItem, Response::Reruns { outcomes }) => {
                if let Some(bulk) = self.bulk.as_mut() {
                    bulk.done += 1;
                    bulk.skipped
                        .extend(outcomes.iter().filter_map(|o| o.skipped.clone()));
                }
                self.finish_bulk_if_done();
                Action::None
            }
            (Tag::BulkMatching, Response::Reruns { outcomes }) => {
                self.bulk = None;
                Action::info(rerun_summary(&outcomes))
            }
            (Tag::Trigger, Response::Triggered(result)) => Action::Many(vec![
                Action::OpenDetail {
                    reference: result.work_order_id.clone(),
                    search: None,
                },
                Action::info(format!(
                    "started work order {}",
                    bolt_shared::model::short_ref(&result.work_order_id)
                )),
            ]),
            (Tag::Versions { job }, Response::Versions(list)) => {
                self.overlays.push(Overlay::Versions(Box::new(
                    crate::tui::dialogs::versions::VersionsView::new(list, job),
                )));
                Action::None
            }
            (Tag::VersionDiff, Response::Diff(diff)) => {
                self.overlays.push(Overlay::VersionDiff(
                    crate::tui::dialogs::versions::DiffText::new(&diff),
                ));
                Action::None
            }
            (Tag::Action { what }, Response::RolledBack(report)) => {
                let text = match report.new_version {
                    Some(new) => format!("{what} (new version {new})"),
                    None => format!("{what}: already as in version {}", report.to),
                };
                Action::Many(vec![Action::info(text), Workflows::load()])
            }
            (Tag::CredentialEdit, Response::Credential(detail)) => {
                self.overlays.push(Overlay::CredForm(Box::new(
                    super::dialogs::credform::CredForm::editing(&detail, &self.theme),
                )));
                Action::None
            }
            (Tag::Failures, Response::Failures { groups }) => {
                self.overlays.push(Overlay::Failures(Box::new(
                    super::dialogs::failures::Failures::new(
                        groups,
                        (self.now)() - chrono::Duration::hours(24),
                    ),
                )));
                Action::None
            }
            (Tag::HealthStatus, Response::Status(status)) => {
                self.health.0 = Some(status.queue_depth);
                Action::None
            }
            (Tag::HealthFailures, Response::Failures { groups }) => {
                self.health_in_flight = false;
                self.health.1 = Some(groups.iter().map(|g| g.count).sum());
                Action::None
            }
            (Tag::BulkScope(scope), Response::WorkOrders(page)) => {
                self.history.apply_bulk_scope(*scope, &page)
            }
            (Tag::SaveJob { job_id, job_name }, response) => {
                self.overlays.retain(
                    |o| !matches!(o, Overlay::JobEditor(editor) if editor.job_id == job_id),
                );
                self.action_done(format!("{job_name} saved"), response)
            }
            (Tag::Action { what }, response) => self.action_done(what, response),
            (tag, other) => Action::error(format!(
                "boltd answered {tag:?} with an unexpected {}",
                response_kind(&other)
            )),
        };
        self.run(action);
    }

    /// A picker of a workflow's steps, starting on `failed_job` (a job name) when given.
    fn job_picker(
        &self,
        workflow_id: &str,
        title: impl Fn(&str) -> String,
        purpose: PickPurpose,
        failed_job: Option<&str>,
    ) -> Option<Picker> {
        let workflow = self.workflows.list.iter().find(|w| w.id == workflow_id)?;
        let items = workflow
            .jobs
            .iter()
            .map(|j| PickItem {
                label: j.name.clone(),
                hint: if Some(j.name.as_str()) == failed_job {
                    format!("failed here · {}", j.adaptor)
                } else {
                    j.adaptor.clone()
                },
                value: j.id.clone(),
            })
            .collect();
        Some(Picker::new(title(&workflow.name), items, purpose).preselect(failed_job))
    }

    fn job_name(&self, workflow_id: &str, job_id: &str) -> String {
        self.workflows
            .list
            .iter()
            .find(|w| w.id == workflow_id)
            .and_then(|w| w.jobs.iter().find(|j| j.id == job_id))
            .map(|j| j.name.clone())
            .unwrap_or_else(|| job_id.to_string())
    }

    fn job_editor(&mut self, job_id: &str) -> Option<&mut JobEditor> {
        self.overlays.iter_mut().rev().find_map(|o| match o {
            Overlay::JobEditor(editor) if editor.job_id == job_id => Some(editor.as_mut()),
            _ => None,
        })
    }

    /// What the runtime reports back after [`External`] work: `Ok(text)` is the edited text
    /// for an editor, a message to show for the others.
    pub fn external_done(&mut self, request: External, result: Result<String, String>) {
        let text = match result {
            Ok(text) => text,
            Err(message) => {
                self.run(Action::error(message));
                return;
            }
        };
        match request {
            External::EditJob {
                job_id,
                text: before,
            } => {
                let theme = self.theme;
                let Some(editor) = self.job_editor(&job_id) else {
                    return;
                };
                if text.trim_end() == before.trim_end() {
                    self.run(Action::info("$EDITOR made no changes"));
                    return;
                }
                editor.replace_text(&text, &theme);
                // The same check and diff as a save typed in the TUI.
                match editor.review_save() {
                    Outcome::Keep(action) => self.run(action),
                    Outcome::Done(action) => self.run(action),
                    Outcome::Stay | Outcome::Close => {}
                }
            }
            External::Page { .. } | External::Copy { .. } => {
                if !text.is_empty() {
                    self.run(Action::info(text));
                }
            }
        }
    }

    fn action_done(&mut self, what: String, response: Response) -> Action {
        let reload = match &response {
            Response::Done { .. } | Response::Workflow(_) => {
                // Enable/disable, job saves and credential changes show up in lists.
                Action::Many(vec![
                    Workflows::load(),
                    if self.screen() == ScreenId::Credentials {
                        super::screens::credentials::Credentials::load()
                    } else {
                        Action::None
                    },
                ])
            }
            _ => Action::None,
        };
        let banner = match response {
            Response::Reruns { outcomes } => {
                let skipped: Vec<&str> = outcomes
                    .iter()
                    .filter_map(|o| o.skipped.as_deref())
                    .collect();
                if !skipped.is_empty() {
                    Action::error(format!("{what}: skipped — {}", skipped.join("; ")))
                } else {
                    Action::info(format!("{what}: {}", rerun_summary(&outcomes)))
                }
            }
            // boltd's messages say what happened; they need no prefix.
            Response::Done { message } if message.is_empty() => Action::info(what),
            Response::Done { message } => Action::info(message),
            _ => Action::info(what),
        };
        Action::Many(vec![banner, reload])
    }

    fn finish_bulk_if_done(&mut self) {
        let Some(bulk) = &self.bulk else { return };
        if bulk.done < bulk.total {
            return;
        }
        let started = bulk.total - bulk.failed.len() as u64 - bulk.skipped.len() as u64;
        let mut text = format!("bulk rerun finished: {started} started");
        if !bulk.skipped.is_empty() {
            text.push_str(&format!(
                ", {} skipped ({})",
                bulk.skipped.len(),
                bulk.skipped.join("; ")
            ));
        }
        let kind = if bulk.failed.is_empty() {
            BannerKind::Info
        } else {
            BannerKind::Error
        };
        if !bulk.failed.is_empty() {
            text.push_str(&format!(
                ", {} failed ({})",
                bulk.failed.len(),
                bulk.failed.join("; ")
            ));
        }
        self.banner = Some(Banner { kind, text });
        self.bulk = None;
    }

    fn event(&mut self, event: Event) -> bool {
        match &event {
            Event::BulkProgress { done, total } => {
                match self.bulk.as_mut() {
                    Some(bulk) if bulk.matching || bulk.total == 0 => {
                        bulk.done = *done;
                        bulk.total = *total;
                    }
                    Some(_) => return false,
                    None => {
                        self.bulk = Some(Bulk {
                            total: *total,
                            done: *done,
                            skipped: Vec::new(),
                            failed: Vec::new(),
                            matching: true,
                        })
                    }
                }
                if done >= total {
                    self.bulk = None;
                }
                return true;
            }
            Event::WorkflowsChanged => {
                self.run(Workflows::load());
                return false;
            }
            // The status line's figures and the workflows screens' 24h counts follow.
            Event::WorkOrderChanged { state, .. } if state.is_final() => {
                self.refresh_health();
                if matches!(self.screen(), ScreenId::Workflows | ScreenId::Graph) {
                    self.run(Workflows::load());
                }
            }
            Event::WorkOrderChanged { .. } => self.refresh_health(),
            _ => {}
        }
        let (history_changed, history_action) = self.history.on_event(&event);
        self.run(history_action);
        let mut detail_changed = false;
        if let Some(detail) = self.detail.as_mut() {
            let (changed, action) = detail.on_event(&event);
            detail_changed = changed;
            self.run(action);
        }
        history_changed || detail_changed
    }

    pub fn draw(&self, frame: &mut Frame) {
        let area = frame.area();
        let banner_height = u16::from(self.banner.is_some());
        let bulk_height = u16::from(self.bulk.is_some());
        let [main, bulk_area, banner_area, status] = Layout::vertical([
            Constraint::Min(1),
            Constraint::Length(bulk_height),
            Constraint::Length(banner_height),
            Constraint::Length(1),
        ])
        .areas(area);
        let now = (self.now)();
        match self.screen() {
            ScreenId::History => self.history.draw(frame, main, &self.theme, now),
            ScreenId::Detail => {
                if let Some(detail) = &self.detail {
                    detail.draw(frame, main, &self.theme, now);
                }
            }
            ScreenId::Workflows => self.workflows.draw(frame, main, &self.theme, now),
            ScreenId::Graph => {
                if let Some(graph) = &self.graph {
                    graph.draw(frame, main, &self.theme);
                }
            }
            ScreenId::Credentials => self.credentials.draw(frame, main, &self.theme, now),
            ScreenId::Audit => self.audit.draw(frame, main, &self.theme, now),
        }
        if let Some(bulk) = &self.bulk {
            self.draw_bulk(frame, bulk_area, bulk);
        }
        if let Some(banner) = &self.banner {
            let (prefix, style) = match banner.kind {
                BannerKind::Error => (
                    if self.theme.ascii { "ERROR" } else { "✘" },
                    self.theme
                        .tone(Tone::Bad)
                        .add_modifier(ratatui::style::Modifier::REVERSED),
                ),
                BannerKind::Info => (
                    if self.theme.ascii { "--" } else { "ℹ" },
                    self.theme.tone(Tone::Live),
                ),
            };
            let dismiss = if banner.kind == BannerKind::Error {
                "  (Esc)"
            } else {
                ""
            };
            let text = format!(" {prefix} {}{dismiss}", banner.text.replace('\n', " "));
            frame.render_widget(
                Paragraph::new(Span::styled(
                    super::widgets::text::fit(&text, area.width as usize, self.theme.ascii),
                    style,
                )),
                banner_area,
            );
        }
        let status_line = super::status_line::Status {
            context: self.context(),
            keymap: &self.keymap,
            theme: &self.theme,
            connection: &self.connection,
            health: self.health,
            may: &|command| self.may(command),
        };
        super::status_line::draw(&status_line, frame, status);
        for overlay in &self.overlays {
            overlay.draw(frame, area, &self.theme, &self.keymap);
        }
        if self.theme.ascii {
            super::ascii::asciify(frame.buffer_mut());
        }
        super::widgets::text::guard_buffer(frame.buffer_mut());
    }

    fn draw_bulk(&self, frame: &mut Frame, area: Rect, bulk: &Bulk) {
        let ratio = if bulk.total == 0 {
            0.0
        } else {
            (bulk.done as f64 / bulk.total as f64).clamp(0.0, 1.0)
        };
        let mut label = format!("rerunning {}/{}", bulk.done, bulk.total);
        if !bulk.skipped.is_empty() {
            label.push_str(&format!(" · {} skipped", bulk.skipped.len()));
        }
        if !bulk.failed.is_empty() {
            label.push_str(&format!(" · {} failed", bulk.failed.len()));
        }
        let gauge = Gauge::default()
            .ratio(ratio)
            .label(label)
            .gauge_style(
                self.theme
                    .tone(Tone::Live)
                    .add_modifier(ratatui::style::Modifier::REVERSED),
            )
            .use_unicode(!self.theme.ascii);
        frame.render_widget(gauge, area);
    }

    /// Why the role can't make this request (`None`: it can, or the role is unknown).
    pub(super) fn refusal(&self, request: &Request) -> Option<String> {
        let (user, role) = self.access.as_ref()?;
        let kind = access::kind_of(request);
        (!access::allows(*role, kind)).then(|| access::refusal(kind, user, *role))
    }

    /// Whether the role allows what `command` asks boltd for.
    fn may(&self, command: Command) -> bool {
        match (self.access.as_ref(), super::access::request_kind(command)) {
            (Some((_, role)), Some(kind)) => access::allows(*role, kind),
            _ => true,
        }
    }
}

/// (key, name) of a workflow's jobs, for "not run" lines in the run detail.
fn jobs_of(
    workflows: &[bolt_shared::model::WorkflowView],
    workflow_id: &str,
) -> Vec<(String, String)> {
    workflows
        .iter()
        .find(|w| w.id == workflow_id)
        .map(|w| {
            w.jobs
                .iter()
                .map(|j| (j.key.clone(), j.name.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn rerun_summary(outcomes: &[RerunOutcome]) -> String {
    let started = outcomes.iter().filter(|o| o.run_id.is_some()).count();
    let skipped = outcomes.iter().filter(|o| o.skipped.is_some()).count();
    match (started, skipped) {
        (1, 0) => format!(
            "started run {}",
            outcomes
                .iter()
                .find_map(|o| o.run_id.as_deref())
                .map(bolt_shared::model::short_ref)
                .unwrap_or_default()
        ),
        (n, 0) => format!("{n} reruns started"),
        (n, s) => format!("{n} reruns started, {s} skipped"),
    }
}

fn response_kind(response: &Response) -> String {
    serde_json::to_value(response)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
        .unwrap_or_else(|| "answer".into())
}
