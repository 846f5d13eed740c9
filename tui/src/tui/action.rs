//! What a key press or a daemon message asks the app to do. Components return actions;
//! the app runs them from a queue, so components never reach into each other.

//!
//! Dialogs are asked for with [`Open`], a description of what to show that the app turns
//! into a dialog, so this module names no dialog type: screens and dialogs depend on
//! actions, never the other way round.

use super::source::Tag;
use super::widgets::diff::DiffLine;
use bolt_shared::model::WorkOrderFilter;
use bolt_shared::protocol::Request;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenId {
    History,
    Detail,
    Workflows,
    Graph,
    Credentials,
    Audit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BannerKind {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    pub kind: BannerKind,
    pub text: String,
}

/// Work only the runtime can do, because it takes the terminal from the TUI for a while
/// (an editor, a pager) or writes to it directly (a clipboard escape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum External {
    /// Open a job's code in `$EDITOR`; the result goes back to that job's editor.
    EditJob { job_id: String, text: String },
    /// Show text in `$PAGER`.
    Page { text: String },
    /// Put text on the terminal's clipboard (OSC 52), else in a private file.
    Copy { what: String, text: String },
}

pub enum Action {
    None,
    Quit,
    Back,
    Go(ScreenId),
    /// Open the run detail of a reference; `search` carries a history search to highlight.
    OpenDetail {
        reference: String,
        search: Option<String>,
    },
    OpenGraph {
        workflow_id: String,
    },
    Send(Tag, Request),
    Banner(Banner),
    /// Open a dialog over the screen.
    Open(Box<Open>),
    /// Close the topmost overlay (used after a nested dialog finished).
    CloseOverlay,
    /// Ask which job to rerun a work order from (needs the workflow list the app holds).
    PickRerunJob {
        reference: String,
        workflow_id: String,
        /// Name of the step that failed: the picker starts there.
        failed_job: Option<String>,
    },
    /// Ask which job to rerun the marked (or all matching) work orders from.
    PickBulkRerunJob {
        workflow_id: String,
        /// Name of the step that failed most often in the selection.
        failed_job: Option<String>,
    },
    /// Open the workflow picker for the filter form.
    PickFilterWorkflow,
    /// Open the job editor for a job of a workflow.
    EditJob {
        workflow_id: String,
        job_id: String,
        /// Straight on to `$EDITOR` (the in-TUI editor stays open behind it).
        external: bool,
    },
    /// Hand work to the runtime (editor, pager, clipboard).
    External(External),
    /// Open the manual-run input editor.
    TriggerInput {
        workflow_id: String,
    },
    /// Start reruns of several work orders, one request each, with a progress bar.
    BulkRerun {
        references: Vec<String>,
        from_job: Option<String>,
    },
    /// A prompt was answered.
    Prompted(PromptPurpose, String),
    /// An item was picked from a fuzzy list.
    Picked(PickPurpose, String),
    /// The filter form was applied.
    ApplyFilter(Box<(WorkOrderFilter, FilterText)>),
    Many(Vec<Action>),
}

impl Action {
    pub fn info(text: impl Into<String>) -> Action {
        Action::Banner(Banner {
            kind: BannerKind::Info,
            text: text.into(),
        })
    }

    pub fn error(text: impl Into<String>) -> Action {
        Action::Banner(Banner {
            kind: BannerKind::Error,
            text: text.into(),
        })
    }

    pub fn open(open: Open) -> Action {
        Action::Open(Box::new(open))
    }

    /// Ask "are you sure?" with the facts in `lines`; yes runs `on_yes`.
    pub fn confirm(title: impl Into<String>, lines: Vec<String>, on_yes: Action) -> Action {
        Action::open(Open::Confirm {
            title: title.into(),
            lines,
            on_yes,
        })
    }

    /// Ask a one-line question starting from `initial`; the answer comes back as
    /// [`Action::Prompted`] with `purpose`.
    pub fn prompt(title: impl Into<String>, initial: String, purpose: PromptPurpose) -> Action {
        Action::open(Open::Prompt {
            title: title.into(),
            initial,
            purpose,
        })
    }
}

impl std::fmt::Debug for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::None => f.write_str("None"),
            Action::Quit => f.write_str("Quit"),
            Action::Back => f.write_str("Back"),
            Action::Go(s) => write!(f, "Go({s:?})"),
            Action::OpenDetail { reference, .. } => write!(f, "OpenDetail({reference})"),
            Action::OpenGraph { workflow_id } => write!(f, "OpenGraph({workflow_id})"),
            Action::Send(tag, req) => write!(f, "Send({tag:?}, {req:?})"),
            Action::Banner(b) => write!(f, "Banner({b:?})"),
            Action::Open(o) => write!(f, "Open({})", o.name()),
            Action::CloseOverlay => f.write_str("CloseOverlay"),
            Action::PickRerunJob { reference, .. } => write!(f, "PickRerunJob({reference})"),
            Action::PickBulkRerunJob { workflow_id, .. } => {
                write!(f, "PickBulkRerunJob({workflow_id})")
            }
            Action::PickFilterWorkflow => f.write_str("PickFilterWorkflow"),
            Action::EditJob { job_id, .. } => write!(f, "EditJob({job_id})"),
            Action::External(external) => write!(f, "External({external:?})"),
            Action::TriggerInput { workflow_id } => write!(f, "TriggerInput({workflow_id})"),
            Action::BulkRerun { references, .. } => write!(f, "BulkRerun({})", references.len()),
            Action::Prompted(p, text) => write!(f, "Prompted({p:?}, {text})"),
            Action::Picked(p, value) => write!(f, "Picked({p:?}, {value})"),
            Action::ApplyFilter(b) => write!(f, "ApplyFilter({:?})", b.0),
            Action::Many(list) => write!(f, "Many({list:?})"),
        }
    }
}

/// A dialog to open, described by what it shows; the app builds the dialog from it.
pub enum Open {
    /// "Are you sure?" with the facts; yes runs `on_yes`.
    Confirm {
        title: String,
        lines: Vec<String>,
        on_yes: Action,
    },
    /// A one-line question, starting from `initial` (shown selected).
    Prompt {
        title: String,
        initial: String,
        purpose: PromptPurpose,
    },
    /// The history filter form, filled with the filter in force.
    Filter {
        filter: WorkOrderFilter,
        text: FilterText,
    },
    /// The form for a new credential.
    NewCredential,
    /// A workflow's constants, to edit.
    Constants {
        workflow_id: String,
        workflow_name: String,
        constants: serde_json::Map<String, serde_json::Value>,
    },
    /// A value read whole (scrolled, wrapped, copied or paged).
    Zoom { title: String, text: String },
    /// The change a job save makes; yes runs `on_yes`.
    SaveDiff {
        job_name: String,
        lines: Vec<DiffLine>,
        on_yes: Action,
    },
}

impl Open {
    /// The dialog's name, for debugging output.
    pub fn name(&self) -> &'static str {
        match self {
            Open::Confirm { .. } => "confirm",
            Open::Prompt { .. } => "prompt",
            Open::Filter { .. } => "filter",
            Open::NewCredential => "credential form",
            Open::Constants { .. } => "constants",
            Open::Zoom { .. } => "zoom",
            Open::SaveDiff { .. } => "diff",
        }
    }
}

/// What a prompt's answer is for.
#[derive(Debug, Clone, PartialEq)]
pub enum PromptPurpose {
    HistorySearch,
    DetailSearch,
    WorkflowSearch,
    AuditFilter,
    /// Write `contents` to the typed path.
    WritePath {
        contents: String,
    },
    SaveInputName {
        reference: String,
        step: String,
    },
}

/// What a picked item's value is for.
#[derive(Debug, Clone, PartialEq)]
pub enum PickPurpose {
    /// Value is a command name.
    Palette,
    /// Value is a workflow name, or empty for "any".
    FilterWorkflow,
    /// Value is a job id to rerun `reference` from.
    RerunFrom { reference: String },
    /// Value is a job id (of that workflow) to rerun the marked or all matching work
    /// orders from.
    BulkRerunFrom { workflow_id: String },
}

/// The since/until text as the user typed it (shown in the filter line).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterText {
    pub since: String,
    pub until: String,
}
