//! Privacy through the real binaries: `enable_job_logs: false` keeps a job's console output
//! out of the store (and off the live stream), and under `erase_all` no payload text stays
//! in the database or its write-ahead log after the run — not in dataclips, not in the
//! search index, not in freed pages (SQLite's `secure_delete`).

#![allow(clippy::unwrap_used)] // test helpers: a failed step should stop the test at once

use bolt_e2e::{Daemon, ok};
use bolt_shared::model::*;
use std::time::{Duration, Instant};

fn work_order(reply: &bolt_e2e::HttpReply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["work_order_id"].as_str().unwrap().to_string()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

const LOGS_PROJECT: &str = r#"
name: privacy
workflows:
  patients:
    name: Patients
    enable_job_logs: false
    jobs:
      lookup:
        name: Lookup
        body: |
          fn(state => { console.log('looked up', state.data.nid); return { ...state, found: true }; })
      audit:
        name: Audit
        enable_job_logs: true
        body: |
          fn(state => { console.log('audit line kept'); return state; })
    triggers:
      hook: {type: webhook, custom_path: patients}
    edges:
      hook->lookup: {source_trigger: hook, target_job: lookup, condition_type: always}
      lookup->audit: {source_job: lookup, target_job: audit, condition_type: on_job_success}
  visits:
    name: Visits
    jobs:
      note:
        name: Note
        enable_job_logs: false
        body: |
          fn(state => { console.log('visit of', state.data.nid); return state; })
      count:
        name: Count
        body: |
          fn(state => { console.log('counted visit'); return state; })
    triggers:
      hook: {type: webhook, custom_path: visits}
    edges:
      hook->note: {source_trigger: hook, target_job: note, condition_type: always}
      note->count: {source_job: note, target_job: count, condition_type: on_job_success}
"#;

#[test]
fn a_job_with_enable_job_logs_false_stores_no_console_output() {
    let daemon = Daemon::start();
    daemon.deploy_text(LOGS_PROJECT);
    // Someone watching the live stream sees no console output of those jobs either.
    let mut watcher = daemon.client();
    watcher.subscribe().unwrap();

    let patients = daemon.wait_work_order(&work_order(
        &daemon.post("/i/patients", r#"{"nid": "NID-LOG-MARKER-7731"}"#),
    ));
    assert_eq!(patients.row.state, WorkOrderState::Success);
    let visits = daemon.wait_work_order(&work_order(
        &daemon.post("/i/visits", r#"{"nid": "NID-VISIT-MARKER-5521"}"#),
    ));
    assert_eq!(visits.row.state, WorkOrderState::Success);

    let logs = ok(&daemon.bolt(&["logs", &patients.row.id]));
    // The workflow turns job logs off; Audit turns them back on for itself.
    assert!(!logs.contains("looked up"), "{logs}");
    assert!(logs.contains("audit line kept"), "{logs}");
    // The runtime's own lines stay: the step of Lookup still shows as run.
    assert!(logs.contains("R/T"), "{logs}");
    let logs = ok(&daemon.bolt(&["logs", &visits.row.id]));
    assert!(!logs.contains("visit of"), "{logs}");
    assert!(logs.contains("counted visit"), "{logs}");

    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match watcher.next_event() {
            Ok(bolt_shared::protocol::Event::Log(line)) => {
                let done = line.message.contains("counted visit");
                seen.push(line.message);
                if done {
                    break;
                }
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    assert!(seen.iter().any(|m| m.contains("counted visit")), "{seen:?}");
    assert!(
        !seen
            .iter()
            .any(|m| m.contains("looked up") || m.contains("visit of")),
        "{seen:?}"
    );

    // Not searchable either, and not in the database at all.
    let found = daemon.bolt_json(&["runs", "--search", "looked"]);
    assert_eq!(found["rows"].as_array().map(Vec::len), Some(0), "{found}");
    // (The code and the input are stored: the console line, as printed, is not.)
    let db = daemon.database_bytes();
    assert!(!contains(&db, "looked up NID-LOG-MARKER-7731"));
    assert!(!contains(&db, "visit of NID-VISIT-MARKER-5521"));

    // The setting survives an export.
    let exported = ok(&daemon.bolt(&["export"]));
    let yaml: serde_json::Value = serde_yaml_ng::from_str(&exported).unwrap();
    assert_eq!(yaml["workflows"]["patients"]["enable_job_logs"], false);
    assert_eq!(
        yaml["workflows"]["patients"]["jobs"]["audit"]["enable_job_logs"],
        true
    );
    assert_eq!(
        yaml["workflows"]["visits"]["jobs"]["note"]["enable_job_logs"],
        false
    );
}

const ERASE_PROJECT: &str = r#"
name: clinic
retention_policy: erase_all
workflows:
  intake:
    name: Intake
    jobs:
      transform:
        name: Transform
        body: |
          fn(state => ({ ...state, data: { ...state.data, seen: true } }))
      store:
        name: Store
        body: |
          fn(state => ({ ...state, stored: state.data.patient }))
    triggers:
      hook: {type: webhook, custom_path: clinic}
    edges:
      hook->transform: {source_trigger: hook, target_job: transform, condition_type: always}
      transform->store: {source_job: transform, target_job: store, condition_type: on_job_success}
"#;

#[test]
fn under_erase_all_no_payload_text_stays_in_the_database_or_its_log() {
    let daemon = Daemon::start();
    daemon.deploy_text(ERASE_PROJECT);
    // Text in the payload: a short value (kept in the row) and a long one (in overflow
    // pages), each a word of its own for the search index. Lower case, as the search
    // index keeps its words: a word left in the index's pages is found too.
    let marker = "zeropersistmarker9931";
    let long = format!("{} ", "longpayloadmarker7719").repeat(2000);
    let body = serde_json::json!({ "patient": marker, "notes": long }).to_string();
    let view = daemon.wait_work_order(&work_order(&daemon.post("/i/clinic", &body)));
    assert_eq!(view.row.state, WorkOrderState::Success);
    assert_eq!(
        view.input.as_ref().unwrap().wipe_reason,
        Some(WipeReason::ZeroPersistence)
    );
    // Not searchable (the index never had it).
    let found = daemon.bolt_json(&["runs", "--search", marker]);
    assert_eq!(found["rows"].as_array().map(Vec::len), Some(0), "{found}");

    // The WAL still held the body's frames when the run wiped it; boltd empties the log
    // soon after, and the database's pages were zeroed as the body was wiped.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let bytes = daemon.database_bytes();
        let left: Vec<&str> = [marker, "longpayloadmarker7719"]
            .into_iter()
            .filter(|m| contains(&bytes, m))
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{left:?} still in bolt.db or bolt.db-wal; boltd's log:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // The same payload in a retain_all project stays, and is found: the test can see it.
    let mut daemon = daemon;
    daemon.deploy_text(&ERASE_PROJECT.replace("erase_all", "retain_all"));
    let kept = daemon.wait_work_order(&work_order(&daemon.post("/i/clinic", &body)));
    assert_eq!(kept.row.state, WorkOrderState::Success);
    let found = daemon.bolt_json(&["runs", "--search", marker]);
    assert_eq!(found["rows"].as_array().map(Vec::len), Some(1), "{found}");
    daemon.stop();
    assert!(contains(&daemon.database_bytes(), marker));
}
