//! Reading a project.yaml into a [`ProjectSpec`]: strict about meaning, lenient about noise.
//!
//! Invalid YAML and values that change what runs (an unknown condition, a bad cron) are
//! errors; keys bolt doesn't know are warnings; Lightning's bookkeeping keys are ignored.

use super::locate::locate;
use super::spec::*;
use super::validate::validate;
use super::{ProjectError, ProjectErrors};
use bolt_shared::model::{ConditionType, TriggerType, WebhookReply};
use serde_yaml_ng::{Mapping, Value};

/// Reads `{path: ./file.js}` job bodies, relative to the project file (see
/// [`super::ProjectDir`] for the one that reads the disk).
pub trait FileSource {
    fn read(&self, relative: &str) -> Result<String, BodyFileError>;
}

/// Why a body file was not read.
#[derive(Debug)]
pub enum BodyFileError {
    Unreadable(String),
    /// The path leads out of the project file's directory tree.
    Outside {
        resolved: std::path::PathBuf,
        root: std::path::PathBuf,
    },
}

impl<F: Fn(&str) -> Result<String, String>> FileSource for F {
    fn read(&self, relative: &str) -> Result<String, BodyFileError> {
        self(relative).map_err(BodyFileError::Unreadable)
    }
}

pub const DEFAULT_ADAPTOR: &str = "@openfn/language-common@latest";

/// Lightning bookkeeping that may appear in exports; accepted silently.
const IGNORED_PROJECT_KEYS: &[&str] = &["id", "project_id", "inserted_at", "updated_at"];
const IGNORED_WORKFLOW_KEYS: &[&str] = &[
    "id",
    "project_id",
    "positions",
    "lock_version",
    "inserted_at",
    "updated_at",
    "deleted_at",
    "version_history",
];
const IGNORED_JOB_KEYS: &[&str] = &[
    "id",
    "project_credential_id",
    "keychain_credential_id",
    "workflow_id",
    "inserted_at",
    "updated_at",
];
const IGNORED_TRIGGER_KEYS: &[&str] = &[
    "id",
    "comment",
    "webhook_response_config",
    "inserted_at",
    "updated_at",
    "has_auth_method",
];
const IGNORED_EDGE_KEYS: &[&str] = &[
    "id",
    "source_job_id",
    "source_trigger_id",
    "target_job_id",
    "workflow_id",
];

struct Ctx<'a> {
    file: &'a str,
    source: &'a str,
    errors: Vec<ProjectError>,
    warnings: Vec<String>,
}

impl Ctx<'_> {
    fn error(&mut self, path: &[&str], message: impl Into<String>, hint: impl Into<String>) {
        let (line, column) = match locate(self.source, path) {
            Some((l, c)) => (Some(l), Some(c)),
            None => (None, None),
        };
        let hint = hint.into();
        self.errors.push(ProjectError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
            hint: if hint.is_empty() { None } else { Some(hint) },
        });
    }

    fn warn(&mut self, path: &[&str], message: impl Into<String>) {
        let place = match locate(self.source, path) {
            Some((line, col)) => format!("{}:{line}:{col}", self.file),
            None => self.file.to_string(),
        };
        self.warnings.push(format!("{place}: {}", message.into()));
    }

    fn unknown_keys(&mut self, map: &Mapping, path: &[&str], known: &[&str], ignored: &[&str]) {
        for key in map.keys() {
            let key = key_text(key);
            if !known.contains(&key.as_str()) && !ignored.contains(&key.as_str()) {
                let mut at = path.to_vec();
                at.push(&key);
                let message = format!("unknown key `{key}` in {} (ignored)", describe_path(path));
                self.warn(&at, message);
            }
        }
    }

    fn string(&mut self, map: &Mapping, key: &str, path: &[&str]) -> Option<String> {
        match map.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            Some(_) => {
                let mut at = path.to_vec();
                at.push(key);
                self.error(
                    &at,
                    format!("`{key}` must be a string"),
                    format!("write `{key}: <text>`"),
                );
                None
            }
        }
    }

    fn boolean(&mut self, map: &Mapping, key: &str, path: &[&str], default: bool) -> bool {
        match map.get(key) {
            None | Some(Value::Null) => default,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                let mut at = path.to_vec();
                at.push(key);
                self.error(
                    &at,
                    format!("`{key}` must be true or false"),
                    format!("write `{key}: true` or `{key}: false`"),
                );
                default
            }
        }
    }

    fn number(&mut self, map: &Mapping, key: &str, path: &[&str]) -> Option<u64> {
        match map.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64(),
            Some(_) => {
                let mut at = path.to_vec();
                at.push(key);
                self.error(
                    &at,
                    format!("`{key}` must be a whole number"),
                    format!("write e.g. `{key}: 5`"),
                );
                None
            }
        }
    }

    /// A limit (seconds, megabytes): a whole number above 0; 0 would fail every run.
    fn limit(&mut self, map: &Mapping, key: &str, path: &[&str], workflow: &str) -> Option<u64> {
        let value = self.number(map, key, path)?;
        if value == 0 {
            let mut at = path.to_vec();
            at.push(key);
            self.error(
                &at,
                format!("workflow `{workflow}`: `{key}` is 0, which would fail every run"),
                format!("use a value of at least 1, or remove `{key}` to use boltd's default"),
            );
            return None;
        }
        Some(value)
    }

    fn mapping<'v>(
        &mut self,
        value: Option<&'v Value>,
        path: &[&str],
        what: &str,
    ) -> Option<&'v Mapping> {
        match value {
            None | Some(Value::Null) => None,
            Some(Value::Mapping(m)) => Some(m),
            Some(_) => {
                self.error(
                    path,
                    format!("{what} must be a mapping of keys to entries"),
                    "indent the entries under it as `key:` blocks",
                );
                None
            }
        }
    }
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        // A list or a map used as a key: shown as the YAML it was written as.
        other => serde_yaml_ng::to_string(other)
            .map(|text| text.trim().replace('\n', " "))
            .unwrap_or_else(|_| "a key that is not text".into()),
    }
}

fn describe_path(path: &[&str]) -> String {
    if path.is_empty() {
        "the project".into()
    } else {
        format!("`{}`", path.join("."))
    }
}

/// Parses and validates a project file. `file` names it in messages.
pub fn parse_project(
    source: &str,
    file: &str,
    files: &dyn FileSource,
) -> Result<Parsed, ProjectErrors> {
    let root: Value = serde_yaml_ng::from_str(source).map_err(|err| {
        let (line, column) = err
            .location()
            .map(|l| (Some(l.line()), Some(l.column())))
            .unwrap_or((None, None));
        ProjectErrors(vec![ProjectError {
            file: file.to_string(),
            line,
            column,
            message: format!("this is not valid YAML: {err}"),
            hint: Some(
                "fix the YAML syntax at that place (bolt never guesses what a broken file meant)"
                    .into(),
            ),
        }])
    })?;
    let mut ctx = Ctx {
        file,
        source,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let Value::Mapping(top) = &root else {
        ctx.error(
            &[],
            "the project file must be a mapping with `name` and `workflows`",
            "start the file with `name: my-project`",
        );
        return Err(ProjectErrors(ctx.errors));
    };
    ctx.unknown_keys(
        top,
        &[],
        &[
            "name",
            "description",
            "credentials",
            "workflows",
            "concurrency",
            "retention_policy",
            "history_retention_days",
            "dataclip_retention_days",
            "collections",
            "channels",
        ],
        IGNORED_PROJECT_KEYS,
    );
    let name = ctx.string(top, "name", &[]).unwrap_or_default();
    if name.trim().is_empty() {
        ctx.error(
            &["name"],
            "the project has no `name`",
            "add `name: my-project` at the top of the file",
        );
    }
    let settings = ProjectSettingsSpec {
        concurrency: ctx.number(top, "concurrency", &[]).map(|n| n as u32),
        retention_policy: ctx.string(top, "retention_policy", &[]),
        history_retention_days: ctx
            .number(top, "history_retention_days", &[])
            .map(|n| n as u32),
        dataclip_retention_days: ctx
            .number(top, "dataclip_retention_days", &[])
            .map(|n| n as u32),
    };
    if let Some(policy) = &settings.retention_policy
        && policy != "retain_all"
        && policy != "erase_all"
    {
        ctx.error(
            &["retention_policy"],
            format!("unknown retention_policy `{policy}`"),
            "use `retain_all` or `erase_all`",
        );
    }
    let credentials = parse_credentials(&mut ctx, top.get("credentials"));
    let collections = parse_collections(&mut ctx, top.get("collections"));
    let channels = parse_channels(&mut ctx, top.get("channels"));
    let mut workflows = Vec::new();
    if let Some(map) = ctx.mapping(top.get("workflows"), &["workflows"], "`workflows`") {
        for (key, value) in map {
            let key = key_text(key);
            if let Some(workflow) = parse_workflow(&mut ctx, &key, value, &credentials, files) {
                workflows.push(workflow);
            }
        }
    }
    let spec = ProjectSpec {
        name,
        description: ctx.string(top, "description", &[]),
        settings,
        workflows,
        credentials,
        collections,
        channels,
    };
    validate(&spec, &mut |path: &[&str],
                          message: String,
                          hint: String| {
        ctx.error(path, message, hint)
    });
    for workflow in &spec.workflows {
        for job in &workflow.jobs {
            if job.body.trim().is_empty() {
                ctx.warn(
                    &["workflows", &workflow.key, "jobs", &job.key, "body"],
                    format!(
                        "job `{}` has an empty body; it will pass its input through",
                        job.name
                    ),
                );
            }
        }
    }
    if ctx.errors.is_empty() {
        Ok(Parsed {
            spec,
            warnings: ctx.warnings,
        })
    } else {
        Err(ProjectErrors(ctx.errors))
    }
}

fn parse_credentials(ctx: &mut Ctx, value: Option<&Value>) -> Vec<CredentialRef> {
    let mut refs = Vec::new();
    let Some(map) = ctx.mapping(value, &["credentials"], "`credentials`") else {
        return refs;
    };
    for (key, entry) in map {
        let key = key_text(key);
        let path = ["credentials", key.as_str()];
        let (name, owner) = match entry {
            Value::Mapping(m) => (ctx.string(m, "name", &path), ctx.string(m, "owner", &path)),
            Value::Null => (None, None),
            _ => {
                ctx.error(
                    &path,
                    "a credential entry must be a mapping with `name` (and `owner`)",
                    "write `name: <credential name>` under it",
                );
                (None, None)
            }
        };
        refs.push(CredentialRef {
            name: name.unwrap_or_else(|| key.clone()),
            key,
            owner,
        });
    }
    refs
}

/// Lightning state kept in exported collection entries; accepted silently.
const IGNORED_COLLECTION_KEYS: &[&str] = &[
    "id",
    "project_id",
    "byte_size_sum",
    "inserted_at",
    "updated_at",
];

fn parse_collections(ctx: &mut Ctx, value: Option<&Value>) -> Vec<CollectionSpec> {
    let mut collections: Vec<CollectionSpec> = Vec::new();
    let Some(map) = ctx.mapping(value, &["collections"], "`collections`") else {
        return collections;
    };
    for (key, entry) in map {
        let key = key_text(key);
        let path = ["collections", key.as_str()];
        let name = match entry {
            Value::Mapping(m) => {
                ctx.unknown_keys(m, &path, &["name"], IGNORED_COLLECTION_KEYS);
                ctx.string(m, "name", &path)
            }
            Value::Null => None,
            _ => {
                ctx.error(
                    &path,
                    "a collection entry must be a mapping with `name`",
                    format!("write `{key}:` and under it `name: {key}`"),
                );
                continue;
            }
        };
        let name = name.unwrap_or_else(|| key.clone());
        if let Err(message) = crate::collections::rules::validate_name(&name) {
            ctx.error(
                &path,
                message,
                "rename it (Lightning allows the same names)",
            );
            continue;
        }
        if collections.iter().any(|c| c.name == name) {
            ctx.error(
                &path,
                format!("two collections are named `{name}`"),
                "keep one entry per collection",
            );
            continue;
        }
        collections.push(CollectionSpec { key, name });
    }
    collections
}

/// `channels:` as written (Lightning's experimental HTTP proxy): kept for export, not run.
fn parse_channels(ctx: &mut Ctx, value: Option<&Value>) -> Option<serde_json::Value> {
    let value = value.filter(|v| !v.is_null())?;
    let json = match serde_json::to_value(value) {
        Ok(json) => json,
        Err(err) => {
            ctx.error(
                &["channels"],
                format!("`channels` cannot be kept as written: {err}"),
                "use plain YAML mappings, strings, numbers and booleans in it",
            );
            return None;
        }
    };
    let empty = json.as_object().is_some_and(|m| m.is_empty());
    if !empty {
        ctx.warn(
            &["channels"],
            "`channels` (Lightning's HTTP proxy) are kept and exported, but bolt does not serve them",
        );
    }
    Some(json)
}

fn parse_workflow(
    ctx: &mut Ctx,
    key: &str,
    value: &Value,
    credentials: &[CredentialRef],
    files: &dyn FileSource,
) -> Option<WorkflowSpec> {
    let path = ["workflows", key];
    let Value::Mapping(map) = value else {
        ctx.error(
            &path,
            format!(
                "workflow `{key}` must be a mapping with `name`, `jobs`, `triggers` and `edges`"
            ),
            "indent its contents under it",
        );
        return None;
    };
    ctx.unknown_keys(
        map,
        &path,
        &[
            "name",
            "jobs",
            "triggers",
            "edges",
            "concurrency",
            "run_timeout_secs",
            "memory_limit_mb",
            "max_attempts",
            "retry_backoff_secs",
            "globals",
            "constants",
            "enable_job_logs",
        ],
        IGNORED_WORKFLOW_KEYS,
    );
    let globals = ctx.string(map, "globals", &path);
    let constants = parse_constants(ctx, map.get("constants"), key);
    let settings = WorkflowSettings {
        concurrency: ctx.number(map, "concurrency", &path).map(|n| n as u32),
        run_timeout_secs: ctx.limit(map, "run_timeout_secs", &path, key),
        memory_limit_mb: ctx.limit(map, "memory_limit_mb", &path, key),
        max_attempts: ctx.number(map, "max_attempts", &path).map(|n| n as u32),
        retry_backoff_secs: ctx.number(map, "retry_backoff_secs", &path),
        enable_job_logs: map
            .get("enable_job_logs")
            .is_some()
            .then(|| ctx.boolean(map, "enable_job_logs", &path, true)),
    };
    let mut jobs = Vec::new();
    if let Some(entries) = ctx.mapping(map.get("jobs"), &["workflows", key, "jobs"], "`jobs`") {
        for (job_key, job) in entries {
            let job_key = key_text(job_key);
            if let Some(job) = parse_job(ctx, key, &job_key, job, credentials, files) {
                jobs.push(job);
            }
        }
    }
    let mut triggers = Vec::new();
    if let Some(entries) = ctx.mapping(
        map.get("triggers"),
        &["workflows", key, "triggers"],
        "`triggers`",
    ) {
        for (trigger_key, trigger) in entries {
            let trigger_key = key_text(trigger_key);
            if let Some(trigger) = parse_trigger(ctx, key, &trigger_key, trigger) {
                triggers.push(trigger);
            }
        }
    }
    let mut edges = Vec::new();
    if let Some(entries) = ctx.mapping(map.get("edges"), &["workflows", key, "edges"], "`edges`") {
        for (edge_key, edge) in entries {
            let edge_key = key_text(edge_key);
            if let Some(edge) = parse_edge(ctx, key, &edge_key, edge) {
                edges.push(edge);
            }
        }
    }
    Some(WorkflowSpec {
        key: key.to_string(),
        name: ctx
            .string(map, "name", &path)
            .unwrap_or_else(|| key.to_string()),
        settings,
        jobs,
        triggers,
        edges,
        globals,
        constants,
    })
}

/// `constants:` of a workflow: names (JavaScript identifiers) to YAML values.
fn parse_constants(
    ctx: &mut Ctx,
    value: Option<&Value>,
    workflow: &str,
) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    let path = ["workflows", workflow, "constants"];
    let Some(entries) = ctx.mapping(value, &path, "`constants`") else {
        return out;
    };
    for (name, value) in entries {
        let name = key_text(name);
        if !super::spec::is_constant_name(&name) {
            ctx.error(
                &["workflows", workflow, "constants", name.as_str()],
                format!(
                    "`{name}` can't be a constant's name: jobs read constants as JavaScript names"
                ),
                "use letters, digits, `_` or `$`, not starting with a digit (e.g. `BASE_URL`)",
            );
            continue;
        }
        match serde_json::to_value(value) {
            Ok(json) => {
                out.insert(name, json);
            }
            Err(err) => ctx.error(
                &["workflows", workflow, "constants", name.as_str()],
                format!("constant `{name}` can't be kept as written: {err}"),
                "use plain YAML values (text, numbers, booleans, lists, mappings)",
            ),
        }
    }
    out
}

fn parse_job(
    ctx: &mut Ctx,
    workflow: &str,
    key: &str,
    value: &Value,
    credentials: &[CredentialRef],
    files: &dyn FileSource,
) -> Option<JobSpec> {
    let path = ["workflows", workflow, "jobs", key];
    let Value::Mapping(map) = value else {
        ctx.error(
            &path,
            format!("job `{key}` must be a mapping with `name`, `adaptor` and `body`"),
            "indent its contents under it",
        );
        return None;
    };
    ctx.unknown_keys(
        map,
        &path,
        &["name", "adaptor", "credential", "body", "enable_job_logs"],
        IGNORED_JOB_KEYS,
    );
    let (body, body_path) = match map.get("body") {
        None | Some(Value::Null) => (String::new(), None),
        Some(Value::String(text)) => (text.clone(), None),
        Some(Value::Mapping(m)) => {
            match m.get("path").and_then(Value::as_str) {
                Some(relative) => {
                    match files.read(relative) {
                        Ok(text) => (text, Some(relative.to_string())),
                        Err(BodyFileError::Unreadable(err)) => {
                            let body_at = ["workflows", workflow, "jobs", key, "body"];
                            ctx.error(&body_at, format!("job `{key}`: the body file `{relative}` is missing ({err})"), "create the file, or fix `path:` (it is relative to the project file)");
                            return None;
                        }
                        Err(BodyFileError::Outside { resolved, root }) => {
                            let body_at = ["workflows", workflow, "jobs", key, "body"];
                            ctx.error(
                                &body_at,
                                format!(
                                    "job `{key}` of workflow `{workflow}`: the body file `{relative}` is {}, outside the project file's directory {} (bolt reads job bodies only from inside it, symlinks resolved)",
                                    resolved.display(),
                                    root.display()
                                ),
                                "move the file into the project's directory, or deploy with `bolt deploy --allow-outside-paths` if you trust this project file",
                            );
                            return None;
                        }
                    }
                }
                None => {
                    ctx.error(
                        &path,
                        format!("job `{key}`: `body` must be code or `path: ./file.js`"),
                        "write `body: |` followed by the code, or `body:\\n  path: ./job.js`",
                    );
                    return None;
                }
            }
        }
        Some(_) => {
            ctx.error(
                &path,
                format!("job `{key}`: `body` must be code or `path: ./file.js`"),
                "write `body: |` followed by the code",
            );
            return None;
        }
    };
    let credential = ctx.string(map, "credential", &path).map(|reference| {
        credentials
            .iter()
            .find(|c| c.key == reference)
            .map(|c| c.name.clone())
            .unwrap_or(reference)
    });
    Some(JobSpec {
        key: key.to_string(),
        name: ctx
            .string(map, "name", &path)
            .unwrap_or_else(|| key.to_string()),
        adaptor: ctx
            .string(map, "adaptor", &path)
            .unwrap_or_else(|| DEFAULT_ADAPTOR.to_string()),
        credential,
        body,
        body_path,
        resolved_adaptor: None,
        enable_job_logs: map
            .get("enable_job_logs")
            .is_some()
            .then(|| ctx.boolean(map, "enable_job_logs", &path, true)),
    })
}

fn parse_trigger(ctx: &mut Ctx, workflow: &str, key: &str, value: &Value) -> Option<TriggerSpec> {
    let path = ["workflows", workflow, "triggers", key];
    let Value::Mapping(map) = value else {
        ctx.error(
            &path,
            format!("trigger `{key}` must be a mapping with `type`"),
            "write `type: webhook` or `type: cron` under it",
        );
        return None;
    };
    ctx.unknown_keys(
        map,
        &path,
        &[
            "type",
            "enabled",
            "cron_expression",
            "custom_path",
            "webhook_reply",
            "webhook_auth",
            "kafka_configuration",
            "cron_cursor_job",
        ],
        IGNORED_TRIGGER_KEYS,
    );
    let kind_text = ctx
        .string(map, "type", &path)
        .unwrap_or_else(|| key.to_string());
    let mut enabled = ctx.boolean(map, "enabled", &path, true);
    let kind = match kind_text.as_str() {
        "webhook" => TriggerType::Webhook,
        "cron" => TriggerType::Cron,
        "kafka" => {
            ctx.warn(&path, format!("trigger `{key}` is a kafka trigger; Lightning dropped Kafka in 2026 and so does bolt: it becomes a disabled webhook trigger"));
            enabled = false;
            TriggerType::Webhook
        }
        other => {
            ctx.error(
                &path,
                format!("trigger `{key}` has unknown type `{other}`"),
                "use `type: webhook` or `type: cron`",
            );
            return None;
        }
    };
    let webhook_reply = match ctx.string(map, "webhook_reply", &path).as_deref() {
        None | Some("before_start") => WebhookReply::BeforeStart,
        Some("after_completion") => WebhookReply::AfterCompletion,
        Some("custom") => {
            ctx.warn(&path, "webhook_reply `custom` is not implemented (in Lightning either); replying before start");
            WebhookReply::BeforeStart
        }
        Some(other) => {
            ctx.error(
                &[&path[..], &["webhook_reply"]].concat(),
                format!("unknown webhook_reply `{other}`"),
                "use `before_start` or `after_completion`",
            );
            WebhookReply::BeforeStart
        }
    };
    let mut cron_cursor_job = ctx.string(map, "cron_cursor_job", &path);
    if cron_cursor_job.is_some() && kind != TriggerType::Cron {
        ctx.warn(
            &[&path[..], &["cron_cursor_job"]].concat(),
            format!("`cron_cursor_job` applies to cron triggers only; trigger `{key}` is not one (ignored)"),
        );
        cron_cursor_job = None;
    }
    let webhook_auth = match map.get("webhook_auth") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(name)) => vec![name.clone()],
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        Some(_) => {
            ctx.error(
                &path,
                "`webhook_auth` must be a credential name or a list of them",
                "write `webhook_auth: [my-api-key]`",
            );
            Vec::new()
        }
    };
    Some(TriggerSpec {
        key: key.to_string(),
        kind,
        enabled,
        cron_expression: ctx.string(map, "cron_expression", &path),
        custom_path: ctx.string(map, "custom_path", &path),
        webhook_reply,
        webhook_auth,
        cron_cursor_job,
    })
}

fn parse_edge(ctx: &mut Ctx, workflow: &str, key: &str, value: &Value) -> Option<EdgeSpec> {
    let path = ["workflows", workflow, "edges", key];
    let Value::Mapping(map) = value else {
        ctx.error(
            &path,
            format!(
                "edge `{key}` must be a mapping with a source, `target_job` and `condition_type`"
            ),
            "indent its contents under it",
        );
        return None;
    };
    ctx.unknown_keys(
        map,
        &path,
        &[
            "source_trigger",
            "source_job",
            "target_job",
            "condition_type",
            "condition",
            "condition_expression",
            "condition_label",
            "enabled",
        ],
        IGNORED_EDGE_KEYS,
    );
    let source_trigger = ctx.string(map, "source_trigger", &path);
    let source_job = ctx.string(map, "source_job", &path);
    let Some(target_job) = ctx.string(map, "target_job", &path) else {
        ctx.error(
            &path,
            format!("edge `{key}` has no `target_job`"),
            "add `target_job: <job key>`",
        );
        return None;
    };
    if source_trigger.is_some() == source_job.is_some() {
        ctx.error(
            &path,
            format!("edge `{key}` needs exactly one of `source_trigger` and `source_job`"),
            "keep the one this edge starts from",
        );
        return None;
    }
    let condition_text = ctx
        .string(map, "condition_type", &path)
        .or_else(|| ctx.string(map, "condition", &path))
        .unwrap_or_else(|| "always".to_string());
    let condition = match ConditionType::parse(&condition_text) {
        Some(condition) => condition,
        None => {
            let at = if map.contains_key("condition_type") {
                "condition_type"
            } else {
                "condition"
            };
            ctx.error(
                &[&path[..], &[at]].concat(),
                format!("edge `{key}` has unknown condition `{condition_text}`"),
                "use always, on_job_success, on_job_failure or js_expression (with condition_expression)",
            );
            return None;
        }
    };
    let mut condition = condition;
    let mut enabled = ctx.boolean(map, "enabled", &path, true);
    // Older Lightning exports hold such edges from triggers (Lightning refuses them now):
    // there is no job before a trigger, so success always holds and failure never does.
    if source_trigger.is_some() {
        match condition {
            ConditionType::OnJobSuccess => {
                ctx.warn(&path, format!("edge `{key}` starts at a trigger but says `on_job_success` (older Lightning exports do): there is no job before it, so it runs as `always` and is exported as `always`"));
                condition = ConditionType::Always;
            }
            ConditionType::OnJobFailure if enabled => {
                ctx.warn(&path, format!("edge `{key}` starts at a trigger but says `on_job_failure` (older Lightning exports do), which can never happen: it is deployed disabled"));
                enabled = false;
            }
            _ => {}
        }
    }
    Some(EdgeSpec {
        key: key.to_string(),
        source_trigger,
        source_job,
        target_job,
        condition,
        expression: ctx.string(map, "condition_expression", &path),
        label: ctx.string(map, "condition_label", &path),
        enabled,
    })
}
