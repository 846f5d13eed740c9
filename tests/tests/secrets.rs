//! Credential values never reach the store, the CLI or the screen in any form a job writes
//! them: raw, JSON-escaped (`console.log` of objects, `JSON.stringify`), base64, hex,
//! URL-encoded; and values too short to hide are refused when set.

use bolt_e2e::Daemon;
use bolt_shared::model::*;

const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\nNMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEovGhLa0VzMaQ8s+CLOyS56YyCFGeJZ\n-----END PRIVATE KEY-----\n";
const PASSWORD: &str = "Tr1cky\"Quote\\Slash pass";

const PROJECT: &str = r#"
name: leaky
workflows:
  w:
    jobs:
      leak:
        credential: vault
        body: |
          fn(state => {
            const c = state.configuration;
            console.log(c);
            console.log(JSON.stringify(c));
            console.log('nested', { body: JSON.stringify(c) });
            console.log('b64', Buffer.from(c.password).toString('base64'), Buffer.from(c.private_key).toString('base64'));
            console.log('b64url', Buffer.from(c.password).toString('base64url'));
            console.log('basic', 'Basic ' + Buffer.from(c.username + ':' + c.password).toString('base64'));
            console.log('doc', Buffer.from(JSON.stringify(c)).toString('base64'));
            console.log('hex', Buffer.from(c.password).toString('hex'), Buffer.from(c.private_key).toString('hex'));
            console.log('url', encodeURIComponent(c.password), encodeURIComponent(c.private_key));
            console.log('form', 'p=' + encodeURIComponent(c.password).replace(/%20/g, '+'));
            return { ...state, data: {
              copy: c,
              json: JSON.stringify(c),
              b64: Buffer.from(c.private_key).toString('base64'),
              hex: Buffer.from(c.password).toString('hex'),
              url: 'https://x.org/?k=' + encodeURIComponent(c.private_key),
              user: c.username,
            } };
          });
      fail:
        credential: vault
        body: |
          fn(state => { throw new Error('could not log in with ' + JSON.stringify(state.configuration)); });
    triggers:
      webhook: {type: webhook, custom_path: leak}
    edges:
      webhook->leak: {source_trigger: webhook, target_job: leak, condition_type: always}
      leak->fail: {source_job: leak, target_job: fail, condition_type: on_job_success}
"#;

/// Every form of the two secrets that must never appear anywhere.
fn forbidden() -> Vec<String> {
    let pem_line = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj";
    let mut forms = vec![
        PASSWORD.to_string(),
        "Tr1cky".to_string(),
        "Quote\\\\Slash".to_string(),
        "Quote\\Slash".to_string(),
        pem_line.to_string(),
        // base64 / hex / URL forms, as the job writes them
        "VHIxY2t5".to_string(),       // base64("Tr1cky…")
        "547231636b79".to_string(),   // hex("Tr1cky")
        "Tr1cky%22Quote".to_string(), // encodeURIComponent
        "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2UUlCQURB".to_string(), // base64(PEM)
        "2d2d2d2d2d424547494e2050524956415445204b45592d2d2d2d2d0a4d494945".to_string(), // hex(PEM)
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj%0A".to_string(),
    ];
    forms.push(PEM.replace('\n', "\\n")); // JSON-escaped
    forms
}

fn assert_clean(place: &str, bytes: &[u8]) {
    for form in forbidden() {
        assert!(
            !bytes
                .windows(form.len())
                .any(|window| window == form.as_bytes()),
            "{place} holds a form of a secret: {form:?}"
        );
    }
}

#[test]
fn secrets_logged_or_output_in_any_usual_form_never_reach_the_store_or_the_cli() {
    let daemon = Daemon::start();
    let credential = serde_json::json!({
        "username": "clinic-admin",
        "password": PASSWORD,
        "private_key": PEM,
    })
    .to_string();
    let out = daemon.bolt_with_stdin(&["credential", "set", "vault"], Some(&credential));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    daemon.deploy_text(PROJECT);
    let reply = daemon.post("/i/leak", "{}");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let id = reply.json()["work_order_id"]
        .as_str()
        .expect("id")
        .to_string();
    let view = daemon.wait_work_order(&id);
    assert_eq!(view.runs[0].state, RunState::Failed, "{view:?}");

    let logs = daemon.bolt(&["logs", &id]);
    assert!(logs.status.success());
    let text = String::from_utf8_lossy(&logs.stdout);
    assert!(text.contains("\"password\": \"***\""), "{text}");
    assert!(text.contains("\"private_key\": \"***\""), "{text}");
    assert!(text.contains("b64 *** ***"), "{text}");
    assert!(text.contains("basic Basic ***"), "{text}");
    assert!(text.contains("hex *** ***"), "{text}");
    assert!(text.contains("url *** ***"), "{text}");
    assert!(text.contains("form p=***"), "{text}");
    assert!(text.contains("clinic-admin"), "names stay readable: {text}");
    assert_clean("bolt logs", &logs.stdout);
    assert_clean(
        "bolt logs --json",
        &daemon.bolt(&["logs", &id, "--json"]).stdout,
    );

    let shown = daemon.bolt(&["show", &id, "--json"]);
    assert!(shown.status.success());
    assert_clean("bolt show --json", &shown.stdout);
    assert_clean("bolt show", &daemon.bolt(&["show", &id]).stdout);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("json");
    let steps = &shown["work_order"]["runs"][0]["steps"];
    let output: serde_json::Value = serde_json::from_str(
        steps[0]["output"]["body"]
            .as_str()
            .expect("output dataclip body"),
    )
    .expect("output is JSON");
    assert_eq!(output["data"]["copy"]["password"], "***", "{output}");
    assert_eq!(output["data"]["hex"], "***", "{output}");
    assert_eq!(output["data"]["user"], "clinic-admin", "{output}");
    let error = steps[1]["error_message"].as_str().expect("error message");
    assert!(error.contains("could not log in with"), "{error}");
    assert!(error.contains("***"), "{error}");
    assert_clean("bolt runs", &daemon.bolt(&["runs"]).stdout);
    assert_clean(
        "bolt failures",
        &daemon.bolt(&["failures", "--json"]).stdout,
    );

    assert_clean("bolt.db and bolt.db-wal", &daemon.database_bytes());
}

#[test]
fn secret_values_under_six_characters_are_refused_with_the_reason() {
    let daemon = Daemon::start();
    let out = daemon.bolt_with_stdin(
        &["credential", "set", "dhis2"],
        Some(r#"{"username": "bob", "password": "abc12"}"#),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("credential `dhis2` was not saved"), "{err}");
    assert!(err.contains("`password` (5 characters)"), "{err}");
    assert!(err.contains("at least 6 characters"), "{err}");
    assert!(!err.contains("abc12"), "the value is not echoed: {err}");
    let list = daemon.bolt(&["credential", "list", "--json"]);
    assert_eq!(
        String::from_utf8_lossy(&list.stdout).trim(),
        "[]",
        "nothing was stored"
    );
    let ok = daemon.bolt_with_stdin(
        &["credential", "set", "dhis2"],
        Some(r#"{"username": "bob", "password": "abc123"}"#),
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}
