//! Turning a pinned workflow version into the engine's plan.

use crate::collections::{RunAccess, adaptors_for_job, step_uses_collections};
use crate::engine::{EdgeCondition, Plan, PlanEdge, PlanStep};
use crate::project::{EdgeSpec, WorkflowSpec};
use bolt_shared::model::ConditionType;
use serde_json::Value;
use std::collections::BTreeMap;

fn edge(spec: &EdgeSpec) -> PlanEdge {
    PlanEdge {
        target: spec.target_job.clone(),
        condition: match spec.condition {
            ConditionType::Always => EdgeCondition::Always,
            ConditionType::OnJobSuccess => EdgeCondition::OnJobSuccess,
            ConditionType::OnJobFailure => EdgeCondition::OnJobFailure,
            ConditionType::JsExpression => {
                EdgeCondition::Expression(spec.expression.clone().unwrap_or_default())
            }
        },
        disabled: !spec.enabled,
        label: spec.label.clone(),
    }
}

/// Where a run starts: the given job, else the given trigger, else the first trigger with
/// edges, else the first job nothing points to.
pub fn start_of(
    spec: &WorkflowSpec,
    starting_job: Option<&str>,
    trigger_key: Option<&str>,
) -> Option<String> {
    if let Some(job) = starting_job {
        return Some(job.to_string());
    }
    if let Some(trigger) = trigger_key
        && spec.triggers.iter().any(|t| t.key == trigger)
    {
        return Some(trigger.to_string());
    }
    if let Some(trigger) = spec.triggers.iter().find(|t| {
        spec.edges
            .iter()
            .any(|e| e.source_trigger.as_deref() == Some(&t.key))
    }) {
        return Some(trigger.key.clone());
    }
    spec.jobs
        .iter()
        .find(|j| !spec.edges.iter().any(|e| e.target_job == j.key))
        .map(|j| j.key.clone())
}

/// Builds the plan; `credentials` maps credential names to their (decrypted) bodies, and
/// `collections` is what steps that use collections get in their configuration.
pub fn build(
    spec: &WorkflowSpec,
    start: Option<String>,
    credentials: &BTreeMap<String, Value>,
    collections: Option<&RunAccess>,
) -> Plan {
    let mut steps = Vec::new();
    for trigger in &spec.triggers {
        steps.push(PlanStep {
            id: trigger.key.clone(),
            name: Some(trigger.key.clone()),
            next: spec
                .edges
                .iter()
                .filter(|e| e.source_trigger.as_deref() == Some(&trigger.key))
                .map(edge)
                .collect(),
            ..PlanStep::default()
        });
    }
    for job in &spec.jobs {
        let credential = job
            .credential
            .as_ref()
            .and_then(|c| credentials.get(c).cloned());
        let configuration = match collections {
            Some(access) if step_uses_collections(&job.adaptor, &job.body) => {
                Some(access.configure(credential))
            }
            _ => credential,
        };
        // The job's own adaptor, plus the collections adaptor when its code uses
        // `collections.` (as Lightning's worker adds it).
        let adaptors = adaptors_for_job(job.run_adaptor(), &job.body);
        steps.push(PlanStep {
            id: job.key.clone(),
            name: Some(job.name.clone()),
            expression: Some(job.body.clone()),
            adaptor: adaptors.first().cloned(),
            adaptors: adaptors.into_iter().skip(1).collect(),
            configuration,
            state: None,
            next: spec
                .edges
                .iter()
                .filter(|e| e.source_job.as_deref() == Some(&job.key))
                .map(edge)
                .collect(),
        });
    }
    Plan {
        steps,
        start,
        globals: spec.globals_module(),
    }
}

/// The jobs a run starting at `start` can reach (for checking their credentials).
pub fn reachable_jobs<'a>(spec: &'a WorkflowSpec, start: &'a str) -> Vec<&'a str> {
    let mut seen: Vec<&str> = Vec::new();
    let mut queue = vec![start];
    while let Some(node) = queue.pop() {
        if seen.contains(&node) {
            continue;
        }
        seen.push(node);
        for e in &spec.edges {
            if e.source_job.as_deref() == Some(node) || e.source_trigger.as_deref() == Some(node) {
                queue.push(e.target_job.as_str());
            }
        }
    }
    seen.into_iter().filter(|n| spec.job(n).is_some()).collect()
}
