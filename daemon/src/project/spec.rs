//! The normalized project: what a project.yaml means, independent of how it was written.

use bolt_shared::model::{ConditionType, TriggerType, WebhookReply};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectSpec {
    pub name: String,
    pub description: Option<String>,
    pub settings: ProjectSettingsSpec,
    pub workflows: Vec<WorkflowSpec>,
    /// Credential keys of the file mapped to the credential names bolt stores.
    pub credentials: Vec<CredentialRef>,
    /// The project's collections (Lightning's key-value store), by name.
    #[serde(default)]
    pub collections: Vec<CollectionSpec>,
    /// Lightning's `channels:` (its HTTP proxy), kept as written so export gives them back;
    /// bolt does not run them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionSpec {
    /// The entry's key in the file (Lightning writes the name).
    pub key: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectSettingsSpec {
    pub concurrency: Option<u32>,
    pub retention_policy: Option<String>,
    pub history_retention_days: Option<u32>,
    pub dataclip_retention_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialRef {
    pub key: String,
    pub name: String,
    pub owner: Option<String>,
}

/// A workflow as deployed; its JSON form is the immutable version snapshot runs pin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowSpec {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub settings: WorkflowSettings,
    pub jobs: Vec<JobSpec>,
    pub triggers: Vec<TriggerSpec>,
    pub edges: Vec<EdgeSpec>,
    /// Code every step sees: an ES module whose exports become globals of each step
    /// (OpenFn's `workflow.globals`). Absent from older snapshots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub globals: Option<String>,
    /// Named constants every step sees, kept as a table (the TUI edits them without
    /// touching code): exported from the globals module as `export const NAME = value;`.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub constants: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkflowSettings {
    pub concurrency: Option<u32>,
    pub run_timeout_secs: Option<u64>,
    pub memory_limit_mb: Option<u64>,
    pub max_attempts: Option<u32>,
    pub retry_backoff_secs: Option<u64>,
    /// Lightning's `enable_job_logs`: `false` stores no console output of the workflow's
    /// jobs (a job's own setting wins). Absent from snapshots when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_job_logs: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    pub key: String,
    pub name: String,
    pub adaptor: String,
    /// The credential's name in bolt (`bolt credential set NAME`).
    pub credential: Option<String>,
    pub body: String,
    /// Where the body came from, when it was `{path: ./file.js}` (kept for export).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_path: Option<String>,
    /// What deploy resolved an unpinned adaptor (`openmrs@latest`) to, e.g.
    /// `@openfn/language-openmrs@5.5.0`: runs use it; export keeps `adaptor` as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_adaptor: Option<String>,
    /// `false`: none of this job's console output (its code's and its adaptor's) is
    /// stored or streamed; unset: the workflow's `enable_job_logs` decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_job_logs: Option<bool>,
}

impl JobSpec {
    /// The adaptor runs load: the deploy-time resolution of `@latest`, else as written.
    pub fn run_adaptor(&self) -> &str {
        self.resolved_adaptor.as_deref().unwrap_or(&self.adaptor)
    }

    /// Whether this job's console output is kept, given its workflow's settings.
    pub fn keeps_logs(&self, workflow: &WorkflowSettings) -> bool {
        self.enable_job_logs
            .or(workflow.enable_job_logs)
            .unwrap_or(true)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerSpec {
    pub key: String,
    pub kind: TriggerType,
    pub enabled: bool,
    pub cron_expression: Option<String>,
    pub custom_path: Option<String>,
    pub webhook_reply: WebhookReply,
    /// Credential names holding `api_key` or `username`/`password` for webhook auth.
    #[serde(default)]
    pub webhook_auth: Vec<String>,
    /// Cron triggers: the job (key) whose last successful output is the next run's input
    /// (Lightning's `cron_cursor_job`); none: the final state of the last successful run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron_cursor_job: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdgeSpec {
    pub key: String,
    pub source_trigger: Option<String>,
    pub source_job: Option<String>,
    pub target_job: String,
    pub condition: ConditionType,
    pub expression: Option<String>,
    pub label: Option<String>,
    pub enabled: bool,
}

impl WorkflowSpec {
    pub fn job(&self, key: &str) -> Option<&JobSpec> {
        self.jobs.iter().find(|j| j.key == key)
    }

    /// The globals module steps evaluate: the constants as `export const` lines, then the
    /// `globals` code. `None` when the workflow has neither.
    pub fn globals_module(&self) -> Option<String> {
        let code = self.globals.as_deref().filter(|g| !g.trim().is_empty());
        if self.constants.is_empty() && code.is_none() {
            return None;
        }
        let mut module = String::new();
        for (name, value) in &self.constants {
            // JSON is a JavaScript expression with the same value.
            module.push_str(&format!("export const {name} = {value};\n"));
        }
        if let Some(code) = code {
            module.push_str(code);
        }
        Some(module)
    }
}

/// Whether `name` can be a constant: a JavaScript identifier (ASCII) that is not a reserved
/// word, so `export const NAME` is valid.
pub fn is_constant_name(name: &str) -> bool {
    const RESERVED: &[&str] = &[
        "await",
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "implements",
        "import",
        "in",
        "instanceof",
        "interface",
        "let",
        "new",
        "null",
        "package",
        "private",
        "protected",
        "public",
        "return",
        "static",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "yield",
        "arguments",
        "eval",
    ];
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !RESERVED.contains(&name)
}

/// The outcome of parsing: the spec plus non-fatal warnings.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub spec: ProjectSpec,
    pub warnings: Vec<String>,
}
