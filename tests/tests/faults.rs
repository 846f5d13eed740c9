//! Faults that must not stop boltd: a stderr that refuses every write, and a disk that
//! fills up under webhook load and then has space again.

use bolt_e2e::disk::{Tmpfs, fill};
use bolt_e2e::{Daemon, Options, is_root};
use bolt_shared::model::{RunState, WorkOrderState};
use serde_json::json;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

const PROJECT: &str = r#"
name: faults
workflows:
  intake:
    name: Intake
    jobs:
      keep:
        name: Keep
        adaptor: '@openfn/language-common@3.3.4'
        body: |
          fn(state => { console.log('kept', state.data.n); return state; });
    triggers:
      webhook:
        type: webhook
        custom_path: intake
    edges:
      webhook->keep:
        source_trigger: webhook
        target_job: keep
        condition_type: always
  slow:
    name: Slow
    jobs:
      wait:
        name: Wait
        adaptor: '@openfn/language-common@3.3.4'
        body: |
          fn(state => { console.log('waiting'); const end = Date.now() + 3000; while (Date.now() < end) {} return { ...state, data: { waited: true } }; });
    triggers:
      webhook:
        type: webhook
        custom_path: slow
    edges:
      webhook->wait:
        source_trigger: webhook
        target_job: wait
        condition_type: always
"#;

fn dev_full() -> Stdio {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::null())
}

fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Stdio::from(writer)
}

/// boltd whose every stderr write fails serves webhooks, runs, `bolt trigger`, `bolt
/// status` (which counts the lines it dropped) and stops at once when asked.
fn serves_with_a_broken_stderr(stderr: fn() -> Stdio) {
    let mut daemon = Daemon::start_with_options(
        tempfile::tempdir().expect("temp dir"),
        Options {
            env: vec![("RUST_LOG".into(), "debug".into())],
            stderr: Some(stderr),
            ..Options::default()
        },
    );
    daemon.deploy_text(PROJECT);
    let ids: Vec<String> = (0..20)
        .map(|n| {
            let reply = daemon.post("/i/intake", &json!({ "n": n }).to_string());
            assert_eq!(reply.status, 200, "{}", reply.body);
            reply.work_order_id()
        })
        .collect();
    for id in &ids {
        assert_eq!(
            daemon.wait_work_order(id).row.state,
            WorkOrderState::Success
        );
    }
    let triggered = daemon.bolt(&["trigger", "intake", "--wait", "--json"]);
    assert!(
        triggered.status.success(),
        "{}",
        String::from_utf8_lossy(&triggered.stderr)
    );
    let status = daemon.bolt_json(&["status"]);
    assert!(
        status["log_lines_dropped"].as_u64().unwrap_or(0) > 0,
        "{status}"
    );
    assert_eq!(status["store_health"]["writable"], true, "{status}");
    let text = daemon.bolt(&["status"]);
    assert!(
        String::from_utf8_lossy(&text.stdout)
            .contains("lines could not be written to boltd's stderr"),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
    let asked = Instant::now();
    let stop = daemon.bolt(&["stop"]);
    assert!(
        stop.status.success(),
        "{}",
        String::from_utf8_lossy(&stop.stderr)
    );
    assert!(daemon.wait_exited(Duration::from_secs(15)).success());
    assert!(asked.elapsed() < Duration::from_secs(15));
}

#[test]
fn boltd_with_stderr_on_dev_full_serves_webhooks_runs_and_stops() {
    serves_with_a_broken_stderr(dev_full);
}

#[test]
fn boltd_with_stderr_a_closed_pipe_serves_webhooks_runs_and_stops() {
    serves_with_a_broken_stderr(closed_pipe);
}

/// The disk fills up under webhook load: boltd answers 503 (with Retry-After, saying why)
/// and acknowledges nothing it could not store, `bolt status` says the store refuses
/// writes, why and what to do; once space is freed it takes writes again without a
/// restart, every acknowledged request has its work order, and a run whose records the
/// disk refused runs again and succeeds.
#[test]
fn a_full_disk_refuses_webhooks_then_resumes_without_losing_acknowledged_work() {
    let Some(mut on_disk) = SmallDisk::start() else {
        return;
    };
    let (daemon, disk, data) = (&mut on_disk.daemon, &on_disk.disk, on_disk.data.clone());
    let mut acked: Vec<String> = Vec::new();
    for n in 0..5 {
        let reply = daemon.post("/i/intake", &json!({ "n": n }).to_string());
        assert_eq!(reply.status, 200, "{}", reply.body);
        acked.push(reply.work_order_id());
    }

    // A run under way when the disk fills: its records will be refused.
    let slow = start_slow_run(daemon);

    let filler = disk.path.join("filler");
    fill(&filler);
    let body =
        json!({ "n": "x", "notes": "a clinic visit with a long free-text note ".repeat(200) })
            .to_string();
    let (mut refused, mut in_a_row) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while in_a_row < 5 {
        assert!(Instant::now() < deadline, "no 503 while the disk is full");
        let reply = daemon.post("/i/intake", &body);
        match reply.status {
            200 => {
                acked.push(reply.work_order_id());
                in_a_row = 0;
            }
            503 => {
                refused += 1;
                in_a_row += 1;
                let retry_after = reply
                    .headers
                    .iter()
                    .find(|(name, _)| name == "retry-after")
                    .map(|(_, value)| value.as_str());
                assert_eq!(retry_after, Some("10"), "{:?}", reply.headers);
                let message = reply.json()["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase();
                assert!(message.contains("disk is full"), "{message}");
                assert!(
                    message.contains("nothing of this request was kept"),
                    "{message}"
                );
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert!(refused >= 5);

    let status = daemon.bolt_json(&["status"]);
    let health = &status["store_health"];
    assert_eq!(health["writable"], false, "{status}");
    assert!(health["refusing_since"].is_string(), "{status}");
    let reason = health["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("the disk is full"), "{status}");
    assert!(
        reason.contains("No space left on device (os error 28)"),
        "the OS error: {status}"
    );
    assert!(
        health["advice"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!(
                "free space on the filesystem of {}",
                data.display()
            )),
        "{status}"
    );
    let text = String::from_utf8_lossy(&daemon.bolt(&["status"]).stdout).into_owned();
    assert!(text.contains("REFUSING WRITES since"), "{text}");
    assert!(text.contains("what to do: free space"), "{text}");
    // Manual triggers are refused at once, saying why, rather than hanging.
    let asked = Instant::now();
    let trigger = daemon.bolt(&["trigger", "intake"]);
    assert!(!trigger.status.success());
    assert!(
        String::from_utf8_lossy(&trigger.stderr).contains("not storing anything"),
        "{}",
        String::from_utf8_lossy(&trigger.stderr)
    );
    assert!(asked.elapsed() < Duration::from_secs(5));
    // Reads go on.
    assert!(daemon.bolt(&["runs"]).status.success());

    // Let the slow run end while writes are refused.
    until_its_run_waits_for_the_store(daemon, &slow);
    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = daemon.post("/i/intake", &json!({ "n": "after" }).to_string());
        if reply.status == 200 {
            acked.push(reply.work_order_id());
            break;
        }
        assert_eq!(reply.status, 503, "{}", reply.body);
        assert!(
            Instant::now() < deadline,
            "writes did not resume after space was freed: {}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = daemon.bolt_json(&["status"]);
    assert_eq!(status["store_health"]["writable"], true, "{status}");
    assert!(
        status["store_health"]["faults"].as_u64().unwrap_or(0) >= 1,
        "{status}"
    );

    for id in &acked {
        let view = daemon.wait_work_order(id);
        assert_eq!(view.row.state, WorkOrderState::Success, "{id}: {view:?}");
    }
    let slow_view = daemon.wait_work_order(&slow);
    assert_eq!(
        slow_view.row.state,
        WorkOrderState::Success,
        "{slow_view:?}"
    );
    // Newest first: the run queued again succeeded; the one the disk failed says why.
    let [again, first] = slow_view.runs.as_slice() else {
        panic!("two runs: {slow_view:?}");
    };
    assert_eq!(first.state, RunState::Exception, "{slow_view:?}");
    assert_eq!(first.error_type.as_deref(), Some("StoreError"));
    assert_eq!(again.state, RunState::Success, "{slow_view:?}");
    assert_eq!(
        again.attempt, first.attempt,
        "not counted against the retry policy"
    );

    // Nothing acknowledged is lost across a crash either, and nothing refused was kept.
    daemon.kill9();
    daemon.restart();
    for id in &acked {
        assert_eq!(daemon.show(id).row.id, *id);
    }
    let listed = daemon.bolt_json(&["runs", "--workflow", "intake", "--limit", "500"]);
    let rows = listed["rows"].as_array().map(Vec::len);
    assert_eq!(
        rows,
        Some(acked.len()),
        "no work order beyond the acknowledged ones"
    );
}

/// `bolt stop` while the disk is full and a run waits to be recorded: boltd stops at once
/// (not after its 30 s grace), and the next start queues the run again although the
/// workflow has no retries: the run was acknowledged and boltd failed it, not the job.
#[test]
fn bolt_stop_does_not_wait_for_a_run_the_full_disk_holds_up() {
    let Some(mut on_disk) = SmallDisk::start() else {
        return;
    };
    let daemon = &mut on_disk.daemon;
    let slow = start_slow_run(daemon);
    let filler = on_disk.disk.path.join("filler");
    fill(&filler);
    let body = json!({ "notes": "a long note ".repeat(1000) }).to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    while daemon.post("/i/intake", &body).status != 503 {
        assert!(Instant::now() < deadline, "no 503 while the disk is full");
    }
    // The slow run's job ends; its records wait for the disk.
    until_its_run_waits_for_the_store(daemon, &slow);
    // The slow run, and any run of a request acknowledged before the disk filled.
    let running = daemon.bolt_json(&["status"])["running"]
        .as_u64()
        .unwrap_or(0);
    assert!(running >= 1, "{running}");
    let asked = Instant::now();
    let stop = daemon.bolt(&["stop"]);
    assert!(
        stop.status.success(),
        "{}",
        String::from_utf8_lossy(&stop.stderr)
    );
    assert!(daemon.wait_exited(Duration::from_secs(10)).success());
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "{:?}",
        asked.elapsed()
    );
    std::fs::remove_file(&filler).unwrap();
    daemon.restart();
    assert_requeued_and_succeeded(daemon, &slow);
}

/// The same, when boltd is killed (`kill -9`) while the run waits for the disk.
#[test]
fn a_run_the_full_disk_held_up_runs_again_after_a_kill() {
    let Some(mut on_disk) = SmallDisk::start() else {
        return;
    };
    let daemon = &mut on_disk.daemon;
    let slow = start_slow_run(daemon);
    let filler = on_disk.disk.path.join("filler");
    fill(&filler);
    until_its_run_waits_for_the_store(daemon, &slow);
    daemon.kill9();
    std::fs::remove_file(&filler).unwrap();
    daemon.restart();
    assert_requeued_and_succeeded(daemon, &slow);
}

/// boltd started on a disk that is already full: it starts, refuses writes (webhooks 503,
/// `bolt status` says why) and serves reads, then takes writes and runs work once space
/// is freed, without a restart.
#[test]
fn boltd_started_on_a_full_disk_refuses_writes_then_resumes() {
    let Some(mut on_disk) = SmallDisk::start() else {
        return;
    };
    let daemon = &mut on_disk.daemon;
    let before = daemon.post_work_order("/i/intake", r#"{"n": "before"}"#);
    daemon.wait_work_order(&before);
    assert!(daemon.stop().success());
    let filler = on_disk.disk.path.join("filler");
    fill(&filler);
    daemon.restart();

    let body = json!({ "n": "x", "notes": "a long note ".repeat(1000) }).to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = daemon.post("/i/intake", &body);
        if reply.status == 503 {
            break;
        }
        // Small bodies may still fit in pages SQLite already has.
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(Instant::now() < deadline, "no 503 on a full disk");
    }
    let status = daemon.bolt_json(&["status"]);
    assert_eq!(status["store_health"]["writable"], false, "{status}");
    assert_eq!(daemon.show(&before).row.state, WorkOrderState::Success);

    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let after = loop {
        let reply = daemon.post("/i/intake", r#"{"n": "after"}"#);
        if reply.status == 200 {
            break reply.work_order_id();
        }
        assert_eq!(reply.status, 503, "{}", reply.body);
        assert!(
            Instant::now() < deadline,
            "writes did not resume after space was freed: {}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let view = daemon.wait_work_order(&after);
    assert_eq!(view.row.state, WorkOrderState::Success, "{view:?}");
}

/// The slow work order's first run ended as unrecorded and a run queued again at the same
/// attempt succeeded.
fn assert_requeued_and_succeeded(daemon: &Daemon, id: &str) {
    let view = daemon.wait_work_order(id);
    assert_eq!(view.row.state, WorkOrderState::Success, "{view:?}");
    let [again, first] = view.runs.as_slice() else {
        panic!("two runs: {view:?}");
    };
    assert_eq!(first.state, RunState::Exception, "{view:?}");
    assert_eq!(first.error_type.as_deref(), Some("StoreError"), "{view:?}");
    assert_eq!(again.state, RunState::Success, "{view:?}");
    assert_eq!(again.attempt, first.attempt, "not counted as a retry");
}

/// boltd on a small tmpfs of its own, with the project deployed. Dropped in field order:
/// boltd stops before the filesystem is unmounted.
struct SmallDisk {
    daemon: Daemon,
    disk: Tmpfs,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` (with a notice) when not root or the mount fails.
    fn start() -> Option<SmallDisk> {
        if !bolt_e2e::sqlite_only("a full disk under the data dir fails the store's writes") {
            return None;
        }
        if !is_root() {
            eprintln!("not root: skipping a disk-full test (it mounts a small tmpfs)");
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let Some(disk) = Tmpfs::mount(&dir.path().join("disk"), "16m") else {
            eprintln!("cannot mount a tmpfs: skipping a disk-full test");
            return None;
        };
        let data = disk.path.join("data");
        let daemon = Daemon::start_with_options(
            tempfile::tempdir().expect("temp dir"),
            Options {
                data_dir: Some(data.clone()),
                ..Options::default()
            },
        );
        daemon.deploy_text(PROJECT);
        Some(SmallDisk {
            daemon,
            disk,
            data,
            _dir: dir,
        })
    }
}

/// Waits until boltd says the first run of work order `id` had its records refused (its
/// job has ended).
fn until_its_run_waits_for_the_store(daemon: &Daemon, id: &str) {
    let run = daemon.show(id).runs[0].id.clone();
    let said = format!(
        "the store refused this run's records: it runs again once the store takes writes run={run}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !daemon.log().contains(&said) {
        assert!(
            Instant::now() < deadline,
            "no run waits for the store: {}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Posts to the slow workflow and waits until its run has started (its job takes 3 s).
fn start_slow_run(daemon: &Daemon) -> String {
    let slow = daemon.post_work_order("/i/slow", "{}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while daemon.show(&slow).runs.first().map(|r| r.state) != Some(RunState::Started) {
        assert!(Instant::now() < deadline, "the slow run did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    slow
}
