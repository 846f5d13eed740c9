//! What an operator wires boltd into: `/metrics` for Prometheus, shell completions, the
//! man page, history export for spreadsheets and scripts.

use bolt_e2e::{Daemon, http};
use prometheus_parse::{Scrape, Value};

/// One job that succeeds, one whose step fails.
const PROJECT: &str = r#"
name: ops
workflows:
  orders:
    name: Orders
    jobs:
      check:
        name: Check
        body: |
          fn(state => { if (state.data.bad) throw new Error('bad order ' + state.data.id); return state; });
    triggers:
      webhook: {type: webhook, custom_path: orders}
    edges:
      webhook->check: {source_trigger: webhook, target_job: check, condition_type: always}
"#;

fn post(daemon: &Daemon, body: &str) -> String {
    let reply = daemon.post("/i/orders", body);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["work_order_id"]
        .as_str()
        .expect("work order id")
        .to_string()
}

/// A daemon with two finished work orders: one success, one failure.
fn seeded() -> (Daemon, Vec<String>) {
    let daemon = Daemon::start();
    daemon.deploy_text(PROJECT);
    let ids = vec![
        post(&daemon, r#"{"id": 1}"#),
        post(&daemon, r#"{"id": 2, "bad": true}"#),
    ];
    for id in &ids {
        daemon.wait_work_order(id);
    }
    (daemon, ids)
}

fn scrape(daemon: &Daemon) -> Scrape {
    let reply = http(&daemon.http, "GET", "/metrics", &[], b"");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let content_type = reply
        .headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    Scrape::parse(reply.body.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text format")
}

/// The value of `name` whose labels include all of `labels`.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<Value> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| s.value.clone())
}

fn number(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    match value(scrape, name, labels) {
        Some(Value::Counter(n) | Value::Gauge(n) | Value::Untyped(n)) => n,
        other => panic!("{name} {labels:?}: {other:?}"),
    }
}

fn histogram_count(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> u64 {
    match value(scrape, name, labels) {
        Some(Value::Histogram(buckets)) => {
            buckets.iter().map(|b| b.count as u64).max().unwrap_or(0)
        }
        other => panic!("{name} {labels:?}: {other:?}"),
    }
}

#[test]
fn metrics_parse_as_prometheus_text_and_count_what_happened() {
    let (daemon, _) = seeded();
    let scrape = scrape(&daemon);

    assert_eq!(number(&scrape, "bolt_queue_depth", &[]), 0.0);
    assert_eq!(
        number(&scrape, "bolt_runs", &[("state", "started")]),
        0.0,
        "nothing is running once both work orders finished"
    );
    assert_eq!(
        number(&scrape, "bolt_work_orders", &[("state", "success")]),
        1.0
    );
    assert_eq!(
        number(&scrape, "bolt_work_orders", &[("state", "failed")]),
        1.0
    );
    assert_eq!(
        number(&scrape, "bolt_runs_finished_total", &[("state", "success")]),
        1.0
    );
    assert_eq!(
        number(&scrape, "bolt_runs_finished_total", &[("state", "failed")]),
        1.0
    );
    assert_eq!(
        histogram_count(&scrape, "bolt_run_duration_seconds", &[("state", "failed")]),
        1
    );
    assert_eq!(
        histogram_count(
            &scrape,
            "bolt_step_duration_seconds",
            &[("exit_reason", "success")]
        ),
        1
    );
    assert_eq!(
        histogram_count(
            &scrape,
            "bolt_step_duration_seconds",
            &[("exit_reason", "fail")]
        ),
        1
    );
    assert_eq!(
        histogram_count(
            &scrape,
            "bolt_webhook_request_duration_seconds",
            &[("status", "200")]
        ),
        2
    );
    assert!(histogram_count(&scrape, "bolt_store_write_seconds", &[]) >= 2);
    assert!(histogram_count(&scrape, "bolt_store_fsync_seconds", &[]) >= 1);
    assert_eq!(
        number(
            &scrape,
            "bolt_adaptor_installs_total",
            &[("result", "installed")]
        ),
        0.0
    );
    assert!(number(&scrape, "bolt_workers", &[]) >= 1.0);

    // An unknown webhook is timed under its own status.
    let reply = daemon.post("/i/nowhere", "{}");
    assert_eq!(reply.status, 404);
    let scrape = self::scrape(&daemon);
    assert_eq!(
        histogram_count(
            &scrape,
            "bolt_webhook_request_duration_seconds",
            &[("status", "404")]
        ),
        1
    );
}
