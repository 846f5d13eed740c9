#![allow(clippy::unwrap_used)]

use super::*;
use crate::project::{apply, parse_project};
use crate::store::Store;
use bolt_sql::DbExt;

fn project(body: &str, cron: &str) -> String {
    format!(
        "name: p\nworkflows:\n  w:\n    name: W\n    jobs:\n      a:\n        name: A\n        body: |\n          {body}\n      b:\n        name: B\n        credential: dhis2\n        body: fn(s => s)\n    triggers:\n      cron:\n        type: cron\n        cron_expression: '{cron}'\n    edges:\n      cron->a: {{source_trigger: cron, target_job: a, condition_type: always}}\n      a->b: {{source_job: a, target_job: b, condition_type: on_job_success}}\n"
    )
}

fn deploy(store: &Store, yaml: &str) {
    let no_files = |path: &str| Err(format!("no file {path}"));
    let spec = parse_project(yaml, "project.yaml", &no_files).unwrap().spec;
    store
        .writer
        .write_blocking(move |tx| apply(tx, &spec, Some("project.yaml"), Default::default()))
        .unwrap();
}

fn read<T: Send + 'static>(
    store: &Store,
    f: impl FnOnce(&dyn bolt_sql::Db) -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    store.readers.read_blocking(f)
}

#[test]
fn versions_list_who_how_and_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 1).unwrap();
    deploy(&store, &project("fn(s => 1)", "0 * * * *"));
    deploy(&store, &project("fn(s => 2)", "0 * * * *"));
    deploy(&store, &project("fn(s => 2)", "*/5 * * * *"));
    store
        .writer
        .write_blocking(|tx| crate::workflows::update_job(tx, "W", "a", "fn(s => 3)\n"))
        .unwrap();
    let list = read(&store, |c| list(c, "w")).unwrap();
    assert_eq!(list.current, 4);
    let seen: Vec<(i64, String, String)> = list
        .versions
        .iter()
        .map(|v| (v.version, v.origin.describe(), v.summary.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            (4, "job a edited".into(), "job A: code +1 -1".into()),
            (
                3,
                "deploy of project.yaml".into(),
                "trigger cron: cron_expression".into()
            ),
            (
                2,
                "deploy of project.yaml".into(),
                "job A: code +1 -1".into()
            ),
            (
                1,
                "deploy of project.yaml".into(),
                "created: 2 jobs, 1 trigger, 2 edges".into()
            ),
        ]
    );
    assert!(
        list.versions
            .iter()
            .all(|v| v.actor.as_deref() == Some("boltd"))
    );
    // By name, key, and PROJECT/WORKFLOW.
    assert_eq!(read(&store, |c| super::list(c, "p/W")).unwrap().current, 4);
}

#[test]
fn diff_defaults_to_the_last_change_and_names_bad_versions() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 1).unwrap();
    deploy(&store, &project("fn(s => 1)", "0 * * * *"));
    let err = read(&store, |c| diff(c, "w", None, None)).unwrap_err();
    assert!(err.to_string().contains("is its first"), "{err}");
    deploy(&store, &project("fn(s => 2)", "0 * * * *"));
    let d = read(&store, |c| diff(c, "w", None, None)).unwrap();
    assert_eq!((d.from, d.to), (1, 2));
    assert_eq!(d.jobs.len(), 1);
    assert!(
        d.jobs[0]
            .code
            .as_ref()
            .unwrap()
            .unified
            .contains("-fn(s => 1)\n+fn(s => 2)\n")
    );
    let err = read(&store, |c| diff(c, "w", Some(7), None)).unwrap_err();
    assert!(
        err.to_string()
            .contains("no version 7; its versions are 1 to 2"),
        "{err}"
    );
}

#[test]
fn rollback_writes_a_new_equal_version_and_keeps_history() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 1).unwrap();
    deploy(&store, &project("fn(s => 1)", "0 * * * *"));
    deploy(&store, &project("fn(s => 2)", "*/5 * * * *"));
    let report = store
        .writer
        .write_blocking(|tx| rollback(tx, "w", 1, None))
        .unwrap();
    assert_eq!(
        (report.from, report.to, report.new_version),
        (2, 1, Some(3))
    );
    assert_eq!(
        report.changes,
        ["job A: code +1 -1", "trigger cron: cron_expression"]
    );
    assert!(
        report.warnings[0].contains("credential `dhis2`"),
        "{:?}",
        report.warnings
    );
    let (v1, v3) = read(&store, |c| {
        let d = crate::workflows::find(c, "w")?;
        Ok((load(c, &d, 1)?, load(c, &d, 3)?))
    })
    .unwrap();
    assert_eq!(v1, v3);
    // The live rows follow: the trigger fires on the old schedule again.
    let cron: String = read(&store, |c| {
        Ok(c.query_one("SELECT cron_expression FROM triggers", &[])?)
    })
    .unwrap();
    assert_eq!(cron, "0 * * * *");
    let again = store
        .writer
        .write_blocking(|tx| rollback(tx, "w", 1, None))
        .unwrap();
    assert_eq!(again.new_version, None, "already equal: no new version");
    let audited: String = read(&store, |c| {
        Ok(c.query_one(
            "SELECT metadata FROM audit_events WHERE action = 'workflow.rolled_back'",
            &[],
        )?)
    })
    .unwrap();
    assert!(audited.contains("\"new_version\":3"), "{audited}");
    let list = read(&store, |c| list(c, "w")).unwrap();
    assert_eq!(
        list.versions[0].origin,
        VersionOrigin::Rollback { to: 1, job: None }
    );
}

#[test]
fn one_job_reverts_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 1).unwrap();
    deploy(&store, &project("fn(s => 1)", "0 * * * *"));
    deploy(&store, &project("fn(s => 2)", "*/5 * * * *"));
    let report = store
        .writer
        .write_blocking(|tx| rollback(tx, "w", 1, Some("A")))
        .unwrap();
    assert_eq!(report.job.as_deref(), Some("a"));
    assert_eq!(report.changes, ["job A: code +1 -1"]);
    let spec = read(&store, |c| Ok(crate::workflows::find(c, "w")?.spec)).unwrap();
    assert_eq!(spec.jobs[0].body, "fn(s => 1)\n");
    assert_eq!(
        spec.triggers[0].cron_expression.as_deref(),
        Some("*/5 * * * *")
    );
    let err = store
        .writer
        .write_blocking(|tx| rollback(tx, "w", 1, Some("zz")))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("has no job `zz`; its jobs were: a, b"),
        "{err}"
    );
}

/// Writes `yaml`'s project and workflows as a deploy does (without its audit and notices).
fn write_deploy(db: &dyn bolt_sql::Db, yaml: &str, now: i64) {
    let no_files = |path: &str| Err(format!("no file {path}"));
    let spec = parse_project(yaml, "project.yaml", &no_files).unwrap().spec;
    let origin = VersionOrigin::Deploy {
        file: Some("project.yaml".into()),
    };
    let project_id =
        crate::project::write_project_row(db, &spec, Some("project.yaml"), now).unwrap();
    for workflow in &spec.workflows {
        crate::project::write_workflow_rows(db, &project_id, workflow, now, &origin).unwrap();
    }
}

#[test]
fn versions_are_listed_loaded_and_compared_on_each_backend() {
    crate::store::suite::on_each_backend(|db| {
        write_deploy(db, &project("fn(s => 1)", "0 * * * *"), 1);
        let err = diff(db, "w", None, None).unwrap_err();
        assert!(err.to_string().contains("is its first"), "{err}");
        write_deploy(db, &project("fn(s => 2)", "*/5 * * * *"), 2);

        let listed = list(db, "p/W").unwrap();
        assert_eq!(listed.current, 2);
        let seen: Vec<(i64, String, String)> = listed
            .versions
            .iter()
            .map(|v| (v.version, v.origin.describe(), v.summary.clone()))
            .collect();
        assert_eq!(
            seen,
            [
                (
                    2,
                    "deploy of project.yaml".into(),
                    "job A: code +1 -1; trigger cron: cron_expression".into()
                ),
                (
                    1,
                    "deploy of project.yaml".into(),
                    "created: 2 jobs, 1 trigger, 2 edges".into()
                ),
            ]
        );

        let d = diff(db, "w", None, None).unwrap();
        assert_eq!((d.from, d.to), (1, 2));
        assert_eq!(d.jobs.len(), 1);
        let deployed = crate::workflows::find(db, "W").unwrap();
        assert_eq!(load(db, &deployed, 1).unwrap().jobs[0].body, "fn(s => 1)\n");
        let err = load(db, &deployed, 7).unwrap_err();
        assert!(
            err.to_string()
                .contains("no version 7; its versions are 1 to 2"),
            "{err}"
        );
        let (number, spec) = crate::workflows::version(db, &deployed.version_id).unwrap();
        assert_eq!((number, spec), (2, deployed.spec.clone()));
        assert!(matches!(
            crate::workflows::version(db, "missing"),
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(crate::workflows::all(db).unwrap().len(), 1);
    });
}

#[test]
fn rollback_edits_and_export_write_through_either_backend() {
    use bolt_sql::DbExt;
    crate::store::suite::on_each_backend(|db| {
        let no_files = |path: &str| Err(format!("no file {path}"));
        for body in ["fn(s => 1)", "fn(s => 2)"] {
            let spec = parse_project(&project(body, "0 * * * *"), "project.yaml", &no_files)
                .unwrap()
                .spec;
            db.in_transaction(|tx| apply(tx, &spec, Some("project.yaml"), Default::default()))
                .unwrap();
        }
        db.in_transaction(|tx| rollback(tx, "w", 1, None)).unwrap();
        let deployed = crate::workflows::find(db, "w").unwrap();
        assert_eq!(deployed.version, 3);
        assert_eq!(deployed.spec.jobs[0].body, "fn(s => 1)\n");

        let version = db
            .in_transaction(|tx| crate::workflows::update_job(tx, "W", "a", "fn(s => 3)\n"))
            .unwrap();
        assert_eq!(version, 4);
        db.in_transaction(|tx| crate::workflows::set_enabled(tx, "W", false))
            .unwrap();
        assert!(!crate::workflows::find(db, "w").unwrap().enabled);

        let yaml = crate::project::export_yaml(db, None).unwrap();
        assert!(yaml.contains("fn(s => 3)"), "{yaml}");
    });
}
