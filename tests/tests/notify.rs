//! Alerts through the real binaries: `[[notify]]` channels in bolt.toml told of failed runs,
//! workflow changes and a nearly full disk, delivered to a local command, a local HTTP
//! receiver (its HMAC signature checked) and a local SMTP sink; the rate limit and its
//! digest; delivery failures in `bolt status`; `bolt notify test`.

#![allow(clippy::unwrap_used)] // test helpers: a failed step should stop the test at once

use bolt_e2e::disk::{Tmpfs, fill};
use bolt_e2e::tls::test_certificates;
use bolt_e2e::{Daemon, ok};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::Duration;

fn project(job_code: &str) -> String {
    format!(
        r#"
name: alerts
workflows:
  intake:
    name: Intake
    jobs:
      parse:
        name: Parse
        body: |
          {job_code}
    triggers:
      hook: {{type: webhook, custom_path: intake}}
    edges:
      hook->parse: {{source_trigger: hook, target_job: parse, condition_type: always}}
  quiet:
    name: Quiet
    jobs:
      noop:
        name: Noop
        body: |
          fn(state => {{ throw new Error("quiet failure") }})
    triggers:
      hook: {{type: webhook, custom_path: quiet}}
    edges:
      hook->noop: {{source_trigger: hook, target_job: noop, condition_type: always}}
"#
    )
}

const FAILING: &str = r#"fn(state => { throw new Error("parse failed: bad row") })"#;

/// A script that writes its stdin (the event) into a new file in `dir`.
fn recorder_script(root: &Path, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let script = root.join("record-alert.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nset -e\nenv > \"$1/env.txt\"\ncat > \"$1/$(date +%s%N)-$$.json.part\"\nmv \"$1/\"*-$$.json.part \"$1/$(date +%s%N)-$$.json\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// The events the recorder script received, oldest first.
fn recorded(dir: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    files
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

/// How long an alert may take to arrive.
const ALERTS: Duration = Duration::from_secs(60);

/// Where a command channel delivers in these tests: the recorder script and the directory
/// it writes each event into, in a temp dir the test may keep other files in.
struct Inbox {
    root: tempfile::TempDir,
    dir: PathBuf,
    script: PathBuf,
}

impl Inbox {
    fn new() -> Inbox {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("inbox");
        let script = recorder_script(root.path(), &dir);
        Inbox { root, dir, script }
    }

    /// The `command` and `args` lines of a `[[notify]]` entry that delivers here.
    fn command(&self) -> String {
        format!(
            "command = \"{}\"\nargs = [\"{}\"]",
            self.script.display(),
            self.dir.display()
        )
    }

    /// The events delivered so far, oldest first.
    fn events(&self) -> Vec<Value> {
        recorded(&self.dir)
    }
}

/// A request the HTTP receiver got.
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP receiver on 127.0.0.1 answering every request with `status`.
fn http_receiver(status: u16) -> (String, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/hooks/bolt?token=not-shown",
        listener.local_addr().unwrap()
    );
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            let mut headers = Vec::new();
            let mut line = String::new();
            let _ = reader.read_line(&mut line); // request line
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    headers.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
            let length: usize = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            let _ = tx.send(Received {
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
    });
    (url, rx)
}

/// A mail the SMTP sink took: the AUTH PLAIN login, the envelope and the message, and
/// whether it came over TLS.
#[derive(Debug, Default)]
struct Mail {
    login: Option<String>,
    from: String,
    to: Vec<String>,
    data: String,
    encrypted: bool,
}

/// What the conversation asks for next.
enum Next {
    Done,
    StartTls,
}

/// A small SMTP server on 127.0.0.1. With `tls` it offers STARTTLS, and AUTH only once
/// the connection is encrypted (as real servers do); without, it never encrypts.
fn smtp_sink(tls: Option<Arc<rustls::ServerConfig>>) -> (u16, mpsc::Receiver<Mail>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.write_all(b"220 sink ESMTP\r\n");
            let mut mail = Mail::default();
            let mut reader = BufReader::new(stream);
            let next = converse(&mut reader, tls.is_some(), &mut mail);
            if let (Next::StartTls, Some(config)) = (next, &tls) {
                let tcp = reader.into_inner();
                let Ok(server) = rustls::ServerConnection::new(config.clone()) else {
                    continue;
                };
                let mut reader = BufReader::new(rustls::StreamOwned::new(server, tcp));
                mail.encrypted = true;
                converse(&mut reader, false, &mut mail);
            }
            if !mail.from.is_empty() {
                let _ = tx.send(mail);
            }
        }
    });
    (port, rx)
}

fn converse<S: Read + Write>(reader: &mut BufReader<S>, offer_tls: bool, mail: &mut Mail) -> Next {
    use base64::Engine;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return Next::Done;
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            if offer_tls {
                "250-sink\r\n250-STARTTLS\r\n250 8BITMIME\r\n".into()
            } else {
                "250-sink\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n".into()
            }
        } else if upper == "STARTTLS" && offer_tls {
            let _ = reader.get_mut().write_all(b"220 go ahead\r\n");
            return Next::StartTls;
        } else if upper.starts_with("AUTH PLAIN") {
            let encoded = command.split_whitespace().nth(2).unwrap_or("");
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap_or_default();
            mail.login = Some(String::from_utf8_lossy(&decoded).replace('\0', "|"));
            "235 ok\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            mail.from = command[10..].to_string();
            "250 ok\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            mail.to.push(command[8..].to_string());
            "250 ok\r\n".into()
        } else if upper == "DATA" {
            let _ = reader.get_mut().write_all(b"354 go on\r\n");
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == ".\r\n" {
                    break;
                }
                mail.data.push_str(&line);
            }
            "250 queued\r\n".into()
        } else if upper == "QUIT" {
            let _ = reader.get_mut().write_all(b"221 bye\r\n");
            let _ = reader.get_mut().flush();
            return Next::Done;
        } else {
            "250 ok\r\n".into()
        };
        let _ = reader.get_mut().write_all(reply.as_bytes());
        let _ = reader.get_mut().flush();
    }
}

fn signature(secret: &str, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

fn status_channel(daemon: &Daemon, key: &str) -> Value {
    let status = daemon.bolt_json(&["status"]);
    status["notify"]["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"] == key)
        .cloned()
        .unwrap_or_else(|| panic!("no channel {key} in {status}"))
}

fn receive<T>(what: &str, daemon: &Daemon, rx: &mpsc::Receiver<T>) -> T {
    daemon.wait_until(what, ALERTS, || {
        rx.recv_timeout(Duration::from_millis(200)).ok()
    })
}

#[test]
fn a_failed_run_and_a_workflow_change_reach_a_command_a_signed_webhook_and_smtp() {
    let inbox = Inbox::new();
    let (hook_url, hooks) = http_receiver(200);
    let (smtp_port, mails) = smtp_sink(None);
    let config = format!(
        r#"
[[notify]]
name = "pager"
on = ["run_failed", "workflow_changed"]
{pager}

[[notify]]
name = "hook"
on = ["run_failed"]
workflows = ["intake"]
webhook = "{hook_url}"
secret_credential = "alert-signing"

[[notify]]
name = "mail"
on = ["run_failed"]
workflows = ["Intake"]
email = "oncall@example.org"
from = "bolt@example.org"
smtp = "smtp://127.0.0.1:{smtp_port}"
smtp_credential = "smtp-login"
starttls = false

[[notify]]
name = "elsewhere"
on = ["run_failed"]
workflows = ["no-such-workflow"]
command = "{script}"
args = ["{inbox}-elsewhere"]
"#,
        pager = inbox.command(),
        script = inbox.script.display(),
        inbox = inbox.dir.display(),
    );
    let daemon = Daemon::start_with_config(&config);
    ok(&daemon.bolt_with_stdin(
        &["credential", "set", "alert-signing"],
        Some(r#"{"secret": "hook-signing-secret"}"#),
    ));
    ok(&daemon.bolt_with_stdin(
        &["credential", "set", "smtp-login"],
        Some(r#"{"username": "bolt-mailer", "password": "mail-pass-123"}"#),
    ));
    daemon.deploy_text(&project(FAILING));

    // The first deploy creates both workflows: two workflow_changed events for the pager.
    let created = daemon.wait_until("the creation alerts", ALERTS, || {
        let events = inbox.events();
        (events.len() >= 2).then_some(events)
    });
    let names: Vec<&str> = created
        .iter()
        .map(|e| e["workflow"]["key"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"intake") && names.contains(&"quiet"),
        "{names:?}"
    );
    assert!(created.iter().all(|e| e["event"] == "workflow_changed"));
    let intake_created = created
        .iter()
        .find(|e| e["workflow"]["key"] == "intake")
        .unwrap();
    assert_eq!(intake_created["version"], 1);
    assert!(
        intake_created["changes_summary"]
            .as_str()
            .unwrap()
            .starts_with("created: 1 job, 1 trigger, 1 edge"),
        "{intake_created}"
    );
    assert!(intake_created["actor"].is_string(), "{intake_created}");

    let reply = daemon.post("/i/intake", r#"{"row": 1}"#);
    let work_order = reply.json()["work_order_id"].as_str().unwrap().to_string();
    let view = daemon.wait_work_order(&work_order);
    assert_eq!(view.runs[0].state.as_str(), "failed");
    let run_id = view.runs[0].id.clone();

    // The command got the event on stdin.
    let failed = daemon.wait_until("the pager's run_failed alert", ALERTS, || {
        inbox
            .events()
            .into_iter()
            .find(|e| e["event"] == "run_failed")
    });
    assert_eq!(failed["workflow"]["key"], "intake");
    assert_eq!(failed["run"]["id"], run_id.as_str());
    assert_eq!(failed["run"]["state"], "failed");
    assert_eq!(failed["run"]["failed_job"], "Parse");
    assert_eq!(
        failed["show"],
        format!("bolt show {}", &work_order[work_order.len() - 8..])
    );
    assert!(
        failed["run"]["error_message"]
            .as_str()
            .unwrap()
            .contains("parse failed: bad row"),
        "{failed}"
    );

    // The webhook got the same event, signed with the credential's secret.
    let request = receive("the webhook's POST", &daemon, &hooks);
    let event: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(event["event"], "run_failed");
    assert_eq!(event["run"]["id"], run_id.as_str());
    assert_eq!(
        request.header("X-Bolt-Signature"),
        Some(signature("hook-signing-secret", &request.body).as_str()),
        "the signature is HMAC-SHA256 of the body under the secret"
    );
    assert_ne!(
        request.header("X-Bolt-Signature"),
        Some(signature("another-secret", &request.body).as_str())
    );
    assert_eq!(request.header("X-Bolt-Event"), Some("run_failed"));
    assert_eq!(request.header("Content-Type"), Some("application/json"));

    // The mail went through the SMTP sink, logged in with the bolt credential.
    let mail = receive("the alert mail", &daemon, &mails);
    assert_eq!(mail.login.as_deref(), Some("|bolt-mailer|mail-pass-123"));
    assert!(mail.from.contains("bolt@example.org"), "{mail:?}");
    assert!(mail.to[0].contains("oncall@example.org"), "{mail:?}");
    assert!(
        mail.data
            .contains("Subject: [bolt] run of workflow Intake failed"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains(&run_id), "{}", mail.data);

    // A job edit: the pager hears who changed what.
    daemon.deploy_text(&project(
        r#"fn(state => { throw new Error("parse failed again") })"#,
    ));
    let changed = daemon.wait_until("the workflow_changed alert", ALERTS, || {
        inbox
            .events()
            .into_iter()
            .find(|e| e["event"] == "workflow_changed" && e["version"] == 2)
    });
    assert_eq!(changed["workflow"]["key"], "intake");
    assert_eq!(changed["previous_version"], 1);
    let how = changed["how"].as_str().unwrap();
    assert!(
        how.starts_with("deploy of ") && how.ends_with("project.yaml"),
        "{how}"
    );
    assert_eq!(changed["changes"]["jobs"]["changed"][0]["name"], "Parse");
    assert!(
        changed["changes_summary"]
            .as_str()
            .unwrap()
            .contains("job Parse: code +1 -1"),
        "{changed}"
    );
    assert!(
        changed["summary"].as_str().unwrap().contains("changed by"),
        "{changed}"
    );

    // The quiet workflow's failure reaches the pager only: the others filter on intake.
    let reply = daemon.post("/i/quiet", "{}");
    let quiet = reply.json()["work_order_id"].as_str().unwrap().to_string();
    daemon.wait_work_order(&quiet);
    daemon.wait_until("the quiet workflow's alert", ALERTS, || {
        inbox
            .events()
            .into_iter()
            .find(|e| e["event"] == "run_failed" && e["workflow"]["key"] == "quiet")
    });
    assert!(hooks.recv_timeout(Duration::from_millis(500)).is_err());
    let hook = status_channel(&daemon, "hook");
    assert_eq!(hook["delivered"], 1, "{hook}");
    assert_eq!(hook["kind"], "webhook");
    assert_eq!(
        hook["target"].as_str().unwrap(),
        hook_url.split('?').next().unwrap(),
        "the URL's query is not shown"
    );
    let elsewhere = status_channel(&daemon, "elsewhere");
    assert_eq!(elsewhere["delivered"], 0, "{elsewhere}");
    assert_eq!(elsewhere["pending"], 0, "{elsewhere}");
    let pager = status_channel(&daemon, "pager");
    assert_eq!(
        pager["delivered"], 5,
        "2 created, 1 failed, 1 changed, 1 quiet: {pager}"
    );
    // A deploy without the quiet workflow removes it: the pager hears that too.
    let without_quiet = project(FAILING);
    let without_quiet = &without_quiet[..without_quiet.find("  quiet:").unwrap()];
    daemon.deploy_text(without_quiet);
    let removed = daemon.wait_until("the removal alert", ALERTS, || {
        inbox
            .events()
            .into_iter()
            .find(|e| e["event"] == "workflow_changed" && e["removed"] == true)
    });
    assert_eq!(removed["workflow"]["key"], "quiet");
    let text = ok(&daemon.bolt(&["status"]));
    assert!(text.contains("alerts     pager command"), "{text}");
    assert!(!text.contains("not-shown"), "{text}");

    // Secrets of the channels are nowhere in the store.
    let db = daemon.database_bytes();
    for secret in ["hook-signing-secret", "mail-pass-123"] {
        assert!(
            !db.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is in the store"
        );
    }
}

#[test]
fn past_the_rate_limit_events_are_held_and_summed_up_in_one_digest() {
    let inbox = Inbox::new();
    let config = format!(
        r#"
[[notify]]
on = ["run_failed"]
{}
max_per_window = 2
window_secs = 4
"#,
        inbox.command()
    );
    let daemon = Daemon::start_with_config(&config);
    daemon.deploy_text(&project(FAILING));
    let mut work_orders = Vec::new();
    for n in 0..5 {
        let reply = daemon.post("/i/intake", &format!(r#"{{"n": {n}}}"#));
        work_orders.push(reply.json()["work_order_id"].as_str().unwrap().to_string());
    }
    for id in &work_orders {
        daemon.wait_work_order(id);
    }
    let digest = daemon.wait_until("the digest", ALERTS, || {
        inbox.events().into_iter().find(|e| e["event"] == "digest")
    });
    let events = inbox.events();
    let sent = events.iter().filter(|e| e["event"] == "run_failed").count();
    let held: u64 = events
        .iter()
        .filter(|e| e["event"] == "digest")
        .map(|e| e["held_back"].as_u64().unwrap())
        .sum();
    assert!(sent >= 2, "the first two of a window go out: {events:?}");
    assert_eq!(
        sent as u64 + held,
        5,
        "every failure is either sent or in a digest: {events:?}"
    );
    assert_eq!(digest["workflow"]["key"], "intake");
    assert_eq!(digest["window"]["max_per_window"], 2);
    assert_eq!(digest["events"]["run_failed"], digest["held_back"]);
    let items = digest["items"].as_array().unwrap();
    assert_eq!(items.len() as u64, digest["held_back"].as_u64().unwrap());
    assert!(items.iter().all(|i| i["run_id"].is_string()), "{digest}");
    assert!(
        digest["summary"]
            .as_str()
            .unwrap()
            .contains("held back by the rate limit (2 per 4 s)"),
        "{digest}"
    );
    let channel = status_channel(&daemon, "#1");
    assert_eq!(channel["held"], 0, "{channel}");
}

#[test]
fn a_failing_channel_is_retried_and_shown_in_status_and_notify_test_reports_the_result() {
    let inbox = Inbox::new();
    let (hook_url, hooks) = http_receiver(500);
    let (smtp_port, mails) = smtp_sink(None);
    let config = format!(
        r#"
[[notify]]
name = "pager"
on = ["run_failed"]
{}

[[notify]]
on = ["run_failed"]
webhook = "{hook_url}"
secret = "inline-secret"

[[notify]]
name = "mail"
on = ["workflow_changed"]
email = "oncall@example.org"
from = "bolt@example.org"
smtp = "smtp://127.0.0.1:{smtp_port}"
"#,
        inbox.command()
    );
    let daemon = Daemon::start_with_config(&config);

    // notify test: a sample through the named command channel.
    let out = ok(&daemon.bolt(&["notify", "test", "pager"]));
    assert!(
        out.contains("delivered a sample run_failed event through pager"),
        "{out}"
    );
    let sample = daemon.wait_until("the sample", ALERTS, || inbox.events().into_iter().next());
    assert_eq!(sample["test"], true);
    assert_eq!(sample["event"], "run_failed");

    // notify test by place: the receiver answers 500, so it fails and says why.
    let out = daemon.bolt(&["notify", "test", "2"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did not reach #2 (webhook"), "{err}");
    assert!(err.contains("answered HTTP 500"), "{err}");
    assert!(!err.contains("not-shown"), "no URL query in errors: {err}");
    let request = receive("the sample POST", &daemon, &hooks);
    assert_eq!(
        request.header("X-Bolt-Signature"),
        Some(signature("inline-secret", &request.body).as_str())
    );
    let json = daemon.bolt(&["notify", "test", "#2", "--json"]);
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["delivered"], false);
    assert_eq!(report["kind"], "webhook");
    let out = daemon.bolt(&["notify", "test", "pagr"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no [[notify]] channel `pagr`: the channels are pager, #2, mail"),
        "{err}"
    );
    // STARTTLS is required unless the channel says otherwise: a server without it gets
    // no mail (and no login).
    let out = daemon.bolt(&["notify", "test", "mail"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("did not reach mail (email oncall@example.org)"),
        "{err}"
    );
    assert!(mails.recv_timeout(Duration::from_millis(300)).is_err());

    // A failed run: the webhook's delivery fails and waits for a retry, shown in status.
    daemon.deploy_text(&project(FAILING));
    let reply = daemon.post("/i/intake", "{}");
    daemon.wait_work_order(reply.json()["work_order_id"].as_str().unwrap());
    let channel = daemon.wait_until("a failed delivery in status", ALERTS, || {
        let channel = status_channel(&daemon, "#2");
        (channel["retrying"] == 1).then_some(channel)
    });
    assert_eq!(channel["pending"], 1, "{channel}");
    assert!(
        channel["last_error"]
            .as_str()
            .unwrap()
            .contains("answered HTTP 500"),
        "{channel}"
    );
    let text = ok(&daemon.bolt(&["status"]));
    assert!(text.contains("(1 retrying)"), "{text}");
    assert!(text.contains("last error at"), "{text}");
    // The run itself is recorded as it ended, whatever the channel does.
    assert_eq!(status_channel(&daemon, "pager")["delivered"], 1);
}

#[test]
fn a_nearly_full_disk_is_a_boltd_degraded_alert() {
    let inbox = Inbox::new();
    let config = format!(
        r#"
[[notify]]
on = ["boltd_degraded"]
{}
"#,
        inbox.command()
    );
    // Any disk is "nearly full" under a limit of an exabyte.
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let daemon = Daemon::start_with_config_and_env(
        &config,
        &[
            ("BOLT_NOTIFY_NEARLY_FULL_BYTES", "1000000000000000000"),
            ("BOLT_ENCRYPTION_KEY", key),
        ],
    );
    let alert = daemon.wait_until("the degraded alert", ALERTS, || {
        inbox.events().into_iter().next()
    });
    assert_eq!(alert["event"], "boltd_degraded");
    assert_eq!(alert["reason"], "disk_nearly_full");
    assert!(alert["free_bytes"].is_u64());
    assert!(
        alert["advice"].as_str().unwrap().contains("df -h"),
        "{alert}"
    );
    // The command runs without the credentials' key in its environment.
    let env = std::fs::read_to_string(inbox.dir.join("env.txt")).unwrap();
    assert!(env.contains("BOLT_EVENT=boltd_degraded"), "{env}");
    assert!(!env.contains(key), "{env}");
}

#[test]
fn a_bad_notify_entry_stops_boltd_with_the_entry_and_the_fix() {
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("bolt.toml");
    std::fs::write(
        &path,
        "[[notify]]\nname = \"ops\"\non = [\"run_failed\"]\nwebhook = \"https://hooks.example.org/x\"\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(bolt_e2e::bin("boltd"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--http")
        .arg("127.0.0.1:0")
        .env("BOLT_CONFIG", &path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[[notify]] #1 (ops)"), "{err}");
    assert!(err.contains("secret_credential"), "{err}");
}

/// The disk under the store fills up: the store refuses writes, so the alert can't be
/// queued in it; boltd sends it from memory.
#[test]
fn a_store_refusing_writes_is_alerted_from_memory() {
    if !bolt_e2e::sqlite_only("a full disk under the data dir fails the store's writes") {
        return;
    }
    if !bolt_e2e::is_root() {
        eprintln!("not root: skipping (it mounts a small tmpfs)");
        return;
    }
    let inbox = Inbox::new();
    let Some(disk) = Tmpfs::mount(&inbox.root.path().join("disk"), "16m") else {
        eprintln!("cannot mount a tmpfs: skipping");
        return;
    };
    let config_path = inbox.root.path().join("bolt.toml");
    std::fs::write(
        &config_path,
        format!(
            "[[notify]]\non = [\"boltd_degraded\"]\n{}\n",
            inbox.command()
        ),
    )
    .unwrap();
    let daemon = Daemon::start_with_options(
        tempfile::tempdir().unwrap(),
        bolt_e2e::Options {
            data_dir: Some(disk.path.join("data")),
            env: vec![("BOLT_CONFIG".into(), config_path.display().to_string())],
            ..bolt_e2e::Options::default()
        },
    );
    daemon.deploy_text(&project(FAILING));
    let filler = disk.path.join("filler");
    fill(&filler);
    let body = format!(r#"{{"note": "{}"}}"#, "x".repeat(20_000));
    daemon.wait_until("a refused webhook", ALERTS, || {
        (daemon.post("/i/intake", &body).status == 503).then_some(())
    });
    let alert = daemon.wait_until("the store's alert", ALERTS, || {
        inbox.events().into_iter().next()
    });
    assert_eq!(alert["event"], "boltd_degraded");
    assert_eq!(alert["reason"], "store_refusing_writes");
    assert!(
        alert["summary"]
            .as_str()
            .unwrap()
            .contains("boltd refuses writes"),
        "{alert}"
    );
    assert!(
        alert["advice"].as_str().unwrap().contains("df -h"),
        "{alert}"
    );
    let status = daemon.bolt_json(&["status"]);
    assert_eq!(status["store_health"]["writable"], false, "{status}");
    assert_eq!(status["notify"]["degraded_in_memory"], 0, "sent: {status}");
    std::fs::remove_file(&filler).unwrap();
    daemon.wait_until("the store taking writes again", ALERTS, || {
        (daemon.bolt_json(&["status"])["store_health"]["writable"] == true).then_some(())
    });
    assert_eq!(inbox.events().len(), 1, "one fault, one alert");
    drop(daemon);
}

/// Mail over STARTTLS to a server whose certificate a private CA signed: refused until the
/// channel trusts that CA (`smtp_ca_file`), then sent encrypted, logged in with the bolt
/// credential.
#[test]
fn mail_goes_over_starttls_and_the_server_s_certificate_is_checked() {
    let root = tempfile::tempdir().unwrap();
    let Some(certificates) = test_certificates(root.path(), "IP:127.0.0.1") else {
        return;
    };
    let (port, mails) = smtp_sink(Some(certificates.server));
    let config = format!(
        r#"
[[notify]]
name = "trusted"
on = ["run_failed"]
email = "oncall@example.org"
from = "bolt@example.org"
smtp = "smtp://127.0.0.1:{port}"
smtp_credential = "smtp-login"
smtp_ca_file = "{}"

[[notify]]
name = "untrusted"
on = ["run_failed"]
email = "oncall@example.org"
from = "bolt@example.org"
smtp = "smtp://127.0.0.1:{port}"
smtp_credential = "smtp-login"
"#,
        certificates.ca.display()
    );
    let daemon = Daemon::start_with_config(&config);
    ok(&daemon.bolt_with_stdin(
        &["credential", "set", "smtp-login"],
        Some(r#"{"username": "bolt-mailer", "password": "tls-pass-456"}"#),
    ));

    let out = daemon.bolt(&["notify", "test", "untrusted"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    assert!(!err.contains("tls-pass-456"), "{err}");

    ok(&daemon.bolt(&["notify", "test", "trusted"]));
    let mail = receive("the mail over TLS", &daemon, &mails);
    assert!(mail.encrypted, "{mail:?}");
    assert_eq!(mail.login.as_deref(), Some("|bolt-mailer|tls-pass-456"));
    assert!(
        mail.data.contains("Subject: [bolt] test alert from bolt"),
        "{}",
        mail.data
    );
}

/// A channel that doesn't answer holds up only its own alerts. (Its command gives up by
/// itself after a minute, so a failed test leaves nothing running.)
#[test]
fn a_stuck_channel_does_not_hold_up_another() {
    let inbox = Inbox::new();
    let release = inbox.root.path().join("release");
    let stuck = inbox.root.path().join("stuck.sh");
    std::fs::write(
        &stuck,
        format!(
            "#!/bin/sh\ntouch {started}\ni=0\nwhile [ ! -e {release} ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done\ncat > /dev/null\n",
            started = inbox.root.path().join("started").display(),
            release = release.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&stuck, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = format!(
        r#"
[[notify]]
name = "stuck"
on = ["run_failed"]
command = "{}"
timeout_secs = 600

[[notify]]
name = "pager"
on = ["run_failed"]
{}
"#,
        stuck.display(),
        inbox.command()
    );
    let daemon = Daemon::start_with_config(&config);
    daemon.deploy_text(&project(FAILING));
    let first = daemon.post("/i/intake", "{}").json();
    daemon.wait_work_order(first["work_order_id"].as_str().unwrap());
    daemon.wait_until("the stuck channel's command to start", ALERTS, || {
        inbox.root.path().join("started").exists().then_some(())
    });
    // The other channel's alerts arrive while the stuck one still waits: this one, and
    // those of later failures.
    daemon.wait_until("the pager's alert", ALERTS, || {
        inbox
            .events()
            .into_iter()
            .find(|e| e["event"] == "run_failed")
    });
    let second = daemon.post("/i/intake", "{}").json()["work_order_id"]
        .as_str()
        .unwrap()
        .to_string();
    daemon.wait_work_order(&second);
    daemon.wait_until("the pager's second alert", ALERTS, || {
        let failed = inbox
            .events()
            .iter()
            .filter(|e| e["event"] == "run_failed")
            .count();
        (failed == 2).then_some(())
    });
    assert!(!release.exists());
    std::fs::write(&release, "").unwrap();
    daemon.wait_until("the stuck channel's deliveries", ALERTS, || {
        (status_channel(&daemon, "stuck")["delivered"] == 2).then_some(())
    });
}
