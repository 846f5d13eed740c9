//! `bolt execute` behaviour beyond the conformance fixtures: flags, errors, output modes.

#![allow(clippy::unwrap_used)]

use bolt_engine::cli::{ExecuteOptions, execute};
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn run(options: ExecuteOptions) -> (i32, String) {
    let out = Captured::default();
    let code = execute(options, Box::new(out.clone()));
    let text = String::from_utf8_lossy(&out.0.lock().unwrap()).to_string();
    (code, text)
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn an_adaptor_that_is_not_installed_says_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    let job = write(dir.path(), "job.js", "fn(s => s);");
    let (code, log) = run(ExecuteOptions {
        path: job,
        adaptors: vec!["salesforce@4.0.0".into()],
        data_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    });
    assert_eq!(code, 1);
    assert!(
        log.contains(
            "adaptor @openfn/language-salesforce@4.0.0 is not installed: install it with `bolt adaptor add @openfn/language-salesforce@4.0.0`"
        ),
        "{log}"
    );
    let (code, log) = run(ExecuteOptions {
        path: dir.path().join("job.js"),
        adaptors: vec!["openmrs@^5".into()],
        ..Default::default()
    });
    assert_eq!(code, 1);
    assert!(log.contains("not a version"), "{log}");
}

#[test]
fn state_from_the_command_line_and_result_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let job = write(
        dir.path(),
        "job.js",
        "fn(s => ({ ...s, doubled: s.data.n * 2 }));",
    );
    let (code, log) = run(ExecuteOptions {
        path: job,
        adaptors: vec!["common@9.9.9".into()],
        state_stdin: Some(r#"{"data": {"n": 21}}"#.into()),
        output_stdout: true,
        ..Default::default()
    });
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("[CLI] ✔ Result: "), "{log}");
    assert!(log.contains("\"doubled\": 42"), "{log}");
    assert!(!dir.path().join("output.json").exists());
}

#[test]
fn output_defaults_to_output_json_next_to_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let job = write(dir.path(), "job.js", "fn(s => ({ x: 1 }));");
    let (code, _) = run(ExecuteOptions {
        path: job,
        adaptors: vec!["common".into()],
        ..Default::default()
    });
    assert_eq!(code, 0);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("output.json")).unwrap(),
        "{\n  \"x\": 1\n}"
    );
}

fn three_step_workflow(dir: &Path) -> std::path::PathBuf {
    let workflow = json!({"workflow": {"steps": [
        {"id": "first", "adaptor": "common", "expression": "fn(s => ({ ...s, trail: [...(s.trail || []), 'first'] }))", "next": {"second": true}},
        {"id": "second", "name": "middle step", "adaptor": "common", "expression": "fn(s => ({ ...s, trail: [...(s.trail || []), 'second'] }))", "next": {"third": true}},
        {"id": "third", "adaptor": "common", "expression": "fn(s => ({ ...s, trail: [...(s.trail || []), 'third'] }))"}
    ]}});
    write(dir, "workflow.json", &workflow.to_string())
}

fn trail(dir: &Path) -> Value {
    let out: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("output.json")).unwrap()).unwrap();
    out["trail"].clone()
}

#[test]
fn start_end_and_only_select_steps_by_id_or_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = three_step_workflow(dir.path());
    let base = ExecuteOptions {
        path,
        ..Default::default()
    };

    let (code, _) = run(ExecuteOptions {
        start: Some("middle".into()),
        ..base.clone()
    });
    assert_eq!(code, 0);
    assert_eq!(trail(dir.path()), json!(["second", "third"]));

    let (code, _) = run(ExecuteOptions {
        end: Some("second".into()),
        ..base.clone()
    });
    assert_eq!(code, 0);
    assert_eq!(trail(dir.path()), json!(["first", "second"]));

    let (code, _) = run(ExecuteOptions {
        only: Some("third".into()),
        ..base
    });
    assert_eq!(code, 0);
    assert_eq!(trail(dir.path()), json!(["third"]));
}

#[test]
fn adaptor_flag_with_a_workflow_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = three_step_workflow(dir.path());
    let (code, log) = run(ExecuteOptions {
        path,
        adaptors: vec!["common".into()],
        ..Default::default()
    });
    assert_eq!(code, 1);
    assert!(log.contains("adaptor and workflow provided"), "{log}");
}

#[test]
fn timeout_flag_kills_a_slow_job_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let job = write(
        dir.path(),
        "job.js",
        "fn(s => new Promise(r => setTimeout(() => r(s), 5000)));",
    );
    let (code, log) = run(ExecuteOptions {
        path: job,
        adaptors: vec!["common".into()],
        timeout_ms: Some(200),
        ..Default::default()
    });
    assert_eq!(code, 1);
    assert!(
        log.contains("[R/T] ✘ Error: Timeout expired (200ms)"),
        "{log}"
    );
    assert!(!dir.path().join("output.json").exists());
}

#[test]
fn log_none_silences_job_output_but_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let job = write(
        dir.path(),
        "job.js",
        "fn(s => { console.log('chatty'); throw new Error('bad'); });",
    );
    let (code, log) = run(ExecuteOptions {
        path: job,
        adaptors: vec!["common".into()],
        log: vec!["none".into()],
        ..Default::default()
    });
    assert_eq!(code, 0);
    assert!(!log.contains("chatty"), "{log}");
    assert!(log.contains("[R/T] ✘ bad"), "{log}");
}

#[test]
fn invalid_sanitize_policy_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let job = write(dir.path(), "job.js", "fn(s => s);");
    let (code, _) = run(ExecuteOptions {
        path: job,
        sanitize: Some("scramble".into()),
        ..Default::default()
    });
    assert_eq!(code, 1);
}
