use super::*;
use crate::store::Store;

fn no_files(path: &str) -> Result<String, String> {
    Err(format!("no such file {path}"))
}

fn parse(yaml: &str) -> Result<Parsed, ProjectErrors> {
    parse_project(yaml, "project.yaml", &no_files)
}

const EXAMPLE: &str = include_str!("../../../config/example-project.yaml");

#[test]
fn example_project_parses_cleanly() {
    let parsed = parse(EXAMPLE).unwrap();
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(parsed.spec.name, "clinic-intake");
    assert_eq!(parsed.spec.workflows.len(), 2);
    let intake = &parsed.spec.workflows[0];
    assert_eq!(intake.jobs.len(), 3);
    assert_eq!(intake.triggers[0].custom_path.as_deref(), Some("visits"));
}

#[test]
fn invalid_yaml_is_refused_with_position() {
    let err = parse("name: x\nworkflows:\n  w:\n    jobs: [unclosed\n").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("not valid YAML"), "{text}");
    assert!(text.contains("project.yaml:"), "{text}");
}

#[test]
fn duplicate_keys_are_refused_not_guessed() {
    let yaml = "name: x\nworkflows:\n  w:\n    jobs:\n      a:\n        body: fn(s => s)\n    edges:\n      t->a:\n        source_trigger: t\n        target_job: a\n        condition_type: always\n        condition_type: js_expression\n    triggers:\n      t:\n        type: webhook\n";
    assert!(parse(yaml).is_err());
}

#[test]
fn edge_to_missing_job_names_line_and_fix() {
    let yaml = "name: x\nworkflows:\n  w:\n    jobs:\n      a:\n        body: fn(s => s)\n    triggers:\n      webhook:\n        type: webhook\n    edges:\n      a->b:\n        source_job: a\n        target_job: b\n        condition_type: always\n";
    let err = parse(yaml).unwrap_err();
    let first = &err.0[0];
    assert_eq!(first.line, Some(13), "{err}");
    assert!(first.message.contains("job `b`"), "{err}");
    assert!(first.hint.as_deref().unwrap_or("").contains("a"), "{err}");
}

#[test]
fn cycles_and_bad_cron_are_errors() {
    let yaml = "name: x\nworkflows:\n  w:\n    jobs:\n      a:\n        body: x\n      b:\n        body: y\n    triggers:\n      cron:\n        type: cron\n        cron_expression: '61 * * * *'\n    edges:\n      a->b:\n        source_job: a\n        target_job: b\n      b->a:\n        source_job: b\n        target_job: a\n";
    let err = parse(yaml).unwrap_err().to_string();
    assert!(err.contains("cycle"), "{err}");
    assert!(err.contains("cron"), "{err}");
    assert!(err.contains("2 problems"), "{err}");
}

#[test]
fn messy_real_exports_are_accepted() {
    let yaml = "name: x\ndescription: null\ncredentials: null\ncollections: null\nworkflows:\n  w:\n    name: W\n    positions: {}\n    jobs:\n      Fetch-Patients-(v2):\n        name: Fetch Patients (v2)\n        adaptor: '@openfn/language-http@7.2.10'\n        credential: jane@acme.org-HAPI\n        body: |\n          get('/x');\n        mystery: 1\n    triggers:\n      kafka:\n        type: kafka\n        enabled: true\n    edges:\n      kafka->Fetch-Patients-(v2):\n        source_trigger: kafka\n        target_job: Fetch-Patients-(v2)\n        condition: always\n";
    let parsed = parse(yaml).unwrap();
    let wf = &parsed.spec.workflows[0];
    assert_eq!(
        wf.triggers[0].kind,
        bolt_shared::model::TriggerType::Webhook
    );
    assert!(
        !wf.triggers[0].enabled,
        "kafka triggers become disabled webhooks"
    );
    assert!(wf.edges[0].enabled, "edges without enabled default to true");
    assert_eq!(wf.jobs[0].credential.as_deref(), Some("jane@acme.org-HAPI"));
    let warnings = parsed.warnings.join("\n");
    assert!(warnings.contains("kafka"), "{warnings}");
    assert!(warnings.contains("mystery"), "{warnings}");
}

#[test]
fn body_path_is_read_relative_and_missing_file_is_named() {
    let yaml = "name: x\nworkflows:\n  w:\n    jobs:\n      a:\n        body:\n          path: ./jobs/a.js\n";
    let parsed = parse_project(yaml, "p.yaml", &|p: &str| {
        if p == "./jobs/a.js" {
            Ok("fn(s => s)".to_string())
        } else {
            Err("missing".into())
        }
    })
    .unwrap();
    assert_eq!(parsed.spec.workflows[0].jobs[0].body, "fn(s => s)");
    let err = parse(yaml).unwrap_err().to_string();
    assert!(err.contains("./jobs/a.js"), "{err}");
}

#[test]
fn deploy_twice_changes_nothing_and_export_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 1).unwrap();
    let spec = parse(EXAMPLE).unwrap().spec;
    let first = store.writer.write_blocking({
        let spec = spec.clone();
        move |tx| apply(tx, &spec, None)
    });
    let first = first.unwrap();
    assert!(
        first
            .iter()
            .any(|c| c.action == "created" && c.what == "workflow")
    );
    let again = store.writer.write_blocking({
        let spec = spec.clone();
        move |tx| apply(tx, &spec, None)
    });
    assert!(again.unwrap().is_empty());
    let yaml = store
        .readers
        .read_blocking(|conn| export_yaml(conn, None))
        .unwrap();
    let reparsed = parse(&yaml).unwrap().spec;
    assert_eq!(reparsed.workflows, spec.workflows);
    let third = store
        .writer
        .write_blocking(move |tx| apply(tx, &reparsed, None))
        .unwrap();
    assert!(
        third.is_empty(),
        "deploy -> export -> deploy must be a no-op: {third:?}"
    );
}

#[test]
fn changing_a_job_creates_a_new_version_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 1).unwrap();
    let spec = parse(EXAMPLE).unwrap().spec;
    let mut changed = spec.clone();
    changed.workflows[0].jobs[0].body.push_str("\n// edited\n");
    changed.workflows.remove(1);
    store
        .writer
        .write_blocking(move |tx| apply(tx, &spec, None))
        .unwrap();
    let changes = store
        .writer
        .write_blocking(move |tx| apply(tx, &changed, None))
        .unwrap();
    let text: Vec<String> = changes
        .iter()
        .map(|c| format!("{} {} {}", c.action, c.what, c.name))
        .collect();
    assert!(
        text.contains(&"updated job Visit Intake / Validate Visit".to_string()),
        "{text:?}"
    );
    assert!(
        text.contains(&"deleted workflow Nightly Report".to_string()),
        "{text:?}"
    );
    let versions: i64 = store
        .readers
        .read_blocking(|c| {
            Ok(
                c.query_row("SELECT MAX(version) FROM workflow_versions", [], |r| {
                    r.get(0)
                })?,
            )
        })
        .unwrap();
    assert_eq!(versions, 2);
}
