//! Operator commands in a real terminal (tmux): what `bolt up` leaves on screen once the
//! TUI closes, and the progress of a history export.

use bolt_e2e::tmux::Tmux;
use bolt_e2e::{Daemon, bin};

/// Stops the boltd `bolt up` started in the background, however the test ends.
struct StopOnDrop(std::path::PathBuf);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.0) {
            let _ = std::process::Command::new("kill").arg(pid.trim()).status();
        }
    }
}

#[test]
fn the_webhook_urls_are_on_screen_after_the_tui_quits() {
    if !Tmux::available() {
        eprintln!("tmux is not installed: skipping");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("bolt.toml"),
        "[http]\nlisten = \"127.0.0.1:0\"\n",
    )
    .expect("config");
    let command = format!(
        "env BOLT_DATA_DIR={dir} BOLT_CONFIG={dir}/bolt.toml {bolt} up; echo UP-ENDED; sleep 60",
        dir = dir.path().display(),
        bolt = bin("bolt").display()
    );
    let _boltd = StopOnDrop(dir.path().join("boltd.pid"));
    let tmux = Tmux::launch("up", 100, 30, &command);
    tmux.wait_for("connected");
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("UP-ENDED");
    let lines: Vec<&str> = screen.lines().filter(|l| !l.trim().is_empty()).collect();
    let end = lines
        .iter()
        .position(|l| l.contains("UP-ENDED"))
        .expect("the end marker");
    // Printed before the TUI opened, and again, last, once it closed.
    let printed = lines[..end]
        .iter()
        .filter(|l| l.contains("/i/visits"))
        .count();
    assert_eq!(printed, 2, "{screen}");
    assert!(
        lines[..end]
            .iter()
            .rev()
            .take(2)
            .any(|l| l.contains("/i/visits")),
        "the webhook URL is printed again after the TUI:\n{screen}"
    );
}

/// A project whose webhook `/i/w` runs one job with `body`.
fn one_job(body: &str) -> String {
    format!(
        r#"
name: p
workflows:
  w:
    name: W
    jobs:
      j: {{name: J, body: "{body}"}}
    triggers:
      webhook: {{type: webhook, custom_path: w}}
    edges:
      webhook->j: {{source_trigger: webhook, target_job: j, condition_type: always}}
"#
    )
}

#[test]
fn a_history_export_shows_its_progress_on_a_terminal_only() {
    if !Tmux::available() {
        eprintln!("tmux is not installed: skipping");
        return;
    }
    let daemon = Daemon::start();
    daemon.deploy_text(&one_job("fn(state => state);"));
    for i in 0..3 {
        daemon.post_and_wait("/i/w", &format!(r#"{{"n": {i}}}"#));
    }
    let out = daemon.dir.path().join("export.jsonl");
    let command = format!(
        "{bolt} runs --format jsonl > {out}; echo EXPORT-ENDED; sleep 60",
        bolt = daemon.bolt_command_line(),
        out = out.display()
    );
    let tmux = Tmux::launch("export", 100, 20, &command);
    let screen = tmux.wait_for("EXPORT-ENDED");
    assert!(
        screen.contains("exported 3 work orders"),
        "progress on the terminal:\n{screen}"
    );
    let text = std::fs::read_to_string(&out).expect("the export");
    assert_eq!(text.lines().count(), 3, "{text}");
}

#[test]
fn subcommands_colour_a_terminal_unless_no_color_is_set() {
    if !Tmux::available() {
        eprintln!("tmux is not installed: skipping");
        return;
    }
    let daemon = Daemon::start();
    daemon.deploy_text(&one_job("fn(state => { throw new Error('no'); });"));
    daemon.post_and_wait("/i/w", "{}");
    let bolt = format!("{} runs", daemon.bolt_command_line());
    let command = format!("{bolt}; echo FIRST-DONE; NO_COLOR=1 {bolt}; echo SECOND-DONE; sleep 60");
    let tmux = Tmux::launch("colour", 120, 30, &command);
    tmux.wait_for("SECOND-DONE");
    let screen = tmux.screen_with_escapes();
    let (coloured, plain) = screen.split_once("FIRST-DONE").expect("the marker");
    assert!(
        coloured.contains("\u{1b}[31m"),
        "failed is red on a terminal:\n{coloured:?}"
    );
    let plain = plain.split("SECOND-DONE").next().unwrap_or("");
    assert!(plain.contains("failed"), "{plain:?}");
    assert!(
        !plain.contains("\u{1b}[31m") && !plain.contains("\u{1b}[1m"),
        "NO_COLOR: no colour:\n{plain:?}"
    );
}
