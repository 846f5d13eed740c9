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
//!
//! # When the disk fails
//!
//! A write, commit or checkpoint the disk refuses (no space, an I/O error, a read-only
//! filesystem) or a failed `fdatasync` of the WAL puts the store into refusing writes
//! ([`Health`]): the batch and every write after it are answered with an error at once
//! (webhooks answer 503), so nothing is acknowledged that is not on disk. Reads go on.
//!
//! A failed `fdatasync` is the hard case. Linux reports a lost write-back once and may let
//! the next sync succeed, while the lost pages are still readable from the page cache — or
//! already dropped from it. Frames after the hole would be acknowledged yet lost at the next
//! crash (SQLite's recovery stops at the first frame whose checksum fails), and a checkpoint
//! copying from the cache could make a loss permanent in the database. So once a test write
//! in the data dir reaches the disk, the writer resumes only like this (`recovery.rs`):
//!
//! 1. the checkpointer (which copies nothing while writes are refused: a second attempt
//!    could copy pages the disk lost from the cache) and every read connection close, then
//!    the writer's own: no connection of this process is left;
//! 2. the writer opens the database afresh. As the only connection, SQLite discards its
//!    shared-memory index and rebuilds it from the log file, checking every frame's
//!    checksum: the log is taken to its last intact commit, whatever the cache held;
//! 3. `wal_checkpoint(TRUNCATE)` copies that log into the database file, syncs it and
//!    empties the log, so no later frame depends on one written before the fault;
//! 4. a probe transaction (an audit row) is committed and the log `fdatasync`ed through a
//!    newly opened descriptor (the old one's error state says nothing about the new);
//! 5. only then are writes taken again. Reads reopen either way; a step that fails leaves
//!    the store refusing until the next attempt.
//!
//! Connections never checkpoint as they close (`SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE`): the last
//! one would copy the log, frames the disk may have lost included. (Another process holding
//! the database open keeps SQLite's index alive; step 2 then rebuilds nothing.)

use super::health::{FaultKind, Health, Refusal, disk_fault};
use super::recovery::Recovery;
use super::syncer::{Committed, Syncer};
use super::timings::Timings;
use super::{Checkpointer, Readers, StoreError, StoreResult, fts_queue};
use bolt_sql::Db;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Why a batch's writes were not made durable, for each of its callers.
#[derive(Debug, Clone)]
pub(super) enum Failure {
    /// The store refuses writes (a disk fault).
    Refused(Refusal),
    /// The transaction could not be committed for another reason.
    NotCommitted(String),
}

impl Failure {
    pub(super) fn error(&self) -> StoreError {
        match self {
            Failure::Refused(refusal) => StoreError::Refusing(refusal.clone()),
            Failure::NotCommitted(why) => {
                StoreError::Invalid(format!("the write could not be committed: {why}"))
            }
        }
    }

    /// The store's refusal (it refuses writes now), or a plain failure if it doesn't.
    pub(super) fn refused(health: &Health, otherwise: &str) -> Failure {
        health
            .refusal()
            .map(Failure::Refused)
            .unwrap_or_else(|| Failure::NotCommitted(otherwise.to_string()))
    }
}

/// Answers a write's caller once its batch's fate is known: `Ok` once durable.
pub(super) type Reply = Box<dyn FnOnce(Result<(), Failure>) + Send>;

/// How a write's attempt went.
pub(super) enum Attempt {
    Done,
    /// The write itself failed (a constraint, a bug): it fails alone.
    Failed,
    /// The disk failed it: the whole batch is refused.
    Fault(String, FaultKind),
    /// Another node's transaction conflicted with it (PostgreSQL only): it failed alone,
    /// and running it again may well succeed.
    Conflict,
}

impl Attempt {
    pub(super) fn of<T>(outcome: &StoreResult<T>) -> Attempt {
        match outcome {
            Ok(_) => Attempt::Done,
            Err(err) if err.is_conflict() => Attempt::Conflict,
            Err(err) => match err.disk_fault() {
                Some((text, kind)) => Attempt::Fault(text, kind),
                None => Attempt::Failed,
            },
        }
    }
}

/// A write that runs once, in a savepoint of its own.
pub(super) trait OnceJob: Send {
    /// Runs in the batch's transaction; hands back what answers the caller.
    fn run(self: Box<Self>, tx: &dyn Db) -> (Attempt, Reply);
    /// Answers the caller without running.
    fn refuse(self: Box<Self>, failure: Failure);
}

/// A write that may run more than once (its earlier attempt rolled back); only the last
/// attempt's outcome reaches the caller.
pub(super) trait RepeatableJob: Send {
    fn attempt(&mut self, tx: &dyn Db) -> Attempt;
    fn finish(self: Box<Self>, durable: Result<(), Failure>);
}

pub(super) enum Job {
    Once(Box<dyn OnceJob>),
    Repeatable(Box<dyn RepeatableJob>),
}

impl Job {
    pub(super) fn refuse(self, failure: Failure) {
        match self {
            Job::Once(job) => job.refuse(failure),
            Job::Repeatable(job) => job.finish(Err(failure)),
        }
    }
}

/// A write and when it was queued (for the store's timings).
pub(super) struct Queued {
    pub(super) job: Job,
    pub(super) at: Instant,
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
pub(super) const MAX_BATCH: usize = 512;

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Queued>,
    health: Arc<Health>,
}

/// What the writer thread owns and works with.
pub struct WriterParts {
    /// The write connection; it must commit with `synchronous = NORMAL`.
    pub conn: Connection,
    /// The database's write-ahead log, for the syncer.
    pub wal: File,
    /// The database file, to reopen it after a disk fault.
    pub db: PathBuf,
    /// Set by the checkpointer when the WAL should be restarted.
    pub wal_restart: Arc<AtomicBool>,
    /// Set when the WAL should be emptied to zero bytes (wiped payloads are in its frames).
    pub wal_scrub: Arc<AtomicBool>,
    pub timings: Arc<Timings>,
    pub health: Arc<Health>,
    /// The other connections of the process, closed and reopened with the writer's after a
    /// disk fault.
    pub readers: Option<Readers>,
    pub checkpointer: Option<Checkpointer>,
}

impl Writer {
    /// Starts the writer thread and its syncer.
    pub fn start(parts: WriterParts) -> Writer {
        let (tx, rx) = mpsc::channel::<Queued>();
        let health = parts.health.clone();
        let syncer = Syncer::start(parts.wal, parts.timings, parts.health.clone());
        let thread = Thread {
            conn: Some(parts.conn),
            syncer,
            wal_restart: parts.wal_restart,
            wal_scrub: parts.wal_scrub,
            scrubbed_at: None,
            health: parts.health,
            recovery: Recovery::new(parts.db, parts.readers, parts.checkpointer),
            restart_blocked_at: None,
        };
        std::thread::Builder::new()
            .name("bolt-store-writer".into())
            .spawn(move || thread.run(&rx))
            .expect("spawning the store writer thread");
        Writer { jobs: tx, health }
    }

    /// A writer whose writes go to `jobs` (the thread of another backend takes them).
    pub(super) fn on(jobs: mpsc::Sender<Queued>, health: Arc<Health>) -> Writer {
        Writer { jobs, health }
    }

    /// The store's refusal, when it refuses writes: callers hear it at once.
    fn refusing(&self) -> StoreResult<()> {
        match self.health.refusal() {
            Some(refusal) => Err(StoreError::Refusing(refusal)),
            None => Ok(()),
        }
    }

    /// Runs `f` inside a transaction; resolves once the transaction is committed.
    /// An error from `f` rolls back only `f`'s own changes.
    pub async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Db) -> StoreResult<T> + Send + 'static,
    {
        self.refusing()?;
        let (reply, answer) = oneshot::channel();
        let actor = crate::actor::captured();
        self.submit(move |tx| crate::actor::within(actor, || f(tx)), reply)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Like [`Writer::write`] for a write that only touches the database, so running it
    /// again after rolling back its first attempt is harmless. Such writes share
    /// savepoints, which makes them much cheaper in bulk.
    pub async fn write_repeatable<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnMut(&dyn Db) -> StoreResult<T> + Send + 'static,
    {
        self.refusing()?;
        let (reply, answer) = oneshot::channel();
        let job = Repeat {
            f: as_caller(f),
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
    /// after them implies they were committed. While the store refuses writes they are
    /// dropped (a run checks its records before it is recorded as finished).
    pub fn write_detached<F>(&self, f: F)
    where
        F: FnMut(&dyn Db) -> StoreResult<()> + Send + 'static,
    {
        if !self.health.writable() {
            return;
        }
        let (reply, answer) = oneshot::channel();
        let job = Repeat {
            f: as_caller(f),
            outcome: None,
            reply,
        };
        if self
            .jobs
            .send(Job::Repeatable(Box::new(job)).into())
            .is_ok()
        {
            tokio::spawn(async move {
                match answer.await {
                    // The store's refusal is logged once, by the store.
                    Ok(Err(StoreError::Refusing(_))) | Ok(Ok(())) | Err(_) => {}
                    Ok(Err(err)) => tracing::error!(%err, "a background write failed"),
                }
            });
        }
    }

    /// Blocking form of [`Writer::write`], for threads outside the async runtime.
    pub fn write_blocking<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Db) -> StoreResult<T> + Send + 'static,
    {
        self.refusing()?;
        let (reply, answer) = oneshot::channel();
        let actor = crate::actor::captured();
        self.submit(move |tx| crate::actor::within(actor, || f(tx)), reply)?;
        answer.blocking_recv().map_err(|_| StoreError::WriterGone)?
    }

    fn submit<T, F>(&self, f: F, reply: oneshot::Sender<StoreResult<T>>) -> StoreResult<()>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Db) -> StoreResult<T> + Send + 'static,
    {
        self.jobs
            .send(Job::Once(Box::new(Once { f, reply })).into())
            .map_err(|_| StoreError::WriterGone)
    }
}

/// A repeatable write that runs as the actor of the task that queued it.
fn as_caller<T, F>(mut f: F) -> impl FnMut(&dyn Db) -> StoreResult<T> + Send + 'static
where
    F: FnMut(&dyn Db) -> StoreResult<T> + Send + 'static,
{
    let actor = crate::actor::captured();
    move |tx| crate::actor::within(actor.clone(), || f(tx))
}

struct Once<T, F> {
    f: F,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> OnceJob for Once<T, F>
where
    T: Send + 'static,
    F: FnOnce(&dyn Db) -> StoreResult<T> + Send + 'static,
{
    fn run(self: Box<Self>, tx: &dyn Db) -> (Attempt, Reply) {
        let Once { f, reply } = *self;
        let outcome = in_savepoint(tx, f);
        let attempt = Attempt::of(&outcome);
        let reply: Reply = Box::new(move |durable| {
            let _ = reply.send(confirm(outcome, durable));
        });
        (attempt, reply)
    }

    fn refuse(self: Box<Self>, failure: Failure) {
        let _ = self.reply.send(Err(failure.error()));
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
    F: FnMut(&dyn Db) -> StoreResult<T> + Send + 'static,
{
    fn attempt(&mut self, tx: &dyn Db) -> Attempt {
        let outcome = (self.f)(tx);
        let attempt = Attempt::of(&outcome);
        self.outcome = Some(outcome);
        attempt
    }

    fn finish(self: Box<Self>, durable: Result<(), Failure>) {
        let outcome = match (self.outcome, &durable) {
            (Some(outcome), _) => outcome,
            // Never attempted: the batch stopped before it.
            (None, Err(failure)) => Err(failure.error()),
            (None, Ok(())) => Err(StoreError::Invalid("the write never ran".into())),
        };
        let _ = self.reply.send(confirm(outcome, durable));
    }
}

/// A write's result as its caller sees it: a success that isn't durable is a failure, and
/// a refusal of the whole store says more than the disk error the write itself met.
fn confirm<T>(outcome: StoreResult<T>, durable: Result<(), Failure>) -> StoreResult<T> {
    match (outcome, durable) {
        (_, Err(failure @ Failure::Refused(_))) => Err(failure.error()),
        (Ok(_), Err(failure)) => Err(failure.error()),
        (other, _) => other,
    }
}

/// Runs `f` in its own savepoint: an error rolls back exactly its changes. (On
/// PostgreSQL that is also what keeps one failed statement from aborting the batch.)
pub(super) fn in_savepoint<T>(
    tx: &dyn Db,
    f: impl FnOnce(&dyn Db) -> StoreResult<T>,
) -> StoreResult<T> {
    let savepoint = tx.savepoint()?;
    let result = f(&savepoint);
    let end = if result.is_ok() {
        savepoint.commit()
    } else {
        savepoint.rollback()
    };
    match (result, end) {
        // The write's own error says more (a full disk makes SQLite roll back the whole
        // transaction, savepoint included).
        (Err(err), _) => Err(err),
        (Ok(_), Err(err)) => Err(err.into()),
        (Ok(value), Ok(())) => Ok(value),
    }
}

/// How often the writer looks again whether the syncer is free while it gathers writes.
const GATHER_POLL: Duration = Duration::from_micros(200);

/// How long the writer waits for a write before it looks at the store's health again.
const IDLE_LOOK: Duration = Duration::from_millis(500);

/// The writer thread's state.
struct Thread {
    /// `None` after a failed reopen (the store refuses writes meanwhile).
    conn: Option<Connection>,
    syncer: Syncer,
    wal_restart: Arc<AtomicBool>,
    wal_scrub: Arc<AtomicBool>,
    /// When the WAL was last truncated (or a truncation was last tried).
    scrubbed_at: Option<Instant>,
    health: Arc<Health>,
    recovery: Recovery,
    restart_blocked_at: Option<Instant>,
}

impl Thread {
    fn run(mut self, jobs: &mpsc::Receiver<Queued>) {
        fts_queue::queue_on_this_thread();
        loop {
            if !self.health.writable() || self.conn.is_none() {
                if !self.while_refusing(jobs) {
                    return;
                }
                continue;
            }
            let wait = if self.wal_scrub.load(Ordering::Acquire) {
                SCRUB_EVERY
            } else {
                IDLE_LOOK
            };
            let first = match jobs.recv_timeout(wait) {
                Ok(first) => first,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.scrub_wal_if_asked();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            };
            self.scrub_wal_if_asked();
            self.restart_wal_if_asked();
            self.write_batch(first, jobs);
        }
    }

    /// Answers writes with the refusal and, when due, tries to take writes again. Returns
    /// false once no one can send writes any more.
    fn while_refusing(&mut self, jobs: &mpsc::Receiver<Queued>) -> bool {
        match jobs.recv_timeout(self.recovery.wait().max(Duration::from_millis(10))) {
            Ok(queued) => queued.job.refuse(Failure::refused(
                &self.health,
                "the store could not be reopened",
            )),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return false,
        }
        // Batches still waiting for the syncer are answered first.
        if self.recovery.wait().is_zero() && !self.syncer.busy() {
            self.recovery
                .attempt(&mut self.conn, &self.syncer, &self.health);
        }
        true
    }

    /// Truncates the WAL when asked, at most once per [`SCRUB_EVERY`]; a truncation that
    /// readers block is tried again then.
    fn scrub_wal_if_asked(&mut self) {
        if !self.wal_scrub.load(Ordering::Acquire)
            || self
                .scrubbed_at
                .is_some_and(|at| at.elapsed() < SCRUB_EVERY)
        {
            return;
        }
        let Some(conn) = self.conn.as_ref() else {
            return;
        };
        self.scrubbed_at = Some(Instant::now());
        // Cleared first: a wipe committed while the checkpoint runs asks again.
        self.wal_scrub.store(false, Ordering::Release);
        if !truncate_wal(conn) {
            self.wal_scrub.store(true, Ordering::Release);
        }
    }

    fn restart_wal_if_asked(&mut self) {
        let retry_due = self
            .restart_blocked_at
            .is_none_or(|at| at.elapsed() >= RESTART_RETRY);
        if !retry_due || !self.wal_restart.load(Ordering::Acquire) {
            return;
        }
        let Some(conn) = self.conn.as_ref() else {
            return;
        };
        if restart_wal(conn) {
            self.wal_restart.store(false, Ordering::Release);
            self.restart_blocked_at = None;
        } else {
            self.restart_blocked_at = Some(Instant::now());
        }
    }

    /// Writes `first` and whatever else comes while the syncer is busy, in one transaction,
    /// and hands the batch to the syncer.
    fn write_batch(&mut self, first: Queued, jobs: &mpsc::Receiver<Queued>) {
        let (health, syncer) = (&self.health, &self.syncer);
        let Some(conn) = self.conn.as_ref() else {
            first.job.refuse(Failure::refused(health, "no connection"));
            return;
        };
        let tx = match begin(conn) {
            Ok(tx) => tx,
            Err(err) => {
                let failure = failure_of(health, &err, "a write transaction could not begin");
                first.job.refuse(failure);
                return;
            }
        };
        let mut batch = Batch::default();
        batch.add(&tx, gather(first, jobs, MAX_BATCH));
        // Group commit: while the syncer is still making the previous commit durable, a
        // commit now would only wait behind it; keep taking writes into this transaction
        // instead, and commit as soon as the syncer is free. Under load that makes batches
        // several times larger (SQLite rewrites ~3 pages of each of ~30 B-trees per commit
        // whatever its size); when idle, nothing waits.
        while batch.len < MAX_BATCH && syncer.busy() && batch.fault.is_none() {
            match jobs.recv_timeout(GATHER_POLL) {
                Ok(job) => batch.add(&tx, gather(job, jobs, MAX_BATCH - batch.len)),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let (tx, mut done) = batch.finish(conn, tx);
        let outcome = match (tx, done.fault.take()) {
            (_, Some((text, kind))) => {
                // The transaction (if any) rolls back as it is dropped.
                health.refuse("a write failed", &text, kind);
                Err(Failure::refused(health, &text))
            }
            (None, None) => Err(Failure::NotCommitted(
                "the transaction could not be begun again".into(),
            )),
            (Some(tx), None) => {
                let indexed = fts_queue::insert_all(&tx, done.index);
                let fault = indexed.as_ref().err().and_then(disk_fault).or_else(|| {
                    // SQLite rolled the transaction back itself (a full disk, an I/O error).
                    tx.is_autocommit().then(|| {
                        (
                            "SQLite rolled back the transaction after a failed write".into(),
                            FaultKind::Io,
                        )
                    })
                });
                if let Err(err) = &indexed
                    && fault.is_none()
                {
                    // The rows are written; only some index entries or counts are missing.
                    // Not worth failing every caller of the batch for.
                    tracing::error!(%err, "index or count updates failed for a batch");
                }
                if let Some((text, kind)) = fault {
                    drop(tx);
                    health.refuse("a write failed", &text, kind);
                    Err(Failure::refused(health, &text))
                } else if !health.writable() {
                    // A sync failed meanwhile: nothing can be called durable until the store
                    // is reopened. Keep the store as it was, so that callers told "failed"
                    // find nothing of their write.
                    if let Err(err) = tx.rollback() {
                        tracing::error!(%err, "rolling back a refused batch failed");
                    }
                    Err(Failure::refused(health, "a sync failed"))
                } else {
                    tx.commit()
                        .map_err(|err| failure_of(health, &err, "a commit failed"))
                }
            }
        };
        syncer.hand_over(Committed {
            outcome,
            repeatable: done.repeatable,
            replies: done.replies,
            queued: done.queued,
        });
    }
}

/// A failed commit or begin: a disk fault makes the store refuse writes.
fn failure_of(health: &Health, err: &rusqlite::Error, what: &str) -> Failure {
    match disk_fault(err) {
        Some((text, kind)) => {
            health.refuse(what, &text, kind);
            Failure::refused(health, &text)
        }
        None => {
            tracing::error!(%err, "{what}");
            Failure::NotCommitted(err.to_string())
        }
    }
}

/// `first` and whatever else is already queued, up to `max` writes.
pub(super) fn gather(first: Queued, jobs: &mpsc::Receiver<Queued>, max: usize) -> Vec<Queued> {
    let mut group = vec![first];
    group.extend(jobs.try_iter().take(max.saturating_sub(1)));
    group
}

/// Begins a batch's transaction. IMMEDIATE: the write lock is taken (waiting for it if need
/// be) before anything is read. A deferred transaction starts as a read at some snapshot; if
/// a checkpoint restarts the WAL before its first write, the upgrade fails at once with
/// SQLITE_BUSY_SNAPSHOT (no busy wait), and with it every write of the batch.
fn begin(conn: &Connection) -> rusqlite::Result<Transaction<'_>> {
    // The writer thread owns the only write connection and commits each transaction
    // before it begins the next: the unchecked form (a shared borrow) is safe.
    Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
        .inspect_err(|err| tracing::error!(%err, "cannot begin a write transaction"))
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

/// Copies the whole WAL into the database and truncates it to zero bytes; false when
/// readers or a checkpoint under way kept it from finishing.
fn truncate_wal(conn: &Connection) -> bool {
    let truncate = || -> rusqlite::Result<bool> {
        conn.busy_timeout(RESTART_WAIT)?;
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        conn.busy_timeout(super::BUSY_TIMEOUT)?;
        Ok(busy == 0)
    };
    match truncate() {
        Ok(done) => done,
        Err(err) => {
            tracing::warn!(%err, "emptying the WAL after wiped payloads failed; will retry");
            let _ = conn.busy_timeout(super::BUSY_TIMEOUT);
            false
        }
    }
}

/// How often, at most, the WAL is emptied after payloads were wiped.
const SCRUB_EVERY: Duration = Duration::from_secs(1);

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
/// none waits on another within a batch. A disk fault stops the batch: nothing more runs,
/// and all of it is refused.
#[derive(Default)]
struct Batch {
    len: usize,
    repeatable: Vec<Box<dyn RepeatableJob>>,
    once: Vec<Box<dyn OnceJob>>,
    /// A repeatable write failed: the transaction holds writes to roll back.
    repeatable_failed: bool,
    /// The disk failed a write: what it said.
    fault: Option<(String, FaultKind)>,
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
    fault: Option<(String, FaultKind)>,
}

impl Batch {
    fn add(&mut self, tx: &Transaction<'_>, group: Vec<Queued>) {
        self.len += group.len();
        for Queued { job, at } in group {
            self.queued.push(at);
            match job {
                Job::Repeatable(mut job) => {
                    if !self.repeatable_failed && self.fault.is_none() {
                        match lost_transaction(tx, job.attempt(tx)) {
                            Attempt::Done => self.index.extend(fts_queue::take()),
                            Attempt::Failed | Attempt::Conflict => self.repeatable_failed = true,
                            Attempt::Fault(text, kind) => self.fault = Some((text, kind)),
                        }
                    }
                    self.repeatable.push(job);
                }
                Job::Once(job) => self.once.push(job),
            }
        }
    }

    /// Runs the held one-off writes (after redoing the repeatable ones one by one if one of
    /// them failed); returns the transaction to commit — `None` if it could not be begun
    /// again — and what answers the callers.
    fn finish<'c>(
        mut self,
        conn: &'c Connection,
        tx: Transaction<'c>,
    ) -> (Option<Transaction<'c>>, Done) {
        let mut tx = Some(tx);
        if self.fault.is_none() && self.repeatable_failed {
            fts_queue::take();
            self.index.clear();
            if let Some(Err(err)) = tx.take().map(Transaction::rollback) {
                tracing::error!(%err, "rolling back a failed group of writes failed");
            }
            match begin(conn) {
                Ok(again) => {
                    for job in &mut self.repeatable {
                        let attempt = lost_transaction(
                            &again,
                            in_savepoint_attempt(&again, |tx| job.attempt(tx)),
                        );
                        if let Attempt::Fault(text, kind) = attempt {
                            self.fault = Some((text, kind));
                            break;
                        }
                        keep_index_if(matches!(attempt, Attempt::Done), &mut self.index);
                    }
                    tx = Some(again);
                }
                Err(err) => {
                    if let Some(fault) = disk_fault(&err) {
                        self.fault = Some(fault);
                    }
                }
            }
        }
        let mut replies: Vec<Reply> = Vec::with_capacity(self.once.len());
        for job in self.once {
            match (&tx, &self.fault) {
                (Some(open), None) => {
                    let (attempt, reply) = job.run(open);
                    let attempt = lost_transaction(open, attempt);
                    if let Attempt::Fault(text, kind) = &attempt {
                        self.fault = Some((text.clone(), *kind));
                    }
                    keep_index_if(matches!(attempt, Attempt::Done), &mut self.index);
                    replies.push(reply);
                }
                // Not run: answered with the batch's failure.
                _ => replies.push(Box::new(move |durable: Result<(), Failure>| {
                    job.refuse(
                        durable
                            .err()
                            .unwrap_or_else(|| Failure::NotCommitted("the write never ran".into())),
                    )
                })),
            }
        }
        if self.fault.is_some() {
            fts_queue::take();
            self.index.clear();
        }
        (
            tx,
            Done {
                repeatable: self.repeatable,
                replies,
                index: self.index,
                queued: self.queued,
                fault: self.fault,
            },
        )
    }
}

/// A failed write after which SQLite rolled back the whole transaction itself (it does on
/// a full disk, an I/O error or no memory): the batch can't go on, or later writes would
/// each commit on their own, outside the batch.
fn lost_transaction(tx: &Transaction<'_>, attempt: Attempt) -> Attempt {
    match attempt {
        Attempt::Failed if tx.is_autocommit() => Attempt::Fault(
            "SQLite rolled back the transaction after a failed write".into(),
            FaultKind::Io,
        ),
        other => other,
    }
}

/// A repeatable write's attempt in a savepoint of its own.
pub(super) fn in_savepoint_attempt(
    tx: &dyn Db,
    attempt: impl FnOnce(&dyn Db) -> Attempt,
) -> Attempt {
    let mut outcome = Attempt::Failed;
    let saved = in_savepoint(tx, |tx| {
        outcome = attempt(tx);
        match outcome {
            Attempt::Done => Ok(()),
            _ => Err(StoreError::Invalid("write failed".into())),
        }
    });
    match (saved, outcome) {
        // The savepoint itself failed on the disk.
        (Err(err), Attempt::Done) => match err.disk_fault() {
            Some((text, kind)) => Attempt::Fault(text, kind),
            None => Attempt::Failed,
        },
        (_, outcome) => outcome,
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
    use super::super::{Health, Readers, Store, StoreError};
    use bolt_sql::{DbExt, params};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

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
                Ok(conn.query_map("SELECT v FROM t ORDER BY v", params![], |r| r.get(0))?)
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
                        tx.execute("INSERT INTO t (v) VALUES (?1)", params![v])?;
                        Ok(v)
                    })
                    .await
            }));
        }
        let mut failed = 0;
        for wait in waits {
            match wait.await.unwrap() {
                Ok(_) => {}
                Err(StoreError::Db(err)) if err.is_unique_violation() => failed += 1,
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
                let insert = move |tx: &dyn bolt_sql::Db| {
                    tx.execute("INSERT INTO t (v) VALUES (?1)", params![v])?;
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

    /// A writer on `dir/t.db` with table `t` (and bolt's audit table, where the probe
    /// transaction goes), syncing through `wal` (the real log if `None`); the test write
    /// succeeds while `disk_ok`.
    fn writer_on(
        dir: &std::path::Path,
        wal: Option<std::fs::File>,
        disk_ok: Arc<AtomicBool>,
        setup: &str,
    ) -> (super::Writer, Arc<Health>, Readers) {
        let path = dir.join("t.db");
        let conn = super::super::open_connection(&path).unwrap();
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL; CREATE TABLE IF NOT EXISTS t (v INTEGER);
             CREATE TABLE IF NOT EXISTS audit_events (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL,
                 action TEXT NOT NULL, subject TEXT NOT NULL, metadata TEXT, prev_hash TEXT, hash TEXT);",
        )
        .unwrap();
        conn.execute_batch(setup).unwrap();
        let wal = wal.unwrap_or_else(|| super::super::open_wal(&path).unwrap());
        let health = Arc::new(Health::with_probe(
            dir,
            Box::new(move || {
                if disk_ok.load(Ordering::SeqCst) {
                    Ok(())
                } else {
                    Err(std::io::Error::from_raw_os_error(28))
                }
            }),
        ));
        let readers = Readers::open(&path, 1).unwrap();
        let writer = super::Writer::start(super::WriterParts {
            conn,
            wal,
            db: path,
            wal_restart: Default::default(),
            wal_scrub: Default::default(),
            timings: Default::default(),
            health: health.clone(),
            readers: Some(readers.clone()),
            checkpointer: None,
        });
        (writer, health, readers)
    }

    async fn insert(writer: &super::Writer, v: i64) -> Result<(), StoreError> {
        writer
            .write_repeatable(move |tx| {
                tx.execute("INSERT INTO t (v) VALUES (?1)", params![v])?;
                Ok(())
            })
            .await
    }

    fn count(readers: &Readers, sql: &'static str) -> i64 {
        readers
            .read_blocking(move |conn| Ok(conn.query_one(sql, params![])?))
            .unwrap()
    }

    async fn until_writable(health: &Health) {
        tokio::time::timeout(Duration::from_secs(20), health.until_writable())
            .await
            .expect("the store takes writes again");
    }

    /// Once the disk fails a sync, no write is called durable until the store has been
    /// reopened: the batch whose sync failed is refused, later writes are refused at once and
    /// leave nothing behind, reads go on. While the test write fails the store keeps
    /// refusing; once it succeeds the writer reopens the store and takes writes again by
    /// itself. (A pipe stands in for the WAL: syncing one fails with EINVAL; the reopen
    /// syncs the real log.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_sync_refuses_writes_until_a_test_write_succeeds_then_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let (_reader, pipe) = std::io::pipe().unwrap();
        let not_syncable = std::fs::File::from(std::os::fd::OwnedFd::from(pipe));
        let disk_ok = Arc::new(AtomicBool::new(false));
        let (writer, health, readers) =
            writer_on(dir.path(), Some(not_syncable), disk_ok.clone(), "");
        let err = insert(&writer, 1).await.unwrap_err();
        assert!(matches!(err, StoreError::Refusing(_)), "{err}");
        assert!(err.to_string().contains("fdatasync"), "{err}");
        assert!(!health.writable());
        let err = insert(&writer, 2).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Refusing(_)),
            "refused at once: {err}"
        );
        assert_eq!(
            count(&readers, "SELECT COUNT(*) FROM t WHERE v = 2"),
            0,
            "reads go on"
        );
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(
            !health.writable(),
            "still refusing while the test write fails"
        );
        let snapshot = health.snapshot();
        assert!(snapshot.last_probe.is_some(), "{snapshot:?}");
        assert!(
            snapshot
                .reason
                .as_deref()
                .unwrap_or_default()
                .contains("No space left on device"),
            "{snapshot:?}"
        );
        disk_ok.store(true, Ordering::SeqCst);
        until_writable(&health).await;
        insert(&writer, 3).await.unwrap();
        assert_eq!(
            count(&readers, "SELECT COUNT(*) FROM t WHERE v IN (2, 3)"),
            1
        );
        assert_eq!(
            count(
                &readers,
                "SELECT COUNT(*) FROM audit_events WHERE action = 'store_resumed'"
            ),
            1,
            "the probe transaction is recorded"
        );
        assert_eq!(health.faults(), 1);
    }

    /// A write the disk refuses (here the database reaches its page limit, which SQLite
    /// reports as a full disk) refuses its whole batch, acknowledges nothing, and the store
    /// takes writes again once the test write succeeds.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_disk_refuses_the_batch_and_writes_resume_by_themselves() {
        let dir = tempfile::tempdir().unwrap();
        let disk_ok = Arc::new(AtomicBool::new(false));
        let (writer, health, readers) = writer_on(
            dir.path(),
            None,
            disk_ok.clone(),
            "PRAGMA max_page_count = 12;",
        );
        insert(&writer, 1).await.unwrap();
        let big = writer.write(|tx| {
            tx.execute("INSERT INTO t (v) VALUES (zeroblob(1000000))", params![])?;
            Ok(())
        });
        let err = big.await.unwrap_err();
        assert!(matches!(err, StoreError::Refusing(_)), "{err}");
        assert!(err.to_string().contains("the disk is full"), "{err}");
        assert!(matches!(
            insert(&writer, 2).await,
            Err(StoreError::Refusing(_))
        ));
        disk_ok.store(true, Ordering::SeqCst);
        until_writable(&health).await;
        insert(&writer, 3).await.unwrap();
        assert_eq!(
            count(&readers, "SELECT COUNT(*) FROM t"),
            2,
            "1 and 3, nothing else"
        );
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
                        tx.execute("INSERT INTO t (v) VALUES (?1)", params![v])?;
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
                    Ok(conn.query_one::<i64>(
                        "SELECT COUNT(*) FROM search_fts WHERE search_fts MATCH ?1",
                        params![word],
                    )?)
                })
                .unwrap()
        };
        assert_eq!(hits("kept"), 1);
        assert_eq!(hits("dropped"), 0);
    }
}
