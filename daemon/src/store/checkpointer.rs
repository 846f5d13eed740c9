//! WAL checkpoints on a thread of their own.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses the threshold, i.e.
//! on the writer thread, where it holds up every queued write (webhook acks included).
//! The writer connection turns it off; this thread copies the WAL back into the database
//! every moment instead, without blocking the writer (PASSIVE mode). Under sustained writes
//! a passive checkpoint never reaches the WAL's end, so the WAL would grow without bound:
//! past [`MAX_WAL_FRAMES`] this thread asks the writer to restart the WAL between two of its
//! transactions (waiting for the write lock from here would starve: the writer takes it
//! again at once).

use super::health::Health;
use super::{StoreResult, open_connection};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// How often it copies while writes come in: often, so each copy (and the fsync of the
/// database that ends it) stays small and a WAL restart has little left to copy.
const BUSY_EVERY: Duration = Duration::from_millis(50);

/// How often it looks when the last look found nothing new to copy.
const IDLE_EVERY: Duration = Duration::from_millis(500);

/// WAL frames (pages, 64 MiB) past which the writer is asked to restart the WAL. A restart
/// holds up writes while it copies what the last passive checkpoint left (3–10 ms with
/// passive checkpoints this frequent): about once a second under sustained webhook load.
const MAX_WAL_FRAMES: i64 = 16_384;

/// Keeps the checkpointer running; it stops when the last clone is dropped.
#[derive(Clone)]
pub struct Checkpointer {
    commands: mpsc::Sender<Command>,
}

enum Command {
    /// Close the connection (answering once it is closed) and copy nothing until `Resume`.
    Release(mpsc::Sender<()>),
    /// Open a connection again and go on.
    Resume,
}

/// How long [`Checkpointer::release`] waits for a checkpoint under way.
const RELEASE_WAIT: Duration = Duration::from_secs(5);

impl Checkpointer {
    pub fn start(
        path: &Path,
        wal_restart: Arc<AtomicBool>,
        health: Arc<Health>,
    ) -> StoreResult<Checkpointer> {
        let conn = open_checkpointer(path)?;
        let path = path.to_path_buf();
        let (commands, incoming) = mpsc::channel::<Command>();
        std::thread::Builder::new()
            .name("bolt-store-checkpoint".into())
            .spawn(move || run(conn, &path, &incoming, &wal_restart, &health))
            .map_err(|e| {
                super::StoreError::Invalid(format!("cannot start the checkpointer: {e}"))
            })?;
        Ok(Checkpointer { commands })
    }

    /// Closes the checkpointer's connection and pauses it (for a reopen of the store after
    /// a disk fault); false if it did not answer in time.
    pub fn release(&self) -> bool {
        let (done, closed) = mpsc::channel();
        self.commands.send(Command::Release(done)).is_ok()
            && closed.recv_timeout(RELEASE_WAIT).is_ok()
    }

    /// Reopens its connection and goes on copying.
    pub fn resume(&self) {
        let _ = self.commands.send(Command::Resume);
    }
}

fn open_checkpointer(path: &Path) -> StoreResult<rusqlite::Connection> {
    let conn = open_connection(path)?;
    conn.busy_timeout(Duration::ZERO)?;
    Ok(conn)
}

fn run(
    conn: rusqlite::Connection,
    path: &Path,
    commands: &mpsc::Receiver<Command>,
    wal_restart: &AtomicBool,
    health: &Health,
) {
    let mut conn = Some(conn);
    let (mut asked, mut last_frames) = (0u32, 0i64);
    let mut every = IDLE_EVERY;
    let mut last_warning: Option<(String, std::time::Instant)> = None;
    loop {
        match commands.recv_timeout(every) {
            Ok(Command::Release(done)) => {
                conn = None;
                let _ = done.send(());
                continue;
            }
            Ok(Command::Resume) => {
                if conn.is_none() {
                    conn = open_checkpointer(path)
                        .inspect_err(|err| tracing::warn!(%err, "cannot reopen the checkpointer's connection; will retry"))
                        .ok();
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        // After a failed sync the log may hold frames the disk lost: copying them into the
        // database would make the loss permanent. The writer sorts that out first.
        if !health.writable() {
            every = IDLE_EVERY;
            continue;
        }
        let Some(open) = conn.as_ref() else {
            continue;
        };
        let frames = match checkpoint(open) {
            Ok(frames) => frames,
            Err(err) => {
                // The disk failed the copy or a sync: a second try could succeed where the
                // first lost a write (Linux reports it once) and copy lost pages from the
                // cache. The store refuses writes and reopens itself instead.
                if let Some((text, kind)) = super::health::disk_fault(&err) {
                    health.refuse("a checkpoint failed", &text, kind);
                    every = IDLE_EVERY;
                    continue;
                }
                // Once a minute for the same error: a full disk fails every attempt.
                let text = err.to_string();
                let repeat = last_warning.as_ref().is_some_and(|(last, at)| {
                    *last == text && at.elapsed() < Duration::from_secs(60)
                });
                if !repeat {
                    tracing::warn!(err = %text, "WAL checkpoint failed; will retry");
                    last_warning = Some((text, std::time::Instant::now()));
                }
                every = IDLE_EVERY;
                continue;
            }
        };
        // The WAL changed since the last look (grew, or was restarted): writes are coming in.
        every = if frames != last_frames {
            BUSY_EVERY
        } else {
            IDLE_EVERY
        };
        last_frames = frames;
        if frames <= MAX_WAL_FRAMES {
            asked = 0;
        } else if wal_restart.swap(true, Ordering::AcqRel) {
            // Still set from last time: the writer could not restart it yet.
            asked += 1;
            if asked.is_multiple_of(40) {
                tracing::warn!(
                    frames,
                    "the WAL keeps growing: its restart is blocked by long reads"
                );
            }
        } else {
            asked = 0;
        }
    }
}

/// Copies what it can without blocking anyone; returns the WAL's size in frames.
fn checkpoint(conn: &rusqlite::Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
}
