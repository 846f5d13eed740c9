//! The audit log through the real binaries: every change records the Unix user on the
//! socket (a second user created for the test), webhooks their source address, `bolt
//! audit` filters, and `bolt audit verify` finds an edited or removed event.

#![allow(clippy::unwrap_used)] // test helpers: a failed step should stop the test at once

use bolt_e2e::{Daemon, ok, unix_user};
use bolt_sql::{DbExt, params};
use std::process::Output;

fn project(n: u32) -> String {
    format!(
        r#"
name: audited
workflows:
  pipeline:
    name: Pipeline
    jobs:
      fetch:
        name: Fetch
        body: |
          fn(state => ({{ ...state, n: {n} }}))
    triggers:
      hook: {{type: webhook, custom_path: audited}}
    edges:
      hook->fetch: {{source_trigger: hook, target_job: fetch, condition_type: always}}
"#
    )
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&ok(out)).unwrap()
}

/// (kind, actor, subject) of each event, oldest first.
fn events(list: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut all: Vec<(String, String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
                e["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    all.reverse();
    all
}

#[test]
fn changes_record_the_unix_user_on_the_socket_and_webhooks_their_address() {
    let Some(editor) = unix_user("bolt-e2e-audit-ed", &["bolt-e2e-audit"]) else {
        return;
    };
    let daemon = Daemon::start_with_config(&format!(
        "[access]\ngroup = \"bolt-e2e-audit\"\neditors = [\"{}\"]\n",
        editor.name
    ));
    // As root (boltd's own user here): two versions.
    daemon.deploy_text(&project(1));
    daemon.deploy_text(&project(2));
    let reply = daemon.post("/i/audited", r#"{"from": "outside"}"#);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let work_order = reply.json()["work_order_id"].as_str().unwrap().to_string();
    daemon.wait_work_order(&work_order);

    // As the second user: a rollback, a rerun and a manual run.
    ok(&daemon.bolt_as(&editor, &["rollback", "Pipeline", "--to", "1"]));
    ok(&daemon.bolt_as(&editor, &["rerun", &work_order]));
    ok(&daemon.bolt_as(&editor, &["trigger", "Pipeline"]));

    let versions = json(&daemon.bolt(&["versions", "Pipeline", "--json"]));
    let who: Vec<(i64, String)> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["actor"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        who,
        [
            (3, editor.name.clone()),
            (2, "root".to_string()),
            (1, "root".to_string())
        ]
    );

    let all = events(&json(&daemon.bolt(&["audit", "--json"])));
    let by_editor: Vec<&str> = all
        .iter()
        .filter(|(_, actor, _)| *actor == editor.name)
        .map(|(kind, _, _)| kind.as_str())
        .collect();
    assert_eq!(
        by_editor,
        [
            "workflow.rolled_back",
            "work_order.rerun",
            "workflow.triggered"
        ],
        "{all:?}"
    );
    assert!(
        all.iter()
            .any(|(kind, actor, subject)| kind == "workflow.deployed"
                && actor == "root"
                && subject == "pipeline"),
        "{all:?}"
    );

    // Filters: by actor, kind family and workflow (its runs included).
    let mine = events(&json(&daemon.bolt(&[
        "audit",
        "--actor",
        &editor.name,
        "--kind",
        "workflow",
        "--json",
    ])));
    let kinds: Vec<&str> = mine.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(kinds, ["workflow.rolled_back", "workflow.triggered"]);
    let pipeline = events(&json(&daemon.bolt(&[
        "audit",
        "--workflow",
        "Pipeline",
        "--json",
    ])));
    assert!(
        pipeline.iter().any(|(k, _, _)| k == "work_order.rerun"),
        "{pipeline:?}"
    );
    let table = ok(&daemon.bolt(&["audit", "--actor", &editor.name]));
    assert!(table.contains("workflow.rolled_back"), "{table}");

    // The webhook's work order keeps the address it came from.
    let source: String = daemon
        .database()
        .query_one(
            "SELECT source_address FROM work_orders WHERE id = ?1",
            params![work_order],
        )
        .unwrap();
    assert!(source.starts_with("127.0.0.1:"), "{source}");
    let shown = ok(&daemon.bolt(&["show", &work_order]));
    assert!(shown.contains(&format!("from {source}")), "{shown}");
}

#[test]
fn audit_verify_finds_an_edited_event_and_a_removed_one() {
    let mut daemon = Daemon::start();
    daemon.deploy_text(&project(1));
    daemon.deploy_text(&project(2));
    ok(&daemon.bolt_with_stdin(
        &["credential", "set", "api"],
        Some(r#"{"user": "u", "password": "secret-value"}"#),
    ));
    ok(&daemon.bolt(&["credential", "set", "api", "--field", "user=v"]));
    let intact = ok(&daemon.bolt(&["audit", "verify"]));
    assert!(intact.contains("audit chain intact"), "{intact}");
    let credential = events(&json(&daemon.bolt(&[
        "audit",
        "--credential",
        "api",
        "--json",
    ])));
    let kinds: Vec<&str> = credential.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(kinds, ["credential.created", "credential.updated"]);

    // Someone with the database in hand rewrites who deployed version 2.
    daemon.stop();
    let conn = daemon.database();
    let edited: i64 = conn
        .query_one(
            "SELECT id FROM audit_events WHERE action = 'workflow.deployed' ORDER BY id DESC LIMIT 1",
            params![],
        )
        .unwrap();
    let refused = conn
        .execute(
            "UPDATE audit_events SET actor = 'nobody' WHERE id = ?1",
            params![edited],
        )
        .unwrap_err()
        .to_string();
    assert!(refused.contains("append-only"), "{refused}");
    conn.execute_batch(&drop_trigger("audit_events_append_only_update"))
        .unwrap();
    conn.execute(
        "UPDATE audit_events SET actor = 'nobody' WHERE id = ?1",
        params![edited],
    )
    .unwrap();
    drop(conn);
    daemon.restart();
    let out = daemon.bolt(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!("broken at event {edited} (edited)")),
        "{said}"
    );

    // Put it back, then remove an event instead.
    daemon.stop();
    let conn = daemon.database();
    conn.execute(
        "UPDATE audit_events SET actor = 'root' WHERE id = ?1",
        params![edited],
    )
    .unwrap();
    conn.execute_batch(&drop_trigger("audit_events_append_only_delete"))
        .unwrap();
    conn.execute("DELETE FROM audit_events WHERE id = ?1", params![edited])
        .unwrap();
    drop(conn);
    daemon.restart();
    let out = daemon.bolt(&["audit", "verify", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["broken"]["id"], edited + 1);
    assert_eq!(report["broken"]["problem"], "gap");
    assert!(
        report["broken"]["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("event {edited} is missing")),
        "{report}"
    );
}

#[test]
fn a_cancel_is_recorded_with_its_workflow() {
    let daemon = Daemon::start();
    daemon.deploy_text(
        r#"
name: slow
workflows:
  waiting:
    name: Waiting
    jobs:
      wait:
        name: Wait
        body: |
          fn(state => new Promise(r => setTimeout(() => r(state), 20000)))
    triggers:
      hook: {type: webhook, custom_path: waiting}
    edges:
      hook->wait: {source_trigger: hook, target_job: wait, condition_type: always}
"#,
    );
    let triggered = json(&daemon.bolt(&["trigger", "Waiting", "--json"]));
    let work_order = triggered["work_order_id"].as_str().unwrap().to_string();
    ok(&daemon.bolt(&["cancel", &work_order]));
    let cancels =
        json(&daemon.bolt(&["audit", "--workflow", "Waiting", "--kind", "run", "--json"]));
    let cancel = &cancels.as_array().unwrap()[0];
    assert_eq!(cancel["kind"], "run.cancelled");
    assert_eq!(cancel["actor"], "root");
    assert_eq!(cancel["metadata"]["work_order"], work_order.as_str());
}

#[test]
fn audit_retention_purges_old_events_and_the_chain_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bolt.toml");
    std::fs::write(
        &config,
        "[audit]\nretention_days = 1\n[retention]\ninterval_secs = 1\n",
    )
    .unwrap();
    let daemon = Daemon::start_with_options(
        dir,
        bolt_e2e::Options {
            env: vec![
                ("BOLT_CONFIG".into(), config.to_string_lossy().into_owned()),
                // A retention "day" of two seconds.
                ("BOLT_RETENTION_DAY_SECS".into(), "2".into()),
            ],
            ..bolt_e2e::Options::default()
        },
    );
    daemon.deploy_text(&project(1));
    std::thread::sleep(std::time::Duration::from_millis(2500));
    daemon.deploy_text(&project(2));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let checkpoint = loop {
        let purged = json(&daemon.bolt(&["audit", "--kind", "audit.purged", "--json"]));
        if let Some(event) = purged.as_array().unwrap().first() {
            break event.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no purge happened");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(checkpoint["actor"], "boltd");
    let through = checkpoint["metadata"]["through_id"].as_i64().unwrap();
    assert!(through >= 2, "{checkpoint}");
    let left = json(&daemon.bolt(&["audit", "--json"]));
    assert!(
        left.as_array()
            .unwrap()
            .iter()
            .all(|e| e["id"].as_i64().unwrap() > through),
        "{left}"
    );
    let verified = json(&daemon.bolt(&["audit", "verify", "--json"]));
    assert_eq!(verified["broken"], serde_json::Value::Null, "{verified}");
    assert_eq!(verified["first_id"], through + 1);
}

/// `DROP TRIGGER` on audit_events in the store's dialect.
fn drop_trigger(name: &str) -> String {
    if bolt_e2e::on_postgres() {
        format!("DROP TRIGGER {name} ON audit_events")
    } else {
        format!("DROP TRIGGER {name}")
    }
}
