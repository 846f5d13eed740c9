//! The plain subcommands as scripts and people meet them: `--json` on every command that
//! prints, saved inputs, refusals in the user's words, output that fits 80 columns.

use bolt_e2e::{Daemon, bin};
use std::process::Command;

const PROJECT: &str = r#"
name: desk
workflows:
  orders:
    name: Orders
    jobs:
      check:
        name: Check
        body: |
          fn(state => { if (state.data.bad) throw new Error('bad order ' + state.data.id); return state; });
    triggers:
      webhook: {type: webhook, custom_path: orders}
      nightly: {type: cron, cron_expression: "0 2 * * *"}
    edges:
      webhook->check: {source_trigger: webhook, target_job: check, condition_type: always}
"#;

fn started() -> Daemon {
    let daemon = Daemon::start();
    daemon.deploy_text(PROJECT);
    daemon
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn saved_inputs_are_listed_and_removed_with_json_answers() {
    let daemon = started();
    let id = daemon.post_and_wait("/i/orders", r#"{"id": 7}"#).row.id;
    let saved = daemon.bolt_json(&["input", "save", &id, "--step", "check", "--name", "order-7"]);
    assert_eq!(saved["ok"], true);
    assert_eq!(saved["name"], "order-7");

    let listed = daemon.bolt_json(&["input", "list"]);
    let inputs = listed.as_array().expect("a list");
    assert_eq!(inputs.len(), 1);
    assert_eq!(inputs[0]["name"], "order-7");
    assert_eq!(inputs[0]["project"], "desk");
    let text = String::from_utf8_lossy(&daemon.bolt(&["input", "list"]).stdout).into_owned();
    assert!(text.contains("order-7") && text.contains("desk"), "{text}");

    // A saved input nothing ran with is deleted outright.
    let removed = daemon.bolt_json(&["input", "rm", "order-7"]);
    assert_eq!(removed["ok"], true);
    assert!(
        daemon
            .bolt_json(&["input", "list"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    let out = daemon.bolt(&["input", "rm", "order-7"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no saved input named `order-7`"),
        "{}",
        stderr(&out)
    );

    // One a run used stays in that run's history, without its name.
    daemon.bolt_json(&["input", "save", &id, "--step", "check", "--name", "again"]);
    let triggered = daemon.bolt_json(&["trigger", "orders", "--input-name", "again", "--wait"]);
    assert_eq!(triggered["final_state"], "success");
    let removed = daemon.bolt_json(&["input", "rm", "again"]);
    assert!(
        removed["message"].as_str().unwrap().contains("history"),
        "{removed}"
    );
    assert!(
        daemon
            .bolt_json(&["input", "list"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    let shown = daemon.bolt_json(&["show", triggered["work_order_id"].as_str().unwrap()]);
    assert!(shown["work_order"]["input"]["body"].is_string(), "{shown}");
}

#[test]
fn every_command_that_prints_takes_json() {
    let daemon = started();
    let out = daemon.bolt_with_stdin(
        &["credential", "set", "vault", "--json"],
        Some(r#"{"username": "u", "password": "s3cret-value"}"#),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let set: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(set["ok"], true);
    assert_eq!(set["name"], "vault");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("s3cret-value"));
    let removed = daemon.bolt_json(&["credential", "rm", "vault"]);
    assert_eq!(removed["name"], "vault");

    let project = daemon.bolt_json(&["project", "set", "--concurrency", "2"]);
    assert_eq!(project["ok"], true);

    let exported = daemon.bolt_json(&["export"]);
    assert!(
        exported["yaml"].as_str().unwrap().contains("orders"),
        "{exported}"
    );

    // Cancelling a finished run is refused, in words; a JSON answer is not printed then.
    let id = daemon.post_and_wait("/i/orders", r#"{"id": 1}"#).row.id;
    let out = daemon.bolt(&["cancel", &id, "--json"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());

    // `bolt execute --json`: logs on stderr, one JSON object on stdout.
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job.js");
    std::fs::write(
        &job,
        "fn(state => ({ ...state, data: { doubled: 2 * 21 } }));",
    )
    .unwrap();
    let out = daemon.bolt(&["execute", job.to_str().unwrap(), "-a", "common", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(result["ok"], true);
    assert_eq!(result["state"]["data"]["doubled"], 42);
    assert!(
        !dir.path().join("output.json").exists(),
        "no stray output.json"
    );
}

#[test]
fn refusals_name_values_in_the_users_words() {
    let daemon = started();
    let out = daemon.bolt(&["runs", "--status", "broken"]);
    assert!(!out.status.success());
    let text = stderr(&out);
    assert!(
        text.contains("unknown status 'broken': use pending, running, success, failed"),
        "{text}"
    );
    assert!(!text.contains("WorkOrderState"), "{text}");

    let out = daemon.bolt(&["logs", "x", "--level", "loud"]);
    assert!(!stderr(&out).contains("LogLevel"), "{}", stderr(&out));

    for args in [
        &["runs", "--limit", "0"][..],
        &["logs", "x", "--limit", "0"][..],
    ] {
        let out = daemon.bolt(args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr(&out).contains("0 would show nothing"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn usage_lines_leave_out_flags_the_environment_set() {
    let daemon = started();
    let out = Command::new(bin("bolt"))
        .args(["show"])
        .env("BOLT_SOCKET", &daemon.socket)
        .env("BOLT_DATA_DIR", daemon.data_dir())
        .env("BOLT_CONFIG", daemon.dir.path().join("none.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = stderr(&out);
    assert!(text.contains("Usage: bolt show <REFERENCE>"), "{text}");
    // The environment still applies.
    let out = Command::new(bin("bolt"))
        .args(["status", "--json"])
        .env("BOLT_SOCKET", &daemon.socket)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // And --help still names the variables.
    let help = Command::new(bin("bolt")).args(["--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("BOLT_SOCKET"));
}

#[test]
fn status_and_workflows_fit_80_columns_and_colour_only_when_asked() {
    let daemon = started();
    daemon.post_and_wait("/i/orders", r#"{"id": 1, "bad": true}"#);
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = Command::new(bin("bolt"));
        command
            .arg("--socket")
            .arg(&daemon.socket)
            .args(args)
            .env_remove("BOLT_CONFIG")
            .env_remove("NO_COLOR");
        for (k, v) in env {
            command.env(k, v);
        }
        let out = command.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for args in [&["status"][..], &["workflows"][..], &["runs"][..]] {
        let text = run(args, &[("COLUMNS", "80")]);
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "{args:?}: a line over 80 columns:\n{line}\n\n{text}"
            );
        }
        assert!(!text.contains('\u{1b}'), "no colour on a pipe: {text:?}");
    }
    let workflows = run(&["workflows"], &[("COLUMNS", "80")]);
    assert!(
        workflows.contains(&format!("http://{}/i/orders", daemon.http)),
        "URLs are never cut: {workflows}"
    );
    let wide = run(&["workflows"], &[("COLUMNS", "200")]);
    assert!(wide.lines().next().unwrap().contains("TRIGGERS"), "{wide}");

    let coloured = run(&["runs", "--color", "full"], &[]);
    assert!(
        coloured.contains("\u{1b}[31m"),
        "failed in red: {coloured:?}"
    );
    assert!(
        !coloured.contains("38;5;"),
        "basic colours only: {coloured:?}"
    );
    let status = run(&["status", "--color", "full"], &[]);
    assert!(
        status.contains("\u{1b}[32mrunning\u{1b}[0m as pid"),
        "{status:?}"
    );
    let plain = run(&["runs", "--color", "none"], &[]);
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
}

#[test]
fn times_are_local_with_the_zone_named_or_utc_when_asked() {
    let daemon = started();
    let id = daemon.post_and_wait("/i/orders", r#"{"id": 5}"#).row.id;
    let received: chrono::DateTime<chrono::Utc> = daemon.show(&id).row.received_at;
    let run = |args: &[&str], tz: &str, config: Option<&str>| {
        let mut command = Command::new(bin("bolt"));
        command
            .arg("--socket")
            .arg(&daemon.socket)
            .args(args)
            .env("TZ", tz)
            .env_remove("BOLT_CONFIG");
        if let Some(text) = config {
            let path = daemon.dir.path().join("times.toml");
            std::fs::write(&path, text).unwrap();
            command.env("BOLT_CONFIG", path);
        }
        let out = command.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // India has one offset all year (+05:30, IST): the expected text doesn't depend on the date.
    let ist = received + chrono::Duration::minutes(330);
    let list = run(&["runs"], "Asia/Kolkata", None);
    assert!(
        list.lines().next().unwrap().contains("RECEIVED (IST)"),
        "{list}"
    );
    assert!(
        list.contains(&ist.format("%H:%M:%S").to_string()),
        "local time of day: {list}"
    );
    assert!(
        list.contains("ago)") || list.contains("just now)"),
        "relative time: {list}"
    );
    let shown = run(&["show", &id], "Asia/Kolkata", None);
    assert!(
        shown.contains(&format!("received {} IST", ist.format("%Y-%m-%d %H:%M:%S"))),
        "a time standing alone has its date and zone: {shown}"
    );

    for (args, config) in [
        (&["runs", "--utc"][..], None),
        (&["runs"][..], Some("[tui]\ntime = \"utc\"\n")),
    ] {
        let list = run(args, "Asia/Kolkata", config);
        assert!(
            list.lines().next().unwrap().contains("RECEIVED (UTC)"),
            "{list}"
        );
        assert!(
            list.contains(&received.format("%H:%M:%S").to_string()),
            "{list}"
        );
    }
    let out = Command::new(bin("bolt"))
        .args(["--socket"])
        .arg(&daemon.socket)
        .args(["runs"])
        .env("BOLT_CONFIG", {
            let path = daemon.dir.path().join("bad-time.toml");
            std::fs::write(&path, "[tui]\ntime = \"mars\"\n").unwrap();
            path
        })
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unknown [tui] time 'mars'"),
        "{}",
        stderr(&out)
    );
}
