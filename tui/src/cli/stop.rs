//! `bolt stop`: ask boltd to stop and wait until it has, so a script can start another.

use super::{CliError, Global, output};
use bolt_shared::client::{Client, ClientError};
use bolt_shared::protocol::{Request, Response};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct StopArgs {
    /// Don't let the runs under way finish: they are marked lost at the next start (and
    /// retried where their workflow's policy says so).
    #[arg(long)]
    pub now: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What `bolt stop --json` prints.
#[derive(Serialize)]
struct Stopped {
    /// False when no boltd answered in the first place.
    was_running: bool,
    pid: Option<u32>,
    /// Runs under way when boltd was asked to stop.
    runs_in_flight: usize,
    waited_ms: u128,
}

const PIDFILE: &str = "boltd.pid";

/// How long past the runs' grace boltd may take to answer its last webhooks and exit.
const EXIT_MARGIN: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(100);

pub fn run(global: &Global, args: &StopArgs) -> Result<(), CliError> {
    let resolved = global.resolve().map_err(CliError::Other)?;
    let socket = resolved.socket;
    let started = Instant::now();
    let mut client = match Client::connect(&socket) {
        Ok(client) => client,
        Err(err) if err.is_not_running() => {
            // It may be on its way out already (its socket closes before it exits). Only
            // the pidfile beside the socket speaks for this boltd: with `--socket` elsewhere,
            // the data dir's pidfile may belong to another one.
            let pidfile = resolved.data_dir.join(PIDFILE);
            let exiting = pid_in(&pidfile)
                .filter(|_| socket.starts_with(&resolved.data_dir))
                .filter(|pid| process_alive(*pid) == Some(true))
                .filter(|pid| pidfile_locked(&pidfile, *pid));
            if let Some(pid) = exiting {
                wait_until_gone(&socket, &pidfile, pid, EXIT_MARGIN).map_err(CliError::Other)?;
            }
            let text = match exiting {
                Some(pid) => format!(
                    "boltd (pid {pid}) was already stopping; it has exited ({:.1} s)",
                    started.elapsed().as_secs_f64()
                ),
                None => format!(
                    "boltd is not running (nothing answers on {})",
                    socket.display()
                ),
            };
            let stopped = Stopped {
                was_running: exiting.is_some(),
                pid: exiting,
                runs_in_flight: 0,
                waited_ms: started.elapsed().as_millis(),
            };
            return report(args, stopped, &text);
        }
        Err(err) => return Err(cannot_ask(err, &resolved.data_dir.join(PIDFILE))),
    };
    let status = client.status()?;
    let pidfile = PathBuf::from(&status.data_dir).join(PIDFILE);
    let (in_flight, grace_secs) = match client.request(Request::Stop { now: args.now }) {
        Ok(Response::Stopping {
            in_flight,
            grace_secs,
        }) => (in_flight, grace_secs),
        Ok(other) => return Err(ClientError::Unexpected(format!("{other:?}")).into()),
        Err(err) => return Err(cannot_ask(err, &pidfile)),
    };
    drop(client);
    if !args.json {
        crate::say!("{}", describe_stopping(status.pid, in_flight, grace_secs));
    }
    let limit = Duration::from_secs(grace_secs) + EXIT_MARGIN;
    wait_until_gone(&socket, &pidfile, status.pid, limit).map_err(CliError::Other)?;
    let waited = started.elapsed();
    report(
        args,
        Stopped {
            was_running: true,
            pid: Some(status.pid),
            runs_in_flight: in_flight,
            waited_ms: waited.as_millis(),
        },
        &format!("boltd stopped ({:.1} s)", waited.as_secs_f64()),
    )
}

fn report(args: &StopArgs, stopped: Stopped, text: &str) -> Result<(), CliError> {
    if args.json {
        output::print_json(&stopped)?;
    } else {
        crate::say!("{text}");
    }
    Ok(())
}

fn describe_stopping(pid: u32, in_flight: usize, grace_secs: u64) -> String {
    match (in_flight, grace_secs) {
        (0, _) => format!("boltd (pid {pid}) is stopping; no runs are under way"),
        (n, 0) => format!(
            "boltd (pid {pid}) is stopping now; {} under way will be marked lost at the next start",
            runs(n)
        ),
        (n, grace) => format!(
            "boltd (pid {pid}) is stopping; {} under way may take up to {grace} s to finish \
             (`bolt stop --now` to stop at once)",
            runs(n)
        ),
    }
}

fn runs(n: usize) -> String {
    if n == 1 {
        "1 run".to_string()
    } else {
        format!("{n} runs")
    }
}

/// A daemon that can't take the request (an older boltd, another protocol): say how else
/// to stop it.
fn cannot_ask(err: ClientError, pidfile: &Path) -> CliError {
    let how = match pid_in(pidfile) {
        // Only a locked pidfile names a live boltd: a stale one's pid may be anything now.
        Some(pid) if pidfile_locked(pidfile, pid) => {
            format!("`kill {pid}` (SIGTERM lets the runs under way finish)")
        }
        Some(pid) => format!(
            "SIGTERM to its process (it lets the runs under way finish); {} names pid {pid} but no boltd holds it, so that pid is not boltd's: don't kill it",
            pidfile.display()
        ),
        None => "SIGTERM to its process (it lets the runs under way finish)".to_string(),
    };
    CliError::Other(anyhow::anyhow!(
        "{err}\nThis boltd can't be stopped by this bolt; stop it with {how}"
    ))
}

/// Waits until boltd no longer answers on its socket, has given up its pidfile and has
/// exited: from then on a new boltd can start on the same data dir.
fn wait_until_gone(socket: &Path, pidfile: &Path, pid: u32, limit: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        let answering = !matches!(Client::connect(socket), Err(ref err) if err.is_not_running());
        // The pidfile goes just before the lock is let go; the process's end is certain.
        if !answering && !holds_pidfile(pidfile, pid) && process_alive(pid) != Some(true) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            anyhow::bail!(
                "boltd (pid {pid}) has not exited after {} s: see its log, run `bolt stop --now`, \
                 or `kill {pid}`",
                limit.as_secs()
            );
        }
        std::thread::sleep(POLL);
    }
}

/// Whether the pidfile still names `pid` (boltd removes it on its way out).
fn holds_pidfile(pidfile: &Path, pid: u32) -> bool {
    pid_in(pidfile) == Some(pid)
}

fn pid_in(pidfile: &Path) -> Option<u32> {
    std::fs::read_to_string(pidfile).ok()?.trim().parse().ok()
}

/// Whether a running boltd holds the pidfile's lock (boltd locks it for its whole life; a
/// pidfile left by a crash is not locked, and the pid in it may have been reused by any
/// process). Read from /proc/locks, which changes nothing; without it, by trying a shared
/// lock for a moment.
fn pidfile_locked(pidfile: &Path, pid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(pidfile) else {
        return false;
    };
    if let Ok(locks) = std::fs::read_to_string("/proc/locks") {
        return flock_held(&locks, meta.ino(), meta.dev(), pid);
    }
    match std::fs::File::open(pidfile) {
        Ok(file) => match file.try_lock_shared() {
            Ok(()) => false,
            Err(std::fs::TryLockError::WouldBlock) => true,
            Err(_) => false,
        },
        Err(_) => false,
    }
}

/// Whether /proc/locks lists a held `flock` on inode `ino`: on the same device, or taken
/// by `pid` (an overlay filesystem may show another device).
fn flock_held(locks: &str, ino: u64, dev: u64, pid: u32) -> bool {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    locks.lines().any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // "1: FLOCK ADVISORY WRITE <pid> <maj>:<min>:<ino> 0 EOF" (waiters have "->")
        if fields.get(1) != Some(&"FLOCK") {
            return false;
        }
        let (Some(holder), Some(place)) = (fields.get(4), fields.get(5)) else {
            return false;
        };
        let mut parts = place.split(':');
        let (Some(maj), Some(min), Some(inode)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let same_inode = inode.parse::<u64>() == Ok(ino);
        let same_device =
            u64::from_str_radix(maj, 16) == Ok(major) && u64::from_str_radix(min, 16) == Ok(minor);
        same_inode && (same_device || holder.parse::<u32>() == Ok(pid))
    })
}

/// Whether process `pid` is alive (a zombie is not): Linux's /proc says; `None` where there
/// is no /proc, or when boltd's pid is from another pid namespace (then the pidfile decides).
fn process_alive(pid: u32) -> Option<bool> {
    if !Path::new("/proc/self/stat").exists() {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (command) S …": the state follows the last ')'.
    let state = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
    Some(!matches!(state, 'Z' | 'X'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_made_up_one_is_not() {
        assert_eq!(process_alive(std::process::id()), Some(true));
        assert_ne!(process_alive(u32::MAX - 1), Some(true));
    }

    #[test]
    fn only_a_locked_pidfile_speaks_for_a_boltd() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("boltd.pid");
        std::fs::write(&path, "4242\n").unwrap();
        assert!(!pidfile_locked(&path, 4242), "a stale pidfile");
        let held = std::fs::File::open(&path).unwrap();
        held.lock().unwrap();
        assert!(pidfile_locked(&path, std::process::id()));
        drop(held);
        assert!(!pidfile_locked(&path, 4242));
    }

    #[test]
    fn proc_locks_lines_are_read_by_inode_and_device_or_pid() {
        let locks = "1: POSIX  ADVISORY  READ 25865 fe:00:10397370 128 128\n2: FLOCK  ADVISORY  WRITE 77 fe:01:555 0 EOF\n2: -> FLOCK  ADVISORY  WRITE 78 fe:01:556 0 EOF\n";
        let dev = (0xfe << 8) | 0x01;
        assert!(flock_held(locks, 555, dev, 1));
        assert!(flock_held(locks, 555, 0, 77));
        assert!(!flock_held(locks, 555, 0, 78));
        assert!(!flock_held(locks, 556, dev, 78), "a waiter holds nothing");
        assert!(!flock_held(locks, 10397370, 0xfe00, 25865), "not a flock");
    }

    #[test]
    fn the_message_says_what_happens_to_the_runs_under_way() {
        assert!(describe_stopping(7, 0, 30).contains("no runs are under way"));
        let draining = describe_stopping(7, 2, 30);
        assert!(
            draining.contains("2 runs under way may take up to 30 s"),
            "{draining}"
        );
        assert!(draining.contains("bolt stop --now"), "{draining}");
        let now = describe_stopping(7, 1, 0);
        assert!(now.contains("1 run under way will be marked lost"), "{now}");
    }
}
