//! Accountability through the real binaries: version history (versions, diff, rollback after
//! deploys, job edits and constant edits), credential show/field edits/key rotation, online
//! backup and restore under webhook load, and workflow globals.

#![allow(clippy::unwrap_used)] // test helpers: a failed step should stop the test at once

use bolt_e2e::{Daemon, ok};
use bolt_shared::model::*;
use bolt_shared::protocol::{Request, Response};
use bolt_sql::{DbExt, params};
use std::time::{Duration, Instant};

fn project(code: &str, cron: &str, retries: u32) -> String {
    format!(
        r#"
name: acct
workflows:
  pipeline:
    name: Pipeline
    max_attempts: {retries}
    jobs:
      fetch:
        name: Fetch
        body: |
          {code}
      store:
        name: Store
        body: |
          fn(state => ({{ ...state, stored: true }}))
    triggers:
      hook: {{type: webhook, custom_path: acct}}
      nightly: {{type: cron, cron_expression: '{cron}'}}
    edges:
      hook->fetch: {{source_trigger: hook, target_job: fetch, condition_type: always}}
      fetch->store: {{source_job: fetch, target_job: store, condition_type: on_job_success}}
"#
    )
}

fn output_of(view: &WorkOrderView, step: usize) -> serde_json::Value {
    let body = view.runs[0].steps[step]
        .output
        .as_ref()
        .and_then(|o| o.body.clone())
        .expect("step output");
    serde_json::from_str(&body).expect("output JSON")
}

fn work_order(reply: &bolt_e2e::HttpReply) -> String {
    reply.json()["work_order_id"]
        .as_str()
        .expect("work_order_id")
        .to_string()
}

#[test]
fn versions_diff_and_rollback_after_deploys_and_edits() {
    let daemon = Daemon::start();
    daemon.deploy_text(&project(
        "fn(state => ({ ...state, n: 1 }))",
        "0 2 * * *",
        1,
    ));
    daemon.deploy_text(&project(
        "fn(state => ({ ...state, n: 2 }))",
        "0 2 * * *",
        1,
    ));
    daemon.deploy_text(&project(
        "fn(state => ({ ...state, n: 2 }))",
        "*/5 * * * *",
        3,
    ));
    // An edit as the TUI's editor saves it.
    match daemon.request(Request::UpdateJob {
        workflow: "Pipeline".into(),
        job: "fetch".into(),
        body: "fn(state => ({ ...state, n: 4 }))\n".into(),
    }) {
        Response::Done { message } => assert!(message.contains("version 4"), "{message}"),
        other => panic!("unexpected {other:?}"),
    }
    // Constants as the TUI's table saves them: a version of its own, code untouched.
    let mut constants = serde_json::Map::new();
    constants.insert("LIMIT".into(), serde_json::json!(10));
    match daemon.request(Request::SetWorkflowConstants {
        workflow: "Pipeline".into(),
        constants,
    }) {
        Response::Done { message } => assert!(message.contains("version 5"), "{message}"),
        other => panic!("unexpected {other:?}"),
    }

    let list = daemon.bolt_json(&["versions", "Pipeline"]);
    assert_eq!(list["current"], 5);
    let versions = list["versions"].as_array().unwrap();
    let seen: Vec<(i64, String)> = versions
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["summary"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (5, "settings: constants.LIMIT".to_string()),
            (4, "job Fetch: code +1 -1".to_string()),
            (
                3,
                "settings: max_attempts; trigger nightly: cron_expression".to_string()
            ),
            (2, "job Fetch: code +1 -1".to_string()),
            (1, "created: 2 jobs, 2 triggers, 2 edges".to_string()),
        ]
    );
    assert_eq!(versions[1]["origin"]["kind"], "job_edit");
    assert_eq!(versions[4]["origin"]["kind"], "deploy");
    assert!(versions.iter().all(|v| v["actor"].is_string()), "{list}");
    let text = ok(&daemon.bolt(&["versions", "Pipeline"]));
    assert!(text.contains("VERSION") && text.contains("5*"), "{text}");
    assert!(text.contains("job fetch edited"), "{text}");

    // The unified diff of the code, and the settings and triggers that changed.
    let diff = ok(&daemon.bolt(&["diff", "Pipeline", "1", "4"]));
    assert!(
        diff.contains("--- fetch (v1)\n+++ fetch (v4)\n@@"),
        "{diff}"
    );
    assert!(
        diff.contains("-fn(state => ({ ...state, n: 1 }))\n+fn(state => ({ ...state, n: 4 }))"),
        "{diff}"
    );
    assert!(diff.contains("max_attempts: 1 → 3"), "{diff}");
    assert!(
        diff.contains("cron_expression: \"0 2 * * *\" → \"*/5 * * * *\""),
        "{diff}"
    );
    // Default: the last change.
    let last = daemon.bolt_json(&["diff", "Pipeline"]);
    assert_eq!(
        (last["from"].as_i64(), last["to"].as_i64()),
        (Some(4), Some(5))
    );
    let bad = daemon.bolt(&["diff", "Pipeline", "9"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no version 9; its versions are 1 to 5"));

    // A run that is under way keeps its version while the workflow is rolled back.
    let slow = "fn(state => new Promise(r => setTimeout(() => r({ ...state, n: 'slow' }), 1500)))";
    match daemon.request(Request::UpdateJob {
        workflow: "Pipeline".into(),
        job: "fetch".into(),
        body: slow.into(),
    }) {
        Response::Done { message } => assert!(message.contains("version 6")),
        other => panic!("unexpected {other:?}"),
    }
    let in_flight = work_order(&daemon.post("/i/acct", "{}"));
    let started = Instant::now();
    while daemon.show(&in_flight).runs.first().map(|r| r.state) != Some(RunState::Started) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the run did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let rolled = daemon.bolt_json(&["rollback", "Pipeline", "--to", "2"]);
    assert_eq!(rolled["new_version"], 7);
    assert_eq!(rolled["from"], 6);
    let view = daemon.wait_work_order(&in_flight);
    assert_eq!(view.runs[0].version, 6);
    assert_eq!(output_of(&view, 1)["n"], "slow");
    // New runs get version 7, equal to version 2.
    let after = daemon.wait_work_order(&work_order(&daemon.post("/i/acct", "{}")));
    assert_eq!(after.runs[0].version, 7);
    assert_eq!(output_of(&after, 1)["n"], 2);
    let empty = daemon.bolt_json(&["diff", "Pipeline", "2", "7"]);
    assert!(empty["jobs"].as_array().unwrap().is_empty(), "{empty}");
    assert!(empty["settings"].as_array().unwrap().is_empty(), "{empty}");
    // Rolling back to what it already is makes no version.
    let again = daemon.bolt(&["rollback", "Pipeline", "--to", "7"]);
    assert!(ok(&again).contains("nothing to roll back"));

    // One job alone: fetch as in version 4, the schedule as in version 7.
    let one = daemon.bolt_json(&["rollback", "Pipeline", "--to", "4", "--job", "Fetch"]);
    assert_eq!(one["new_version"], 8);
    assert_eq!(one["job"], "fetch");
    let run = daemon.wait_work_order(&work_order(&daemon.post("/i/acct", "{}")));
    assert_eq!(output_of(&run, 1)["n"], 4);
    let listed = daemon.bolt_json(&["versions", "Pipeline"]);
    assert_eq!(listed["versions"][0]["origin"]["kind"], "rollback");
    assert_eq!(listed["versions"][0]["origin"]["job"], "fetch");
    assert!(
        ok(&daemon.bolt(&["versions", "Pipeline"])).contains("job fetch reverted to v4"),
        "rollbacks show how each version came to be"
    );

    // Rollbacks are audited.
    let audited: i64 = daemon
        .database()
        .query_one(
            "SELECT count(*) FROM audit_events WHERE action = 'workflow.rolled_back'",
            params![],
        )
        .unwrap();
    assert_eq!(audited, 2);
}

fn credential_project() -> &'static str {
    r#"
name: creds
workflows:
  use:
    jobs:
      check:
        credential: api
        body: |
          fn(state => ({ data: {
            user: state.configuration.username,
            password_ok: state.configuration.password === 'n3w-secret-pass',
            token_ok: state.configuration.oauth.token === 'oauth-token-123',
          } }))
    triggers:
      hook: {type: webhook, custom_path: creds}
    edges:
      hook->check: {source_trigger: hook, target_job: check, condition_type: always}
"#
}

#[test]
fn credential_show_masks_secrets_and_field_edits_keep_the_rest() {
    let daemon = Daemon::start();
    daemon.deploy_text(credential_project());
    let out = daemon.bolt_with_stdin(
        &["credential", "set", "api"],
        Some(r#"{"username": "alice", "password": "old-secret-pass", "oauth": {"token": "oauth-token-123"}, "port": 8443}"#),
    );
    ok(&out);
    // One field from standard input (a secret stays out of argv), one as KEY=VALUE.
    let out = daemon.bolt_with_stdin(
        &[
            "credential",
            "set",
            "api",
            "--field",
            "password",
            "--field",
            "username=alice2",
        ],
        Some("n3w-secret-pass\n"),
    );
    assert!(ok(&out).contains("2 fields changed, the others kept"));
    let detail = daemon.bolt_json(&["credential", "show", "api"]);
    let fields = detail["fields"].as_array().unwrap();
    let field = |key: &str| fields.iter().find(|f| f["key"] == key).cloned().unwrap();
    assert_eq!(field("username")["value"], "alice2");
    assert_eq!(field("password")["secret"], true);
    assert!(field("password").get("value").is_none());
    assert_eq!(field("oauth.token")["secret"], true);
    assert_eq!(field("port")["value"], 8443, "ports are not secret");
    assert_eq!(detail["used_by"][0], "use / check");
    let history: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["created", "updated"]);
    assert_eq!(
        detail["history"][1]["set"],
        serde_json::json!(["username", "password"])
    );
    let text = ok(&daemon.bolt(&["credential", "show", "api"]));
    assert!(
        !text.contains("n3w-secret-pass") && !text.contains("oauth-token-123"),
        "{text}"
    );
    assert!(
        text.contains("******** (secret)") && text.contains("alice2"),
        "{text}"
    );
    // The job sees the merged credential.
    let run = daemon.wait_work_order(&work_order(&daemon.post("/i/creds", "{}")));
    let data = &output_of(&run, 0)["data"];
    assert_eq!(data["user"], "alice2");
    assert_eq!(data["password_ok"], true);
    assert_eq!(data["token_ok"], true);
    // Removing a field, and naming one that isn't there.
    ok(&daemon.bolt(&["credential", "set", "api", "--unset", "port"]));
    let bad = daemon.bolt(&["credential", "set", "api", "--unset", "nope"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("has no field `nope`"));
}

/// Decrypts a credential body (nonce || ciphertext+tag, AES-256-GCM) with a key file's key.
fn decrypts_with(key_text: &str, sealed: &[u8]) -> bool {
    use aes_gcm::aead::{Aead, KeyInit};
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD
        .decode(key_text.trim())
        .unwrap();
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap();
    let (nonce, body) = sealed.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().unwrap();
    cipher.decrypt(&aes_gcm::Nonce::from(nonce), body).is_ok()
}

#[test]
fn key_rotation_reencrypts_every_credential_and_keeps_the_old_key_apart() {
    let mut daemon = Daemon::start();
    daemon.deploy_text(credential_project());
    ok(&daemon.bolt_with_stdin(
        &["credential", "set", "api"],
        Some(r#"{"username": "alice", "password": "n3w-secret-pass", "oauth": {"token": "oauth-token-123"}}"#),
    ));
    for i in 0..5 {
        ok(&daemon.bolt_with_stdin(
            &["credential", "set", &format!("other{i}")],
            Some(&format!(r#"{{"apiKey": "secret-number-{i}"}}"#)),
        ));
    }
    let key_file = daemon.data_dir().join("bolt.key");
    let old_key = std::fs::read_to_string(&key_file).unwrap();
    let rotation = daemon.bolt_json(&["credential", "rotate-key"]);
    assert_eq!(rotation["credentials"], 6);
    let backup = std::path::PathBuf::from(rotation["old_key_backup"].as_str().unwrap());
    assert!(
        backup
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("bolt.key.old-")
    );
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), old_key);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let new_key = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(new_key, old_key);

    // Every credential decrypts with the new key and none with the old one.
    let bodies: Vec<Vec<u8>> = daemon
        .database()
        .query_map("SELECT body FROM credentials", params![], |r| r.get(0))
        .unwrap();
    assert_eq!(bodies.len(), 6);
    for body in &bodies {
        assert!(decrypts_with(&new_key, body));
        assert!(!decrypts_with(&old_key, body));
    }
    // Usable at once, and after a restart (which reads the new key file).
    let run = daemon.wait_work_order(&work_order(&daemon.post("/i/creds", "{}")));
    assert_eq!(output_of(&run, 0)["data"]["password_ok"], true);
    daemon.stop();
    daemon.restart();
    let run = daemon.wait_work_order(&work_order(&daemon.post("/i/creds", "{}")));
    assert_eq!(output_of(&run, 0)["data"]["token_ok"], true);
    let detail = daemon.bolt_json(&["credential", "show", "other3"]);
    assert_eq!(detail["history"][1]["action"], "re-encrypted");

    // The old key can't open the rotated store: boltd says so instead of failing runs later.
    daemon.stop();
    std::fs::write(&key_file, &old_key).unwrap();
    let store = daemon.store();
    let mut args: Vec<&std::ffi::OsStr> =
        vec!["--data-dir".as_ref(), daemon.data_dir().as_os_str()];
    if let Some(store) = &store {
        args.extend::<[&std::ffi::OsStr; 2]>(["--store".as_ref(), store.url.as_ref()]);
    }
    let (status, message) = bolt_e2e::boltd_refusal(&args);
    assert!(!status.success());
    assert!(
        message.contains("is not the key this store's credentials were written with"),
        "{message}"
    );
    std::fs::write(&key_file, &new_key).unwrap();
    daemon.restart();
}

fn globals_fixture(file: &str) -> std::path::PathBuf {
    bolt_e2e::fixture(&format!("openfn-globals/{file}"))
}

/// Runs `bolt execute` on a fixture workflow; (exit status, output state, stderr).
fn execute(case: &str) -> (bool, Option<serde_json::Value>, String) {
    let out_dir = tempfile::tempdir().unwrap();
    let output = out_dir.path().join("out.json");
    let run = std::process::Command::new(bolt_e2e::bin("bolt"))
        .current_dir(globals_fixture(case))
        .args(["execute", "workflow.json", "-s", "state.json", "-o"])
        .arg(&output)
        .env_remove("BOLT_CONFIG")
        .output()
        .unwrap();
    let state = std::fs::read_to_string(&output)
        .ok()
        .map(|text| serde_json::from_str(&text).unwrap());
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    (run.status.success(), state, log)
}

#[test]
fn workflow_globals_give_openfns_result_in_bolt_execute() {
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(globals_fixture("ok/expected.json")).unwrap(),
    )
    .unwrap();
    let (success, state, log) = execute("ok");
    assert!(success, "{log}");
    assert_eq!(state, Some(expected), "{log}");

    // A globals module that throws crashes the run with OpenFn's message.
    let (success, state, log) = execute("error");
    assert!(!success);
    assert_eq!(state, None, "OpenFn writes no output when the run crashes");
    let expected = std::fs::read_to_string(globals_fixture("error/expected_error.txt")).unwrap();
    assert!(log.contains(expected.trim()), "{log}");
}

#[test]
fn project_globals_and_constants_reach_every_step_in_boltd() {
    let daemon = Daemon::start();
    let read = |f: &str| std::fs::read_to_string(globals_fixture(&format!("ok/{f}"))).unwrap();
    let indent = |text: String| text.replace('\n', "\n      ");
    let job = |text: String| text.replace('\n', "\n          ");
    let yaml = format!(
        r#"
name: globals
workflows:
  shared:
    globals: |
      {globals}
    constants:
      REGION: east
      LIMITS: {{max: 5, codes: [a, b]}}
    jobs:
      first:
        body: |
          {first}
      second:
        body: |
          {second}
      third:
        body: |
          fn(state => ({{ ...state, region: REGION, max: LIMITS.max, codes: LIMITS.codes, frozen: Object.isFrozen(LIMITS) }}))
    triggers:
      hook: {{type: webhook, custom_path: globals}}
    edges:
      hook->first: {{source_trigger: hook, target_job: first, condition_type: always}}
      first->second: {{source_job: first, target_job: second, condition_type: on_job_success}}
      second->third: {{source_job: second, target_job: third, condition_type: on_job_success}}
"#,
        globals = indent(read("globals.js")),
        first = job(read("step1.js")),
        second = job(read("step2.js")),
    );
    daemon.deploy_text(&yaml);
    let view = daemon.wait_work_order(&work_order(&daemon.post("/i/globals", "{}")));
    assert_eq!(view.row.state, WorkOrderState::Success, "{view:?}");
    let mut expected: serde_json::Value = serde_json::from_str(&read("expected.json")).unwrap();
    // The webhook's input has no `amount` (that case is `bolt execute`'s): NaN, i.e. null.
    expected["data"]["eur"] = serde_json::Value::Null;
    expected["data"]["kes"] = serde_json::Value::Null;
    let second = output_of(&view, 1);
    assert_eq!(second["data"], expected["data"]);
    assert_eq!(second["second"], expected["second"]);
    let third = output_of(&view, 2);
    assert_eq!(third["region"], "east");
    assert_eq!(third["max"], 5);
    assert_eq!(third["codes"], serde_json::json!(["a", "b"]));
    assert_eq!(third["frozen"], true);

    // Globals and constants survive export, and a constant that clashes with a globals
    // export is refused at deploy.
    let exported = ok(&daemon.bolt(&["export"]));
    assert!(
        exported.contains("globals: |") && exported.contains("REGION: east"),
        "{exported}"
    );
    let clash = yaml.replace("REGION: east", "BASE_URL: east");
    let path = daemon.dir.path().join("clash.yaml");
    std::fs::write(&path, clash).unwrap();
    let out = daemon.bolt(&["deploy", path.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("`BASE_URL` is both a constant and an export of the globals code"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn backup_under_webhook_load_restores_every_acknowledged_work_order() {
    if !bolt_e2e::sqlite_only("`bolt backup` copies SQLite's database file") {
        return;
    }
    let mut daemon = Daemon::start();
    daemon.deploy_text(credential_project());
    ok(&daemon.bolt_with_stdin(
        &["credential", "set", "api"],
        Some(r#"{"username": "alice", "password": "n3w-secret-pass", "oauth": {"token": "oauth-token-123"}}"#),
    ));
    // Some history first, so the copy takes several steps.
    let mut acknowledged: Vec<String> = Vec::new();
    let big = format!(r#"{{"pad": "{}"}}"#, "x".repeat(20_000));
    for _ in 0..300 {
        acknowledged.push(work_order(&daemon.post("/i/creds", &big)));
    }
    // Load that goes on while the backup is made.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let http = daemon.http.clone();
    let loader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut ids = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let reply = bolt_e2e::http(
                    &http,
                    "POST",
                    "/i/creds",
                    &[("content-type", "application/json")],
                    br#"{"during": true}"#,
                );
                if reply.status == 200 {
                    ids.push((Instant::now(), work_order(&reply)));
                }
            }
            ids
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let backup_started = Instant::now();
    let file = daemon.dir.path().join("store.backup");
    let out = daemon.bolt(&["backup", file.to_str().unwrap()]);
    let text = ok(&out);
    let progress = String::from_utf8_lossy(&out.stderr).into_owned();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let during = loader.join().unwrap();
    // Everything acknowledged before the backup started must be in it.
    let before_backup: Vec<String> = during
        .iter()
        .filter(|(at, _)| *at < backup_started)
        .map(|(_, id)| id.clone())
        .collect();
    assert!(!before_backup.is_empty());
    assert!(
        during.iter().any(|(at, _)| *at > backup_started),
        "webhooks were answered while the backup ran"
    );
    assert!(text.contains("backed up to"), "{text}");
    assert!(
        text.contains("the credentials in it need the key file"),
        "{text}"
    );
    assert!(
        progress.contains("copied") && progress.contains("(100%)"),
        "{progress}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // A second backup to the same file needs --force.
    let again = daemon.bolt(&["backup", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));

    // Restore is refused while boltd runs on the data dir.
    let refused = daemon.bolt(&[
        "--data-dir",
        daemon.data_dir().to_str().unwrap(),
        "restore",
        file.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("stop it first"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // Into a new data dir with the key file copied beside it (the key is not in the backup).
    let target = tempfile::tempdir().unwrap();
    let data = target.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    let restored = std::process::Command::new(bolt_e2e::bin("bolt"))
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "restore",
            file.to_str().unwrap(),
            "--json",
        ])
        .env_remove("BOLT_CONFIG")
        .env_remove("BOLT_SOCKET")
        .output()
        .unwrap();
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&restored.stdout).unwrap();
    assert!(
        report["work_orders"].as_u64().unwrap()
            >= (acknowledged.len() + before_backup.len()) as u64
    );
    std::fs::copy(daemon.data_dir().join("bolt.key"), data.join("bolt.key")).unwrap();
    std::fs::set_permissions(
        data.join("bolt.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    daemon.stop();
    let copy = Daemon::start_with_options(
        target,
        bolt_e2e::Options {
            data_dir: Some(data.clone()),
            ..Default::default()
        },
    );
    let restored_ids = all_work_orders(&copy);
    for id in acknowledged.iter().chain(&before_backup) {
        assert!(
            restored_ids.contains(id),
            "work order {id} acknowledged before the backup is missing"
        );
    }
    // The restored store's credentials work with the key that was copied.
    let run = copy.wait_work_order(&work_order(&copy.post("/i/creds", "{}")));
    assert_eq!(output_of(&run, 0)["data"]["password_ok"], true);
}

fn all_work_orders(daemon: &Daemon) -> std::collections::HashSet<String> {
    let mut ids = std::collections::HashSet::new();
    let mut after = None;
    loop {
        let page = daemon.list(WorkOrderFilter::default(), 500, after);
        ids.extend(page.rows.iter().map(|w| w.id.clone()));
        match page.next_cursor {
            Some(next) => after = Some(next),
            None => return ids,
        }
    }
}
