//! The single writer: a thread that owns the write connection and group-commits.
//!
//! One failing write doesn't spoil the others of its batch. One-off writes each run in a
//! savepoint of their own. Savepoints aren't free (SQLite copies each page a savepoint
//! touches to a sub-journal), so writes that can safely run twice — webhook intake, a run's
//! records — are "repeatable": they run with no savepoint at all, and only if one of them
//! fails is the transaction rolled back and each run again in a savepoint of its own.
//!
//! The writer connection commits without waiting for the disk (`synchronous = NORMAL`);
//! the syncer thread then makes the WAL durable (`fdatasync`) and only then answers the
//! batch's callers. So a caller still hears back only once its rows are on disk, while the
//! writer already gathers the next batch instead of waiting on the disk.

use super::timings::Timings;
use super::{StoreError, StoreResult, fts_queue};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

type Reply = Box<dyn FnOnce(bool) + Send>;

/// A queued write: runs in the batch's transaction, says whether it succeeded, and hands
/// back what answers its caller once the batch's commit is known.
type OnceJob = Box<dyn FnOnce(&Transaction<'_>) -> (bool, Reply) + Send>;

/// A write that may run more than once (its earlier attempt rolled back); only the last
/// attempt's outcome reaches the caller.
trait RepeatableJob: Send {
    fn attempt(&mut self, tx: &Transaction<'_>) -> bool;
    fn finish(self: Box<Self>, committed: bool);
}

enum Job {
    Once(OnceJob),
    Repeatable(Box<dyn RepeatableJob>),
}

/// A write and when it was queued (for the store's timings).
struct Queued {
    job: Job,
    at: Instant,
}

impl From<Job> for Queued {
    fn from(job: Job) -> Self {
        Queued {
            job,
            at: Instant::now(),
        }
    }
}

/// How many queued writes may share one commit.
const MAX_BATCH: usize = 512;

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Queued>,
}

impl Writer {
    /// Starts the writer on `conn` (which must commit with `synchronous = NORMAL`) and its
    /// syncer on `wal`, the database's write-ahead log. The writer restarts the WAL when
    /// `wal_restart` is set (by the checkpointer). How long writes and syncs take goes to
    /// `timings`.
    pub fn start(
        conn: Connection,
        wal: File,
        wal_restart: Arc<AtomicBool>,
        timings: Arc<Timings>,
    ) -> Writer {
        let (tx, rx) = mpsc::channel::<Queued>();
        let syncer = Syncer::start(wal, timings);
        std::thread::Builder::new()
            .name("bolt-store-writer".into())
            .spawn(move || run(conn, rx, syncer, wal_restart))
            .expect("spawning the store writer thread");
        Writer { jobs: tx }
    }

    /// Runs `f` inside a transaction; resolves once the transaction is committed.
    /// An error from `f` rolls back only `f`'s own changes.
    pub async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.submit(f, reply)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Like [`Writer::write`] for a write that only touches the database, so running it
    /// again after rolling back its first attempt is harmless. Such writes share
    /// savepoints, which makes them much cheaper in bulk.
    pub async fn write_repeatable<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnMut(&Transaction<'_>) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Repeat {
            f,
            outcome: None,
            reply,
        };
        self.jobs
            .send(Job::Repeatable(Box::new(job)).into())
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Queues a repeatable write (see [`Writer::write_repeatable`]) without waiting for it:
    /// a run's records while it goes on. Detached writes are applied in the order they
    /// were queued, and before the one-off writes of their batch, so a write awaited
    /// after them implies they were committed.
    pub fn write_detached<F>(&self, f: F)
    where
        F: FnMut(&Transaction<'_>) -> StoreResult<()> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Repeat {
            f,
            outcome: None,
            reply,
        };
        if self
            .jobs
            .send(Job::Repeatable(Box::new(job)).into())
            .is_ok()
        {
            tokio::spawn(async move {
                if let Ok(Err(err)) = answer.await {
                    tracing::error!(%err, "a background write failed");
                }
            });
        }
    }

    /// Blocking form of [`Writer::write`], for threads outside the async runtime.
    pub fn write_blocking<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.submit(f, reply)?;
        answer.blocking_recv().map_err(|_| StoreError::WriterGone)?
    }

    fn submit<T, F>(&self, f: F, reply: oneshot::Sender<StoreResult<T>>) -> StoreResult<()>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> StoreResult<T> + Send + 'static,
    {
        let job: OnceJob = Box::new(move |tx| {
            let outcome = in_savepoint(tx, f);
            let succeeded = outcome.is_ok();
            let reply: Reply = Box::new(move |committed: bool| {
                let _ = reply.send(confirm(outcome, committed));
            });
            (succeeded, reply)
        });
        self.jobs
            .send(Job::Once(job).into())
            .map_err(|_| StoreError::WriterGone)
    }
}

struct Repeat<T, F> {
    f: F,
    outcome: Option<StoreResult<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> RepeatableJob for Repeat<T, F>
where
    T: Send + 'static,
    F: FnMut(&Transaction<'_>) -> StoreResult<T> + Send + 'static,
{
    fn attempt(&mut self, tx: &Transaction<'_>) -> bool {
        let outcome = (self.f)(tx);
        let succeeded = outcome.is_ok();
        self.outcome = Some(outcome);
        succeeded
    }

    fn finish(self: Box<Self>, committed: bool) {
        let outcome = self
            .outcome
            .unwrap_or_else(|| Err(StoreError::Invalid("the write never ran".into())));
        let _ = self.reply.send(confirm(outcome, committed));
    }
}

/// A write's result as its caller sees it: a success that wasn't committed is a failure.
fn confirm<T>(outcome: StoreResult<T>, committed: bool) -> StoreResult<T> {
    match (outcome, committed) {
        (Ok(_), false) => Err(StoreError::Invalid(
            "the write could not be committed".into(),
        )),
        (other, _) => other,
    }
}

/// Runs `f` in its own savepoint: an error rolls back exactly its changes.
fn in_savepoint<T>(
    tx: &Transaction<'_>,
    f: impl FnOnce(&Transaction<'_>) -> StoreResult<T>,
) -> StoreResult<T> {
    run_cached(tx, "SAVEPOINT job")?;
    let result = f(tx);
    let end = if result.is_ok() {
        run_cached(tx, "RELEASE job")
    } else {
        run_cached(tx, "ROLLBACK TO job").and_then(|()| run_cached(tx, "RELEASE job"))
    };
    end?;
    result
}

// Cached statements: parsing these for every job is measurable at webhook rates.
fn run_cached(tx: &Transaction<'_>, sql: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// A batch the writer has committed: whether it committed, and who to tell once it is
/// durable.
struct Committed {
    committed: bool,
    repeatable: Vec<Box<dyn RepeatableJob>>,
    replies: Vec<Reply>,
    /// When each of its writes was queued.
    queued: Vec<Instant>,
}

/// The writer's side of the syncer: hands committed batches over and knows whether some
/// are still waiting for the disk, or whether the disk has failed.
struct Syncer {
    batches: mpsc::Sender<Committed>,
    unsynced: Arc<AtomicUsize>,
    failed: Arc<AtomicBool>,
}

impl Syncer {
    fn start(wal: File, timings: Arc<Timings>) -> Syncer {
        let (batches, to_sync) = mpsc::channel::<Committed>();
        let unsynced = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicBool::new(false));
        let (counter, failure) = (unsynced.clone(), failed.clone());
        std::thread::Builder::new()
            .name("bolt-store-sync".into())
            .spawn(move || sync_then_answer(wal, to_sync, counter, failure, &timings))
            .expect("spawning the store syncer thread");
        Syncer {
            batches,
            unsynced,
            failed,
        }
    }

    fn busy(&self) -> bool {
        self.unsynced.load(Ordering::Acquire) > 0
    }

    /// An `fdatasync` of the WAL failed: nothing written since can be called durable.
    fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    fn hand_over(&self, batch: Committed) {
        self.unsynced.fetch_add(1, Ordering::AcqRel);
        if self.batches.send(batch).is_err() {
            // The syncer never stops before the writer; if it did, dropping the batch drops
            // its reply channels and callers see WriterGone.
            self.unsynced.fetch_sub(1, Ordering::AcqRel);
            tracing::error!("the store's syncer has stopped");
        }
    }
}

/// Makes committed batches durable, then answers their callers, in commit order. One
/// `fdatasync` covers every batch committed before it started. After a failed `fdatasync`
/// every later batch fails too: Linux may report a lost write once and then let the next
/// sync succeed, and SQLite's recovery stops at the first missing WAL frame, so later
/// frames could be lost even though their own sync "worked".
fn sync_then_answer(
    wal: File,
    batches: mpsc::Receiver<Committed>,
    unsynced: Arc<AtomicUsize>,
    failed: Arc<AtomicBool>,
    timings: &Timings,
) {
    while let Ok(first) = batches.recv() {
        let mut ready = vec![first];
        ready.extend(batches.try_iter());
        let syncing = Instant::now();
        let synced = if failed.load(Ordering::Acquire) {
            Ok(())
        } else {
            let synced = wal.sync_data();
            timings.record_sync(syncing.elapsed());
            synced
        };
        if let Err(err) = synced {
            tracing::error!(
                %err,
                "the disk failed to store the write-ahead log: boltd refuses every write from now on; check the disk, then restart boltd"
            );
            failed.store(true, Ordering::Release);
        }
        let durable = !failed.load(Ordering::Acquire);
        unsynced.fetch_sub(ready.len(), Ordering::AcqRel);
        for batch in ready {
            let done = batch.committed && durable;
            for job in batch.repeatable {
                job.finish(done);
            }
            for reply in batch.replies {
                reply(done);
            }
            // Only writes now on disk: a refused write says nothing about the disk's pace.
            if done {
                let answered = Instant::now();
                timings.record_writes(
                    batch
                        .queued
                        .iter()
                        .map(|queued| answered.saturating_duration_since(*queued)),
                );
            }
        }
    }
}

/// How often the writer looks again whether the syncer is free while it gathers writes.
const GATHER_POLL: Duration = Duration::from_micros(200);

fn run(
    conn: Connection,
    jobs: mpsc::Receiver<Queued>,
    syncer: Syncer,
    wal_restart: Arc<AtomicBool>,
) {
    fts_queue::queue_on_this_thread();
    let mut restart_blocked_at: Option<std::time::Instant> = None;
    while let Ok(first) = jobs.recv() {
        let retry_due = restart_blocked_at.is_none_or(|at| at.elapsed() >= RESTART_RETRY);
        if retry_due && wal_restart.load(Ordering::Acquire) {
            if restart_wal(&conn) {
                wal_restart.store(false, Ordering::Release);
                restart_blocked_at = None;
            } else {
                restart_blocked_at = Some(std::time::Instant::now());
            }
        }
        let Some(tx) = begin(&conn) else {
            // Dropping the job drops its reply channel: its caller sees WriterGone.
            continue;
        };
        let mut batch = Batch::default();
        batch.add(&tx, gather(first, &jobs, MAX_BATCH));
        // Group commit: while the syncer is still making the previous commit durable, a
        // commit now would only wait behind it; keep taking writes into this transaction
        // instead, and commit as soon as the syncer is free. Under load that makes batches
        // several times larger (SQLite rewrites ~3 pages of each of ~30 B-trees per commit
        // whatever its size); when idle, nothing waits.
        while batch.len < MAX_BATCH && syncer.busy() {
            match jobs.recv_timeout(GATHER_POLL) {
                Ok(job) => batch.add(&tx, gather(job, &jobs, MAX_BATCH - batch.len)),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let Some((tx, done)) = batch.finish(&conn, tx) else {
            continue;
        };
        if let Err(err) = fts_queue::insert_all(&tx, done.index) {
            // The rows are written; only some index entries or counts are missing. Not
            // worth failing every caller of the batch for.
            tracing::error!(%err, "index or count updates failed for a batch");
        }
        let committed = if syncer.failed() {
            // Nothing can be made durable any more (see sync_then_answer): keep the store
            // as it was, so that callers told "failed" find nothing of their write.
            if let Err(err) = tx.rollback() {
                tracing::error!(%err, "rolling back after a failed sync failed");
            }
            false
        } else {
            match tx.commit() {
                Ok(()) => true,
                Err(err) => {
                    tracing::error!(%err, "commit failed");
                    false
                }
            }
        };
        syncer.hand_over(Committed {
            committed,
            repeatable: done.repeatable,
            replies: done.replies,
            queued: done.queued,
        });
    }
}

/// `first` and whatever else is already queued, up to `max` writes.
fn gather(first: Queued, jobs: &mpsc::Receiver<Queued>, max: usize) -> Vec<Queued> {
    let mut group = vec![first];
    group.extend(jobs.try_iter().take(max.saturating_sub(1)));
    group
}

/// Begins a batch's transaction. IMMEDIATE: the write lock is taken (waiting for it if need
/// be) before anything is read. A deferred transaction starts as a read at some snapshot; if
/// a checkpoint restarts the WAL before its first write, the upgrade fails at once with
/// SQLITE_BUSY_SNAPSHOT (no busy wait), and with it every write of the batch.
fn begin(conn: &Connection) -> Option<Transaction<'_>> {
    // The writer thread owns the only write connection and commits each transaction
    // before it begins the next: the unchecked form (a shared borrow) is safe.
    match Transaction::new_unchecked(conn, TransactionBehavior::Immediate) {
        Ok(tx) => Some(tx),
        Err(err) => {
            tracing::error!(%err, "cannot begin a write transaction");
            None
        }
    }
}

/// Copies the whole WAL into the database and makes the next commit write the WAL from its
/// start, so it stops growing. Asked for by the checkpointer, which can't take the write
/// lock while the writer is busy; here, between transactions, the lock is free. Returns
/// whether it happened (readers still on the old WAL make it wait, then give up).
fn restart_wal(conn: &Connection) -> bool {
    let restart = || -> rusqlite::Result<bool> {
        conn.busy_timeout(RESTART_WAIT)?;
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get(0))?;
        conn.busy_timeout(super::BUSY_TIMEOUT)?;
        Ok(busy == 0)
    };
    match restart() {
        Ok(done) => {
            if !done {
                tracing::debug!("WAL restart blocked by readers; will retry");
            }
            done
        }
        Err(err) => {
            tracing::warn!(%err, "WAL restart failed; will retry");
            let _ = conn.busy_timeout(super::BUSY_TIMEOUT);
            false
        }
    }
}

/// How long a WAL restart waits for readers (and a running passive checkpoint). Every
/// write waits meanwhile.
const RESTART_WAIT: Duration = Duration::from_millis(10);

/// After a blocked restart (a long read, or a passive checkpoint copying), how long the
/// writer goes on before trying again, rather than holding up every batch.
const RESTART_RETRY: Duration = Duration::from_secs(1);

/// The writes of one transaction as they arrive. Repeatable writes are applied at once,
/// with no savepoint (every savepoint makes SQLite copy the pages it touches to a
/// sub-journal); if one fails, the whole transaction is rolled back at the end and each is
/// run again in a savepoint of its own, so only the failing ones fail. One-off writes can't
/// run twice: they are held until the end and run last, each in its own savepoint.
/// Repeatable writes going ahead of one-off ones is fine: all of them commit together, and
/// none waits on another within a batch.
#[derive(Default)]
struct Batch {
    len: usize,
    repeatable: Vec<Box<dyn RepeatableJob>>,
    once: Vec<OnceJob>,
    /// A repeatable write failed: the transaction holds writes to roll back.
    repeatable_failed: bool,
    index: Vec<fts_queue::Entry>,
    /// When each write was queued.
    queued: Vec<Instant>,
}

/// What a finished batch commits and answers.
struct Done {
    repeatable: Vec<Box<dyn RepeatableJob>>,
    replies: Vec<Reply>,
    index: Vec<fts_queue::Entry>,
    queued: Vec<Instant>,
}

impl Batch {
    fn add(&mut self, tx: &Transaction<'_>, group: Vec<Queued>) {
        self.len += group.len();
        for Queued { job, at } in group {
            self.queued.push(at);
            match job {
                Job::Repeatable(mut job) => {
                    if !self.repeatable_failed {
                        self.repeatable_failed = !job.attempt(tx);
                        if !self.repeatable_failed {
                            self.index.extend(fts_queue::take());
                        }
                    }
                    self.repeatable.push(job);
                }
                Job::Once(job) => self.once.push(job),
            }
        }
    }

    /// Runs the held one-off writes (after redoing the repeatable ones one by one if one of
    /// them failed); returns the transaction to commit, or `None` if no transaction could
    /// be begun again (callers then see WriterGone).
    fn finish<'c>(
        mut self,
        conn: &'c Connection,
        tx: Transaction<'c>,
    ) -> Option<(Transaction<'c>, Done)> {
        let tx = if self.repeatable_failed {
            fts_queue::take();
            self.index.clear();
            if let Err(err) = tx.rollback() {
                tracing::error!(%err, "rolling back a failed group of writes failed");
            }
            let tx = begin(conn)?;
            for job in &mut self.repeatable {
                let succeeded = in_savepoint(&tx, |tx| {
                    if job.attempt(tx) {
                        Ok(())
                    } else {
                        Err(StoreError::Invalid("write failed".into()))
                    }
                })
                .is_ok();
                keep_index_if(succeeded, &mut self.index);
            }
            tx
        } else {
            tx
        };
        let mut replies: Vec<Reply> = Vec::with_capacity(self.once.len());
        for job in self.once {
            let (succeeded, reply) = job(&tx);
            keep_index_if(succeeded, &mut self.index);
            replies.push(reply);
        }
        Some((
            tx,
            Done {
                repeatable: self.repeatable,
                replies,
                index: self.index,
                queued: self.queued,
            },
        ))
    }
}

/// Keeps the index entries the last write queued only if that write succeeded.
fn keep_index_if(succeeded: bool, index: &mut Vec<fts_queue::Entry>) {
    let queued = fts_queue::take();
    if succeeded {
        index.extend(queued);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Store, StoreError};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1).unwrap();
        store
            .writer
            .write(|tx| Ok(tx.execute_batch("CREATE TABLE t (v INTEGER UNIQUE)")?))
            .await
            .unwrap();
        (dir, store)
    }

    fn values(store: &Store) -> Vec<i64> {
        store
            .readers
            .read_blocking(|conn| {
                let mut stmt = conn.prepare("SELECT v FROM t ORDER BY v")?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<Result<Vec<i64>, _>>()?)
            })
            .unwrap()
    }

    /// Many repeatable writes share a batch; the one that fails (a duplicate) fails alone,
    /// the others are committed exactly once even though they ran twice.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_repeatable_write_fails_alone() {
        let (_dir, store) = store().await;
        let attempts = Arc::new(AtomicUsize::new(0));
        let mut waits = Vec::new();
        for v in [1, 2, 2, 3, 4] {
            let (writer, attempts) = (store.writer.clone(), attempts.clone());
            waits.push(tokio::spawn(async move {
                writer
                    .write_repeatable(move |tx| {
                        attempts.fetch_add(1, Ordering::SeqCst);
                        tx.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
                        Ok(v)
                    })
                    .await
            }));
        }
        let mut failed = 0;
        for wait in waits {
            match wait.await.unwrap() {
                Ok(_) => {}
                Err(StoreError::Sqlite(_)) => failed += 1,
                Err(other) => panic!("unexpected error: {other}"),
            }
        }
        assert_eq!(failed, 1, "only the duplicate fails");
        assert_eq!(values(&store), vec![1, 2, 3, 4]);
        assert!(attempts.load(Ordering::SeqCst) >= 5);
    }

    /// Writes of all kinds queued together are all committed and answered, the one-off
    /// ones after the repeatable ones queued with them (a batch gathers writes while the
    /// previous one is being synced, then commits them together).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_queued_together_are_all_committed_and_answered() {
        let (_dir, store) = store().await;
        let mut waits = Vec::new();
        for v in 0..300i64 {
            let writer = store.writer.clone();
            waits.push(tokio::spawn(async move {
                let insert = move |tx: &rusqlite::Transaction<'_>| {
                    tx.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
                    Ok(v)
                };
                if v % 3 == 0 {
                    writer.write(insert).await
                } else {
                    writer.write_repeatable(insert).await
                }
            }));
        }
        for (v, wait) in waits.into_iter().enumerate() {
            assert_eq!(wait.await.unwrap().unwrap(), v as i64);
        }
        assert_eq!(values(&store), (0..300).collect::<Vec<i64>>());
    }

    /// Once the disk fails a sync, no write is called durable again: the batch whose sync
    /// failed is reported failed, and later writes are refused and leave nothing behind,
    /// even if a later sync would "succeed". (A pipe stands in for the WAL: syncing one
    /// fails with EINVAL.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn after_a_failed_sync_every_later_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = super::super::open_connection(&path).unwrap();
        conn.execute_batch("PRAGMA synchronous = NORMAL; CREATE TABLE t (v INTEGER)")
            .unwrap();
        let (_reader, pipe) = std::io::pipe().unwrap();
        let not_syncable = std::fs::File::from(std::os::fd::OwnedFd::from(pipe));
        let writer =
            super::Writer::start(conn, not_syncable, Default::default(), Default::default());
        let insert = |v: i64| {
            let writer = writer.clone();
            async move {
                writer
                    .write_repeatable(move |tx| {
                        tx.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
                        Ok(())
                    })
                    .await
            }
        };
        insert(1).await.unwrap_err();
        insert(2).await.unwrap_err();
        let check = super::super::open_connection(&path).unwrap();
        let later: i64 = check
            .query_row("SELECT COUNT(*) FROM t WHERE v = 2", [], |r| r.get(0))
            .unwrap();
        assert_eq!(later, 0, "a write refused after the failure leaves nothing");
    }

    /// Search entries of a write that failed never reach the index; those of writes that
    /// succeeded do, once the batch commits.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn search_entries_follow_their_write() {
        let (_dir, store) = store().await;
        let index = |v: i64, word: &'static str| {
            let writer = store.writer.clone();
            async move {
                writer
                    .write(move |tx| {
                        super::super::dataclips::index(tx, "wo", "input", "ref", word)?;
                        tx.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
                        Ok(())
                    })
                    .await
            }
        };
        index(1, "kept").await.unwrap();
        index(1, "dropped").await.unwrap_err();
        let hits = |word: &'static str| {
            store
                .readers
                .read_blocking(move |conn| {
                    Ok(conn.query_row(
                        "SELECT COUNT(*) FROM search_fts WHERE search_fts MATCH ?1",
                        [word],
                        |r| r.get::<_, i64>(0),
                    )?)
                })
                .unwrap()
        };
        assert_eq!(hits("kept"), 1);
        assert_eq!(hits("dropped"), 0);
    }
}
