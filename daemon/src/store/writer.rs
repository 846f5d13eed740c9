//! The single writer: a thread that owns the write connection and group-commits.

use super::{StoreError, StoreResult};
use rusqlite::{Connection, Transaction};
use std::sync::mpsc;
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce(&Transaction<'_>) -> Box<dyn FnOnce(bool) + Send> + Send>;

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
            let outcome = match tx.execute_batch("SAVEPOINT job") {
                Ok(()) => {
                    let result = f(tx);
                    let end = if result.is_ok() {
                        "RELEASE job"
                    } else {
                        "ROLLBACK TO job; RELEASE job"
                    };
                    match tx.execute_batch(end) {
                        Ok(()) => result,
                        Err(e) => Err(StoreError::Sqlite(e)),
                    }
                }
                Err(e) => Err(StoreError::Sqlite(e)),
            };
            Box::new(move |committed: bool| {
                let outcome = match (outcome, committed) {
                    (Ok(_), false) => Err(StoreError::Invalid(
                        "the write could not be committed".into(),
                    )),
                    (other, _) => other,
                };
                let _ = reply.send(outcome);
            })
        });
        self.jobs.send(job).map_err(|_| StoreError::WriterGone)
    }
}

fn run(mut conn: Connection, jobs: mpsc::Receiver<Job>) {
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
        let replies: Vec<_> = batch.into_iter().map(|job| job(&tx)).collect();
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
