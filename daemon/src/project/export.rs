//! Writing a deployed project back as project.yaml, in the format deploy reads.

use super::deploy::current_workflows;
use super::kept;
use crate::store::{StoreError, StoreResult, projects};
use bolt_shared::model::{TriggerType, WebhookReply};
use bolt_sql::Db;
use serde_yaml_ng::{Mapping, Value};

fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

/// Exports the named project (or the only one) as YAML text.
pub fn export_yaml(db: &dyn Db, project: Option<&str>) -> StoreResult<String> {
    let row = match project {
        Some(name) => projects::by_name(db, name)?,
        None => {
            if projects::count(db)? > 1 {
                return Err(StoreError::Invalid("there are several projects: name the one to export (`bolt projects` lists them)".into()));
            }
            projects::any(db)?
        }
    };
    let Some(projects::ProjectRow {
        id,
        name,
        description,
        retention_policy: policy,
        history_retention_days: history,
        dataclip_retention_days: dataclip,
        concurrency,
    }) = row
    else {
        return Err(StoreError::Invalid(match project {
            Some(name) => format!("there is no project named `{name}`"),
            None => "there is no project yet: deploy one with `bolt deploy project.yaml`".into(),
        }));
    };
    let mut top = Mapping::new();
    top.insert(s("name"), s(&name));
    top.insert(
        s("description"),
        description.as_deref().map(s).unwrap_or(Value::Null),
    );
    if policy != "retain_all" {
        top.insert(s("retention_policy"), s(&policy));
    }
    for (key, value) in [
        ("history_retention_days", history),
        ("dataclip_retention_days", dataclip),
        ("concurrency", concurrency),
    ] {
        if let Some(value) = value {
            top.insert(s(key), Value::Number(value.into()));
        }
    }
    let workflows = current_workflows(db, &id)?;
    let kept = kept::read(db, &id)?;
    // The file's own credential entries (keys, owners) first; jobs refer to them by key.
    let mut credentials = Mapping::new();
    for credential in &kept.credentials {
        let mut c = Mapping::new();
        c.insert(s("name"), s(&credential.name));
        if let Some(owner) = &credential.owner {
            c.insert(s("owner"), s(owner));
        }
        credentials.insert(s(&credential.key), Value::Mapping(c));
    }
    let credential_key = |name: &str| -> String {
        kept.credentials
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.key.clone())
            .unwrap_or_else(|| name.to_string())
    };
    let mut workflow_map = Mapping::new();
    let mut ordered: Vec<_> = workflows.into_values().collect();
    ordered.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, spec) in ordered {
        let mut wf = Mapping::new();
        wf.insert(s("name"), s(&spec.name));
        let st = &spec.settings;
        for (key, value) in [
            ("concurrency", st.concurrency.map(u64::from)),
            ("run_timeout_secs", st.run_timeout_secs),
            ("memory_limit_mb", st.memory_limit_mb),
            ("max_attempts", st.max_attempts.map(u64::from)),
            ("retry_backoff_secs", st.retry_backoff_secs),
        ] {
            if let Some(value) = value {
                wf.insert(s(key), Value::Number(value.into()));
            }
        }
        if let Some(enabled) = st.enable_job_logs {
            wf.insert(s("enable_job_logs"), Value::Bool(enabled));
        }
        if let Some(globals) = &spec.globals {
            wf.insert(s("globals"), s(globals));
        }
        if !spec.constants.is_empty()
            && let Ok(constants) = serde_yaml_ng::to_value(&spec.constants)
        {
            wf.insert(s("constants"), constants);
        }
        let mut jobs = Mapping::new();
        for job in &spec.jobs {
            let mut j = Mapping::new();
            j.insert(s("name"), s(&job.name));
            j.insert(s("adaptor"), s(&job.adaptor));
            let key = job.credential.as_deref().map(credential_key);
            j.insert(
                s("credential"),
                key.as_deref().map(s).unwrap_or(Value::Null),
            );
            if let (Some(key), Some(credential)) = (&key, &job.credential)
                && !credentials.contains_key(key.as_str())
            {
                let mut c = Mapping::new();
                c.insert(s("name"), s(credential));
                credentials.insert(s(key), Value::Mapping(c));
            }
            if let Some(enabled) = job.enable_job_logs {
                j.insert(s("enable_job_logs"), Value::Bool(enabled));
            }
            j.insert(s("body"), s(&job.body));
            jobs.insert(s(&job.key), Value::Mapping(j));
        }
        wf.insert(s("jobs"), Value::Mapping(jobs));
        let mut triggers = Mapping::new();
        for trigger in &spec.triggers {
            let mut t = Mapping::new();
            t.insert(s("type"), s(trigger.kind.as_str()));
            t.insert(s("enabled"), Value::Bool(trigger.enabled));
            if trigger.kind == TriggerType::Cron
                && let Some(expr) = &trigger.cron_expression
            {
                t.insert(s("cron_expression"), s(expr));
            }
            if let Some(path) = &trigger.custom_path {
                t.insert(s("custom_path"), s(path));
            }
            if let Some(job) = &trigger.cron_cursor_job {
                t.insert(s("cron_cursor_job"), s(job));
            }
            if trigger.webhook_reply != WebhookReply::BeforeStart {
                t.insert(s("webhook_reply"), s(trigger.webhook_reply.as_str()));
            }
            if !trigger.webhook_auth.is_empty() {
                t.insert(
                    s("webhook_auth"),
                    Value::Sequence(trigger.webhook_auth.iter().map(|a| s(a)).collect()),
                );
            }
            triggers.insert(s(&trigger.key), Value::Mapping(t));
        }
        wf.insert(s("triggers"), Value::Mapping(triggers));
        let mut edges = Mapping::new();
        for edge in &spec.edges {
            let mut e = Mapping::new();
            if let Some(source) = &edge.source_trigger {
                e.insert(s("source_trigger"), s(source));
            }
            if let Some(source) = &edge.source_job {
                e.insert(s("source_job"), s(source));
            }
            e.insert(s("target_job"), s(&edge.target_job));
            e.insert(s("condition_type"), s(edge.condition.as_str()));
            if let Some(expr) = &edge.expression {
                e.insert(s("condition_expression"), s(expr));
            }
            if let Some(label) = &edge.label {
                e.insert(s("condition_label"), s(label));
            }
            e.insert(s("enabled"), Value::Bool(edge.enabled));
            edges.insert(s(&edge.key), Value::Mapping(e));
        }
        wf.insert(s("edges"), Value::Mapping(edges));
        workflow_map.insert(s(&spec.key), Value::Mapping(wf));
    }
    top.insert(
        s("credentials"),
        if credentials.is_empty() {
            Value::Null
        } else {
            Value::Mapping(credentials)
        },
    );
    if !kept.collections.is_empty() {
        let mut collections = Mapping::new();
        for name in &kept.collections {
            let mut c = Mapping::new();
            c.insert(s("name"), s(name));
            collections.insert(s(name), Value::Mapping(c));
        }
        top.insert(s("collections"), Value::Mapping(collections));
    }
    top.insert(s("workflows"), Value::Mapping(workflow_map));
    if let Some(channels) = &kept.channels {
        let channels = serde_yaml_ng::to_value(channels)
            .map_err(|e| StoreError::Invalid(format!("cannot write channels: {e}")))?;
        top.insert(s("channels"), channels);
    }
    serde_yaml_ng::to_string(&Value::Mapping(top))
        .map_err(|e| StoreError::Invalid(format!("cannot write YAML: {e}")))
}
