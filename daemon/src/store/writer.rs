//! The single writer: a thread that owns the write connection and group-commits.

use super::{StoreError, StoreResult, fts_queue};
use rusqlite::{Connection, Transaction};
use std::sync::mpsc;
use tokio::sync::oneshot;

/// A queued write: runs in the batch's transaction, says whether it succeeded, and hands
/// back what answers its caller once the batch's commit is known.
type Job = Box<dyn FnOnce(&Transaction<'_>) -> (bool, Reply) + Send>;
type Reply = Box<dyn FnOnce(bool) + Send>;

/// How many queued writes may share one commit.
const MAX_BATCH: usize = 256;

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

    /// Queues a write without waiting for it (log lines while a run goes on). Writes are
    /// applied in order, so a later awaited write implies this one was committed.
    pub fn write_detached<F>(&self, f: F)
    where
        F: FnOnce(&Transaction<'_>) -> StoreResult<()> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        if self.submit(f, reply).is_ok() {
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
        let job: Job = Box::new(move |tx| {
            // Each job runs in its own savepoint so one failure doesn't spoil the batch.
            // Cached statements: parsing these for every job is measurable at webhook rates.
            let outcome = match run_cached(tx, "SAVEPOINT job") {
                Ok(()) => {
                    let result = f(tx);
                    let end = if result.is_ok() {
                        run_cached(tx, "RELEASE job")
                    } else {
                        run_cached(tx, "ROLLBACK TO job").and_then(|()| run_cached(tx, "RELEASE job"))
                    };
                    match end {
                        Ok(()) => result,
                        Err(e) => Err(StoreError::Sqlite(e)),
                    }
                }
                Err(e) => Err(StoreError::Sqlite(e)),
            };
            let succeeded = outcome.is_ok();
            let reply: Reply = Box::new(move |committed: bool| {
                let outcome = match (outcome, committed) {
                    (Ok(_), false) => Err(StoreError::Invalid(
                        "the write could not be committed".into(),
                    )),
                    (other, _) => other,
                };
                let _ = reply.send(outcome);
            });
            (succeeded, reply)
        });
        self.jobs.send(job).map_err(|_| StoreError::WriterGone)
    }
}

fn run_cached(tx: &Transaction<'_>, sql: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn run(mut conn: Connection, jobs: mpsc::Receiver<Job>) {
    fts_queue::queue_on_this_thread();
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let tx = match conn.transaction() {
            Ok(tx) => tx,
            Err(err) => {
                tracing::error!(%err, "cannot begin a write transaction");
                // Dropping the jobs drops their reply channels: callers see WriterGone.
                continue;
            }
        };
        let mut index = Vec::new();
        let replies: Vec<Reply> = batch
            .into_iter()
            .map(|job| {
                let (succeeded, reply) = job(&tx);
                let queued = fts_queue::take();
                if succeeded {
                    index.extend(queued);
                }
                reply
            })
            .collect();
        if let Err(err) = fts_queue::insert_all(&tx, index) {
            // The rows are written; only their search entries are missing. Not worth
            // failing every caller of the batch for.
            tracing::error!(%err, "full-text indexing failed for a batch");
        }
        let committed = match tx.commit() {
            Ok(()) => true,
            Err(err) => {
                tracing::error!(%err, "commit failed");
                false
            }
        };
        for reply in replies {
            reply(committed);
        }
    }
}
