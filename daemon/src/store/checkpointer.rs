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
    _alive: mpsc::Sender<()>,
}

impl Checkpointer {
    pub fn start(path: &Path, wal_restart: Arc<AtomicBool>) -> StoreResult<Checkpointer> {
        let conn = open_connection(path)?;
        conn.busy_timeout(Duration::ZERO)?;
        let (alive, stop) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("bolt-store-checkpoint".into())
            .spawn(move || {
                let (mut asked, mut last_frames) = (0u32, 0i64);
                let mut every = IDLE_EVERY;
                while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(every) {
                    let frames = match checkpoint(&conn) {
                        Ok(frames) => frames,
                        Err(err) => {
                            tracing::warn!(%err, "WAL checkpoint failed; will retry");
                            every = IDLE_EVERY;
                            continue;
                        }
                    };
                    // The WAL changed since the last look (grew, or was restarted): writes
                    // are coming in.
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
            })
            .map_err(|e| {
                super::StoreError::Invalid(format!("cannot start the checkpointer: {e}"))
            })?;
        Ok(Checkpointer { _alive: alive })
    }
}

/// Copies what it can without blocking anyone; returns the WAL's size in frames.
fn checkpoint(conn: &rusqlite::Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
}
