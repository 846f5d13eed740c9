//! Workflow version history as `bolt versions`, `bolt diff` and `bolt rollback` show it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which workflow an answer is about.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkflowRef {
    pub id: String,
    pub project: String,
    pub key: String,
    pub name: String,
}

/// How a version came to be.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VersionOrigin {
    /// `bolt deploy` of a project file.
    Deploy {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<String>,
    },
    /// One job's code saved (the TUI's editor, `UpdateJob`).
    JobEdit { job: String },
    /// The workflow's constants edited (the TUI's table); `names` changed, added or removed.
    ConstantsEdit { names: Vec<String> },
    /// `bolt rollback` (or the TUI's revert): the whole workflow, or one job, as in `to`.
    Rollback {
        to: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        job: Option<String>,
    },
    /// Written before bolt recorded how versions came to be.
    Unknown,
}

impl VersionOrigin {
    /// "deploy of project.yaml", "job transform edited", "rollback to v3".
    pub fn describe(&self) -> String {
        match self {
            VersionOrigin::Deploy { file: Some(file) } => format!("deploy of {file}"),
            VersionOrigin::Deploy { file: None } => "deploy".into(),
            VersionOrigin::JobEdit { job } => format!("job {job} edited"),
            VersionOrigin::ConstantsEdit { names } => {
                format!("constants edited ({})", names.join(", "))
            }
            VersionOrigin::Rollback { to, job: None } => format!("rollback to v{to}"),
            VersionOrigin::Rollback { to, job: Some(job) } => {
                format!("job {job} reverted to v{to}")
            }
            VersionOrigin::Unknown => "change".into(),
        }
    }
}

/// One version in a workflow's history.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VersionInfo {
    pub version: i64,
    /// 12 hex digits of the snapshot's content: equal hashes, equal workflows.
    pub hash: String,
    pub created_at: DateTime<Utc>,
    /// Who made it; `None` for versions written before bolt recorded it.
    pub actor: Option<String>,
    pub origin: VersionOrigin,
    /// What changed since the version before, in one line.
    pub summary: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VersionList {
    pub workflow: WorkflowRef,
    /// The version new runs get.
    pub current: i64,
    /// Newest first.
    pub versions: Vec<VersionInfo>,
}

/// What happened to a job, trigger or edge between two versions.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ItemChange {
    Added,
    Removed,
    Changed,
}

/// One field that differs; values as JSON (`null` when unset).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FieldChange {
    pub field: String,
    pub old: Value,
    pub new: Value,
}

/// A job's code change: a unified diff (`---`/`+++` headers, `@@` hunks, 3 lines of
/// context) and the count of lines added and removed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CodeDiff {
    pub unified: String,
    pub added: u64,
    pub removed: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ItemDiff {
    pub key: String,
    /// The job's name, or the trigger's or edge's key.
    pub label: String,
    pub change: ItemChange,
    /// Fields other than the code that differ (all of them for an added or removed item).
    pub fields: Vec<FieldChange>,
    /// Jobs only: the code, when it differs (for an added job, all of it as added lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeDiff>,
}

/// Everything that differs between two versions of a workflow.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkflowDiff {
    pub workflow: WorkflowRef,
    pub from: i64,
    pub to: i64,
    /// The workflow's name, settings (concurrency, retries, limits) and constants
    /// (`constants.NAME`).
    pub settings: Vec<FieldChange>,
    /// The workflow's globals code, when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub globals: Option<CodeDiff>,
    pub jobs: Vec<ItemDiff>,
    pub triggers: Vec<ItemDiff>,
    pub edges: Vec<ItemDiff>,
}

impl WorkflowDiff {
    /// The diff as people read it: settings, then each job (with its code's unified diff),
    /// trigger and edge that was added, removed or changed.
    pub fn render(&self) -> String {
        let diff = self;
        let mut out = format!(
            "{} / {}: version {} → {}\n",
            diff.workflow.project, diff.workflow.name, diff.from, diff.to
        );
        if diff.is_empty() {
            out.push_str("no differences\n");
            return out;
        }
        if !diff.settings.is_empty() {
            out.push_str("\nsettings:\n");
            for field in &diff.settings {
                out.push_str(&format!("  {}\n", field_line(field)));
            }
        }
        if let Some(code) = &diff.globals {
            out.push_str(&format!(
                "\nglobals: code +{} -{}\n{}",
                code.added, code.removed, code.unified
            ));
        }
        for (what, items) in [
            ("job", &diff.jobs),
            ("trigger", &diff.triggers),
            ("edge", &diff.edges),
        ] {
            for item in items {
                out.push('\n');
                out.push_str(&item_text(what, item));
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.settings.is_empty()
            && self.globals.is_none()
            && self.jobs.is_empty()
            && self.triggers.is_empty()
            && self.edges.is_empty()
    }
}

/// What `bolt rollback` did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RollbackReport {
    pub workflow: WorkflowRef,
    /// The version that was current before.
    pub from: i64,
    /// The version rolled back to.
    pub to: i64,
    /// Only this job was reverted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// The new version, equal to `to` (or with `to`'s job); `None` when nothing differed.
    pub new_version: Option<i64>,
    /// What changed, one line each.
    pub changes: Vec<String>,
    /// Credentials the restored version names that are not set, adaptors not installed, …
    pub warnings: Vec<String>,
}

fn item_text(what: &str, item: &ItemDiff) -> String {
    let change = match item.change {
        ItemChange::Added => "added",
        ItemChange::Removed => "removed",
        ItemChange::Changed => "changed",
    };
    let mut out = format!("{what} {} ({}): {change}\n", item.label, item.key);
    for field in &item.fields {
        out.push_str(&format!("  {}\n", field_line(field)));
    }
    if let Some(code) = &item.code {
        out.push_str(&format!("  code +{} -{}\n", code.added, code.removed));
        out.push_str(&code.unified);
        if !code.unified.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

fn field_line(field: &FieldChange) -> String {
    let show = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "(unset)".to_string(),
        serde_json::Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    format!(
        "{}: {} → {}",
        field.field,
        show(&field.old),
        show(&field.new)
    )
}
