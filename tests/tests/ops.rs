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

/// A daemon with two finished work orders: one success, one failure.
fn seeded() -> (Daemon, Vec<String>) {
    let daemon = Daemon::start();
    daemon.deploy_text(PROJECT);
    let ids = vec![
        daemon.post_work_order("/i/orders", r#"{"id": 1}"#),
        daemon.post_work_order("/i/orders", r#"{"id": 2, "bad": true}"#),
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

#[test]
fn completions_and_the_man_page_come_from_the_command_line() {
    let daemon = Daemon::start();
    for (shell, marker) in [
        ("bash", "complete -F _bolt"),
        ("zsh", "#compdef bolt"),
        ("fish", "complete -c bolt"),
    ] {
        let out = daemon.bolt(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(marker), "{shell}: {text}");
        assert!(text.contains("failures"), "{shell} completes subcommands");
    }
    let out = daemon.bolt(&["completions", "tcsh"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bash"));

    let out = daemon.bolt(&["man"]);
    assert!(out.status.success());
    let roff = String::from_utf8_lossy(&out.stdout);
    assert!(
        roff.starts_with(".ie") || roff.contains(".TH bolt 1"),
        "{roff}"
    );
    assert!(roff.contains(".TH bolt 1"), "{roff}");
    assert!(
        roff.contains("completions"),
        "subcommands are listed: {roff}"
    );

    // A subcommand's own page has its flags; --dir writes one page per subcommand.
    let out = daemon.bolt(&["man", "runs"]);
    let roff = String::from_utf8_lossy(&out.stdout);
    assert!(roff.contains(".TH bolt-runs 1"), "{roff}");
    assert!(roff.contains("with\\-bodies"), "{roff}");
    let out = daemon.bolt(&["man", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no subcommand `nope`"));
    let pages = tempfile::tempdir().expect("temp dir");
    let out = daemon.bolt(&["man", "--dir", pages.path().to_str().expect("utf-8")]);
    assert!(out.status.success());
    for page in [
        "bolt.1",
        "bolt-runs.1",
        "bolt-adaptor-add.1",
        "bolt-input-rm.1",
    ] {
        assert!(pages.path().join(page).exists(), "{page}");
    }
}

#[test]
fn runs_export_streams_every_work_order_as_csv_and_jsonl_with_bodies() {
    let (daemon, ids) = seeded();
    // Pages of 500 while exporting: a third work order makes more than one page of 2.
    let third = daemon.post_work_order("/i/orders", r#"{"id": 3}"#);
    daemon.wait_work_order(&third);

    let out = daemon.bolt(&["runs", "--format", "csv", "--with-bodies"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "no progress on a pipe: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header[0], "id");
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 3);
    let failed = rows
        .iter()
        .find(|r| r[column("id")] == ids[1])
        .expect("the failed work order");
    assert_eq!(&failed[column("state")], "failed");
    assert_eq!(&failed[column("error_job")], "Check");
    assert!(failed[column("error_message")].contains("bad order 2"));
    let input: serde_json::Value =
        serde_json::from_str(&failed[column("input")]).expect("input is JSON");
    assert_eq!(
        input["data"]["bad"], true,
        "the input as the job saw it: {input}"
    );
    let ok = rows.iter().find(|r| r[column("id")] == ids[0]).expect("ok");
    let output: serde_json::Value =
        serde_json::from_str(&ok[column("output")]).expect("output is JSON");
    assert_eq!(output["data"]["id"], 1);

    // JSON lines, newest first, a --limit across pages and filters as `bolt runs` has them.
    let out = daemon.bolt(&["runs", "--format", "jsonl", "--limit", "2"]);
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], third.as_str());
    assert!(lines[0].get("input").is_none(), "bodies only when asked");
    let out = daemon.bolt(&[
        "runs",
        "--format",
        "jsonl",
        "--status",
        "failed",
        "--with-bodies",
    ]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["state"], "failed");
    assert_eq!(lines[0]["input"]["data"]["id"], 2);

    let out = daemon.bolt(&["runs", "--with-bodies"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format csv"));
}

#[test]
fn up_starts_boltd_on_the_given_address_and_reports_it_as_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    std::fs::write(dir.path().join("bolt.toml"), "").expect("config");
    let out = std::process::Command::new(bolt_e2e::bin("bolt"))
        .args(["up", "--http", &addr, "--json"])
        .env("BOLT_DATA_DIR", dir.path())
        .env("BOLT_CONFIG", dir.path().join("bolt.toml"))
        .env_remove("BOLT_SOCKET")
        .output()
        .expect("bolt up");
    let pid = std::fs::read_to_string(dir.path().join("boltd.pid")).unwrap_or_default();
    let stop = || {
        let _ = std::process::Command::new("kill").arg(pid.trim()).status();
    };
    if !out.status.success() {
        stop();
        panic!("{}", String::from_utf8_lossy(&out.stderr));
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        stop();
        panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout))
    });
    stop();
    assert_eq!(report["started"], true);
    assert_eq!(report["status"]["http_listen"], addr.as_str());
    let url = report["webhooks"][0]["url"].as_str().unwrap_or_default();
    assert!(url.starts_with(&format!("http://{addr}/i/")), "{report:#}");
}

/// The sample units give boltd longer to stop than it gives the runs under way, so systemd
/// never kills it mid-drain with the default config.
#[test]
fn the_sample_systemd_units_outlast_the_shutdown_grace() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let config = std::fs::read_to_string(root.join("config/bolt.toml")).expect("bolt.toml");
    let grace: u64 = config
        .lines()
        .find_map(|l| l.trim().strip_prefix("shutdown_grace_secs = "))
        .and_then(|v| v.trim().parse().ok())
        .expect("shutdown_grace_secs in bolt.toml");
    for unit in ["boltd.service", "boltd-user.service"] {
        let text = std::fs::read_to_string(root.join("config/systemd").join(unit)).expect(unit);
        let setting = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(str::trim)
                .unwrap_or_else(|| panic!("{unit}: no {key}"))
        };
        assert!(setting("ExecStart").ends_with("/boltd"), "{unit}");
        assert_eq!(setting("KillSignal"), "SIGTERM", "{unit}");
        let timeout: u64 = setting("TimeoutStopSec").parse().expect("seconds");
        assert!(
            timeout > grace,
            "{unit}: TimeoutStopSec {timeout} <= {grace}"
        );
    }
}

#[test]
fn adaptor_installs_through_boltd_are_counted() {
    use bolt_e2e::mock_registry::{MockPackage, MockRegistry};
    let registry = MockRegistry::start(&[MockPackage::new("@openfn/language-x", "1.0.0")]);
    let daemon = Daemon::start();
    let out = daemon.bolt(&["adaptor", "add", "x@1.0.0", "--registry", &registry.url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = daemon.bolt(&["adaptor", "add", "nope@1.0.0", "--registry", &registry.url]);
    assert!(!out.status.success());
    let scrape = scrape(&daemon);
    assert_eq!(
        number(
            &scrape,
            "bolt_adaptor_installs_total",
            &[("result", "installed")]
        ),
        1.0
    );
    assert_eq!(
        number(
            &scrape,
            "bolt_adaptor_installs_total",
            &[("result", "failed")]
        ),
        1.0
    );
}
