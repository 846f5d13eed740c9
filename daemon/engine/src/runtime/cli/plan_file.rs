//! Loading what `bolt execute` runs, in the formats `openfn execute` accepts: a `.js` job, a
//! `{workflow: {steps}}` plan, a bare `{steps}` workflow, or a legacy `{start, jobs}` file.

use crate::{EdgeCondition, Plan, PlanEdge, PlanStep};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// A plan plus the options a workflow file may carry.
#[derive(Debug, Clone, Default)]
pub struct LoadedPlan {
    pub plan: Plan,
    pub end: Option<String>,
    pub timeout_ms: Option<u64>,
    /// True for a single `.js` job.
    pub single_job: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("could not read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid JSON: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

fn read(path: &Path) -> Result<String, PlanFileError> {
    std::fs::read_to_string(path).map_err(|source| PlanFileError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_json(path: &Path) -> Result<Value, PlanFileError> {
    serde_json::from_str(&read(path)?).map_err(|source| PlanFileError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// OpenFn's `isPath`: one line ending in a source/JSON extension.
fn is_path(text: &str) -> bool {
    !text.contains('\n')
        && [".js", ".ts", ".json", ".ojs"]
            .iter()
            .any(|ext| text.trim().ends_with(ext))
}

/// Loads a `.js` job (with the `-a` adaptors) or a workflow file.
pub fn load(path: &Path, adaptors: &[String]) -> Result<LoadedPlan, PlanFileError> {
    let is_json = path.extension().is_some_and(|e| e == "json");
    if !is_json {
        let expression = read(path)?;
        let step = PlanStep {
            id: "job-1".into(),
            expression: Some(expression),
            adaptor: adaptors.first().cloned(),
            adaptors: adaptors.iter().skip(1).cloned().collect(),
            ..PlanStep::default()
        };
        return Ok(LoadedPlan {
            plan: Plan {
                steps: vec![step],
                start: None,
                globals: None,
            },
            single_job: true,
            ..Default::default()
        });
    }
    if !adaptors.is_empty() {
        return Err(PlanFileError::Invalid(
            "adaptor and workflow provided: set adaptors on the workflow's steps instead of -a"
                .into(),
        ));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let document = read_json(path)?;
    from_document(&document, base)
}

/// Builds a plan from a parsed workflow document; paths resolve against `base`.
pub fn from_document(document: &Value, base: &Path) -> Result<LoadedPlan, PlanFileError> {
    let empty = Map::new();
    let options = document
        .get("options")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let (workflow, legacy) = if let Some(workflow) = document.get("workflow") {
        (workflow, false)
    } else if document.get("steps").is_some() {
        (document, false)
    } else if document.get("jobs").is_some() {
        (document, true)
    } else {
        return Err(PlanFileError::Invalid("the workflow has no steps".into()));
    };
    let raw_steps = workflow
        .get(if legacy { "jobs" } else { "steps" })
        .and_then(Value::as_array)
        .ok_or_else(|| PlanFileError::Invalid("steps must be an array".into()))?;
    let mut steps = Vec::new();
    for (index, raw) in raw_steps.iter().enumerate() {
        steps.push(step(raw, index, base)?);
    }
    let start = options
        .get("start")
        .or_else(|| workflow.get("start"))
        .or_else(|| document.get("start"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let wf_options = workflow
        .get("options")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let option = |key: &str| options.get(key).or_else(|| wf_options.get(key));
    Ok(LoadedPlan {
        plan: Plan {
            steps,
            start: start.or_else(|| option("start").and_then(Value::as_str).map(str::to_string)),
            // A path (`./globals.js`) is read relative to the workflow file, as OpenFn's CLI does.
            globals: text_or_file(workflow.get("globals"), base)?,
        },
        end: option("end").and_then(Value::as_str).map(str::to_string),
        timeout_ms: option("timeout").and_then(Value::as_u64),
        single_job: false,
    })
}

fn text_or_file(value: Option<&Value>, base: &Path) -> Result<Option<String>, PlanFileError> {
    match value.and_then(Value::as_str) {
        Some(text) if is_path(text) => read(&base.join(text)).map(Some),
        Some(text) => Ok(Some(text.to_string())),
        None => Ok(None),
    }
}

fn object_or_file(value: Option<&Value>, base: &Path) -> Result<Option<Value>, PlanFileError> {
    match value {
        Some(Value::String(path)) => read_json(&base.join(path)).map(Some),
        Some(Value::Null) | None => Ok(None),
        Some(other) => Ok(Some(other.clone())),
    }
}

fn step(raw: &Value, index: usize, base: &Path) -> Result<PlanStep, PlanFileError> {
    let id = raw
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("job-{}", index + 1));
    // `adaptor: "x"` or `adaptors: ["x", "y"]`.
    let mut adaptors: Vec<String> = raw
        .get("adaptor")
        .and_then(Value::as_str)
        .map(str::to_string)
        .into_iter()
        .collect();
    for listed in raw
        .get("adaptors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !adaptors.iter().any(|a| a == listed) {
            adaptors.push(listed.to_string());
        }
    }
    let adaptor = (!adaptors.is_empty()).then(|| adaptors.remove(0));
    Ok(PlanStep {
        name: raw.get("name").and_then(Value::as_str).map(str::to_string),
        expression: text_or_file(raw.get("expression"), base)?,
        adaptor,
        adaptors,
        configuration: object_or_file(raw.get("configuration"), base)?,
        state: object_or_file(raw.get("state"), base)?,
        next: edges(raw.get("next"))?,
        id,
    })
}

/// OpenFn's condition strings.
pub fn condition_from_str(text: &str) -> EdgeCondition {
    match text {
        "always" => EdgeCondition::Always,
        "on_job_success" | "on_upstream_success" => EdgeCondition::OnJobSuccess,
        "on_job_failure" | "on_upstream_fail" => EdgeCondition::OnJobFailure,
        "never" => EdgeCondition::Never,
        expression => EdgeCondition::Expression(expression.to_string()),
    }
}

fn edges(next: Option<&Value>) -> Result<Vec<PlanEdge>, PlanFileError> {
    let edge = |target: &str, condition: EdgeCondition| PlanEdge {
        target: target.to_string(),
        condition,
        disabled: false,
        label: None,
    };
    match next {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(target)) => Ok(vec![edge(target, EdgeCondition::Always)]),
        Some(Value::Object(map)) => Ok(map
            .iter()
            .map(|(target, spec)| match spec {
                Value::Bool(true) => edge(target, EdgeCondition::Always),
                Value::String(text) => edge(target, condition_from_str(text)),
                Value::Object(obj) => PlanEdge {
                    target: target.clone(),
                    condition: match obj.get("condition") {
                        Some(Value::Bool(true)) => EdgeCondition::Always,
                        Some(Value::String(text)) => condition_from_str(text),
                        _ => EdgeCondition::Never,
                    },
                    disabled: obj
                        .get("disabled")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    label: obj.get("label").and_then(Value::as_str).map(str::to_string),
                },
                _ => edge(target, EdgeCondition::Never),
            })
            .collect()),
        Some(_) => Err(PlanFileError::Invalid(
            "next must be a step id or an object of edges".into(),
        )),
    }
}

/// OpenFn's fuzzy step selection: an exact id, else a unique substring of an id or name.
pub fn find_step(plan: &Plan, query: &str) -> Result<String, PlanFileError> {
    if plan.steps.iter().any(|s| s.id == query) {
        return Ok(query.to_string());
    }
    let matches: Vec<&PlanStep> = plan
        .steps
        .iter()
        .filter(|s| s.id.contains(query) || s.name.as_deref().is_some_and(|n| n.contains(query)))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(PlanFileError::Invalid(format!("no step matches {query:?}"))),
        _ => Err(PlanFileError::Invalid(format!(
            "{query:?} matches several steps; be more specific"
        ))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_edge_forms() {
        let doc = json!({"workflow": {"steps": [
            {"id": "a", "expression": "fn(s => s)", "next": {"b": true, "c": "on_job_failure", "d": {"label": "x"}, "e": {"condition": "state.ok", "disabled": true}}},
            {"id": "b"}, {"id": "c"}, {"id": "d"}, {"id": "e"}
        ]}, "options": {"start": "a"}});
        let loaded = from_document(&doc, Path::new(".")).unwrap();
        let next = &loaded.plan.steps[0].next;
        assert_eq!(next[0].condition, EdgeCondition::Always);
        assert_eq!(next[1].condition, EdgeCondition::OnJobFailure);
        assert_eq!(next[2].condition, EdgeCondition::Never);
        assert_eq!(
            next[3].condition,
            EdgeCondition::Expression("state.ok".into())
        );
        assert!(next[3].disabled);
        assert_eq!(loaded.plan.start.as_deref(), Some("a"));
    }

    #[test]
    fn steps_name_one_adaptor_or_several() {
        let doc = json!({"workflow": {"steps": [
            {"id": "a", "adaptor": "openmrs@5.5.0", "expression": "fn(s => s)"},
            {"id": "b", "adaptors": ["common", "@openfn/language-collections@0.8.0"], "expression": "fn(s => s)"},
            {"id": "c", "adaptor": "common", "adaptors": ["common", "collections"], "expression": "fn(s => s)"}
        ]}});
        let loaded = from_document(&doc, Path::new(".")).unwrap();
        let specs: Vec<Vec<&str>> = loaded
            .plan
            .steps
            .iter()
            .map(|s| s.adaptor_specs())
            .collect();
        assert_eq!(
            specs,
            [
                vec!["openmrs@5.5.0"],
                vec!["common", "@openfn/language-collections@0.8.0"],
                vec!["common", "collections"]
            ]
        );
        let job = load(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("Cargo.toml")
                .as_path(),
            &["common".into(), "collections".into()],
        );
        // A .js path is read as the job: any readable file does for this check.
        let step = &job.unwrap().plan.steps[0];
        assert_eq!(step.adaptor_specs(), ["common", "collections"]);
    }

    #[test]
    fn legacy_jobs_and_default_ids() {
        let doc = json!({"start": "job-2", "jobs": [{"expression": "x()"}, {"expression": "y()", "next": "job-1"}]});
        let loaded = from_document(&doc, Path::new(".")).unwrap();
        assert_eq!(loaded.plan.steps[1].id, "job-2");
        assert_eq!(loaded.plan.start.as_deref(), Some("job-2"));
    }
}
