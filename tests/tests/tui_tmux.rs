//! The TUI driven the way a person uses it: the real `bolt` in tmux against a real boltd.
//! Filter to failed, open the work order, read the error and the step's input, fix the job,
//! rerun from that step, watch the new run succeed.

use bolt_e2e::tmux::Tmux;
use bolt_e2e::{Daemon, bin};

const PROJECT: &str = r#"
name: triage
workflows:
  records:
    name: Records
    jobs:
      load:
        name: Load
        body: |
          fn(state => ({ ...state, data: { ...state.data, loaded: true } }));
      transform:
        name: Transform
        body: |
          fn(state => {
            if (state.data.poison) throw new Error('poisoned record ' + state.data.id);
            return { ...state, data: { ...state.data, shaped: true } };
          });
    triggers:
      webhook: {type: webhook, custom_path: records}
    edges:
      webhook->load: {source_trigger: webhook, target_job: load, condition_type: always}
      load->transform: {source_job: load, target_job: transform, condition_type: on_job_success}
"#;

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
        let reply = daemon.post("/i/records", body);
        assert_eq!(reply.status, 200);
        daemon.wait_work_order(reply.json()["work_order_id"].as_str().expect("id"));
    }

    let tmux = Tmux::new("triage");
    let command = format!(
        "{} --socket {}",
        bin("bolt").display(),
        daemon.socket.display()
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "bolt",
        "-x",
        "120",
        "-y",
        "40",
        &command,
    ]);
    let history = tmux.wait_for("boltd ● connected");
    assert!(
        history.contains("✔ success") && history.contains("✘ failed"),
        "{history}"
    );

    // Filter: status failed (the fourth status), apply.
    tmux.keys(&["f", "Right", "Right", "Right", "Space", "Enter"]);
    let filtered = tmux.wait_for("status failed");
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
