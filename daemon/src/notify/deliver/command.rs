//! A command channel: the program runs with the event's JSON on its stdin (no shell, no
//! PATH lookup), within the channel's timeout; anything but exit status 0 is a failure.

use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The most of a failing command's stderr kept in its error.
const STDERR_KEPT: usize = 500;

pub async fn deliver(
    program: &std::path::Path,
    args: &[String],
    event: &str,
    body: &str,
    timeout: Duration,
) -> Result<(), String> {
    let shown = program.display();
    let mut child = tokio::process::Command::new(program)
        .args(args)
        // The credentials' key never reaches an alert command.
        .env_remove(crate::secrets::ENV_KEY)
        .env("BOLT_EVENT", event)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    let mut stdin = child.stdin.take();
    let mut stderr = child.stderr.take();
    let run = async {
        if let Some(stdin) = stdin.as_mut() {
            // A command that doesn't read its stdin is fine: its exit status decides.
            let _ = stdin.write_all(body.as_bytes()).await;
            let _ = stdin.shutdown().await;
        }
        drop(stdin);
        let mut err = Vec::new();
        if let Some(stderr) = stderr.as_mut() {
            let _ = stderr.take(64 * 1024).read_to_end(&mut err).await;
        }
        let status = child.wait().await;
        (status, err)
    };
    match tokio::time::timeout(timeout, run).await {
        Err(_) => Err(format!(
            "{shown} did not finish within {} s (killed)",
            timeout.as_secs()
        )),
        Ok((Err(e), _)) => Err(format!("waiting for {shown} failed: {e}")),
        Ok((Ok(status), _)) if status.success() => Ok(()),
        Ok((Ok(status), err)) => {
            let err = String::from_utf8_lossy(&err);
            let err = err.trim();
            let tail: String = err
                .chars()
                .rev()
                .take(STDERR_KEPT)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            Err(if tail.is_empty() {
                format!("{shown} {status}")
            } else {
                format!("{shown} {status}: {tail}")
            })
        }
    }
}
