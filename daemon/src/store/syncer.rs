//! The writer's syncer: makes committed batches durable (`fdatasync` of the WAL), then
//! answers their callers, in commit order.

use super::health::{FaultKind, Health};
use super::timings::Timings;
use super::writer::{Failure, RepeatableJob, Reply};
use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

/// A batch the writer has committed (or failed to): who to tell once it is durable.
pub(super) struct Committed {
    /// `Ok` once committed; the failure every caller hears otherwise.
    pub outcome: Result<(), Failure>,
    pub repeatable: Vec<Box<dyn RepeatableJob>>,
    pub replies: Vec<Reply>,
    /// When each of its writes was queued.
    pub queued: Vec<Instant>,
}

/// The writer's side of the syncer: hands committed batches over and knows whether some
/// are still waiting for the disk.
pub(super) struct Syncer {
    batches: mpsc::Sender<Committed>,
    unsynced: Arc<AtomicUsize>,
    /// An `fdatasync` failed: no later batch is durable until the store is reopened.
    sync_failed: Arc<AtomicBool>,
    wal: Arc<Mutex<File>>,
}

impl Syncer {
    pub fn start(wal: File, timings: Arc<Timings>, health: Arc<Health>) -> Syncer {
        let (batches, to_sync) = mpsc::channel::<Committed>();
        let syncer = Syncer {
            batches,
            unsynced: Arc::new(AtomicUsize::new(0)),
            sync_failed: Arc::new(AtomicBool::new(false)),
            wal: Arc::new(Mutex::new(wal)),
        };
        let thread = SyncThread {
            wal: syncer.wal.clone(),
            unsynced: syncer.unsynced.clone(),
            sync_failed: syncer.sync_failed.clone(),
            timings,
            health,
        };
        std::thread::Builder::new()
            .name("bolt-store-sync".into())
            .spawn(move || thread.run(&to_sync))
            .expect("spawning the store syncer thread");
        syncer
    }

    /// Whether batches handed over are still waiting for the disk or their answer.
    pub fn busy(&self) -> bool {
        self.unsynced.load(Ordering::Acquire) > 0
    }

    pub fn hand_over(&self, batch: Committed) {
        self.unsynced.fetch_add(1, Ordering::AcqRel);
        if self.batches.send(batch).is_err() {
            // The syncer never stops before the writer; if it did, dropping the batch drops
            // its reply channels and callers see WriterGone.
            self.unsynced.fetch_sub(1, Ordering::AcqRel);
            tracing::error!("the store's syncer has stopped");
        }
    }

    /// Syncs through `wal` from now on, a descriptor opened after the store was reopened;
    /// later batches may be durable again. Only while no batch is waiting (see `busy`).
    pub fn replace_wal(&self, wal: File) {
        if let Ok(mut current) = self.wal.lock() {
            *current = wal;
        }
        self.sync_failed.store(false, Ordering::Release);
    }
}

struct SyncThread {
    wal: Arc<Mutex<File>>,
    unsynced: Arc<AtomicUsize>,
    sync_failed: Arc<AtomicBool>,
    timings: Arc<Timings>,
    health: Arc<Health>,
}

impl SyncThread {
    /// One `fdatasync` covers every batch committed before it started. After a failed one,
    /// no batch is durable until the writer has reopened the store: Linux may report a lost
    /// write once and then let the next sync succeed, and SQLite's recovery stops at the
    /// first missing WAL frame, so later frames could be lost even though their own sync
    /// "worked". (A commit that failed, on the other hand, leaves the batches before it
    /// durable.)
    fn run(&self, batches: &mpsc::Receiver<Committed>) {
        while let Ok(first) = batches.recv() {
            let mut ready = vec![first];
            ready.extend(batches.try_iter());
            if !self.sync_failed.load(Ordering::Acquire) {
                let syncing = Instant::now();
                let synced = match self.wal.lock() {
                    Ok(wal) => wal.sync_data(),
                    Err(_) => Err(std::io::Error::other("the log's handle is poisoned")),
                };
                self.timings.record_sync(syncing.elapsed());
                if let Err(err) = synced {
                    self.sync_failed.store(true, Ordering::Release);
                    self.health.refuse(
                        "an fdatasync of the write-ahead log failed",
                        &err.to_string(),
                        FaultKind::of_io(&err),
                    );
                }
            }
            let durable = !self.sync_failed.load(Ordering::Acquire);
            self.unsynced.fetch_sub(ready.len(), Ordering::AcqRel);
            for batch in ready {
                let outcome = match batch.outcome {
                    Ok(()) if durable => Ok(()),
                    Ok(()) => Err(Failure::refused(&self.health, "an fdatasync failed")),
                    Err(failure) => Err(failure),
                };
                // Only writes now on disk: a refused write says nothing about the disk's pace.
                if outcome.is_ok() {
                    let answered = Instant::now();
                    self.timings.record_writes(
                        batch
                            .queued
                            .iter()
                            .map(|queued| answered.saturating_duration_since(*queued)),
                    );
                }
                for job in batch.repeatable {
                    job.finish(outcome.clone());
                }
                for reply in batch.replies {
                    reply(outcome.clone());
                }
            }
        }
    }
}
