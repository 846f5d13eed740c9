//! OpenFn's published adaptor packages run in bolt unchanged, and give what OpenFn's own
//! runtime gives: every job of `fixtures/openfn-adaptors` (recorded with `@openfn/runtime`
//! on the real packages, see its INDEX.md) runs with the real `bolt execute` against the
//! recorded mock server, and its final state (key order included; request `duration`s
//! aside) and the HTTP requests the mock received must equal the goldens.
//!
//! The packages come from the npm registry, installed with the real `bolt adaptor add` into a
//! data dir kept under the build's temp dir between runs. Without the registry the tests
//! say so and pass.

#![allow(clippy::unwrap_used)]

use bolt_e2e::{bin, fixture, http};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The mock listens where the recordings put it (the goldens hold its URLs).
const MOCK: &str = "127.0.0.1:18200";

/// One job at a time: they share the mock.
static SERIAL: Mutex<()> = Mutex::new(());

/// Where the fixture adaptors are installed (kept between test runs: installs take seconds).
fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("openfn-adaptors-data")
}

/// Why a test can't run here (no npm, no registry): printed, and the test passes.
struct Skip(String);

/// Installs `name@version` from the npm registry with the real `bolt adaptor add` (no
/// daemon: straight into the data dir). openmrs 5.5.0 pins a language-common the registry
/// doesn't serve (3.3.5): the install keeps bolt's built-in common for it, with a note.
fn install(name: &str, version: &str) -> Result<(), Skip> {
    let data = data_dir();
    if data
        .join("adaptors")
        .join(format!("{name}@{version}"))
        .join("bolt-adaptor.json")
        .is_file()
    {
        return Ok(());
    }
    std::fs::create_dir_all(data.join("run")).unwrap();
    let spec = format!("{name}@{version}");
    let out = Command::new(bin("bolt"))
        .arg("--data-dir")
        .arg(&data)
        .arg("--socket")
        .arg(data.join("run/no-boltd.sock"))
        .args(["adaptor", "add", &spec])
        .env_remove("BOLT_CONFIG")
        .env_remove("BOLT_DATA_DIR")
        .env_remove("BOLT_SOCKET")
        .output()
        .unwrap();
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Only an unreachable registry skips; any other failure is bolt's.
    assert!(
        stderr.contains("cannot reach the npm registry"),
        "bolt adaptor add {spec} failed:\n{stderr}"
    );
    Err(Skip(format!("the npm registry is not reachable: {stderr}")))
}

/// The recorded servers (`mock_server.py`), stopped when dropped.
struct Mock(Child);

impl Mock {
    fn start() -> Result<Mock, Skip> {
        let child = Command::new("python3")
            .arg(fixture("openfn-adaptors/mock_server.py"))
            .args(["--port", "18200"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Skip(format!("python3 is not available ({e})")))?;
        let mock = Mock(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(MOCK).is_ok() {
                return Ok(mock);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the mock server did not start on {MOCK}");
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A job of the manifest (`jobs.json`).
fn manifest_adaptors(job: &str) -> Vec<String> {
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("openfn-adaptors/jobs.json")).unwrap(),
    )
    .unwrap();
    manifest["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == job)
        .unwrap_or_else(|| panic!("{job} is not in jobs.json"))["adaptors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

/// `duration` numbers (request timings) are not compared, as `compare.py` does.
fn without_durations(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if key == "duration" && item.is_number() {
                    *item = json!("<duration>");
                } else {
                    without_durations(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(without_durations),
        _ => {}
    }
}

/// The same JSON, object key order included.
fn same_json(a: &Value, b: &Value) -> bool {
    serde_json::to_string(a).unwrap() == serde_json::to_string(b).unwrap()
}

/// Runs one recorded job with `bolt execute` and compares it with its goldens.
fn check_job(job: &str) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let adaptors = manifest_adaptors(job);
    for spec in &adaptors {
        let (name, version) = spec.rsplit_once('@').unwrap();
        if let Err(Skip(why)) = install(name, version) {
            println!("SKIPPED {job}: {why}");
            return;
        }
    }
    let mock = match Mock::start() {
        Ok(mock) => mock,
        Err(Skip(why)) => {
            println!("SKIPPED {job}: {why}");
            return;
        }
    };
    let work = tempfile::tempdir().unwrap();
    let requests = work.path().join("requests.jsonl");
    let output = work.path().join("out.json");
    let reset = json!({"test": job, "log": requests}).to_string();
    assert_eq!(
        http(MOCK, "POST", "/_mock/reset", &[], reset.as_bytes()).status,
        200
    );

    let jobs = fixture("openfn-adaptors/jobs");
    let mut command = Command::new(bin("bolt"));
    command
        .current_dir(&jobs)
        .env("TZ", "UTC")
        .arg("execute")
        .arg(format!("{job}.js"));
    for spec in &adaptors {
        command.args(["-a", spec]);
    }
    let run = command
        .args(["-s", &format!("{job}.state.json"), "-o"])
        .arg(&output)
        .arg("--data-dir")
        .arg(data_dir())
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    http(MOCK, "POST", "/_mock/finish", &[], b"{}");
    drop(mock);

    assert!(run.status.success(), "{job}: bolt execute failed:\n{log}");
    let mut ours: Value = serde_json::from_str(&std::fs::read_to_string(&output).unwrap())
        .unwrap_or_else(|e| panic!("{job}: output is not JSON ({e})\n{log}"));
    let mut golden: Value = serde_json::from_str(
        &std::fs::read_to_string(jobs.join(format!("{job}.output.json"))).unwrap(),
    )
    .unwrap();
    without_durations(&mut ours);
    without_durations(&mut golden);
    assert!(
        same_json(&ours, &golden),
        "{job}: final state differs\n--- bolt\n{}\n--- OpenFn\n{}\n--- log\n{log}",
        serde_json::to_string_pretty(&ours).unwrap(),
        serde_json::to_string_pretty(&golden).unwrap()
    );

    let lines = |path: &Path| -> Vec<Value> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let sent = lines(&requests);
    let recorded = lines(&jobs.join(format!("{job}.requests.jsonl")));
    for (i, (a, b)) in sent.iter().zip(&recorded).enumerate() {
        assert!(
            same_json(a, b),
            "{job}: request {} differs\n--- bolt\n{a}\n--- OpenFn\n{b}\n--- log\n{log}",
            i + 1
        );
    }
    assert_eq!(
        sent.len(),
        recorded.len(),
        "{job}: {} requests, OpenFn sent {}\n{log}",
        sent.len(),
        recorded.len()
    );
}

#[test]
fn openmrs_error_person_validation() {
    check_job("openmrs_error_person_validation");
}

#[test]
fn openmrs_ward_roster() {
    check_job("openmrs_ward_roster");
}

#[test]
fn openmrs_person_contact_update() {
    check_job("openmrs_person_contact_update");
}

#[test]
fn openmrs_error_visit_upsert() {
    check_job("openmrs_error_visit_upsert");
}

#[test]
fn fhir_claims_review() {
    check_job("fhir_claims_review");
}

#[test]
fn fhir_practitioner_renewal() {
    check_job("fhir_practitioner_renewal");
}

#[test]
fn fhir_error_stale_update() {
    check_job("fhir_error_stale_update");
}

#[test]
fn collections_stock_snapshot() {
    check_job("collections_stock_snapshot");
}

#[test]
fn collections_openmrs_triage_queue() {
    check_job("collections_openmrs_triage_queue");
}

#[test]
fn collections_error_keygen() {
    check_job("collections_error_keygen");
}

#[test]
fn http6_lab_results_callbacks() {
    check_job("http6_lab_results_callbacks");
}

#[test]
fn http6_sms_reminders() {
    check_job("http6_sms_reminders");
}

#[test]
fn http6_error_no_baseurl_auth() {
    check_job("http6_error_no_baseurl_auth");
}

#[test]
fn http6_error_callback_typeerror() {
    check_job("http6_error_callback_typeerror");
}

#[test]
fn common2_register_cleanup() {
    check_job("common2_register_cleanup");
}

#[test]
fn common2_monthly_report() {
    check_job("common2_monthly_report");
}

#[test]
fn common2_error_lazy_http_options() {
    check_job("common2_error_lazy_http_options");
}

/// Every job of the manifest has a test above.
#[test]
fn every_recorded_job_is_checked() {
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("openfn-adaptors/jobs.json")).unwrap(),
    )
    .unwrap();
    let this = include_str!("openfn_adaptors.rs");
    for job in manifest["jobs"].as_array().unwrap() {
        let name = job["name"].as_str().unwrap();
        assert!(this.contains(&format!("fn {name}()")), "{name} has no test");
    }
}

// ---- boltd runs installed npm adaptors ---------------------------------------------------

const GREETER_PROJECT: &str = r#"
name: npm
workflows:
  greet:
    name: Greet
    jobs:
      greet:
        name: Greet
        adaptor: '@openfn/language-greeter@1.2.0'
        body: |
          greet($.data.who);
          fn(state => ({ ...state, shouted: state.greeting.toUpperCase() }));
      missing:
        name: Missing
        adaptor: '@openfn/language-dhis2@5.0.1'
        body: fn(s => s)
      legacy:
        name: Legacy
        adaptor: '@openfn/language-common@2.1.1'
        body: |
          fn(s => ({ ...s, ran: true }));
    triggers:
      webhook: {type: webhook, custom_path: greet}
      missing: {type: webhook, custom_path: missing}
      legacy: {type: webhook, custom_path: legacy}
    edges:
      webhook->greet: {source_trigger: webhook, target_job: greet, condition_type: always}
      missing->missing: {source_trigger: missing, target_job: missing, condition_type: always}
      legacy->legacy: {source_trigger: legacy, target_job: legacy, condition_type: always}
"#;

/// A small ES module adaptor on the built-in common, installed into `data_dir` the way bolt
/// lays installs out.
fn install_greeter(data_dir: &Path) {
    let root = data_dir.join("adaptors/@openfn/language-greeter@1.2.0");
    let package = root.join("node_modules/@openfn/language-greeter");
    std::fs::create_dir_all(package.join("dist")).unwrap();
    std::fs::write(
        package.join("package.json"),
        r#"{"name":"@openfn/language-greeter","version":"1.2.0","type":"module","types":"index.d.ts","exports":{".":{"import":"./dist/index.js"}}}"#,
    )
    .unwrap();
    std::fs::write(
        package.join("index.d.ts"),
        "export function greet(who: string): any;\nexport { fn } from '@openfn/language-common';\n",
    )
    .unwrap();
    std::fs::write(
        package.join("dist/index.js"),
        "import { fn } from '@openfn/language-common';\nimport { expandReferences } from '@openfn/language-common/util';\nexport { fn };\nexport function greet(who) {\n  return (state) => {\n    const [name] = expandReferences(state, who);\n    console.log('greeting', name);\n    return { ...state, greeting: `hello ${name}` };\n  };\n}\n",
    )
    .unwrap();
    let manifest = json!({
        "name": "@openfn/language-greeter", "version": "1.2.0", "integrity": "sha512-test",
        "source": "test", "installed_at": "2026-12-04T00:00:00Z", "packages": [],
        "common": {"kind": "built_in"},
    });
    std::fs::write(root.join("bolt-adaptor.json"), manifest.to_string()).unwrap();
}

fn logs_of(daemon: &bolt_e2e::Daemon, reference: &str) -> Vec<bolt_shared::model::LogLine> {
    match daemon.request(bolt_shared::protocol::Request::Logs {
        reference: reference.to_string(),
        level: None,
        after_id: None,
    }) {
        bolt_shared::protocol::Response::Logs { lines, .. } => lines,
        other => panic!("{other:?}"),
    }
}

#[test]
fn boltd_runs_installed_npm_adaptors_and_says_what_is_missing() {
    use bolt_shared::model::WorkOrderState;
    let daemon = bolt_e2e::Daemon::start();
    install_greeter(daemon.data_dir());
    // Without installing: the missing adaptors are what this test is about.
    let project = daemon.data_dir().join("greeter-project.yaml");
    std::fs::write(&project, GREETER_PROJECT).unwrap();
    let out = daemon.bolt(&["deploy", "--no-install", project.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "deploy --no-install failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let reply = daemon.post("/i/greet", r#"{"who": "Thoko"}"#);
    let id = reply.json()["work_order_id"].as_str().unwrap().to_string();
    let view = daemon.wait_work_order(&id);
    assert_eq!(view.row.state, WorkOrderState::Success, "{view:#?}");
    let step = &view.runs[0].steps[0];
    let output: Value =
        serde_json::from_str(step.output.as_ref().unwrap().body.as_ref().unwrap()).unwrap();
    assert_eq!(output["greeting"], "hello Thoko");
    assert_eq!(output["shouted"], "HELLO THOKO");
    let logs = logs_of(&daemon, &id);
    assert!(
        logs.iter()
            .any(|l| l.source == "ADA" && l.message == "greeting Thoko"),
        "{logs:#?}"
    );
    assert!(
        logs.iter().any(|l| l
            .message
            .contains("Resolved adaptor @openfn/language-greeter to version 1.2.0")),
        "{logs:#?}"
    );

    // Not installed: the run crashes and says how to install it.
    let reply = daemon.post("/i/missing", "{}");
    let id = reply.json()["work_order_id"].as_str().unwrap().to_string();
    let view = daemon.wait_work_order(&id);
    assert_eq!(view.row.state, WorkOrderState::Crashed);
    let step = &view.runs[0].steps[0];
    assert_eq!(step.error_type.as_deref(), Some("ImportError"));
    assert_eq!(
        step.error_message.as_deref(),
        Some(
            "adaptor @openfn/language-dhis2@5.0.1 is not installed: install it with `bolt adaptor add @openfn/language-dhis2@5.0.1`"
        )
    );

    // Another major of common, not installed: it runs on the built-in, and the run's first
    // log line says so.
    let reply = daemon.post("/i/legacy", "{}");
    let id = reply.json()["work_order_id"].as_str().unwrap().to_string();
    let view = daemon.wait_work_order(&id);
    assert_eq!(view.row.state, WorkOrderState::Success);
    let logs = logs_of(&daemon, &id);
    let first = logs.first().map(|l| l.message.clone()).unwrap_or_default();
    assert!(
        first.contains("@openfn/language-common@2.1.1 is not installed")
            && first.contains("bolt adaptor add @openfn/language-common@2.1.1"),
        "{logs:#?}"
    );
}
