//! The TUI driven the way a person uses it: the real `bolt` in tmux against a real boltd.
//! Filter to failed, open the work order, read the error and the step's input, fix the job,
//! rerun from that step, watch the new run succeed.

use bolt_e2e::Daemon;
use bolt_e2e::tmux::Tmux;

/// Records that load, then transform (which fails on a poisoned one).
const PROJECT: &str = include_str!("../fixtures/projects/triage.yaml");

#[test]
fn triage_a_failure_and_rerun_it_from_the_failed_step() {
    if !Tmux::available() {
        return;
    }
    let daemon = Daemon::start();
    let project = daemon.deploy_text(PROJECT);
    for body in [
        r#"{"id": "R1"}"#,
        r#"{"id": "R2"}"#,
        r#"{"id": "R9", "poison": true}"#,
    ] {
        daemon.post_and_wait("/i/records", body);
    }

    let tmux = Tmux::new("triage");
    tmux.start(120, 40, &daemon.bolt_command_line());
    let history = tmux.wait_until("the history rows", |screen| {
        screen.contains("✔ success") && screen.contains("✘ failed")
    });
    assert!(history.contains("boltd ● connected"), "{history}");

    // Filter: status failed (the fourth status), apply.
    tmux.keys(&["f", "Right", "Right", "Right", "Space", "Enter"]);
    let filtered = tmux.wait_until("only the failures listed", |screen| {
        screen.contains("status failed")
            && !screen.contains("✔ success")
            && screen.contains("Transform: poisoned record R9")
    });
    assert!(
        !filtered.contains("✔ success"),
        "only failures are listed:\n{filtered}"
    );
    assert!(
        filtered.contains("Transform: poisoned record R9"),
        "{filtered}"
    );

    // Open it: the failed step is selected, its error and its input are on screen.
    tmux.keys(&["Enter"]);
    let detail = tmux.wait_for("Error: JobError");
    assert!(detail.contains("poisoned record R9"), "{detail}");
    assert!(
        detail.contains("\"poison\": true"),
        "the step's input is shown:\n{detail}"
    );
    assert!(
        detail.contains("▸✘ Transform"),
        "the failed step is selected:\n{detail}"
    );

    // Fix the job, then rerun from the selected step and watch it go green.
    std::fs::write(
        &project,
        PROJECT.replace("if (state.data.poison)", "if (state.data.poison && false)"),
    )
    .expect("write fix");
    daemon.deploy(&project);
    tmux.keys(&["R"]);
    let rerun = tmux.wait_for("#2 ✔ success");
    assert!(
        rerun.contains("(from Transform)"),
        "the new run says where it started:\n{rerun}"
    );
    assert!(
        rerun.contains("Load (earlier run)"),
        "the upstream step is attached, not re-run:\n{rerun}"
    );
    assert!(
        rerun.contains("✔ success   received"),
        "the work order is green:\n{rerun}"
    );

    // q twice: back to history, then quit; the terminal is left clean.
    tmux.keys(&["q", "q"]);
}

/// The audit log screen and a credential edit that changes one field and keeps the others.
#[test]
fn edit_one_credential_field_then_read_it_in_the_audit_log() {
    if !Tmux::available() {
        return;
    }
    let daemon = Daemon::start();
    let set = daemon.bolt_with_stdin(
        &["credential", "set", "api"],
        Some(r#"{"username": "kept-user", "password": "first-secret"}"#),
    );
    assert!(set.status.success(), "{set:?}");

    let tmux = Tmux::new("audit");
    tmux.start(120, 40, &daemon.bolt_command_line());
    let connected = tmux.wait_for("boltd ● connected");
    assert!(connected.contains("root (admin)"), "{connected}");

    // Credentials, edit `api`: the form opens with the username filled in; the password
    // gets a new value and the username is kept.
    tmux.keys(&["3"]);
    tmux.wait_for("username, password");
    tmux.keys(&["e"]);
    let form = tmux.wait_for("Edit credential api");
    assert!(form.contains("kept-user"), "{form}");
    assert!(form.contains("unchanged"), "{form}");
    tmux.keys(&["Tab", "Tab"]);
    tmux.run(&["send-keys", "-t", "bolt", "-l", "second-secret"]);
    let typed = tmux.wait_until("the password typed", |screen| {
        !screen.contains("Password     (unchanged")
    });
    assert!(
        !typed.contains("second-secret"),
        "the value is masked:\n{typed}"
    );
    tmux.keys(&["C-s"]);
    tmux.wait_until("the form closed", |screen| {
        !screen.contains("Edit credential api")
    });

    let shown = daemon.bolt(&["credential", "show", "api", "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("show JSON");
    let text = shown.to_string();
    assert!(text.contains("kept-user"), "the username is kept: {text}");
    assert!(!text.contains("second-secret"), "{text}");

    // The audit log screen lists the change with who made it; V checks the chain.
    tmux.keys(&["4"]);
    let audit = tmux.wait_for("credential.updated");
    assert!(audit.contains("Audit log"), "{audit}");
    assert!(audit.contains("root"), "{audit}");
    assert!(
        audit.contains("\"password\""),
        "the selected event's details: {audit}"
    );
    tmux.keys(&["V"]);
    tmux.wait_for("audit chain intact");
    tmux.keys(&["q", "q"]);
}
