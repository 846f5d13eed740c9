//! Moving up: a SQLite store with a few thousand work orders, copied with `bolt store copy`
//! into PostgreSQL, then boltd started on the copy: `bolt runs` (pages, filters, search),
//! `bolt show`, `bolt logs` and `bolt failures` give the same answers as before, and new
//! webhooks go on from there. Skipped with a notice without `BOLT_TEST_POSTGRES_URL`.

use bolt_e2e::{Daemon, Options, ScratchDatabase, bin, ok, wait_until};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

const PROJECT: &str = r#"
name: desk
workflows:
  orders:
    name: Orders
    jobs:
      check:
        name: Check
        body: |
          fn(state => { console.log('order ' + state.data.id + ' for ' + state.data.item); if (state.data.bad) throw new Error('bad order ' + state.data.id); return { ...state, data: { ...state.data, checked: true } }; });
    triggers:
      webhook: {type: webhook, custom_path: orders}
    edges:
      webhook->check: {source_trigger: webhook, target_job: check, condition_type: always}
"#;

const WORK_ORDERS: usize = 2_000;

const ITEMS: &[&str] = &["malaria kit", "amoxicillin", "rapid test", "bed net"];

/// The answers a user reads, as JSON: pages, filters, search, a work order, its logs.
fn answers(daemon: &Daemon, failed_ref: &str) -> Vec<(String, serde_json::Value)> {
    let queries: Vec<Vec<&str>> = vec![
        vec!["runs", "--json", "--limit", "50"],
        vec!["runs", "--json", "--limit", "30", "--status", "failed"],
        vec!["runs", "--json", "--limit", "40", "--search", "malaria"],
        vec!["runs", "--json", "--limit", "40", "--search", "amox*"],
        vec!["runs", "--json", "--limit", "10", "--search", failed_ref],
        vec!["show", failed_ref, "--json"],
        vec!["logs", failed_ref, "--json"],
        vec!["failures", "--json", "--since", "1d"],
    ];
    queries
        .into_iter()
        .map(|args| {
            let out = ok(&daemon.bolt(&args));
            // One JSON document, or JSON lines (`bolt logs`).
            let value = serde_json::from_str(&out).unwrap_or_else(|_| {
                let lines = out.lines().filter(|l| !l.trim().is_empty()).map(|line| {
                    serde_json::from_str(line).unwrap_or_else(|e| {
                        panic!("`bolt {}` printed no JSON: {e}: {out}", args.join(" "))
                    })
                });
                serde_json::Value::Array(lines.collect())
            });
            (args.join(" "), value)
        })
        .collect()
}

fn all_final(daemon: &Daemon) -> bool {
    let status = daemon.bolt_json(&["status"]);
    status["queue_depth"] == 0 && status["running"] == 0
}

#[test]
fn a_copied_store_gives_the_same_answers_on_postgres() {
    if !bolt_e2e::sqlite_only("the source of the copy is a SQLite store") {
        return;
    }
    let Some(database) = ScratchDatabase::create() else {
        eprintln!("skipping the store copy round trip: BOLT_TEST_POSTGRES_URL is not set");
        return;
    };
    let mut source = Daemon::start();
    source.deploy_text(PROJECT);
    for i in 0..WORK_ORDERS {
        let body = format!(
            r#"{{"id": {i}, "item": "{}", "bad": {}}}"#,
            ITEMS[i % ITEMS.len()],
            i % 7 == 3
        );
        let reply = source.post("/i/orders", &body);
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    wait_until("every run finished", Duration::from_secs(180), || {
        all_final(&source).then_some(())
    });
    let failed = source.bolt_json(&["runs", "--limit", "1", "--status", "failed"]);
    let failed_ref = failed["rows"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a failed work order: {failed}"))
        .to_string();
    let before = answers(&source, &failed_ref);
    assert!(source.stop().success());

    let copied = Command::new(bin("bolt"))
        .args(["store", "copy", "--to", &database.url, "--data-dir"])
        .arg(source.data_dir())
        .env_remove("BOLT_CONFIG")
        .env_remove("BOLT_DATA_DIR")
        .output()
        .expect("run bolt store copy");
    let summary = ok(&copied);
    assert!(summary.contains("verified"), "{summary}");

    // A node on the copy, with the source's key (as every node needs).
    let node_dir = tempfile::tempdir().expect("temp dir");
    let data = node_dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    std::fs::copy(source.data_dir().join("bolt.key"), data.join("bolt.key")).expect("the key");
    let node = Daemon::start_with_options(
        node_dir,
        Options {
            data_dir: Some(data),
            store: Some(Arc::new(database)),
            ..Options::default()
        },
    );
    let after = answers(&node, &failed_ref);
    for ((what, was), (_, is)) in before.iter().zip(&after) {
        assert_eq!(was, is, "`bolt {what}` answers differently on PostgreSQL");
    }

    // It goes on from there: a new webhook is taken, run and found.
    let view = node.post_and_wait("/i/orders", r#"{"id": 99999, "item": "solar fridge"}"#);
    assert_eq!(
        serde_json::to_value(view.row.state).expect("a state"),
        "success"
    );
    let found = node.bolt_json(&["runs", "--search", "solar"]);
    assert!(found.to_string().contains(&view.row.id), "{found}");
    let status = node.bolt_json(&["status"]);
    assert_eq!(status["work_orders"], (WORK_ORDERS + 1) as u64);
}
