//! The benchmarks' own checks: a benchmark whose runs fail prints meaningless figures.

use std::process::Command;

/// The webhook benchmark drives a boltd of its own: every request it sends must be
/// acknowledged and every run must succeed, or its figures mean nothing.
#[test]
fn the_webhook_benchmark_acknowledges_and_runs_every_request() {
    let output = Command::new(env!("CARGO_BIN_EXE_bolt-bench"))
        .args([
            "webhooks",
            "--requests",
            "300",
            "--concurrency",
            "8",
            "--floor",
        ])
        .env_remove("BOLT_CONFIG")
        .env_remove("BOLT_SOCKET")
        .env_remove("BOLT_DATA_DIR")
        .output()
        .expect("running bolt-bench webhooks");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in [
        "harness floor (GET of the webhook URL, no store):",
        "(300 ok, 0 failed",
        "webhooks acknowledged (durable 200):",
        "(300 succeeded of 300 work orders",
        "boltd's store so far: writes on disk in p50",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}
