//! What differs between two workflow snapshots: settings, jobs (with a unified diff of
//! their code), triggers and edges, and a one-line summary of it.

use crate::project::WorkflowSpec;
use bolt_shared::versions::{CodeDiff, FieldChange, ItemChange, ItemDiff};
use serde::Serialize;
use serde_json::{Map, Value};

/// The parts of a [`bolt_shared::versions::WorkflowDiff`] that depend only on the snapshots.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Differences {
    pub settings: Vec<FieldChange>,
    /// The workflow's globals code, when it differs.
    pub globals: Option<CodeDiff>,
    pub jobs: Vec<ItemDiff>,
    pub triggers: Vec<ItemDiff>,
    pub edges: Vec<ItemDiff>,
}

impl Differences {
    pub fn is_empty(&self) -> bool {
        self.settings.is_empty()
            && self.globals.is_none()
            && self.jobs.is_empty()
            && self.triggers.is_empty()
            && self.edges.is_empty()
    }
}

/// Lines of context around each change in a job's code diff (as `diff -u`).
const CONTEXT: usize = 3;

/// Compares `old` (version `from`) with `new` (version `to`).
pub fn compare(old: &WorkflowSpec, new: &WorkflowSpec, from: i64, to: i64) -> Differences {
    let mut settings = Vec::new();
    if old.name != new.name {
        settings.push(FieldChange {
            field: "name".into(),
            old: Value::String(old.name.clone()),
            new: Value::String(new.name.clone()),
        });
    }
    settings.extend(field_changes(
        &as_object(&old.settings),
        &as_object(&new.settings),
        &[],
    ));
    // Constants by name: `constants.BASE_URL`.
    settings.extend(
        field_changes(&old.constants, &new.constants, &[])
            .into_iter()
            .map(|f| FieldChange {
                field: format!("constants.{}", f.field),
                ..f
            }),
    );
    let globals = code_diff(
        old.globals.as_deref().unwrap_or(""),
        new.globals.as_deref().unwrap_or(""),
        "globals",
        from,
        to,
    );
    let jobs = by_key(
        &old.jobs,
        &new.jobs,
        |j| &j.key,
        |j| j.name.clone(),
        &["key", "body"],
        |a, b| {
            let (old_body, new_body) = (
                a.map(|j| j.body.as_str()).unwrap_or(""),
                b.map(|j| j.body.as_str()).unwrap_or(""),
            );
            let label = b.or(a).map(|j| j.key.as_str()).unwrap_or("");
            code_diff(old_body, new_body, label, from, to)
        },
    );
    let triggers = by_key(
        &old.triggers,
        &new.triggers,
        |t| &t.key,
        |t| t.key.clone(),
        &["key"],
        |_, _| None,
    );
    let edges = by_key(
        &old.edges,
        &new.edges,
        |e| &e.key,
        |e| e.key.clone(),
        &["key"],
        |_, _| None,
    );
    Differences {
        settings,
        globals,
        jobs,
        triggers,
        edges,
    }
}

/// Added, removed and changed items matched by key: new items in their order, then the
/// removed ones.
fn by_key<T: Serialize>(
    old: &[T],
    new: &[T],
    key: impl Fn(&T) -> &String,
    label: impl Fn(&T) -> String,
    skip: &[&str],
    code: impl Fn(Option<&T>, Option<&T>) -> Option<CodeDiff>,
) -> Vec<ItemDiff> {
    let mut out = Vec::new();
    for item in new {
        let previous = old.iter().find(|o| key(o) == key(item));
        let before = previous.map(as_object).unwrap_or_default();
        let fields = field_changes(&before, &as_object(item), skip);
        let code = code(previous, Some(item));
        let change = match previous {
            None => ItemChange::Added,
            Some(_) if fields.is_empty() && code.is_none() => continue,
            Some(_) => ItemChange::Changed,
        };
        out.push(ItemDiff {
            key: key(item).clone(),
            label: label(item),
            change,
            fields,
            code,
        });
    }
    for item in old {
        if !new.iter().any(|n| key(n) == key(item)) {
            out.push(ItemDiff {
                key: key(item).clone(),
                label: label(item),
                change: ItemChange::Removed,
                fields: field_changes(&as_object(item), &Map::new(), skip),
                code: code(Some(item), None),
            });
        }
    }
    out
}

fn as_object<T: Serialize>(item: &T) -> Map<String, Value> {
    match serde_json::to_value(item) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Fields whose values differ, named as project.yaml names them; unset on one side is
/// `null`, and a field unset on both sides is no change.
fn field_changes(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    skip: &[&str],
) -> Vec<FieldChange> {
    let mut names: Vec<&String> = old.keys().collect();
    names.extend(new.keys().filter(|k| !old.contains_key(*k)));
    names
        .into_iter()
        .filter(|name| !skip.contains(&name.as_str()))
        .filter_map(|name| {
            let before = old.get(name).cloned().unwrap_or(Value::Null);
            let after = new.get(name).cloned().unwrap_or(Value::Null);
            (before != after).then(|| FieldChange {
                field: yaml_name(name).to_string(),
                old: before,
                new: after,
            })
        })
        .collect()
}

/// The snapshot's field names that project.yaml spells otherwise.
fn yaml_name(field: &str) -> &str {
    match field {
        "kind" => "type",
        "condition" => "condition_type",
        "expression" => "condition_expression",
        "label" => "condition_label",
        "credential" => "project_credential",
        "resolved_adaptor" => "adaptor (resolved at deploy)",
        "body_path" => "body path",
        other => other,
    }
}

/// A unified diff of a job's code between two versions, or `None` when it is the same.
/// A missing final newline on one side only is not a change worth a hunk.
pub fn code_diff(old: &str, new: &str, job: &str, from: i64, to: i64) -> Option<CodeDiff> {
    let (old, new) = (with_newline(old), with_newline(new));
    if old == new {
        return None;
    }
    let diff = similar::TextDiff::from_lines(old.as_str(), new.as_str());
    let (mut added, mut removed) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => added += 1,
            similar::ChangeTag::Delete => removed += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    let unified = diff
        .unified_diff()
        .context_radius(CONTEXT)
        .header(&format!("{job} (v{from})"), &format!("{job} (v{to})"))
        .to_string();
    Some(CodeDiff {
        unified,
        added,
        removed,
    })
}

fn with_newline(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n")
    }
}

/// Most parts a summary names before it says how many more there are.
const SUMMARY_PARTS: usize = 6;

/// What changed, one part per changed thing: "settings: max_attempts", "job Transform:
/// code +3 -1, adaptor", "edge a->b added".
pub fn parts(differences: &Differences) -> Vec<String> {
    let mut parts = Vec::new();
    if !differences.settings.is_empty() {
        let names: Vec<&str> = differences
            .settings
            .iter()
            .map(|f| f.field.as_str())
            .collect();
        parts.push(format!("settings: {}", names.join(", ")));
    }
    if let Some(code) = &differences.globals {
        parts.push(format!("globals: code +{} -{}", code.added, code.removed));
    }
    for (what, items) in [
        ("job", &differences.jobs),
        ("trigger", &differences.triggers),
        ("edge", &differences.edges),
    ] {
        for item in items {
            parts.push(match item.change {
                ItemChange::Added => format!("{what} {} added", item.label),
                ItemChange::Removed => format!("{what} {} removed", item.label),
                ItemChange::Changed => {
                    let mut changed: Vec<String> = Vec::new();
                    if let Some(code) = &item.code {
                        changed.push(format!("code +{} -{}", code.added, code.removed));
                    }
                    changed.extend(item.fields.iter().map(|f| f.field.clone()));
                    format!("{what} {}: {}", item.label, changed.join(", "))
                }
            });
        }
    }
    parts
}

/// One line: "job Transform: code +3 -1; trigger cron: cron_expression; edge a->b added".
pub fn summary(differences: &Differences) -> String {
    let mut parts = parts(differences);
    if parts.is_empty() {
        return "no change".into();
    }
    let more = parts.len().saturating_sub(SUMMARY_PARTS);
    parts.truncate(SUMMARY_PARTS);
    let mut line = parts.join("; ");
    if more > 0 {
        line.push_str(&format!("; and {more} more"));
    }
    line
}

/// What the first version holds: "created: 3 jobs, 1 trigger, 3 edges".
pub fn created_summary(spec: &WorkflowSpec) -> String {
    let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    format!(
        "created: {}, {}, {}",
        count(spec.jobs.len(), "job"),
        count(spec.triggers.len(), "trigger"),
        count(spec.edges.len(), "edge")
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::project::{EdgeSpec, JobSpec, TriggerSpec};
    use bolt_shared::model::{ConditionType, TriggerType, WebhookReply};

    fn job(key: &str, body: &str) -> JobSpec {
        JobSpec {
            key: key.into(),
            name: key.to_uppercase(),
            adaptor: "@openfn/language-common@3.3.4".into(),
            credential: None,
            body: body.into(),
            body_path: None,
            resolved_adaptor: None,
            enable_job_logs: None,
        }
    }

    fn spec() -> WorkflowSpec {
        WorkflowSpec {
            key: "w".into(),
            name: "W".into(),
            settings: Default::default(),
            globals: None,
            constants: Default::default(),
            jobs: vec![
                job("a", "fn(s => s);\nfn(s => 1);\n"),
                job("b", "fn(s => s)\n"),
            ],
            triggers: vec![TriggerSpec {
                key: "cron".into(),
                kind: TriggerType::Cron,
                enabled: true,
                cron_expression: Some("0 * * * *".into()),
                custom_path: None,
                webhook_reply: WebhookReply::BeforeStart,
                webhook_auth: vec![],
                cron_cursor_job: None,
            }],
            edges: vec![EdgeSpec {
                key: "cron->a".into(),
                source_trigger: Some("cron".into()),
                source_job: None,
                target_job: "a".into(),
                condition: ConditionType::Always,
                expression: None,
                label: None,
                enabled: true,
            }],
        }
    }

    #[test]
    fn equal_snapshots_have_no_differences() {
        let d = compare(&spec(), &spec(), 1, 2);
        assert!(d.is_empty());
        assert_eq!(summary(&d), "no change");
    }

    #[test]
    fn code_settings_triggers_and_edges_are_told_apart() {
        let old = spec();
        let mut new = spec();
        new.jobs[0].body = "fn(s => s);\nfn(s => 2);\n".into();
        new.jobs[1].credential = Some("dhis2".into());
        new.jobs.push(job("c", "each('$.x', fn(s => s))"));
        new.triggers[0].cron_expression = Some("*/5 * * * *".into());
        new.edges.clear();
        new.settings.max_attempts = Some(3);
        let d = compare(&old, &new, 4, 5);
        assert_eq!(d.settings.len(), 1);
        assert_eq!(d.settings[0].field, "max_attempts");
        assert_eq!(d.settings[0].new, serde_json::json!(3));
        let a = &d.jobs[0];
        assert_eq!(a.change, ItemChange::Changed);
        let code = a.code.as_ref().unwrap();
        assert_eq!((code.added, code.removed), (1, 1));
        assert!(
            code.unified.starts_with("--- a (v4)\n+++ a (v5)\n@@"),
            "{}",
            code.unified
        );
        assert!(code.unified.contains("-fn(s => 1);\n+fn(s => 2);\n"));
        let b = &d.jobs[1];
        assert!(b.code.is_none());
        assert_eq!(b.fields[0].field, "project_credential");
        assert_eq!(b.fields[0].old, Value::Null);
        let c = &d.jobs[2];
        assert_eq!(c.change, ItemChange::Added);
        assert_eq!(c.code.as_ref().unwrap().added, 1);
        assert!(c.fields.iter().any(|f| f.field == "adaptor"));
        assert_eq!(d.triggers[0].fields[0].field, "cron_expression");
        assert_eq!(d.edges[0].change, ItemChange::Removed);
        assert_eq!(
            summary(&d),
            "settings: max_attempts; job A: code +1 -1; job B: project_credential; job C added; trigger cron: cron_expression; edge cron->a removed"
        );
    }

    #[test]
    fn a_missing_final_newline_alone_is_no_code_change() {
        assert!(code_diff("fn(s => s)\n", "fn(s => s)", "a", 1, 2).is_none());
        let mut new = spec();
        new.jobs[1].body = "fn(s => s)".into();
        let d = compare(&spec(), &new, 1, 2);
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn long_summaries_say_how_much_more() {
        let old = spec();
        let mut new = spec();
        for i in 0..10 {
            new.jobs.push(job(&format!("j{i}"), "fn(s => s)"));
        }
        let line = summary(&compare(&old, &new, 1, 2));
        assert!(line.ends_with("; and 4 more"), "{line}");
        assert_eq!(created_summary(&old), "created: 2 jobs, 1 trigger, 1 edge");
    }
}
