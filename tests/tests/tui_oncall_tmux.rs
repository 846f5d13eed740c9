//! The TUI on call, through the real binaries in tmux: the terminal is always given back,
//! Ctrl-C quits, and the job editor never lets code that does not compile go live.

use bolt_e2e::tmux::Tmux;
use bolt_e2e::{Daemon, bin};
use bolt_shared::protocol::{Request, Response};
use std::process::Command;

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

fn bolt_command(daemon: &Daemon) -> String {
    format!(
        "{} --socket {}",
        bin("bolt").display(),
        daemon.socket.display()
    )
}

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
    let bolt = bolt_command(&daemon);
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
    tmux.start(120, 40, &bolt_command(&daemon));
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
