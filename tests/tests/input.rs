//! Hostile or careless input through the real binaries: terminal escapes in payloads, body
//! paths outside the project, huge searches, odd HTTP methods, broken or stalled bodies,
//! and a stale pidfile.

use bolt_e2e::{Daemon, http};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const ECHO: &str = "name: input\nworkflows:\n  echo:\n    jobs:\n      echo:\n        body: |\n          fn(state => { console.log('got', state.data.note); if (state.data.fail) throw new Error('bad note ' + state.data.note); return state; })\n    triggers:\n      webhook: {type: webhook, custom_path: echo}\n    edges:\n      webhook->echo: {source_trigger: webhook, target_job: echo, condition_type: always}\n";

fn work_order(reply: &bolt_e2e::HttpReply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["work_order_id"]
        .as_str()
        .expect("work_order_id")
        .to_string()
}

fn work_orders(daemon: &Daemon) -> u64 {
    daemon.client().status().expect("status").work_orders
}

/// Sends raw bytes and reads the answer until the server closes or `wait` passes.
fn raw_http(addr: &str, request: &[u8], wait: Duration) -> (String, Duration) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(wait)).expect("timeout");
    let started = Instant::now();
    stream.write_all(request).expect("send");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                    break;
                }
            }
        }
    }
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn escape_sequences_from_a_payload_never_reach_the_terminal_raw() {
    let daemon = Daemon::start();
    daemon.deploy_text(ECHO);
    let note = "hi\u{1b}]0;pwned\u{7}\u{1b}[2K\rfake line \u{9b}31m\u{202e}";
    let body = serde_json::json!({"note": note, "fail": true}).to_string();
    let id = work_order(&daemon.post("/i/echo", &body));
    daemon.wait_work_order(&id);
    let outputs = [
        daemon.bolt(&["logs", &id]),
        daemon.bolt(&["show", &id]),
        daemon.bolt(&["runs"]),
        daemon.bolt(&["runs", "--search", "fake"]),
        daemon.bolt(&["failures"]),
    ];
    for out in &outputs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !out.stdout.contains(&0x1b)
                && !out.stdout.contains(&0x07)
                && !out.stdout.contains(&b'\r'),
            "raw control bytes in {text:?}"
        );
        assert!(
            !text.contains('\u{9b}') && !text.contains('\u{202e}'),
            "raw C1 or bidi control in {text:?}"
        );
    }
    let logs = String::from_utf8_lossy(&outputs[0].stdout);
    assert!(
        logs.contains("got hi\\x1b]0;pwned\\x07\\x1b[2K\\rfake line \\u{9b}31m\\u{202e}"),
        "{logs}"
    );
    // --json stays exact.
    let json = daemon.bolt(&["logs", &id, "--json"]);
    let line: serde_json::Value = serde_json::from_slice(
        json.stdout
            .split(|b| *b == b'\n')
            .find(|l| l.windows(3).any(|w| w == b"got"))
            .expect("the job's line"),
    )
    .expect("json");
    assert_eq!(line["message"], format!("got {note}"));
}

#[test]
fn body_paths_outside_the_project_directory_are_refused_unless_allowed() {
    let daemon = Daemon::start();
    let outer = tempfile::tempdir().expect("dir");
    let project = outer.path().join("project");
    std::fs::create_dir_all(project.join("jobs")).expect("mkdir");
    std::fs::write(
        outer.path().join("shadow"),
        "root:$6$secret-hash:19000::::::",
    )
    .expect("write");
    std::fs::write(project.join("jobs/ok.js"), "fn(s => s)").expect("write");
    std::os::unix::fs::symlink(outer.path().join("shadow"), project.join("jobs/sneaky.js"))
        .expect("symlink");
    let yaml = |path: &str| {
        format!(
            "name: paths\nworkflows:\n  w:\n    jobs:\n      leak:\n        body:\n          path: {path}\n    triggers:\n      webhook: {{type: webhook, custom_path: paths}}\n    edges:\n      webhook->leak: {{source_trigger: webhook, target_job: leak, condition_type: always}}\n"
        )
    };
    let file = project.join("project.yaml");
    for path in [
        "../shadow",
        "./jobs/sneaky.js",
        &outer.path().join("shadow").display().to_string(),
    ] {
        std::fs::write(&file, yaml(path)).expect("write project");
        let out = daemon.bolt(&["deploy", file.to_str().expect("utf-8")]);
        assert!(!out.status.success(), "{path} was deployed");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("job `leak` of workflow `w`"), "{err}");
        assert!(
            err.contains("outside the project file's directory"),
            "{err}"
        );
        assert!(err.contains("--allow-outside-paths"), "{err}");
        assert!(!err.contains("secret-hash"), "{err}");
    }
    let workflows = daemon.bolt(&["workflows", "--json"]);
    assert_eq!(String::from_utf8_lossy(&workflows.stdout).trim(), "[]");
    assert!(
        !daemon
            .database_bytes()
            .windows(11)
            .any(|w| w == b"secret-hash"),
        "nothing of the file was stored"
    );
    // Inside the tree: fine. Outside with the flag: the person deploying said so.
    std::fs::write(&file, yaml("./jobs/ok.js")).expect("write project");
    daemon.deploy(&file);
    std::fs::write(&file, yaml("../shadow")).expect("write project");
    let out = daemon.bolt(&[
        "deploy",
        file.to_str().expect("utf-8"),
        "--allow-outside-paths",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_search_of_100000_words_is_refused_at_once() {
    let daemon = Daemon::start();
    daemon.deploy_text(ECHO);
    work_order(&daemon.post("/i/echo", r#"{"note": "malaria"}"#));
    let words: Vec<String> = (0..100_000).map(|i| format!("word{i}")).collect();
    let search = words.join(" ");
    // Through the socket, as any client could send it: boltd refuses it itself.
    let started = Instant::now();
    let answer = daemon
        .client()
        .request(bolt_shared::protocol::Request::ListWorkOrders {
            filter: bolt_shared::model::WorkOrderFilter {
                search: Some(search.clone()),
                ..Default::default()
            },
            limit: 50,
            after: None,
        });
    let took = started.elapsed();
    let err = answer.expect_err("refused").to_string();
    assert!(err.contains("too long (100000 words"), "{err}");
    assert!(err.contains("at most 64 words and 1024 bytes"), "{err}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    // The CLI says so before asking.
    let out = daemon.bolt(&["runs", "--search", &words[..65].join(" ")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("too long (65 words"));
    // A normal search still works.
    let out = daemon.bolt(&["runs", "--search", "malaria"]);
    assert!(out.status.success());
}

#[test]
fn webhook_methods_are_answered_as_lightning_does() {
    let daemon = Daemon::start();
    daemon.deploy_text(ECHO);
    for method in ["PUT", "DELETE", "PATCH"] {
        let reply = http(
            &daemon.http,
            method,
            "/i/echo",
            &[("content-type", "application/json")],
            b"{}",
        );
        assert_eq!(reply.status, 405, "{method}: {}", reply.body);
        let allow = reply
            .headers
            .iter()
            .find(|(k, _)| k == "allow")
            .map(|(_, v)| v.as_str());
        assert_eq!(allow, Some("GET, HEAD, POST, OPTIONS"), "{method}");
        assert!(reply.body.contains("method_not_allowed"), "{}", reply.body);
    }
    let options = http(&daemon.http, "OPTIONS", "/i/echo", &[], b"");
    assert_eq!(options.status, 204);
    assert!(
        options
            .headers
            .iter()
            .any(|(k, v)| k == "allow" && v.contains("POST"))
    );
    assert_eq!(http(&daemon.http, "GET", "/i/echo", &[], b"").status, 200);
    assert_eq!(http(&daemon.http, "HEAD", "/i/echo", &[], b"").status, 200);
    assert_eq!(
        http(&daemon.http, "PUT", "/i/nowhere", &[], b"{}").status,
        404
    );
    assert_eq!(
        work_orders(&daemon),
        0,
        "no method but POST made a work order"
    );
    work_order(&daemon.post("/i/echo", "{}"));
    assert_eq!(work_orders(&daemon), 1);
}

#[test]
fn broken_chunking_is_400_and_a_stalled_body_408_after_the_configured_time() {
    let config_dir = tempfile::tempdir().expect("dir");
    let config = config_dir.path().join("bolt.toml");
    std::fs::write(&config, "[http]\nbody_timeout_secs = 2\n").expect("write config");
    let daemon = Daemon::start_with(&[("BOLT_CONFIG", config.to_str().expect("utf-8"))]);
    daemon.deploy_text(ECHO);
    let host = &daemon.http;

    let chunked = format!(
        "POST /i/echo HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n"
    );
    let (answer, _) = raw_http(host, chunked.as_bytes(), Duration::from_secs(10));
    assert_eq!(status_of(&answer), 400, "{answer}");
    assert!(answer.contains("could not be read"), "{answer}");

    let stalled = format!(
        "POST /i/echo HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"a\": 1"
    );
    let (answer, took) = raw_http(host, stalled.as_bytes(), Duration::from_secs(20));
    assert_eq!(status_of(&answer), 408, "{answer}");
    assert!(answer.contains("body_timeout_secs"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(10),
        "answered after {took:?}"
    );
    assert_eq!(work_orders(&daemon), 0, "nothing was kept");
    // The server still serves.
    work_order(&daemon.post("/i/echo", "{}"));
}

#[test]
fn bolt_stop_does_not_trust_a_stale_pidfile() {
    let dir = tempfile::tempdir().expect("dir");
    // A pidfile left by a crash, naming a pid that now belongs to another process.
    let mut other = Command::new("sleep").arg("30").spawn().expect("sleep");
    std::fs::write(dir.path().join("boltd.pid"), format!("{}\n", other.id())).expect("pidfile");
    let started = Instant::now();
    let out = Command::new(bolt_e2e::bin("bolt"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("stop")
        .env_remove("BOLT_SOCKET")
        .env_remove("BOLT_CONFIG")
        .output()
        .expect("bolt stop");
    let took = started.elapsed();
    let _ = other.kill();
    let _ = other.wait();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("boltd is not running"), "{text}");
    assert!(!text.contains("kill"), "{text}");
    assert!(
        took < Duration::from_secs(5),
        "waited {took:?} on an unrelated process"
    );
    assert!(Path::new(&dir.path().join("boltd.pid")).exists());
}
