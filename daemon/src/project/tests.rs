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
        move |tx| apply(tx, &spec, None, Default::default())
    });
    let first = first.unwrap();
    assert!(
        first
            .iter()
            .any(|c| c.action == "created" && c.what == "workflow")
    );
    let again = store.writer.write_blocking({
        let spec = spec.clone();
        move |tx| apply(tx, &spec, None, Default::default())
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
        .write_blocking(move |tx| apply(tx, &reparsed, None, Default::default()))
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
        .write_blocking(move |tx| apply(tx, &spec, None, Default::default()))
        .unwrap();
    let changes = store
        .writer
        .write_blocking(move |tx| apply(tx, &changed, None, Default::default()))
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
            Ok(bolt_sql::DbExt::query_one(
                c,
                "SELECT MAX(version) FROM workflow_versions",
                &[],
            )?)
        })
        .unwrap();
    assert_eq!(versions, 2);
}

/// A Lightning export with everything bolt must keep: collections, channels, credential
/// owners, a cron cursor job.
const LIGHTNING_EXPORT: &str = r#"
name: openhie-project
description: Patients from the registry
credentials:
  jane@acme.org-HAPI-FHIR:
    name: HAPI FHIR
    owner: jane@acme.org
collections:
  patients-cache:
    name: patients-cache
  ward.counts:
    name: ward.counts
workflows:
  Sync:
    name: Sync
    jobs:
      Fetch-Patients:
        name: Fetch Patients
        adaptor: '@openfn/language-http@7.2.10'
        credential: jane@acme.org-HAPI-FHIR
        body: |
          collections.set('patients-cache', 'last', $.data);
      Report:
        name: Report
        adaptor: '@openfn/language-common@latest'
        credential: null
        body: fn(s => s);
    triggers:
      cron:
        type: cron
        cron_expression: '0 6 * * *'
        enabled: true
        cron_cursor_job: Fetch-Patients
    edges:
      cron->Fetch-Patients:
        source_trigger: cron
        target_job: Fetch-Patients
        condition_type: always
        enabled: true
      Fetch-Patients->Report:
        source_job: Fetch-Patients
        target_job: Report
        condition_type: on_job_success
        enabled: true
channels:
  registry-proxy:
    name: registry-proxy
    destination_url: https://registry.example.org/api
    enabled: true
    destination_credential: jane@acme.org-HAPI-FHIR
"#;

fn deploy(store: &Store, spec: &ProjectSpec, options: DeployOptions) -> Vec<String> {
    let spec = spec.clone();
    store
        .writer
        .write_blocking(move |tx| apply(tx, &spec, None, options))
        .unwrap()
        .iter()
        .map(|c| format!("{} {} {}", c.action, c.what, c.name))
        .collect()
}

#[test]
fn the_rest_of_a_lightning_export_is_kept_by_deploy_and_export() {
    let parsed = parse(LIGHTNING_EXPORT).unwrap();
    let warnings = parsed.warnings.join("\n");
    assert!(warnings.contains("channels"), "{warnings}");
    assert!(!warnings.contains("cron_cursor_job"), "{warnings}");
    let spec = parsed.spec;
    assert_eq!(
        spec.collections
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["patients-cache", "ward.counts"]
    );
    assert_eq!(
        spec.workflows[0].triggers[0].cron_cursor_job.as_deref(),
        Some("Fetch-Patients")
    );
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 1).unwrap();
    let changes = deploy(&store, &spec, DeployOptions::default());
    assert!(
        changes.contains(&"created collection patients-cache".to_string()),
        "{changes:?}"
    );
    let yaml = store
        .readers
        .read_blocking(|conn| export_yaml(conn, None))
        .unwrap();
    for expected in [
        "owner: jane@acme.org",
        "credential: jane@acme.org-HAPI-FHIR",
        "cron_cursor_job: Fetch-Patients",
        "patients-cache:",
        "ward.counts:",
        "destination_url: https://registry.example.org/api",
    ] {
        assert!(yaml.contains(expected), "{expected} missing from:\n{yaml}");
    }
    let reparsed = parse(&yaml).unwrap().spec;
    assert_eq!(reparsed.workflows, spec.workflows);
    assert_eq!(reparsed.credentials, spec.credentials);
    assert_eq!(reparsed.collections, spec.collections);
    assert_eq!(reparsed.channels, spec.channels);
    assert!(
        deploy(&store, &reparsed, DeployOptions::default()).is_empty(),
        "export -> deploy changes nothing"
    );
}

#[test]
fn collections_left_out_of_the_file_are_kept_unless_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 1).unwrap();
    let spec = parse(LIGHTNING_EXPORT).unwrap().spec;
    deploy(&store, &spec, DeployOptions::default());
    let mut fewer = spec.clone();
    fewer.collections.retain(|c| c.name != "ward.counts");
    let warnings = store
        .readers
        .read_blocking({
            let fewer = fewer.clone();
            move |conn| kept::warnings(conn, &fewer, DeployOptions::default())
        })
        .unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("ward.counts") && w.contains("--prune-collections")),
        "{warnings:?}"
    );
    assert!(deploy(&store, &fewer, DeployOptions::default()).is_empty());
    let names = |store: &Store| {
        store
            .readers
            .read_blocking(|conn| Ok(kept::read(conn, &project_id_of(conn))?.collections))
            .unwrap()
    };
    assert_eq!(names(&store), ["patients-cache", "ward.counts"]);
    let pruned = deploy(
        &store,
        &fewer,
        DeployOptions {
            prune_collections: true,
        },
    );
    assert_eq!(pruned, ["deleted collection ward.counts"]);
    assert_eq!(names(&store), ["patients-cache"]);
}

fn project_id_of(conn: &dyn bolt_sql::Db) -> String {
    bolt_sql::DbExt::query_one(conn, "SELECT id FROM projects", &[]).unwrap()
}

#[test]
fn trigger_edges_from_older_exports_are_fixed_with_a_warning() {
    let yaml = "name: x\nworkflows:\n  w:\n    jobs:\n      a:\n        body: fn(s => s)\n      b:\n        body: fn(s => s)\n    triggers:\n      webhook:\n        type: webhook\n      cron:\n        type: cron\n        cron_expression: '0 * * * *'\n    edges:\n      webhook->a:\n        source_trigger: webhook\n        target_job: a\n        condition_type: on_job_success\n      cron->b:\n        source_trigger: cron\n        target_job: b\n        condition_type: on_job_failure\n";
    let parsed = parse(yaml).unwrap();
    let edges = &parsed.spec.workflows[0].edges;
    assert_eq!(
        edges[0].condition,
        bolt_shared::model::ConditionType::Always
    );
    assert!(edges[0].enabled);
    assert_eq!(
        edges[1].condition,
        bolt_shared::model::ConditionType::OnJobFailure
    );
    assert!(
        !edges[1].enabled,
        "on_job_failure from a trigger is disabled"
    );
    let warnings = parsed.warnings.join("\n");
    assert!(
        warnings.contains("webhook->a") && warnings.contains("runs as `always`"),
        "{warnings}"
    );
    assert!(
        warnings.contains("cron->b") && warnings.contains("deployed disabled"),
        "{warnings}"
    );
}

#[test]
fn bad_collection_names_and_cursor_jobs_are_errors() {
    let yaml = "name: x\ncollections:\n  Bad Name:\n    name: Bad Name\nworkflows:\n  w:\n    jobs:\n      a:\n        body: fn(s => s)\n    triggers:\n      cron:\n        type: cron\n        cron_expression: '0 * * * *'\n        cron_cursor_job: nope\n";
    let err = parse(yaml).unwrap_err().to_string();
    assert!(
        err.contains("`Bad Name` is not a valid collection name"),
        "{err}"
    );
    assert!(err.contains("job `nope`"), "{err}");
    let webhook = "name: x\nworkflows:\n  w:\n    jobs:\n      a:\n        body: fn(s => s)\n    triggers:\n      webhook:\n        type: webhook\n        cron_cursor_job: a\n";
    let parsed = parse(webhook).unwrap();
    assert_eq!(parsed.spec.workflows[0].triggers[0].cron_cursor_job, None);
    assert!(
        parsed.warnings.join("\n").contains("cron triggers only"),
        "{:?}",
        parsed.warnings
    );
}

#[test]
fn jobs_naming_a_collection_the_project_lacks_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 1).unwrap();
    let spec = parse(LIGHTNING_EXPORT).unwrap().spec;
    let mut typo = spec.clone();
    typo.workflows[0].jobs[0].body = "collections.set('patient-cache', 'k', $.data);".into();
    let warnings = store
        .readers
        .read_blocking(move |conn| kept::warnings(conn, &typo, DeployOptions::default()))
        .unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("`patient-cache`")
            && warnings[0].contains("COLLECTION_NOT_FOUND")
            && warnings[0].contains("Sync / Fetch Patients"),
        "{warnings:?}"
    );
    // The file's own collections, and those the store keeps, are fine.
    let warnings = store
        .readers
        .read_blocking(move |conn| kept::warnings(conn, &spec, DeployOptions::default()))
        .unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// A deploy's store writes (the project row, then each workflow's rows and version) and
/// reading the workflows back, on each store backend.
#[test]
fn deployed_workflows_read_back_as_written_on_each_backend() {
    use crate::store::suite::on_each_backend;
    use bolt_shared::versions::VersionOrigin;

    let spec = parse(EXAMPLE).unwrap().spec;
    on_each_backend(|db| {
        let origin = VersionOrigin::Deploy {
            file: Some("project.yaml".into()),
        };
        let project_id = deploy::write_project_row(db, &spec, Some("project.yaml"), 1).unwrap();
        assert_eq!(
            deploy::write_project_row(db, &spec, None, 2).unwrap(),
            project_id,
            "a redeploy finds the project by name"
        );
        for workflow in &spec.workflows {
            let (_, version) =
                deploy::write_workflow_rows(db, &project_id, workflow, 1, &origin).unwrap();
            assert_eq!(version, 1);
        }
        let current = deploy::current_workflows(db, &project_id).unwrap();
        let read: Vec<&WorkflowSpec> = current.values().map(|(_, w)| w).collect();
        let mut written: Vec<&WorkflowSpec> = spec.workflows.iter().collect();
        written.sort_by(|a, b| a.key.cmp(&b.key));
        assert_eq!(read, written);

        // Changing a job writes version 2 of that workflow over the same rows.
        let mut changed = spec.workflows[0].clone();
        changed.jobs[0].body.push_str("\n// changed");
        changed.jobs.pop();
        changed
            .edges
            .retain(|e| changed.jobs.iter().any(|j| j.key == e.target_job));
        let (id, version) =
            deploy::write_workflow_rows(db, &project_id, &changed, 2, &origin).unwrap();
        assert_eq!(version, 2);
        assert_eq!(current[&changed.key].0, id);
        let current = deploy::current_workflows(db, &project_id).unwrap();
        assert_eq!(current[&changed.key].1, changed);
    });
}

/// A whole deploy (plan, project row, kept entries, workflows, audit, notices) in one
/// transaction, then the same file again, on each store backend.
#[test]
fn deploying_twice_changes_nothing_on_each_backend() {
    use crate::store::suite::on_each_backend;
    use bolt_sql::DbExt;

    let spec = parse(EXAMPLE).unwrap().spec;
    on_each_backend(|db| {
        let deploy = |spec: &ProjectSpec| -> Vec<bolt_shared::protocol::DeployChange> {
            db.in_transaction(|tx| apply(tx, spec, Some("project.yaml"), Default::default()))
                .unwrap()
        };
        let first = deploy(&spec);
        assert!(
            first
                .iter()
                .any(|c| c.action == "created" && c.what == "workflow"),
            "{first:?}"
        );
        assert!(deploy(&spec).is_empty());

        let mut changed = spec.clone();
        changed.workflows[0].jobs[0].body.push_str("\n// changed");
        let second = deploy(&changed);
        assert!(!second.is_empty());
        let project_id = crate::store::projects::id_by_name(db, &spec.name)
            .unwrap()
            .unwrap();
        let current = deploy::current_workflows(db, &project_id).unwrap();
        assert_eq!(current[&changed.workflows[0].key].1, changed.workflows[0]);
        let deployed_events: i64 = db
            .query_one(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'project.deploy'",
                bolt_sql::params![],
            )
            .unwrap();
        assert_eq!(deployed_events, 2);
    });
}
