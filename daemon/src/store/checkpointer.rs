//! WAL checkpoints on a thread of their own.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses the threshold, i.e.
//! on the writer thread, where it holds up every queued write (webhook acks included).
//! The writer connection turns it off; this thread copies the WAL back into the database
//! every moment instead, without blocking the writer (PASSIVE mode).

use super::{StoreResult, open_connection};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

const EVERY: Duration = Duration::from_millis(250);

/// WAL frames (pages) past which a checkpoint may hold up the writer: under sustained
/// writes a passive checkpoint never catches up, and the WAL would grow without bound.
const MAX_WAL_FRAMES: i64 = 16_384;

/// How long a checkpoint waits for the writer or readers before giving up until next time.
const MAX_WAIT: Duration = Duration::from_millis(100);

/// Keeps the checkpointer running; it stops when the last clone is dropped.
#[derive(Clone)]
pub struct Checkpointer {
    _alive: mpsc::Sender<()>,
}

impl Checkpointer {
    pub fn start(path: &Path) -> StoreResult<Checkpointer> {
        let conn = open_connection(path)?;
        let (alive, stop) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("bolt-store-checkpoint".into())
            .spawn(move || {
                let mut missed = 0u32;
                while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(EVERY) {
                    match checkpoint(&conn, missed) {
                        Ok(Truncation::NotNeeded | Truncation::Done) => missed = 0,
                        Ok(Truncation::Missed) => {
                            missed += 1;
                            if missed.is_multiple_of(40) {
                                tracing::warn!(missed, "the WAL keeps growing: truncation blocked by a busy writer or a long read");
                            } else {
                                tracing::debug!(missed, "WAL truncation blocked; will retry");
                            }
                        }
                        Err(err) => tracing::warn!(%err, "WAL checkpoint failed; will retry"),
                    }
                }
            })
            .map_err(|e| {
                super::StoreError::Invalid(format!("cannot start the checkpointer: {e}"))
            })?;
        Ok(Checkpointer { _alive: alive })
    }
}

enum Truncation {
    NotNeeded,
    Done,
    /// Blocked by the writer or readers (SQLite then checkpoints passively instead).
    Missed,
}

/// How long a truncation waits for the writer and readers: briefly at first (it holds the
/// write lock while it waits for readers, and every webhook ack waits behind it), longer
/// once it has missed several times in a row, so a busy writer can't starve it for ever.
fn truncate_wait(missed: u32) -> Duration {
    if missed < 4 { MAX_WAIT } else { MAX_WAIT * 10 }
}

/// Copies what it can without blocking anyone; if the WAL has grown past
/// [`MAX_WAL_FRAMES`] anyway, waits for the writer and truncates the WAL (a pause of
/// milliseconds in writes, rarely).
fn checkpoint(conn: &rusqlite::Connection, missed: u32) -> rusqlite::Result<Truncation> {
    // (busy, frames in the WAL): a blocked checkpoint reports busy = 1, not an error.
    let run = |mode: &str| {
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })
    };
    conn.busy_timeout(Duration::ZERO)?;
    let (_, frames) = run("PASSIVE")?;
    if frames <= MAX_WAL_FRAMES {
        return Ok(Truncation::NotNeeded);
    }
    conn.busy_timeout(truncate_wait(missed))?;
    let (busy, _) = run("TRUNCATE")?;
    Ok(if busy == 0 {
        Truncation::Done
    } else {
        Truncation::Missed
    })
}
