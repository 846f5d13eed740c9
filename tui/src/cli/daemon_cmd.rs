//! Starting boltd in the background (for `bolt up`) and waiting until it answers.

use anyhow::{Context, bail};
use bolt_shared::client::Client;
use bolt_shared::paths::Resolved;
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `bolt daemon` detached, logging to `<data_dir>/boltd.log`, and waits for its socket.
pub fn spawn_background(resolved: &Resolved, http: Option<&str>) -> anyhow::Result<Client> {
    use bolt_daemon::files;
    files::ensure_private_dir(&resolved.data_dir, files::DATA_DIR)?;
    let log_path = resolved.data_dir.join("boltd.log");
    let log = files::open_no_follow(
        OpenOptions::new().create(true).append(true).mode(0o600),
        &log_path,
        "log file",
        || format!("`rm {}`", log_path.display()),
    )
    .with_context(|| format!("opening {}", log_path.display()))?;
    let exe = std::env::current_exe().context("finding the bolt executable")?;
    let mut command = Command::new(exe);
    command
        .arg("daemon")
        .arg("--data-dir")
        .arg(&resolved.data_dir)
        .arg("--socket")
        .arg(&resolved.socket);
    if let Some(config) = &resolved.config_path {
        command.arg("--config").arg(config);
    }
    if let Some(http) = http {
        command.arg("--http").arg(http);
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        // Its own process group: Ctrl-C in the TUI must not stop the daemon.
        .process_group(0)
        .spawn()
        .context("starting boltd")?;

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match Client::connect(&resolved.socket) {
            Ok(client) => return Ok(client),
            Err(err) if err.is_not_running() => {}
            Err(err) => return Err(err.into()),
        }
        if let Some(status) = child.try_wait()? {
            let tail = std::fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(5).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!(
                "boltd exited ({status}) before it was ready; its log ({}) ends with:\n{}",
                log_path.display(),
                tail.join("\n")
            );
        }
        if Instant::now() > deadline {
            bail!(
                "boltd did not answer on {} within 20 s; see {}",
                resolved.socket.display(),
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
