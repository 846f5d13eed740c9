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
        // A TRUNCATE checkpoint holds the write lock while it waits for readers: never long
        // (the writer's own busy wait would otherwise run out and fail its batch).
        conn.busy_timeout(MAX_WAIT)?;
        let (alive, stop) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("bolt-store-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(EVERY) {
                    match checkpoint(&conn) {
                        Ok(()) => {}
                        Err(err) if is_busy(&err) => {
                            tracing::debug!("WAL checkpoint busy; will retry");
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

fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Copies what it can without blocking anyone; if the WAL has grown past
/// [`MAX_WAL_FRAMES`] anyway, waits for the writer and truncates the WAL (a pause of
/// milliseconds in writes, rarely).
fn checkpoint(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    let frames = |mode: &str| {
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            r.get::<_, i64>(1)
        })
    };
    if frames("PASSIVE")? > MAX_WAL_FRAMES {
        frames("TRUNCATE")?;
    }
    Ok(())
}
