//! Projects deployed as code run themselves — webhooks, cron, manual runs,
//! credentials, restart safety — through the real binaries and real HTTP.

use bolt_e2e::{Daemon, http};
use bolt_shared::model::*;
use bolt_shared::protocol::*;
use std::time::{Duration, Instant};

const EXAMPLE: &str = include_str!("../../config/example-project.yaml");

const PIPELINE: &str = r#"
name: e2e
workflows:
  pipeline:
    name: Pipeline
    jobs:
      fetch:
        name: Fetch
        adaptor: '@openfn/language-common@3.3.4'
        body: |
          fn(state => { console.log('fetched', state.data.id); return { ...state, data: { ...state.data, fetched: true } }; });
      check:
        name: Check
        adaptor: '@openfn/language-common@3.3.4'
        body: |
          fn(state => { if (state.data.bad) throw new Error('record ' + state.data.id + ' is bad'); return state; });
      report:
        name: Report
        adaptor: '@openfn/language-common@3.3.4'
        body: |
          fn(state => ({ ...state, data: { reported: state.errors.check.message } }));
      store:
        name: Store
        adaptor: '@openfn/language-common@3.3.4'
        body: |
          fn(state => ({ ...state, data: { stored: state.data.id } }));
    triggers:
      webhook:
        type: webhook
        custom_path: pipeline
    edges:
      webhook->fetch:
        source_trigger: webhook
        target_job: fetch
        condition_type: always
      fetch->check:
        source_job: fetch
        target_job: check
        condition_type: on_job_success
      check->report:
        source_job: check
        target_job: report
        condition_type: on_job_failure
      check->store:
        source_job: check
        target_job: store
        condition_type: on_job_success
  crashy:
    name: Crashy
    jobs:
      first:
        name: First
        body: fn(state => state)
      broken:
        name: Broken
        body: |
          fn(state => { return notDefinedAnywhere(state); })
      last:
        name: Last
        body: |
          fn(state => ({ ...state, last: true }))
    triggers:
      webhook:
        type: webhook
        custom_path: crashy
    edges:
      webhook->first: {source_trigger: webhook, target_job: first, condition_type: always}
      first->broken: {source_job: first, target_job: broken, condition_type: always}
      broken->last: {source_job: broken, target_job: last, condition_type: always}
  closed:
    name: Closed
    jobs:
      only:
        name: Only
        body: fn(state => state)
    triggers:
      webhook:
        type: webhook
        enabled: false
        custom_path: closed
    edges:
      webhook->only: {source_trigger: webhook, target_job: only, condition_type: always}
"#;

fn count_work_orders(daemon: &Daemon) -> u64 {
    daemon.client().status().expect("status").work_orders
}

#[test]
fn webhook_run_stores_every_step_with_input_output_and_logs() {
    let daemon = Daemon::start();
    daemon.deploy_text(EXAMPLE);
    let reply = daemon.post(
        "/i/visits",
        r#"{"patient_id": "P-0042", "clinic": "Hill", "items": [{"code": "rdt", "qty": 2}]}"#,
    );
    let id = reply.work_order_id();
    assert!(reply.headers.iter().any(|(k, _)| k == "x-meta-run-id"));
    let view = daemon.wait_work_order(&id);
    assert_eq!(view.row.state, WorkOrderState::Success);
    let run = &view.runs[0];
    let jobs: Vec<&str> = run.steps.iter().map(|s| s.job_id.as_str()).collect();
    assert_eq!(jobs, ["validate-visit", "summarise-visit"]);
    let input: serde_json::Value =
        serde_json::from_str(run.steps[0].input.as_ref().unwrap().body.as_ref().unwrap()).unwrap();
    assert_eq!(input["data"]["patient_id"], "P-0042");
    assert_eq!(input["request"]["method"], "POST");
    let output: serde_json::Value =
        serde_json::from_str(run.steps[1].output.as_ref().unwrap().body.as_ref().unwrap()).unwrap();
    assert_eq!(
        output["data"],
        serde_json::json!({"patient_id": "P-0042", "clinic": "Hill", "lines": 1, "units": 2})
    );
    let logs = match daemon.request(Request::Logs {
        reference: id.clone(),
        level: None,
        after_id: None,
    }) {
        Response::Logs { lines, .. } => lines,
        other => panic!("{other:?}"),
    };
    assert!(
        logs.iter()
            .any(|l| l.source == "JOB" && l.message.contains("visit for P-0042 at Hill is valid")),
        "{logs:#?}"
    );
    assert!(
        logs.iter()
            .any(|l| l.message.contains("P-0042: 1 item lines, 2 units"))
    );
}

#[test]
fn failing_middle_step_follows_the_failure_edge_and_the_work_order_succeeds() {
    let daemon = Daemon::start();
    daemon.deploy_text(PIPELINE);
    let good = daemon.post_work_order("/i/pipeline", r#"{"id": "A1"}"#);
    let bad = daemon.post_work_order("/i/pipeline", r#"{"id": "B2", "bad": true}"#);
    let good = daemon.wait_work_order(&good);
    let bad = daemon.wait_work_order(&bad);
    let jobs = |v: &WorkOrderView| {
        v.runs[0]
            .steps
            .iter()
            .map(|s| (s.job_id.clone(), s.exit_reason))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        jobs(&good),
        [
            ("fetch".into(), Some(ExitReason::Success)),
            ("check".into(), Some(ExitReason::Success)),
            ("store".into(), Some(ExitReason::Success))
        ]
    );
    assert_eq!(
        jobs(&bad),
        [
            ("fetch".into(), Some(ExitReason::Success)),
            ("check".into(), Some(ExitReason::Fail)),
            ("report".into(), Some(ExitReason::Success))
        ]
    );
    assert_eq!(
        bad.row.state,
        WorkOrderState::Success,
        "a handled failure is not a failed work order (Lightning's rule)"
    );
    let check = &bad.runs[0].steps[1];
    assert_eq!(check.error_type.as_deref(), Some("JobError"));
    assert_eq!(check.error_message.as_deref(), Some("record B2 is bad"));
}

#[test]
fn a_crash_aborts_the_run() {
    let daemon = Daemon::start();
    daemon.deploy_text(PIPELINE);
    let id = daemon.post_work_order("/i/crashy", "{}");
    let view = daemon.wait_work_order(&id);
    assert_eq!(view.row.state, WorkOrderState::Crashed);
    let steps: Vec<&str> = view.runs[0]
        .steps
        .iter()
        .map(|s| s.job_id.as_str())
        .collect();
    assert_eq!(
        steps,
        ["first", "broken"],
        "the step after the crash never runs"
    );
    assert_eq!(
        view.runs[0].steps[1].error_type.as_deref(),
        Some("ReferenceError")
    );
    let error = view.row.first_error.expect("first error");
    assert!(
        error
            .message
            .unwrap_or_default()
            .contains("notDefinedAnywhere")
    );
}

#[test]
fn webhook_status_codes_follow_lightning_and_rejected_bodies_leave_nothing() {
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), "[http]\nmax_body_bytes = 1000\n").unwrap();
    let daemon = Daemon::start_with(&[("BOLT_CONFIG", config.path().to_str().unwrap())]);
    daemon.deploy_text(PIPELINE);
    let get = http(&daemon.http, "GET", "/i/pipeline", &[], b"");
    assert_eq!(get.status, 200);
    assert!(get.body.contains("POST"), "{}", get.body);
    assert_eq!(daemon.post("/i/no-such-hook", "{}").status, 404);
    assert_eq!(daemon.post("/i/closed", "{}").status, 403);
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(5000));
    let too_large = daemon.post("/i/pipeline", &big);
    assert_eq!(too_large.status, 413, "{}", too_large.body);
    let not_json = daemon.post("/i/pipeline", "{\"unclosed\": ");
    assert_eq!(not_json.status, 415);
    assert!(
        not_json.json()["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
    let xml = http(
        &daemon.http,
        "POST",
        "/i/pipeline",
        &[("content-type", "application/xml")],
        b"<a/>",
    );
    assert_eq!(xml.status, 415);
    assert_eq!(
        count_work_orders(&daemon),
        0,
        "refused requests leave no work order behind"
    );
    // The trigger id works as well as the custom path, and extra path and query are kept.
    let workflows = match daemon.request(Request::ListWorkflows) {
        Response::Workflows { workflows } => workflows,
        other => panic!("{other:?}"),
    };
    let trigger = &workflows
        .iter()
        .find(|w| w.key == "pipeline")
        .unwrap()
        .triggers[0];
    let id = daemon.post_work_order(
        &format!("/i/{}/clinic/7?src=hill", trigger.id),
        r#"{"id": "C3"}"#,
    );
    let view = daemon.wait_work_order(&id);
    let input: serde_json::Value =
        serde_json::from_str(view.input.unwrap().body.as_deref().unwrap()).unwrap();
    assert_eq!(input["request"]["path"], serde_json::json!(["clinic", "7"]));
    assert_eq!(input["request"]["query_params"]["src"], "hill");
}

#[test]
fn webhook_auth_api_key_and_basic() {
    let daemon = Daemon::start();
    let out = daemon.bolt_with_stdin(
        &["credential", "set", "hook-key"],
        Some(r#"{"api_key": "k-123456789"}"#),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = daemon.bolt_with_stdin(
        &["credential", "set", "hook-basic"],
        Some(r#"{"username": "clinic", "password": "pw-987654321"}"#),
    );
    assert!(out.status.success());
    daemon.deploy_text(
        "name: auth\nworkflows:\n  w:\n    jobs:\n      j:\n        body: fn(s => s)\n    triggers:\n      webhook:\n        type: webhook\n        custom_path: guarded\n        webhook_auth: [hook-key, hook-basic]\n    edges:\n      webhook->j: {source_trigger: webhook, target_job: j, condition_type: always}\n",
    );
    let post = |headers: &[(&str, &str)]| {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        http(&daemon.http, "POST", "/i/guarded", &all, b"{}")
    };
    assert_eq!(post(&[]).status, 401);
    assert_eq!(
        post(&[("x-api-key", "wrong")]).status,
        404,
        "wrong credentials hide the hook"
    );
    assert_eq!(
        post(&[("authorization", "Basic Y2xpbmljOm5vcGU=")]).status,
        404
    );
    let ok = post(&[("x-api-key", "k-123456789")]);
    assert_eq!(ok.status, 200, "{}", ok.body);
    use base64_like::encode;
    let basic = format!("Basic {}", encode("clinic:pw-987654321"));
    let ok_basic = post(&[("authorization", basic.as_str())]);
    assert_eq!(ok_basic.status, 200, "{}", ok_basic.body);
    let view = daemon.wait_work_order(&ok.work_order_id());
    let input = view.input.unwrap().body.unwrap();
    assert!(
        !input.contains("k-123456789") && !input.contains("x-api-key"),
        "auth headers are never stored: {input}"
    );
}

/// Just enough base64 for a Basic header in a test.
mod base64_like {
    pub fn encode(text: &str) -> String {
        const TABLE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let bytes = text.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

#[test]
fn deploy_twice_changes_nothing_and_export_round_trips() {
    let daemon = Daemon::start();
    let path = daemon.deploy_text(EXAMPLE);
    let again = daemon.bolt(&["deploy", path.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("no changes"));
    let exported = daemon.data_dir().join("exported.yaml");
    let out = daemon.bolt(&["export", "-o", exported.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let round = daemon.bolt(&["deploy", exported.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&round.stdout).contains("no changes"),
        "{}",
        String::from_utf8_lossy(&round.stdout)
    );
    // An edit shows up as an update and a new version.
    let edited = EXAMPLE.replace("is valid`);", "is valid!`);");
    std::fs::write(&path, edited).unwrap();
    let changed = daemon.bolt_json(&["deploy", path.to_str().unwrap()]);
    assert_eq!(changed["changes"][0]["action"], "updated");
    assert_eq!(changed["changes"][0]["what"], "job");
    let workflows = daemon.bolt_json(&["workflows"]);
    let intake = workflows
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["key"] == "visit-intake")
        .unwrap();
    assert_eq!(intake["version"], 2);
}

#[test]
fn bad_project_files_are_refused_with_file_line_and_fix() {
    let daemon = Daemon::start();
    let path = daemon.data_dir().join("bad.yaml");
    std::fs::write(&path, "name: x\nworkflows:\n  w:\n    jobs:\n      a:\n        body: fn(s => s)\n    triggers:\n      cron:\n        type: cron\n        cron_expression: '0 0 * *'\n").unwrap();
    let out = daemon.bolt(&["deploy", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("bad.yaml:10:"), "{text}");
    assert!(text.contains("how to fix"), "{text}");
    assert_eq!(
        daemon.client().status().unwrap().projects,
        0,
        "nothing was deployed"
    );
}

#[test]
fn credentials_reach_the_job_but_never_the_store() {
    let daemon = Daemon::start();
    let secret = "hunter2-super-secret-77";
    let out = daemon.bolt_with_stdin(
        &["credential", "set", "api"],
        Some(&format!(
            r#"{{"baseUrl": "http://example.org", "username": "bolt", "password": "{secret}"}}"#
        )),
    );
    assert!(out.status.success());
    daemon.deploy_text(
        "name: creds\nworkflows:\n  w:\n    jobs:\n      leak:\n        credential: api\n        body: |\n          fn(state => { console.log('password is', state.configuration.password); return { ...state, copied: state.configuration.password }; });\n    triggers:\n      webhook: {type: webhook, custom_path: leak}\n    edges:\n      webhook->leak: {source_trigger: webhook, target_job: leak, condition_type: always}\n",
    );
    let list = daemon.bolt(&["credential", "list"]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.contains("api") && text.contains("password") && !text.contains(secret),
        "{text}"
    );
    let view = daemon.wait_work_order(&daemon.post_work_order("/i/leak", "{}"));
    assert_eq!(view.row.state, WorkOrderState::Success);
    let output = view.runs[0].steps[0]
        .output
        .as_ref()
        .unwrap()
        .body
        .clone()
        .unwrap();
    assert!(output.contains("\"copied\":\"***\""), "{output}");
    let logs = daemon.bolt(&["logs", &view.row.id]);
    assert!(String::from_utf8_lossy(&logs.stdout).contains("password is ***"));
    let bytes = daemon.database_bytes();
    assert!(
        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret is in the database file"
    );
}

#[test]
fn a_missing_credential_fails_runs_with_a_clear_error_but_not_the_deploy() {
    let daemon = Daemon::start();
    let path = daemon.data_dir().join("p.yaml");
    std::fs::write(&path, "name: creds\nworkflows:\n  w:\n    jobs:\n      j:\n        credential: not-yet\n        body: fn(s => s)\n    triggers:\n      webhook: {type: webhook, custom_path: nc}\n    edges:\n      webhook->j: {source_trigger: webhook, target_job: j, condition_type: always}\n").unwrap();
    let out = daemon.bolt(&["deploy", path.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bolt credential set 'not-yet'"));
    let view = daemon.wait_work_order(&daemon.post_work_order("/i/nc", "{}"));
    assert_eq!(view.row.state, WorkOrderState::Exception);
    assert_eq!(
        view.runs[0].error_type.as_deref(),
        Some("CredentialLoadError")
    );
}

#[test]
fn manual_trigger_and_cron_fire_once_per_minute_with_the_last_success_as_input() {
    let mut daemon = Daemon::start_with(&[("BOLT_CRON_CHECK_MS", "100")]);
    let project = |enabled: bool| {
        format!(
            "name: tally\nworkflows:\n  nightly:\n    name: Nightly\n    jobs:\n      count:\n        body: |\n          fn(state => ({{ data: {{ count: (state.data.count || 0) + 1 }} }}))\n    triggers:\n      cron:\n        type: cron\n        enabled: {enabled}\n        cron_expression: '* * * * *'\n    edges:\n      cron->count: {{source_trigger: cron, target_job: count, condition_type: always}}\n"
        )
    };
    daemon.deploy_text(&project(false));
    let manual = daemon.bolt_with_stdin(
        &["trigger", "nightly", "--input", "-", "--wait", "--json"],
        Some(r#"{"data": {"count": 41}}"#),
    );
    assert!(
        manual.status.success(),
        "{}",
        String::from_utf8_lossy(&manual.stderr)
    );
    let manual: serde_json::Value = serde_json::from_slice(&manual.stdout).unwrap();
    assert_eq!(manual["output"]["data"]["count"], 42);
    daemon.deploy_text(&project(true));
    let cron_rows = |daemon: &Daemon| {
        let page = daemon.list(WorkOrderFilter::default(), 100, None);
        page.rows
            .into_iter()
            .filter(|r| r.origin == Origin::Cron)
            .collect::<Vec<_>>()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while cron_rows(&daemon).is_empty() {
        assert!(Instant::now() < deadline, "cron did not fire");
        std::thread::sleep(Duration::from_millis(50));
    }
    let fired = cron_rows(&daemon)[0].clone();
    let view = daemon.wait_work_order(&fired.id);
    let output: serde_json::Value = serde_json::from_str(
        view.runs[0].steps[0]
            .output
            .as_ref()
            .unwrap()
            .body
            .as_deref()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        output["data"]["count"], 43,
        "cron input is the last successful run's final state"
    );
    // Restarting within the minute must not fire again.
    daemon.kill9();
    daemon.restart();
    std::thread::sleep(Duration::from_millis(600));
    let minute = |t: chrono::DateTime<chrono::Utc>| t.timestamp() / 60;
    let same_minute = cron_rows(&daemon)
        .iter()
        .filter(|r| minute(r.received_at) == minute(fired.received_at))
        .count();
    assert_eq!(
        same_minute, 1,
        "one fire per matching minute, across restarts"
    );
}

#[test]
fn kill_9_during_a_run_marks_it_lost_and_the_retry_policy_reruns_it() {
    let mut daemon = Daemon::start();
    daemon.deploy_text(&slow_project(2));
    let id = start_slow_run(&daemon);
    daemon.kill9();
    daemon.restart();
    let view = daemon.wait_work_order(&id);
    assert_eq!(view.runs.len(), 2, "{view:#?}");
    let (retry, lost) = (&view.runs[0], &view.runs[1]);
    assert_eq!(lost.state, RunState::Lost);
    assert_eq!(lost.error_type.as_deref(), Some("LostAfterStart"));
    assert_eq!(retry.state, RunState::Success);
    assert_eq!(retry.origin, Origin::Retry);
    assert_eq!(view.row.state, WorkOrderState::Success);
}

/// A workflow whose one job keeps the CPU busy for 1.5 s; `max_attempts` for its retries.
fn slow_project(max_attempts: u32) -> String {
    busy_project(max_attempts, 1500)
}

/// A workflow whose one job keeps the CPU busy for `millis`.
fn busy_project(max_attempts: u32, millis: u32) -> String {
    format!(
        "name: slow\nworkflows:\n  slow:\n    name: Slow\n    max_attempts: {max_attempts}\n    retry_backoff_secs: 0\n    jobs:\n      wait:\n        body: |\n          fn(state => {{ const end = Date.now() + {millis}; while (Date.now() < end) {{}} return {{ ...state, done: true }}; }});\n    triggers:\n      webhook: {{type: webhook, custom_path: slow}}\n    edges:\n      webhook->wait: {{source_trigger: webhook, target_job: wait, condition_type: always}}\n"
    )
}

/// Posts to the slow workflow and waits until its run is executing; returns the work order.
fn start_slow_run(daemon: &Daemon) -> String {
    let id = daemon.post_work_order("/i/slow", "{}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while daemon.show(&id).row.state != WorkOrderState::Running {
        assert!(Instant::now() < deadline, "never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    id
}

#[test]
fn bolt_stop_lets_the_run_under_way_finish_then_exits() {
    let mut daemon = Daemon::start();
    daemon.deploy_text(&slow_project(1));
    let id = start_slow_run(&daemon);
    let out = daemon.bolt(&["stop"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1 run under way may take up to 30 s"),
        "{stdout}"
    );
    assert!(stdout.contains("boltd stopped"), "{stdout}");
    // `bolt stop` returns once boltd has exited, so a new one can start at once.
    assert!(daemon.wait_exited(Duration::from_millis(100)).success());
    assert!(
        !daemon.data_dir().join("boltd.pid").exists(),
        "the pidfile is gone"
    );
    daemon.restart();
    let view = daemon.wait_work_order(&id);
    assert_eq!(
        view.runs.len(),
        1,
        "finished before the stop, not lost: {view:#?}"
    );
    assert_eq!(view.runs[0].state, RunState::Success);
    assert_eq!(view.row.state, WorkOrderState::Success);

    let out = daemon.bolt(&["stop", "--json"]);
    assert!(out.status.success());
    let stopped: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(stopped["was_running"], true);
    assert_eq!(stopped["runs_in_flight"], 0);
    daemon.wait_exited(Duration::from_secs(2));
    // Stopping a stopped boltd is not an error: the state asked for holds.
    let out = daemon.bolt(&["stop"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("boltd is not running"));
}

#[test]
fn bolt_stop_puts_runs_that_have_not_started_back_in_the_queue() {
    // One worker: the second run is claimed but waits for the first to finish.
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), "[engine]\nworkers = 1\n").unwrap();
    let mut daemon = Daemon::start_with(&[("BOLT_CONFIG", config.path().to_str().unwrap())]);
    daemon.deploy_text(&slow_project(1));
    let first = start_slow_run(&daemon);
    let second = daemon.post_work_order("/i/slow", "{}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while daemon.show(&second).runs[0].state != RunState::Claimed {
        assert!(
            Instant::now() < deadline,
            "the second run was never claimed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = daemon.bolt(&["stop"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("1 run under way"), "{stdout}");
    daemon.wait_exited(Duration::from_secs(2));
    let restarted_at = chrono::Utc::now();
    daemon.restart();
    for id in [&first, &second] {
        let view = daemon.wait_work_order(id);
        assert_eq!(view.runs.len(), 1, "neither run was lost: {view:#?}");
        assert_eq!(view.runs[0].state, RunState::Success);
    }
    // The second run did not start while boltd was stopping: it waited for the next start.
    let started = daemon.show(&second).runs[0].started_at.expect("started");
    assert!(
        started > restarted_at,
        "started {started}, restarted {restarted_at}"
    );
}

#[test]
fn sigterm_lets_the_run_under_way_finish_too() {
    let mut daemon = Daemon::start();
    daemon.deploy_text(&slow_project(1));
    let id = start_slow_run(&daemon);
    assert!(daemon.stop().success());
    // A clean stop folds the write-ahead log into bolt.db: the file alone is a full copy.
    let wal = daemon.data_dir().join("bolt.db-wal");
    let wal_bytes = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal_bytes, 0, "{} still holds writes", wal.display());
    daemon.restart();
    let view = daemon.wait_work_order(&id);
    assert_eq!(view.runs.len(), 1, "{view:#?}");
    assert_eq!(view.runs[0].state, RunState::Success);
}

#[test]
fn a_run_longer_than_the_grace_is_left_to_be_marked_lost() {
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), "[engine]\nshutdown_grace_secs = 1\n").unwrap();
    let mut daemon = Daemon::start_with(&[("BOLT_CONFIG", config.path().to_str().unwrap())]);
    daemon.deploy_text(&busy_project(1, 6000));
    let id = start_slow_run(&daemon);
    let stopped = daemon.bolt_json(&["stop"]);
    assert_eq!(stopped["runs_in_flight"], 1);
    let waited = stopped["waited_ms"].as_u64().unwrap();
    assert!(
        (900..4000).contains(&waited),
        "waited {waited} ms for a 1 s grace"
    );
    daemon.wait_exited(Duration::from_millis(100));
    daemon.restart();
    let view = daemon.wait_work_order(&id);
    assert_eq!(view.runs[0].state, RunState::Lost);
    assert_eq!(view.runs[0].error_type.as_deref(), Some("LostAfterStart"));
}

#[test]
fn bolt_stop_now_leaves_the_run_under_way_to_be_marked_lost() {
    let mut daemon = Daemon::start();
    daemon.deploy_text(&slow_project(1));
    let id = start_slow_run(&daemon);
    let out = daemon.bolt(&["stop", "--now"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("will be marked lost at the next start"),
        "{stdout}"
    );
    daemon.wait_exited(Duration::from_secs(2));
    daemon.restart();
    let view = daemon.wait_work_order(&id);
    assert_eq!(view.runs.len(), 1, "{view:#?}");
    assert_eq!(view.runs[0].state, RunState::Lost);
    assert_eq!(view.runs[0].error_type.as_deref(), Some("LostAfterStart"));
}

#[test]
fn after_completion_webhooks_answer_201_with_the_final_state() {
    let daemon = Daemon::start();
    daemon.deploy_text(
        "name: sync\nworkflows:\n  w:\n    jobs:\n      double:\n        body: |\n          fn(state => ({ data: { doubled: state.data.n * 2 } }))\n    triggers:\n      webhook:\n        type: webhook\n        custom_path: sync\n        webhook_reply: after_completion\n    edges:\n      webhook->double: {source_trigger: webhook, target_job: double, condition_type: always}\n",
    );
    let reply = daemon.post("/i/sync", r#"{"n": 21}"#);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["data"]["data"]["doubled"], 42);
    assert_eq!(body["meta"]["state"], "success");
    assert!(body["meta"]["work_order_id"].is_string());
}

#[test]
fn hostile_jobs_are_killed_within_their_limits_and_the_daemon_carries_on() {
    let daemon = Daemon::start();
    daemon.deploy_text(
        "name: hostile\nworkflows:\n  loop:\n    run_timeout_secs: 1\n    jobs:\n      spin:\n        body: |\n          fn(state => { while (true) {} })\n    triggers:\n      webhook: {type: webhook, custom_path: loop}\n    edges:\n      webhook->spin: {source_trigger: webhook, target_job: spin, condition_type: always}\n  hog:\n    memory_limit_mb: 32\n    jobs:\n      eat:\n        body: |\n          fn(state => { const a = []; while (true) { a.push('x'.repeat(1024 * 1024)); } })\n    triggers:\n      webhook: {type: webhook, custom_path: hog}\n    edges:\n      webhook->eat: {source_trigger: webhook, target_job: eat, condition_type: always}\n",
    );
    let started = Instant::now();
    let looping = daemon.wait_work_order(&daemon.post_work_order("/i/loop", "{}"));
    assert_eq!(looping.row.state, WorkOrderState::Killed, "{looping:#?}");
    assert_eq!(
        looping.runs[0].steps[0].error_type.as_deref(),
        Some("TimeoutError")
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let hog = daemon.wait_work_order(&daemon.post_work_order("/i/hog", "{}"));
    assert_eq!(hog.row.state, WorkOrderState::Killed, "{hog:#?}");
    // Still serving.
    assert_eq!(daemon.client().status().unwrap().running, 0);
}

/// Webhook triggers are cached in memory for speed; every change to them must show at once.
#[test]
fn webhook_changes_take_effect_immediately() {
    let daemon = Daemon::start();
    daemon.deploy_text(PIPELINE);
    assert_eq!(daemon.post("/i/pipeline", r#"{"id": 1}"#).status, 200);

    daemon.request(Request::SetWorkflowEnabled {
        workflow: "pipeline".into(),
        enabled: false,
    });
    assert_eq!(daemon.post("/i/pipeline", r#"{"id": 2}"#).status, 403);
    daemon.request(Request::SetWorkflowEnabled {
        workflow: "pipeline".into(),
        enabled: true,
    });
    assert_eq!(daemon.post("/i/pipeline", r#"{"id": 3}"#).status, 200);

    daemon.deploy_text(&PIPELINE.replace("custom_path: pipeline", "custom_path: moved"));
    assert_eq!(daemon.post("/i/pipeline", r#"{"id": 4}"#).status, 404);
    assert_eq!(daemon.post("/i/moved", r#"{"id": 5}"#).status, 200);
}

/// `bolt status` tells how long durable writes and WAL syncs take, so a slow disk shows
/// without a profiler.
#[test]
fn status_reports_how_long_durable_writes_take() {
    let daemon = Daemon::start();
    daemon.deploy_text(PIPELINE);
    assert_eq!(daemon.post("/i/pipeline", r#"{"id": 1}"#).status, 200);
    let status = daemon.bolt_json(&["status"]);
    let store = &status["store"];
    for part in ["writes", "wal_syncs"] {
        let latencies = &store[part];
        assert!(latencies["count"].as_u64().unwrap() >= 1, "{status:#}");
        let (p50, max) = (
            latencies["p50_us"].as_u64().unwrap(),
            latencies["max_us"].as_u64().unwrap(),
        );
        assert!(0 < p50 && p50 <= max, "{status:#}");
    }
    let text = daemon.bolt(&["status"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("store      writes on disk in p50 "), "{text}");
}
