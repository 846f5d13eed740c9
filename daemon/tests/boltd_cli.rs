//! The `boltd` binary's own command line (and the reason this package has integration
//! tests: cargo then builds `boltd` for the end-to-end suite in `tests/`).

use std::process::Command;

fn boltd() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_boltd"));
    command
        .env_remove("BOLT_CONFIG")
        .env_remove("BOLT_DATA_DIR")
        .env_remove("BOLT_SOCKET");
    command
}

#[test]
fn help_names_the_flags_operators_use() {
    let out = boltd().arg("--help").output().expect("run boltd --help");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--config",
        "--data-dir",
        "--socket",
        "--http",
        "--log-level",
    ] {
        assert!(text.contains(flag), "{flag} missing from:\n{text}");
    }
}

#[test]
fn an_unknown_flag_is_refused_with_usage() {
    let out = boltd().arg("--no-such-flag").output().expect("run boltd");
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("--no-such-flag"), "{text}");
    assert!(text.contains("Usage"), "{text}");
}
