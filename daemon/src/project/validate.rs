//! Checks that need the whole project: references, cycles, schedules, paths.

use super::cron::parse_cron;
use super::spec::*;
use bolt_shared::model::{ConditionType, TriggerType};
use std::collections::{BTreeMap, BTreeSet};

type Report<'a> = dyn FnMut(&[&str], String, String) + 'a;

pub fn validate(spec: &ProjectSpec, report: &mut Report) {
    let mut custom_paths: BTreeMap<&str, &str> = BTreeMap::new();
    let mut names = BTreeSet::new();
    for workflow in &spec.workflows {
        let wf = workflow.key.as_str();
        if !names.insert(workflow.name.as_str()) {
            report(
                &["workflows", wf, "name"],
                format!("two workflows are named `{}`", workflow.name),
                "give each workflow its own name".into(),
            );
        }
        if let Err(message) = check_globals(workflow) {
            report(
                &["workflows", wf, "globals"],
                message,
                "fix the code under `globals` (an ES module: `export const x = …; export function f() {…}`)".into(),
            );
        }
        for trigger in &workflow.triggers {
            let at = ["workflows", wf, "triggers", trigger.key.as_str()];
            match trigger.kind {
                TriggerType::Cron => match &trigger.cron_expression {
                    Some(expression) => {
                        if let Err(err) = parse_cron(expression) {
                            report(&[&at[..], &["cron_expression"]].concat(), err, "write 5 fields: minute hour day-of-month month day-of-week, e.g. '*/15 * * * *'".into());
                        }
                    }
                    None => report(
                        &at,
                        format!("cron trigger `{}` has no `cron_expression`", trigger.key),
                        "add e.g. `cron_expression: '0 2 * * *'`".into(),
                    ),
                },
                TriggerType::Webhook => {
                    if let Some(path) = &trigger.custom_path {
                        let valid = !path.is_empty()
                            && path.len() <= 255
                            && path
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                        if !valid {
                            report(
                                &[&at[..], &["custom_path"]].concat(),
                                format!(
                                    "custom_path `{path}` may only hold letters, digits, `-` and `_`"
                                ),
                                "pick a path like `clinic-intake`".into(),
                            );
                        } else if let Some(other) = custom_paths.insert(path.as_str(), wf) {
                            report(
                                &[&at[..], &["custom_path"]].concat(),
                                format!("custom_path `{path}` is also used by workflow `{other}`"),
                                "give each webhook its own path".into(),
                            );
                        }
                    }
                }
            }
        }
        let jobs: BTreeSet<&str> = workflow.jobs.iter().map(|j| j.key.as_str()).collect();
        let triggers: BTreeSet<&str> = workflow.triggers.iter().map(|t| t.key.as_str()).collect();
        for trigger in &workflow.triggers {
            if let Some(job) = &trigger.cron_cursor_job
                && !jobs.contains(job.as_str())
            {
                report(
                    &[
                        "workflows",
                        wf,
                        "triggers",
                        trigger.key.as_str(),
                        "cron_cursor_job",
                    ],
                    format!(
                        "trigger `{}` takes its input from job `{job}`, which this workflow does not have",
                        trigger.key
                    ),
                    format!("use one of: {}", list(&jobs)),
                );
            }
        }
        for edge in &workflow.edges {
            let at = ["workflows", wf, "edges", edge.key.as_str()];
            if !jobs.contains(edge.target_job.as_str()) {
                report(
                    &[&at[..], &["target_job"]].concat(),
                    format!(
                        "edge `{}` points to job `{}`, which this workflow does not have",
                        edge.key, edge.target_job
                    ),
                    format!("use one of: {}", list(&jobs)),
                );
            }
            if let Some(source) = &edge.source_job
                && !jobs.contains(source.as_str())
            {
                report(
                    &[&at[..], &["source_job"]].concat(),
                    format!(
                        "edge `{}` starts at job `{source}`, which this workflow does not have",
                        edge.key
                    ),
                    format!("use one of: {}", list(&jobs)),
                );
            }
            if let Some(source) = &edge.source_trigger {
                if !triggers.contains(source.as_str()) {
                    report(
                        &[&at[..], &["source_trigger"]].concat(),
                        format!(
                            "edge `{}` starts at trigger `{source}`, which this workflow does not have",
                            edge.key
                        ),
                        format!("use one of: {}", list(&triggers)),
                    );
                }
                // Parsing turned `on_job_success` into `always` and disabled `on_job_failure`.
                if edge.enabled
                    && matches!(
                        edge.condition,
                        ConditionType::OnJobSuccess | ConditionType::OnJobFailure
                    )
                {
                    report(
                        &at,
                        format!(
                            "edge `{}` from a trigger can't use `{}`: there is no job before it",
                            edge.key, edge.condition
                        ),
                        "use `always` or `js_expression`".into(),
                    );
                }
            }
            if edge.condition == ConditionType::JsExpression
                && edge
                    .expression
                    .as_deref()
                    .is_none_or(|e| e.trim().is_empty())
            {
                report(
                    &at,
                    format!(
                        "edge `{}` is a js_expression with no `condition_expression`",
                        edge.key
                    ),
                    "add e.g. `condition_expression: '!state.errors'`".into(),
                );
            }
        }
        if let Some(cycle) = find_cycle(workflow) {
            report(
                &["workflows", wf, "edges"],
                format!(
                    "workflow `{}` has a cycle: {}",
                    workflow.name,
                    cycle.join(" -> ")
                ),
                "remove one of these edges: a workflow must not loop back to an earlier job".into(),
            );
        }
    }
}

fn list(keys: &BTreeSet<&str>) -> String {
    if keys.is_empty() {
        "(none defined)".into()
    } else {
        keys.iter().copied().collect::<Vec<_>>().join(", ")
    }
}

/// Depth-first search over job → job edges; returns the jobs of the first cycle found.
fn find_cycle(workflow: &WorkflowSpec) -> Option<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for edge in &workflow.edges {
        if let Some(source) = &edge.source_job {
            next.entry(source.as_str())
                .or_default()
                .push(edge.target_job.as_str());
        }
    }
    fn visit<'a>(
        node: &'a str,
        next: &BTreeMap<&'a str, Vec<&'a str>>,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = stack.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = stack[pos..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        stack.push(node);
        for target in next.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(target, next, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    for job in &workflow.jobs {
        if let Some(cycle) = visit(job.key.as_str(), &next, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

/// The workflow's globals parse as a module, and no constant has the name of one of the
/// globals code's exports (the module would export it twice).
pub fn check_globals(workflow: &WorkflowSpec) -> Result<(), String> {
    let Some(code) = workflow.globals.as_deref().filter(|g| !g.trim().is_empty()) else {
        return Ok(());
    };
    let exports = crate::engine::compiler::globals_exports(code).map_err(|e| e.to_string())?;
    match exports
        .iter()
        .find(|name| workflow.constants.contains_key(*name))
    {
        Some(name) => Err(format!(
            "`{name}` is both a constant and an export of the globals code; keep one"
        )),
        None => Ok(()),
    }
}
