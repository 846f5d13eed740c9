//! The TUI on call, through the real binaries in tmux: the terminal is always given back,
//! Ctrl-C quits, and the job editor never lets code that does not compile go live.

use bolt_e2e::tmux::Tmux;
use bolt_e2e::{Daemon, wait_until};
use bolt_shared::model::{WorkOrderFilter, WorkOrderState};
use bolt_shared::protocol::{Request, Response};
use std::process::Command;
use std::time::Duration;

/// How long the daemon and the TUI may take to show what a test did.
const SETTLE: Duration = Duration::from_secs(15);

const PROJECT: &str = r#"
name: oncall
workflows:
  records:
    name: Records
    jobs:
      load:
        name: Load
        body: |
          fn(state => ({ ...state, data: { ...state.data, loaded: true } }));
    triggers:
      webhook: {type: webhook, custom_path: records}
    edges:
      webhook->load: {source_trigger: webhook, target_job: load, condition_type: always}
"#;

fn load_body(daemon: &Daemon) -> String {
    match daemon.request(Request::ListWorkflows) {
        Response::Workflows { workflows } => workflows
            .iter()
            .flat_map(|w| w.jobs.iter())
            .find(|j| j.key == "load")
            .map(|j| j.body.clone())
            .expect("the load job"),
        other => panic!("{other:?}"),
    }
}

/// The pid of the one child of the pane's shell: the TUI started from it.
fn tui_pid(tmux: &Tmux) -> String {
    let shell = tmux.pane("#{pane_pid}");
    let out = Command::new("pgrep")
        .args(["-P", &shell])
        .output()
        .expect("pgrep");
    let pids = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        !pids.is_empty() && !pids.contains('\n'),
        "one child of the shell expected, got {pids:?}"
    );
    pids
}

#[test]
fn signals_and_ctrl_c_give_the_terminal_back_with_the_cursor_shown() {
    if !Tmux::available() {
        return;
    }
    let daemon = Daemon::start();
    daemon.deploy_text(PROJECT);
    let tmux = Tmux::new("signals");
    tmux.start(100, 30, "env PS1='$ ' sh");
    let bolt = daemon.bolt_command_line();
    // Five SIGTERMs (a race with the draw loop showed only some of the time), then the
    // other ways a terminal session ends, then Ctrl-C typed by the user.
    let endings = [
        ("TERM", "143"),
        ("TERM", "143"),
        ("TERM", "143"),
        ("TERM", "143"),
        ("TERM", "143"),
        ("HUP", "129"),
        ("INT", "130"),
        ("ctrl-c", "0"),
    ];
    for (round, (signal, code)) in endings.iter().enumerate() {
        tmux.type_text(&format!("clear; {bolt}; echo \"ended-{round}-$?\"\n"));
        tmux.wait_for("boltd ● connected");
        assert_eq!(
            tmux.pane("#{alternate_on}"),
            "1",
            "the TUI uses the alternate screen"
        );
        if *signal == "ctrl-c" {
            tmux.keys(&["C-c"]);
        } else {
            let pid = tui_pid(&tmux);
            let status = Command::new("kill")
                .args([&format!("-{signal}"), &pid])
                .status()
                .expect("kill");
            assert!(status.success());
        }
        let screen = tmux.wait_for(&format!("ended-{round}-{code}"));
        assert_eq!(
            tmux.pane("#{alternate_on}"),
            "0",
            "round {round} ({signal}): back on the normal screen:\n{screen}"
        );
        assert_eq!(
            tmux.pane("#{cursor_flag}"),
            "1",
            "round {round} ({signal}): the cursor is shown:\n{screen}"
        );
        assert!(
            !screen.contains("connected"),
            "round {round} ({signal}): no TUI frame after the exit:\n{screen}"
        );
    }
}

#[test]
fn the_editor_refuses_code_that_does_not_compile_and_asks_before_discarding() {
    if !Tmux::available() {
        return;
    }
    let daemon = Daemon::start();
    daemon.deploy_text(PROJECT);
    let before = load_body(&daemon);
    let tmux = Tmux::new("editor");
    tmux.start(120, 40, &daemon.bolt_command_line());
    tmux.wait_for("boltd ● connected");
    tmux.keys(&["2"]);
    tmux.wait_for("Records");
    tmux.keys(&["Enter", "e"]);
    tmux.wait_for("Edit job: Load");
    // A second line that opens a call and never closes it.
    tmux.keys(&["End", "Enter"]);
    tmux.type_text("fn(state => (");
    tmux.keys(&["C-s"]);
    let refused = tmux.wait_for("not saved: SyntaxError");
    assert!(refused.contains("(line 2, column"), "{refused}");
    assert!(
        refused.contains("Edit job: Load"),
        "the editor stays open:\n{refused}"
    );
    assert_eq!(load_body(&daemon), before, "nothing went live");

    // Esc with unsaved changes asks; n goes back to the edit, y throws it away.
    tmux.keys(&["Escape"]);
    tmux.wait_for("Discard the changes to Load?");
    tmux.keys(&["n"]);
    let back = tmux.wait_until("the editor again", |s| {
        s.contains("Edit job: Load") && !s.contains("Discard the changes")
    });
    assert!(back.contains("fn(state => ("), "{back}");
    // Fixed, it saves through the diff.
    tmux.type_text("state))");
    tmux.keys(&["C-s"]);
    tmux.wait_for("Save Load? (new version)");
    tmux.keys(&["y"]);
    tmux.wait_for("saved as version");
    let saved = load_body(&daemon);
    assert!(saved.ends_with("fn(state => (state))"), "{saved:?}");
    tmux.keys(&["C-c"]);
}

#[test]
fn boltd_refuses_a_job_save_that_does_not_compile() {
    let daemon = Daemon::start();
    daemon.deploy_text(PROJECT);
    let before = load_body(&daemon);
    let workflow = match daemon.request(Request::ListWorkflows) {
        Response::Workflows { workflows } => workflows[0].id.clone(),
        other => panic!("{other:?}"),
    };
    let refusal = daemon
        .client()
        .request(Request::UpdateJob {
            workflow,
            job: "load".into(),
            body: "fn(state => {\n  return state\n".into(),
        })
        .expect_err("a job that does not compile is refused");
    let message = refusal.to_string();
    assert!(
        message.contains("the job does not compile: SyntaxError")
            && message.contains("(line 3, column 0)")
            && message.contains("nothing was saved"),
        "{message}"
    );
    assert_eq!(load_body(&daemon), before);
}

/// Answers every request with HTTP 500 and `body` as plain text.
fn serve_500(listener: std::net::TcpListener, body: String) {
    use std::io::{BufRead, BufReader, Write};
    for stream in listener.incoming().flatten() {
        let mut reader = BufReader::new(&stream);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
        }
        let mut stream = &stream;
        let _ = write!(
            stream,
            "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
    }
}

const HTTP_PROJECT: &str = r#"
name: lab
workflows:
  results:
    name: Lab Results
    jobs:
      fetch:
        name: Fetch
        adaptor: '@openfn/language-http@7.2.10'
        body: |
          fn(async state => {
            const s = await request('GET', state.data.url, { errors: false, parseAs: 'text' })({ ...state });
            return { ...state, data: { status: s.response.statusCode, body: s.data } };
          });
      check:
        name: Check
        body: |
          fn(state => {
            if (state.data.status >= 500) throw new Error('the lab answered ' + state.data.status);
            return state;
          });
    triggers:
      webhook: {type: webhook, custom_path: results}
    edges:
      webhook->fetch: {source_trigger: webhook, target_job: fetch, condition_type: always}
      fetch->check: {source_job: fetch, target_job: check, condition_type: on_job_success}
"#;

/// The screen's text without spaces and box drawing, so wrapped rows read as one string.
fn squeeze(screen: &str) -> String {
    screen
        .chars()
        .filter(|c| !c.is_whitespace() && !('\u{2500}'..='\u{257f}').contains(c))
        .collect()
}

#[test]
fn a_500_body_longer_than_the_screen_is_read_whole_by_wrap_and_zoom() {
    if !Tmux::available() {
        return;
    }
    let body = format!(
        "{}CAUSE: clinic id 7 is not registered with the lab",
        "upstream said: ".repeat(30)
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/results", listener.local_addr().expect("addr"));
    let served = body.clone();
    std::thread::spawn(move || serve_500(listener, served));
    let daemon = Daemon::start();
    daemon.deploy_text(HTTP_PROJECT);
    let order = daemon.post_and_wait("/i/results", &format!("{{\"url\": \"{url}\"}}"));
    assert_eq!(order.row.state.to_string(), "failed", "{order:?}");

    let tmux = Tmux::new("body");
    tmux.start(100, 30, &daemon.bolt_command_line());
    tmux.wait_for("Check: the lab answered 500");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the lab answered 500");
    // Find the cause: the search lands the cursor on the body line of the failed step's input.
    tmux.keys(&["/"]);
    tmux.type_text("CAUSE");
    tmux.keys(&["Enter"]);
    let cut = tmux.wait_for("\"body\"");
    assert!(
        !squeeze(&cut).contains("registeredwiththelab"),
        "too long for one row:\n{cut}"
    );
    assert!(cut.contains('…'), "a cut row ends with an ellipsis:\n{cut}");

    tmux.keys(&["W"]);
    let wrapped = tmux.wait_until("the wrapped body", |s| {
        squeeze(s).contains("clinicid7isnotregisteredwiththelab")
    });
    assert!(wrapped.contains("long lines wrap"), "{wrapped}");

    tmux.keys(&["W", "z"]);
    let zoom = tmux.wait_for("Check input /data/body");
    assert!(
        squeeze(&zoom).contains(&squeeze(&body)),
        "the whole body, unescaped:\n{zoom}"
    );
    tmux.keys(&["Escape", "C-c"]);
}

/// Records that load, then transform (which fails on a poisoned one).
const RECORDS: &str = include_str!("../fixtures/projects/triage.yaml");

#[test]
fn bulk_rerun_from_the_failed_step_of_all_matching_failures_and_the_rows_follow() {
    if !Tmux::available() {
        return;
    }
    let daemon = Daemon::start();
    let project = daemon.deploy_text(RECORDS);
    for body in [
        r#"{"id": "R1"}"#,
        r#"{"id": "R7", "poison": true}"#,
        r#"{"id": "R8", "poison": true}"#,
        r#"{"id": "R9", "poison": true}"#,
    ] {
        daemon.post_and_wait("/i/records", body);
    }
    let tmux = Tmux::new("bulk");
    tmux.start(120, 40, &daemon.bolt_command_line());
    tmux.wait_for("boltd ● connected");
    // Status filter only (no workflow filter): failed.
    tmux.keys(&["f", "Right", "Right", "Right", "Space", "Enter"]);
    let filtered = tmux.wait_until("the failed rows", |screen| {
        screen.contains("status failed")
            && ["R7", "R8", "R9"]
                .iter()
                .all(|id| screen.contains(&format!("poisoned record {id}")))
    });
    for id in ["R7", "R8", "R9"] {
        assert!(
            filtered.contains(&format!("poisoned record {id}")),
            "{filtered}"
        );
    }

    // The fix goes live, then all matching are rerun from the step that failed.
    std::fs::write(
        &project,
        RECORDS.replace("if (state.data.poison)", "if (state.data.poison && false)"),
    )
    .expect("write fix");
    daemon.deploy(&project);
    tmux.keys(&["A", "R"]);
    let picker = tmux.wait_for("from which step?");
    assert!(
        picker.contains("▸ Transform  failed here"),
        "the picker starts on the failed step:\n{picker}"
    );
    tmux.keys(&["Enter"]);
    let confirm = tmux.wait_for("Rerun all matching");
    assert!(
        squeeze(&confirm).contains(&squeeze(
            "Rerun ALL 3 work orders of Records matching the filter, from step Transform?"
        )),
        "{confirm}"
    );
    tmux.keys(&["y"]);
    // The reruns succeed: the failed filter empties and the counts follow.
    let after = tmux.wait_for("no work orders match this filter");
    assert!(!after.contains("poisoned record"), "{after}");
    daemon.wait_until("all four work orders succeeding", SETTLE, || {
        let rows = daemon.list(WorkOrderFilter::default(), 10, None).rows;
        let green = rows
            .iter()
            .filter(|r| r.state == WorkOrderState::Success)
            .count();
        (green == 4).then_some(())
    });
    tmux.keys(&["C-c"]);
}

#[test]
fn at_80_by_24_ref_shows_and_color_reduced_sends_no_256_colour_codes() {
    if !Tmux::available() {
        return;
    }
    let daemon = Daemon::start();
    daemon.deploy_text(RECORDS);
    let order = daemon.post_and_wait("/i/records", r#"{"id": "R9", "poison": true}"#);
    for (mode, expect_256) in [("reduced", false), ("full", true)] {
        let tmux = Tmux::new(&format!("color-{mode}"));
        tmux.start(
            80,
            24,
            &format!("{} --color {mode}", daemon.bolt_command_line()),
        );
        // The rows, not only the connection: the history may still be loading then.
        let screen = tmux.wait_for(&order.row.short_ref);
        let header = screen
            .lines()
            .find(|l| l.contains("RECEIVED"))
            .unwrap_or_default();
        assert!(header.contains("REF"), "{mode}: {screen}");
        assert!(screen.contains(&order.row.short_ref), "{mode}: {screen}");
        let colours = tmux.screen_with_escapes();
        assert_eq!(
            colours.contains("38;5;") || colours.contains("48;5;"),
            expect_256,
            "--color {mode}: {colours:?}"
        );
        if !expect_256 {
            assert!(
                colours.contains("[31m") || colours.contains(";31m"),
                "{colours:?}"
            );
        }
        tmux.keys(&["C-c"]);
    }
}

#[test]
fn search_snippets_show_the_stored_value_not_its_json_escapes() {
    let daemon = Daemon::start();
    daemon.deploy_text(RECORDS);
    let body = r#"{"id": "R5", "note": "caller said \"no\"\nthen: patient P-0042 missing"}"#;
    daemon.post_and_wait("/i/records", body);
    let filter = WorkOrderFilter {
        search: Some("P-0042".into()),
        ..Default::default()
    };
    let page = daemon.list(filter, 10, None);
    let hit = page.rows[0].hit.as_ref().expect("a search hit");
    assert!(
        hit.snippet.starts_with("data.note: ")
            && hit
                .snippet
                .contains("said \"no\"\nthen: patient [P-0042] missing"),
        "{:?}",
        hit.snippet
    );
    assert!(
        !hit.snippet.contains("\\\""),
        "no JSON escapes: {:?}",
        hit.snippet
    );
}

#[test]
fn bolt_open_workflow_job_the_failures_view_and_the_health_in_the_status_line() {
    if !Tmux::available() {
        return;
    }
    let daemon = Daemon::start();
    daemon.deploy_text(RECORDS);
    for body in [
        r#"{"id": "R7", "poison": true}"#,
        r#"{"id": "R8", "poison": true}"#,
    ] {
        daemon.post_and_wait("/i/records", body);
    }
    // A shared link to a step opens the workflow screen on it.
    let tmux = Tmux::new("open");
    tmux.start(
        120,
        40,
        &format!("{} open records/transform", daemon.bolt_command_line()),
    );
    let graph = tmux.wait_for("Transform");
    assert!(graph.contains("Records"), "{graph}");
    let status = tmux.wait_for("failed in 1h");
    let last = status
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    assert!(
        last.contains("queue 0 · ✘ 2 failed in 1h · ") && last.contains("boltd ● connected"),
        "{last}"
    );
    // 5: the failures, grouped; Enter opens the example.
    tmux.keys(&["5"]);
    let failures = tmux.wait_for("Failures in the last 24 hours: 2 in 1 groups");
    assert!(
        failures.contains("Records") && failures.contains("Transform"),
        "{failures}"
    );
    tmux.keys(&["Enter"]);
    tmux.wait_for("Error: JobError");
    tmux.keys(&["C-c"]);

    // A job that does not exist is refused before the TUI starts, naming the jobs.
    let out = daemon.bolt(&["open", "records/nope"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("workflow 'records' has no job 'nope'; its jobs are: load, transform"),
        "{err}"
    );
}

#[test]
fn editor_and_pager_borrow_the_terminal_and_give_it_back() {
    if !Tmux::available() {
        return;
    }
    let daemon = Daemon::start();
    daemon.deploy_text(RECORDS);
    daemon.post_and_wait("/i/records", r#"{"id": "R9", "poison": true}"#);
    let paged = daemon.dir.path().join("paged.txt");
    // $EDITOR rewrites the job in place; $PAGER keeps what it was given.
    let command = format!(
        "env EDITOR=\"sed -i s/poison/poisoned/\" PAGER=\"cat > {}\" {}",
        paged.display(),
        daemon.bolt_command_line()
    );
    let tmux = Tmux::new("borrow");
    tmux.start(120, 40, &command);
    tmux.wait_for("Transform: poisoned record R9");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Error: JobError");
    // | pages the step's input.
    tmux.keys(&["|"]);
    let text = wait_until("the pager getting the input", SETTLE, || {
        std::fs::read_to_string(&paged)
            .ok()
            .filter(|text| !text.is_empty())
    });
    assert!(text.contains("\"poison\": true"), "{text}");
    let back = tmux.wait_for("Error: JobError");
    assert_eq!(
        tmux.pane("#{alternate_on}"),
        "1",
        "the TUI took the screen back:\n{back}"
    );
    // E: $EDITOR on the failed step's job, then the same check and diff as in the TUI.
    tmux.keys(&["E"]);
    let diff = tmux.wait_for("Save Transform? (new version)");
    assert!(diff.contains("+   if (state.data.poisoned)"), "{diff}");
    tmux.keys(&["y"]);
    tmux.wait_for("saved as version");
    tmux.keys(&["C-c"]);
}
