//! Taking writes again after a disk fault: the writer's side of it (the why is in the
//! writer's module doc). Runs on the writer thread, while no batch waits for the syncer.

use super::health::Health;
use super::syncer::Syncer;
use super::{Checkpointer, Readers, StoreError, StoreResult, open_wal, open_writer};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How often the disk is tried while it refuses the test write.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// After a reopen that failed, the wait before the next one doubles up to this.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How long the reads under way get to end before the read connections close.
const READS_WAIT: Duration = Duration::from_secs(5);

pub(super) struct Recovery {
    db: PathBuf,
    readers: Option<Readers>,
    checkpointer: Option<Checkpointer>,
    next_attempt: Option<Instant>,
    failed_reopens: u32,
}

impl Recovery {
    pub fn new(
        db: PathBuf,
        readers: Option<Readers>,
        checkpointer: Option<Checkpointer>,
    ) -> Recovery {
        Recovery {
            db,
            readers,
            checkpointer,
            next_attempt: None,
            failed_reopens: 0,
        }
    }

    /// How long until the next attempt is due.
    pub fn wait(&self) -> Duration {
        self.next_attempt
            .map(|at| at.saturating_duration_since(Instant::now()))
            .unwrap_or_default()
    }

    /// Tries the disk, and if it takes a test write, reopens the store and makes it
    /// writable again. `conn` is the writer's connection (`None` while closed). Does
    /// nothing before the next attempt is due.
    pub fn attempt(&mut self, conn: &mut Option<Connection>, syncer: &Syncer, health: &Health) {
        if self.wait() > Duration::ZERO {
            return;
        }
        if health.probe().is_err() {
            self.next_attempt = Some(Instant::now() + PROBE_EVERY);
            return;
        }
        match self.reopen(conn, syncer, health) {
            Ok(()) => {
                self.failed_reopens = 0;
                self.next_attempt = None;
                if let Some(checkpointer) = &self.checkpointer {
                    checkpointer.resume();
                }
                health.resume();
            }
            Err(err) => {
                self.failed_reopens += 1;
                let backoff = (PROBE_EVERY * 2u32.saturating_pow(self.failed_reopens.min(5)))
                    .min(MAX_BACKOFF);
                self.next_attempt = Some(Instant::now() + backoff);
                tracing::warn!(%err, retry_in_secs = backoff.as_secs(), "the disk takes a test write, but the store could not be reopened yet");
            }
        }
    }

    /// Steps 1 to 4 of the writer's module doc.
    fn reopen(
        &mut self,
        conn: &mut Option<Connection>,
        syncer: &Syncer,
        health: &Health,
    ) -> StoreResult<()> {
        if let Some(checkpointer) = &self.checkpointer
            && !checkpointer.release()
        {
            return Err(StoreError::Invalid(
                "the checkpointer did not stop in time".into(),
            ));
        }
        let suspended = match &self.readers {
            Some(readers) => Some(readers.suspend(READS_WAIT).ok_or_else(|| {
                StoreError::Invalid("reads under way did not end in time".into())
            })?),
            None => None,
        };
        drop(conn.take());
        let reopened = (|| {
            let fresh = open_writer(&self.db)?;
            let (busy, _, _): (i64, i64, i64) =
                fresh.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            if busy != 0 {
                return Err(StoreError::Invalid(
                    "another process holds the database: the log could not be emptied".into(),
                ));
            }
            let wal = open_wal(&self.db)?;
            probe_transaction(&fresh, health)?;
            wal.sync_data().map_err(|e| {
                StoreError::Invalid(format!("the test transaction could not be synced: {e}"))
            })?;
            Ok((fresh, wal))
        })();
        // Reads go on whatever happened.
        drop(suspended);
        let (fresh, wal) = reopened?;
        syncer.replace_wal(wal);
        *conn = Some(fresh);
        Ok(())
    }
}

/// A small transaction that shows the disk takes commits again: an audit row saying the
/// store resumed, and after what.
fn probe_transaction(conn: &Connection, health: &Health) -> StoreResult<()> {
    let refusal = health.refusal();
    let metadata = serde_json::json!({
        "refusing_since": refusal.as_ref().map(|r| r.since.to_rfc3339()),
        "reason": refusal.as_ref().map(|r| r.explain()),
    });
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    crate::audit::record_as(
        &tx,
        crate::actor::DAEMON,
        "store_resumed",
        "store",
        Some(&metadata.to_string()),
    )?;
    tx.commit()?;
    Ok(())
}
