//! The `bolt` binary's own behaviour without a daemon (and the reason this package has
//! integration tests: cargo then builds `bolt` for the end-to-end suite).

use std::process::Command;

fn bolt() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bolt"));
    command.env_remove("BOLT_SOCKET").env_remove("BOLT_CONFIG");
    command
}

#[test]
fn help_lists_the_commands_runbooks_use() {
    let out = bolt().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for command in [
        "up",
        "status",
        "deploy",
        "export",
        "workflows",
        "credential",
        "runs",
        "show",
        "logs",
        "rerun",
        "cancel",
        "trigger",
        "input",
        "failures",
        "execute",
    ] {
        assert!(text.contains(command), "`{command}` missing from:\n{text}");
    }
}

#[test]
fn bad_time_filter_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let out = bolt()
        .args([
            "--socket",
            dir.path().join("s").to_str().unwrap(),
            "runs",
            "--since",
            "last tuesday",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("--since") && text.contains("2h"), "{text}");
}

#[test]
fn bad_config_file_names_the_file_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bolt.toml");
    std::fs::write(&config, "[http]\nlisten = 4000\n").unwrap();
    let out = bolt()
        .args(["--config", config.to_str().unwrap(), "status"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("bolt.toml") && text.contains("line 2"),
        "{text}"
    );
}
