//! The single writer: a thread that owns the write connection and group-commits.
//!
//! Every write runs in a savepoint of the batch's transaction, so one failing write
//! doesn't spoil the others. Savepoints aren't free (SQLite copies each page a savepoint
//! touches to a sub-journal), so writes that can safely run twice — webhook intake — are
//! "repeatable": a run of them shares one savepoint, and only if one of them fails is the
//! group rolled back and each run again in a savepoint of its own.

use super::{StoreError, StoreResult, fts_queue};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::sync::mpsc;
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

/// How many queued writes may share one commit.
const MAX_BATCH: usize = 512;

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    pub fn start(conn: Connection) -> Writer {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("bolt-store-writer".into())
            .spawn(move || run(conn, rx))
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
            .send(Job::Repeatable(Box::new(job)))
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
        if self.jobs.send(Job::Repeatable(Box::new(job))).is_ok() {
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
            .send(Job::Once(job))
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

fn run(conn: Connection, jobs: mpsc::Receiver<Job>) {
    fts_queue::queue_on_this_thread();
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (mut repeatable, mut once) = (Vec::new(), Vec::new());
        for job in batch {
            match job {
                Job::Repeatable(job) => repeatable.push(job),
                Job::Once(job) => once.push(job),
            }
        }
        let mut index = Vec::new();
        let Some(tx) = begin_with_repeatables(&conn, &mut repeatable, &mut index) else {
            // Dropping the jobs drops their reply channels: callers see WriterGone.
            continue;
        };
        let mut replies: Vec<Reply> = Vec::with_capacity(once.len());
        for job in once {
            let (succeeded, reply) = job(&tx);
            keep_index_if(succeeded, &mut index);
            replies.push(reply);
        }
        if let Err(err) = fts_queue::insert_all(&tx, index) {
            // The rows are written; only some index entries or counts are missing. Not
            // worth failing every caller of the batch for.
            tracing::error!(%err, "index or count updates failed for a batch");
        }
        let committed = match tx.commit() {
            Ok(()) => true,
            Err(err) => {
                tracing::error!(%err, "commit failed");
                false
            }
        };
        for job in repeatable {
            job.finish(committed);
        }
        for reply in replies {
            reply(committed);
        }
    }
}

/// Begins the batch's transaction and applies its repeatable writes first, with no
/// savepoint at all (the cheapest way: every savepoint level makes SQLite journal pages
/// again). If one of them fails, the transaction holds nothing else yet, so it is rolled
/// back whole and each is run again in a savepoint of its own: only the failing ones fail.
/// Repeatable writes going ahead of the batch's other writes is fine: all of them commit
/// together, and none waits on another within a batch.
fn begin_with_repeatables<'c>(
    conn: &'c Connection,
    jobs: &mut [Box<dyn RepeatableJob>],
    index: &mut Vec<fts_queue::Entry>,
) -> Option<Transaction<'c>> {
    // The writer thread owns the only write connection, so no other transaction can be
    // open on it: the unchecked form (a shared borrow) is safe and lets this function
    // begin a second transaction after rolling back the first.
    // IMMEDIATE: the write lock is taken (waiting for it if need be) before anything is
    // read. A deferred transaction starts as a read at some snapshot; if the checkpointer
    // restarts the WAL before its first write, the upgrade fails at once with
    // SQLITE_BUSY_SNAPSHOT (no busy wait), and with it every write of the batch.
    let begin = |conn: &'c Connection| match Transaction::new_unchecked(
        conn,
        TransactionBehavior::Immediate,
    ) {
        Ok(tx) => Some(tx),
        Err(err) => {
            tracing::error!(%err, "cannot begin a write transaction");
            None
        }
    };
    if jobs.is_empty() {
        return begin(conn);
    }
    {
        let tx = begin(conn)?;
        if jobs.iter_mut().all(|job| job.attempt(&tx)) {
            keep_index_if(true, index);
            return Some(tx);
        }
        fts_queue::take();
        if let Err(err) = tx.rollback() {
            tracing::error!(%err, "rolling back a failed group of writes failed");
        }
    }
    let tx = begin(conn)?;
    for job in jobs.iter_mut() {
        let succeeded = in_savepoint(&tx, |tx| {
            if job.attempt(tx) {
                Ok(())
            } else {
                Err(StoreError::Invalid("write failed".into()))
            }
        })
        .is_ok();
        keep_index_if(succeeded, index);
    }
    Some(tx)
}

/// Keeps the search entries the last write queued only if that write succeeded.
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
