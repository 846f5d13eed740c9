//! Operator limits win: a project may lower a run's time and memory limits, never raise
//! them past the ceilings of this boltd's bolt.toml.

use super::locate::locate;
use super::spec::ProjectSpec;
use super::{ProjectError, ProjectErrors};
use bolt_shared::config::EngineConfig;

/// Every workflow limit above its ceiling, as errors naming the workflow, the key, the value
/// and the ceiling (with the line of the key in `source`).
pub fn check_ceilings(
    spec: &ProjectSpec,
    engine: &EngineConfig,
    source: &str,
    file: &str,
) -> Result<(), ProjectErrors> {
    let mut errors = Vec::new();
    for workflow in &spec.workflows {
        let settings = &workflow.settings;
        for (key, value, ceiling, setting, unit) in [
            (
                "run_timeout_secs",
                settings.run_timeout_secs,
                engine.max_run_timeout_secs,
                "engine.max_run_timeout_secs",
                "s",
            ),
            (
                "memory_limit_mb",
                settings.memory_limit_mb,
                engine.max_memory_limit_mb,
                "engine.max_memory_limit_mb",
                " MiB",
            ),
        ] {
            let Some(value) = value.filter(|v| *v > ceiling) else {
                continue;
            };
            let place = locate(source, &["workflows", &workflow.key, key]);
            errors.push(ProjectError {
                file: file.to_string(),
                line: place.map(|(line, _)| line),
                column: place.map(|(_, column)| column),
                message: format!(
                    "workflow `{}`: `{key}: {value}` is above this boltd's ceiling of {ceiling}{unit} ({setting} in bolt.toml)",
                    workflow.key
                ),
                hint: Some(format!(
                    "use at most {ceiling}, or ask the operator to raise {setting}"
                )),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ProjectErrors(errors))
    }
}
