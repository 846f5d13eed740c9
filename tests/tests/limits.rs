//! Operator limits win over projects; log volume is capped per run; huge log lines and
//! dataclips are read back whole, in frames under the frame limit.

use bolt_e2e::Daemon;
use bolt_shared::model::*;
use bolt_shared::protocol::*;
use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

fn project(settings: &str, body: &str) -> String {
    format!(
        "name: limits\nworkflows:\n  w:\n{settings}    jobs:\n      j:\n        body: |\n          {body}\n    triggers:\n      webhook: {{type: webhook, custom_path: w}}\n    edges:\n      webhook->j: {{source_trigger: webhook, target_job: j, condition_type: always}}\n  other:\n    jobs:\n      quick:\n        body: fn(s => s)\n    triggers:\n      webhook: {{type: webhook, custom_path: other}}\n    edges:\n      webhook->quick: {{source_trigger: webhook, target_job: quick, condition_type: always}}\n"
    )
}

fn with_config(toml: &str) -> (tempfile::TempDir, Daemon) {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("bolt.toml");
    std::fs::write(&config, toml).expect("write config");
    let daemon = Daemon::start_with(&[("BOLT_CONFIG", config.to_str().expect("utf-8"))]);
    (dir, daemon)
}

fn deploy(daemon: &Daemon, yaml: &str) -> std::process::Output {
    let path = daemon.data_dir().join("project.yaml");
    std::fs::write(&path, yaml).expect("write project");
    daemon.bolt(&["deploy", path.to_str().expect("utf-8")])
}

/// Like `Daemon::wait_work_order`, for runs that take longer than its 30 s (a million
/// console.log calls in a debug build).
fn wait_long(daemon: &Daemon, id: &str, within: Duration) -> WorkOrderView {
    let deadline = std::time::Instant::now() + within;
    loop {
        let view = daemon.show(id);
        if view.row.state.is_final() && view.runs.iter().all(|r| r.state.is_final()) {
            return view;
        }
        assert!(std::time::Instant::now() < deadline, "{id} did not finish");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn work_order(reply: &bolt_e2e::HttpReply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["work_order_id"]
        .as_str()
        .expect("work_order_id")
        .to_string()
}

#[test]
fn a_project_can_lower_limits_but_never_raise_them_past_the_ceiling_nor_to_zero() {
    let (_config, daemon) = with_config(
        "[engine]\nmemory_limit_mb = 128\nrun_timeout_secs = 30\nmax_memory_limit_mb = 256\nmax_run_timeout_secs = 60\n",
    );
    let out = deploy(
        &daemon,
        &project(
            "    memory_limit_mb: 1000000\n    run_timeout_secs: 3600\n",
            "fn(s => s)",
        ),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("workflow `w`: `memory_limit_mb: 1000000` is above this boltd's ceiling of 256 MiB (engine.max_memory_limit_mb in bolt.toml)"),
        "{err}"
    );
    assert!(
        err.contains("workflow `w`: `run_timeout_secs: 3600` is above this boltd's ceiling of 60s (engine.max_run_timeout_secs in bolt.toml)"),
        "{err}"
    );
    assert!(err.contains("nothing was deployed"), "{err}");
    for zero in ["    memory_limit_mb: 0\n", "    run_timeout_secs: 0\n"] {
        let out = deploy(&daemon, &project(zero, "fn(s => s)"));
        assert!(!out.status.success(), "{zero}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("is 0, which would fail every run"), "{err}");
    }
    let workflows = daemon.bolt(&["workflows", "--json"]);
    assert_eq!(String::from_utf8_lossy(&workflows.stdout).trim(), "[]");

    // Lower is fine, and a run gets its workflow's lower limit.
    let out = deploy(
        &daemon,
        &project(
            "    run_timeout_secs: 1\n",
            "fn(async s => { await new Promise(r => setTimeout(r, 5000)); return s; })",
        ),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let view = daemon.wait_work_order(&work_order(&daemon.post("/i/w", "{}")));
    assert_eq!(
        view.runs[0].error_type.as_deref(),
        Some("TimeoutError"),
        "{view:?}"
    );
}

#[test]
fn a_million_log_lines_are_capped_with_a_notice_and_boltd_stays_responsive() {
    let (_config, daemon) =
        with_config("[logs]\nmax_lines_per_run = 1000\nmax_bytes_per_run = 10485760\n");
    let out = deploy(
        &daemon,
        &project(
            "",
            "fn(s => { for (let i = 0; i < 1000000; i++) console.log('line', i); return s; })",
        ),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = work_order(&daemon.post("/i/w", "{}"));
    // While it logs, boltd answers and takes other webhooks.
    std::thread::sleep(Duration::from_millis(500));
    let status = daemon.client().status().expect("status while the run logs");
    assert!(status.running <= 1);
    let other = daemon.wait_work_order(&work_order(&daemon.post("/i/other", "{}")));
    assert_eq!(other.row.state, WorkOrderState::Success);

    let started = std::time::Instant::now();
    let view = wait_long(&daemon, &id, Duration::from_secs(600));
    eprintln!(
        "the million-line run took {:?} to finish after the checks",
        started.elapsed()
    );
    assert_eq!(view.row.state, WorkOrderState::Success, "{view:?}");
    let run = &view.runs[0];
    // The runtime's own lines (step started, completed) count too.
    let dropped = run.logs_dropped.lines;
    assert!(
        (999_000..999_010).contains(&dropped),
        "{:?}",
        run.logs_dropped
    );

    let logs = daemon.bolt(&["logs", &id]);
    assert!(logs.status.success());
    let text = String::from_utf8_lossy(&logs.stdout);
    let lines: Vec<&str> = text.lines().collect();
    let kept: Vec<u64> = lines
        .iter()
        .filter(|l| l.contains("[JOB]"))
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    let stored = lines.iter().filter(|l| !l.contains("[BOLT]")).count();
    assert_eq!(stored, 1000, "the run's lines kept: {}", stored);
    // The first lines, then the last ones, each in order and without a gap.
    let split = kept.iter().position(|n| *n > 1000).expect("the last lines");
    assert_eq!(kept[0], 0);
    assert!(kept[..split].windows(2).all(|w| w[1] == w[0] + 1));
    assert!(kept[split..].windows(2).all(|w| w[1] == w[0] + 1));
    assert_eq!(*kept.last().expect("lines"), 999_999);
    let notice = lines
        .iter()
        .position(|l| l.contains(&format!("bolt dropped {} log lines", thousands(dropped))))
        .unwrap_or_else(|| panic!("no notice in {text}"));
    assert!(lines[notice].contains("[BOLT]"), "{}", lines[notice]);
    assert!(
        lines[notice + 1].ends_with(&format!("line {}", kept[split])),
        "the notice stands where the lines were dropped: {}",
        lines[notice + 1]
    );

    let shown = daemon.bolt(&["show", &id]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains(&format!("logs: {dropped} lines")), "{shown}");
    assert!(shown.contains("dropped"), "{shown}");

    // --limit stops early and says so.
    let limited = daemon.bolt(&["logs", &id, "--limit", "10"]);
    assert_eq!(String::from_utf8_lossy(&limited.stdout).lines().count(), 10);
    let err = String::from_utf8_lossy(&limited.stderr);
    assert!(err.contains("stopped after 10 lines (--limit)"), "{err}");
}

#[test]
fn bolt_logs_pages_through_more_than_one_answer_holds() {
    let daemon = Daemon::start();
    let out = deploy(
        &daemon,
        &project(
            "",
            "fn(s => { for (let i = 0; i < 25000; i++) console.log('n', i); return s; })",
        ),
    );
    assert!(out.status.success());
    let id = work_order(&daemon.post("/i/w", "{}"));
    // 25,000 lines take ~18 s on PostgreSQL alone (a round trip or more per line), longer
    // beside the million-line test.
    wait_long(&daemon, &id, Duration::from_secs(120));
    let logs = daemon.bolt(&["logs", &id, "--json"]);
    let count = String::from_utf8_lossy(&logs.stdout)
        .lines()
        .filter(|l| l.contains("\"JOB\""))
        .count();
    assert_eq!(count, 25000, "every line, past the 10,000 of one page");
    let err = String::from_utf8_lossy(&logs.stderr);
    assert!(!err.contains("stopped"), "{err}");
}

#[test]
fn a_20_mb_log_line_and_dataclip_are_read_back_whole_in_small_frames() {
    let (_config, daemon) = with_config(
        "[engine]\nmax_dataclip_bytes = 67108864\n[logs]\nmax_line_bytes = 33554432\nmax_bytes_per_run = 104857600\n",
    );
    let out = deploy(
        &daemon,
        &project(
            "",
            "fn(s => { const big = 'x'.repeat(20 * 1024 * 1024); console.log('start', big, 'end'); return { ...s, data: { big: big + 'tail' } }; })",
        ),
    );
    assert!(out.status.success());
    let id = work_order(&daemon.post("/i/w", "{}"));
    let view = daemon.wait_work_order(&id);
    assert_eq!(view.row.state, WorkOrderState::Success, "{view:?}");

    let logs = daemon.bolt(&["logs", &id]);
    assert!(
        logs.status.success(),
        "{}",
        String::from_utf8_lossy(&logs.stderr)
    );
    let text = String::from_utf8_lossy(&logs.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("start x"))
        .expect("the big line");
    assert!(line.ends_with("x end"), "the line is whole");
    assert!(line.len() > 20 * 1024 * 1024);

    let shown = daemon.bolt(&["show", &id, "--json"]);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("json");
    let body = shown["work_order"]["runs"][0]["steps"][0]["output"]["body"]
        .as_str()
        .expect("output body");
    assert!(body.len() > 20 * 1024 * 1024 && body.contains("xtail"));
    let plain = daemon.bolt(&["show", &id]);
    assert!(plain.status.success());
    assert!(plain.stdout.len() > 20 * 1024 * 1024);

    // On the wire every frame stays small: the answers come in parts.
    let stream = std::os::unix::net::UnixStream::connect(&daemon.socket).expect("socket");
    let mut writer = stream.try_clone().expect("clone");
    let mut reader = BufReader::new(stream);
    for frame in [
        ClientFrame::Hello {
            protocol: PROTOCOL_VERSION,
            client: "test".into(),
            parts: true,
        },
        ClientFrame::Request {
            id: 1,
            request: Request::Show {
                reference: id.clone(),
                bodies: true,
            },
        },
    ] {
        writer
            .write_all(&encode(&frame).expect("encode"))
            .expect("send");
    }
    let mut joined = String::new();
    let mut frames = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("read");
        assert!(
            line.len() <= 2 * PART_BYTES + 64,
            "a frame of {} bytes",
            line.len()
        );
        match serde_json::from_str::<ServerFrame>(&line).expect("frame") {
            ServerFrame::Hello { .. } => {}
            ServerFrame::Part { data, more } => {
                frames += 1;
                joined.push_str(&data);
                if !more {
                    break;
                }
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(frames >= 20, "{frames} parts");
    match serde_json::from_str::<ServerFrame>(&joined).expect("joined frame") {
        ServerFrame::Response { id: 1, response } => {
            assert!(matches!(*response, Response::Shown(_)));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_line_over_the_per_line_cap_is_cut_saying_so() {
    let daemon = Daemon::start();
    let out = deploy(
        &daemon,
        &project(
            "",
            "fn(s => { console.log('y'.repeat(3 * 1024 * 1024)); return s; })",
        ),
    );
    assert!(out.status.success());
    let id = work_order(&daemon.post("/i/w", "{}"));
    daemon.wait_work_order(&id);
    let logs = daemon.bolt(&["logs", &id]);
    let text = String::from_utf8_lossy(&logs.stdout);
    let line = text.lines().find(|l| l.contains("yyyy")).expect("the line");
    assert!(line.len() < 1024 * 1024 + 200, "{}", line.len());
    assert!(
        line.ends_with(
            "[bolt cut 2.0 MiB of this line: longer than logs.max_line_bytes = 1.0 MiB]"
        ),
        "{}",
        &line[line.len() - 120..]
    );
}
