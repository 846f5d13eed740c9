//! The writer on PostgreSQL: one thread with one connection takes the queued writes (the
//! same [`Writer`] handle and jobs as on SQLite) and commits whatever queued up meanwhile
//! in one transaction, so many webhooks share one commit (the server's own fsync).
//!
//! Every write runs in a savepoint of its own: on PostgreSQL a failed statement aborts the
//! whole transaction, and a savepoint confines it to its write. A write that another
//! node's transaction deadlocked with (PostgreSQL aborts one of the two) is run again when
//! it may run twice; a one-off write fails alone.
//!
//! # When the database can't be reached
//!
//! A lost connection (or a server out of disk) fails the batch: its callers hear an error,
//! never success, since the commit may not have happened (webhooks answer 503, so a sender
//! retries). The store then refuses writes ([`Health`]: `bolt status` says why) and the
//! thread tries a new connection every [`RECONNECT_EVERY`]; once one answers, writes are
//! taken again, without a restart. Reads use their own pool, which reconnects by itself.
//!
//! # Timings
//!
//! As on SQLite, `bolt status` and `GET /metrics` show how long durable writes take (from
//! queued to committed) and how long each commit takes: the server's flush of its WAL,
//! which is what SQLite's `fdatasync` stands for.

use super::fts_queue;
use super::health::{FaultKind, Health};
use super::timings::Timings;
use super::writer::{
    Attempt, Failure, Job, MAX_BATCH, Queued, RepeatableJob, Reply, Writer, gather,
    in_savepoint_attempt,
};
use bolt_sql::{Db, PgClient, PgSettings};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the thread waits for a write before it looks at the connection again.
const IDLE_LOOK: Duration = Duration::from_millis(500);

/// How often a new connection is tried while the database can't be reached.
pub const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// How many times a write that may run twice is run again after a deadlock.
const CONFLICT_RETRIES: usize = 5;

/// Starts the writer thread for the database `settings` name. No connection is needed
/// now: while there is none the store refuses writes and the thread keeps trying.
pub fn start(mut settings: PgSettings, health: Arc<Health>, timings: Arc<Timings>) -> Writer {
    // Named, so `pg_stat_activity` tells the writer from the readers and the relay.
    settings.application_name = format!("{} writer", settings.application_name);
    let (jobs, queue) = mpsc::channel::<Queued>();
    let thread = Thread {
        settings,
        conn: None,
        health: health.clone(),
        timings,
        next_try: Instant::now(),
    };
    std::thread::Builder::new()
        .name("bolt-pg-writer".into())
        .spawn(move || thread.run(&queue))
        .expect("spawning the store writer thread");
    Writer::on(jobs, health)
}

struct Thread {
    settings: PgSettings,
    /// `None` while the database can't be reached.
    conn: Option<PgClient>,
    health: Arc<Health>,
    timings: Arc<Timings>,
    /// When to try connecting again.
    next_try: Instant,
}

impl Thread {
    fn run(mut self, jobs: &mpsc::Receiver<Queued>) {
        // History count changes wait for the end of the batch (see fts_queue).
        fts_queue::queue_on_this_thread();
        loop {
            if self.conn.is_none() && !self.connect_when_due() {
                // Refusing: answer what comes in at once, and look again soon.
                match jobs.recv_timeout(RECONNECT_EVERY / 10) {
                    Ok(queued) => queued.job.refuse(Failure::refused(
                        &self.health,
                        "the database can't be reached",
                    )),
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
                continue;
            }
            match jobs.recv_timeout(IDLE_LOOK) {
                Ok(first) => self.write_batch(gather(first, jobs, MAX_BATCH)),
                Err(mpsc::RecvTimeoutError::Timeout) => self.notice_lost_connection(),
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// Connects if a try is due; true once there is a connection (writes are taken again).
    fn connect_when_due(&mut self) -> bool {
        if Instant::now() < self.next_try {
            return false;
        }
        self.next_try = Instant::now() + RECONNECT_EVERY;
        match PgClient::connect(&self.settings).and_then(|conn| conn.ping().map(|()| conn)) {
            Ok(conn) => {
                self.conn = Some(conn);
                self.health.resume();
                true
            }
            Err(err) => {
                self.health.refuse(
                    "the database can't be reached",
                    &err.to_string(),
                    FaultKind::Unreachable,
                );
                false
            }
        }
    }

    /// While idle, a closed connection (the server restarted) is noticed before the next
    /// write fails on it.
    fn notice_lost_connection(&mut self) {
        if self.conn.as_ref().is_some_and(PgClient::is_closed) {
            self.fail(
                "the database connection",
                "the server closed it",
                FaultKind::Unreachable,
            );
        }
    }

    /// Runs the batch's writes in one transaction and commits it; every caller hears
    /// back once the commit's fate is known.
    fn write_batch(&mut self, batch: Vec<Queued>) {
        let Some(conn) = self.conn.as_ref() else {
            for queued in batch {
                queued
                    .job
                    .refuse(Failure::refused(&self.health, "no connection"));
            }
            return;
        };
        let mut done = Done::default();
        let queued_at: Vec<Instant> = batch.iter().map(|queued| queued.at).collect();
        let mut committed_in = None;
        let outcome = match conn.transaction() {
            Err(err) => {
                // Never run: answered with the batch's failure.
                done.refused
                    .extend(batch.into_iter().map(|queued| queued.job));
                Err(err)
            }
            Ok(tx) => {
                for Queued { job, .. } in batch {
                    done.run(&tx, job);
                }
                match &done.fault {
                    // Rolled back as it is dropped.
                    Some(_) => Ok(()),
                    None => fts_queue::write_all_queued(&tx, std::mem::take(&mut done.queued))
                        .and_then(|()| {
                            let commit = Instant::now();
                            tx.commit()?;
                            committed_in = Some(commit.elapsed());
                            Ok(())
                        }),
                }
            }
        };
        let outcome = match (outcome, done.fault.take()) {
            (_, Some((text, kind))) => {
                self.fail("a write failed", &text, kind);
                Err(Failure::refused(&self.health, &text))
            }
            (Err(err), None) if err.is_unreachable() => {
                let text = err.to_string();
                self.fail("a write failed", &text, FaultKind::Unreachable);
                Err(Failure::refused(&self.health, &text))
            }
            (Err(err), None) => {
                tracing::error!(%err, "a commit failed");
                Err(Failure::NotCommitted(err.to_string()))
            }
            (Ok(()), None) => Ok(()),
        };
        if let (Ok(()), Some(commit)) = (&outcome, committed_in) {
            self.timings.record_sync(commit);
            self.timings
                .record_writes(queued_at.iter().map(Instant::elapsed));
        }
        done.answer(outcome);
    }

    /// A fault failed the batch: writes are refused and the connection is replaced, which
    /// is also how writes resume after the server ran out of disk (the new connection's
    /// first batch tells whether it has room again; if not, the same happens again).
    fn fail(&mut self, what: &str, text: &str, kind: FaultKind) {
        self.conn = None;
        self.next_try = Instant::now() + RECONNECT_EVERY;
        self.health.refuse(what, text, kind);
    }
}

/// What a batch ran, to answer once its commit's fate is known.
#[derive(Default)]
struct Done {
    repeatable: Vec<Box<dyn RepeatableJob>>,
    replies: Vec<Reply>,
    /// Not run: a fault ended the batch first.
    refused: Vec<Job>,
    fault: Option<(String, FaultKind)>,
    /// What the writes that succeeded queued for the end of the batch (count changes).
    queued: Vec<fts_queue::Entry>,
}

impl Done {
    fn run(&mut self, tx: &dyn Db, job: Job) {
        if self.fault.is_some() {
            self.refused.push(job);
            return;
        }
        let attempt = match job {
            Job::Repeatable(mut job) => {
                let attempt = attempt_until_no_conflict(tx, job.as_mut(), &mut self.queued);
                self.repeatable.push(job);
                attempt
            }
            Job::Once(job) => {
                let (attempt, reply) = job.run(tx);
                keep_queued_if_done(&attempt, &mut self.queued);
                self.replies.push(reply);
                attempt
            }
        };
        if let Attempt::Fault(text, kind) = attempt {
            self.fault = Some((text, kind));
        }
    }

    fn answer(self, outcome: Result<(), Failure>) {
        for job in self.repeatable {
            job.finish(outcome.clone());
        }
        for reply in self.replies {
            reply(outcome.clone());
        }
        let failure = outcome
            .err()
            .unwrap_or_else(|| Failure::NotCommitted("the write never ran".into()));
        for job in self.refused {
            job.refuse(failure.clone());
        }
    }
}

/// Runs a write that may run twice in a savepoint, again after each deadlock (PostgreSQL
/// rolled back only the savepoint and released its locks); what its successful attempt
/// queued goes to `queued`.
fn attempt_until_no_conflict(
    tx: &dyn Db,
    job: &mut dyn RepeatableJob,
    queued: &mut Vec<fts_queue::Entry>,
) -> Attempt {
    let mut attempt = Attempt::Failed;
    for _ in 0..=CONFLICT_RETRIES {
        attempt = in_savepoint_attempt(tx, |db| job.attempt(db));
        keep_queued_if_done(&attempt, queued);
        if !matches!(attempt, Attempt::Conflict) {
            break;
        }
    }
    attempt
}

/// Keeps what a write queued for the end of the batch if it succeeded; a failed one's
/// changes were rolled back with its savepoint, and so are these.
fn keep_queued_if_done(attempt: &Attempt, queued: &mut Vec<fts_queue::Entry>) {
    let entries = fts_queue::take();
    if matches!(attempt, Attempt::Done) {
        queued.extend(entries);
    }
}

#[cfg(test)]
mod tests {
    //! The sync PostgreSQL client can't run on an async thread: connections are made
    //! outside the runtime, which only carries the writes (a channel) and the reads
    //! (`spawn_blocking`), as in boltd.

    use crate::store::{Store, StoreError};
    use bolt_sql::testing::PgScratch;
    use bolt_sql::{Db, DbExt, params};
    use std::time::{Duration, Instant};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    fn open(scratch: &PgScratch, table: &str) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = scratch.settings();
        settings.application_name = table.to_string();
        let store = Store::open_postgres(&settings, dir.path(), 2).unwrap();
        let create = format!("CREATE TABLE {table} (v BIGINT UNIQUE)");
        store
            .writer
            .write_blocking(move |tx| Ok(tx.execute_batch(&create)?))
            .unwrap();
        (dir, store)
    }

    async fn insert(store: &Store, table: &str, v: i64) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO {table} (v) VALUES (?1)");
        store
            .writer
            .write_repeatable(move |tx| {
                tx.execute(&sql, params![v])?;
                Ok(())
            })
            .await
    }

    async fn values(store: &Store, table: &str) -> Vec<i64> {
        let sql = format!("SELECT v FROM {table} ORDER BY v");
        store
            .readers
            .read(move |db| Ok(db.query_map(&sql, params![], |r| r.get(0))?))
            .await
            .unwrap()
    }

    /// Inserts `v` once the store takes writes again (refused until then, for up to 15 s).
    async fn insert_once_writes_resume(store: &Store, table: &str, v: i64) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match insert(store, table, v).await {
                Ok(()) => return,
                Err(StoreError::Refusing(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(other) => panic!("writes did not resume: {other}"),
            }
        }
    }

    /// Writes queued together share a commit; one that fails (a duplicate) fails alone,
    /// and the rest are committed, readable and timed.
    #[test]
    fn writes_are_committed_together_and_a_failing_one_fails_alone() {
        let Some(scratch) = PgScratch::new() else {
            return;
        };
        let (_dir, store) = open(&scratch, "t");
        runtime().block_on(async {
            let mut waits = Vec::new();
            for v in [1, 2, 2, 3, 4, 5, 6] {
                let store = store.clone();
                waits.push(tokio::spawn(async move { insert(&store, "t", v).await }));
            }
            let mut failed = 0;
            for wait in waits {
                match wait.await.unwrap() {
                    Ok(()) => {}
                    Err(StoreError::Db(err)) if err.is_unique_violation() => failed += 1,
                    Err(other) => panic!("unexpected error: {other}"),
                }
            }
            assert_eq!(failed, 1, "only the duplicate fails");
            assert_eq!(values(&store, "t").await, [1, 2, 3, 4, 5, 6]);
            let once = store
                .writer
                .write(|tx| Ok(tx.query_one::<i64>("SELECT COUNT(*) FROM t", params![])?))
                .await
                .unwrap();
            assert_eq!(once, 6, "a one-off write sees the committed rows");
            // Timed as on SQLite: each committed write, and each commit.
            let timings = store.timings.summary();
            assert!(timings.writes.count >= 7, "{timings:?}");
            assert!(timings.wal_syncs.count >= 1, "{timings:?}");
        });
    }

    /// The writer's connection is killed (a server restart, a failover): the next write is
    /// refused, never acknowledged, the store says why, and writes are taken again once a
    /// new connection answers, without a restart.
    #[test]
    fn a_lost_connection_refuses_writes_until_the_database_answers_again() {
        let Some(scratch) = PgScratch::new() else {
            return;
        };
        let table = format!("lost_{}", scratch.schema().replace('-', "_"));
        let (_dir, store) = open(&scratch, &table);
        let rt = runtime();
        rt.block_on(insert(&store, &table, 1)).unwrap();
        // Only this test's writer, by its connection's name.
        let admin = scratch.connect().unwrap();
        let killed: i64 = admin
            .query_one(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE application_name = ?1",
                params![format!("{table} writer")],
            )
            .unwrap();
        assert_eq!(killed, 1, "the writer's connection was found");
        rt.block_on(async {
            let refused = insert(&store, &table, 2).await.unwrap_err();
            assert!(
                matches!(refused, StoreError::Refusing(_)),
                "refused, not acknowledged: {refused}"
            );
            let health = store.health.snapshot();
            assert!(!health.writable);
            assert!(
                health
                    .advice
                    .as_deref()
                    .unwrap_or("")
                    .contains("PostgreSQL"),
                "{health:?}"
            );
            insert_once_writes_resume(&store, &table, 3).await;
            assert!(store.health.writable());
            assert_eq!(store.health.faults(), 1);
            assert_eq!(
                values(&store, &table).await,
                [1, 3],
                "the refused write left nothing"
            );
        });
    }

    /// The server runs out of disk during a write: that write is refused, never
    /// acknowledged, the store says the disk is full, and writes resume by themselves once
    /// the server has room again (the new connection's first batch tells).
    #[test]
    fn writes_resume_after_the_server_ran_out_of_disk() {
        let Some(scratch) = PgScratch::new() else {
            return;
        };
        let (_dir, store) = open(&scratch, "t");
        // A full disk while `disk.is_full`, raised with PostgreSQL's own error code.
        let full_disk = "CREATE TABLE disk (is_full BOOLEAN NOT NULL);
             INSERT INTO disk VALUES (false);
             CREATE FUNCTION check_disk() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF (SELECT is_full FROM disk) THEN
                     RAISE EXCEPTION 'could not extend file: No space left on device'
                         USING ERRCODE = 'disk_full';
                 END IF;
                 RETURN NEW;
             END $$;
             CREATE TRIGGER disk_full BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION check_disk();";
        let admin = scratch.connect().unwrap();
        admin.execute_batch(full_disk).unwrap();
        let rt = runtime();
        rt.block_on(insert(&store, "t", 1)).unwrap();
        // The sync client stays off the runtime's thread.
        admin
            .execute_batch("UPDATE disk SET is_full = true")
            .unwrap();
        rt.block_on(async {
            let refused = insert(&store, "t", 2).await.unwrap_err();
            assert!(
                matches!(refused, StoreError::Refusing(_)),
                "refused, not acknowledged: {refused}"
            );
        });
        let health = store.health.snapshot();
        assert!(!health.writable);
        assert!(
            format!("{health:?}").contains("No space left"),
            "says why: {health:?}"
        );
        let advice = health.advice.unwrap_or_default();
        assert!(
            advice.contains("free space on the disk of its data directory"),
            "says what to do: {advice}"
        );
        admin
            .execute_batch("UPDATE disk SET is_full = false")
            .unwrap();
        rt.block_on(async {
            insert_once_writes_resume(&store, "t", 3).await;
            assert!(store.health.writable());
            assert_eq!(
                values(&store, "t").await,
                [1, 3],
                "the refused write left nothing"
            );
        });
    }

    /// Two nodes' writers change the same history count buckets in opposite orders, many
    /// writes at once: each batch changes its buckets at its end, in one order, so their
    /// transactions never deadlock (a one-off write would fail on it) and every change
    /// counts.
    #[test]
    fn count_changes_of_two_nodes_never_deadlock() {
        let Some(scratch) = PgScratch::new() else {
            return;
        };
        let (_one, first) = open(&scratch, "counts_a");
        let (_two, second) = open(&scratch, "counts_b");
        const EACH: i64 = 20;
        runtime().block_on(async {
            let mut waits = Vec::new();
            for i in 0..EACH * 2 {
                let (store, states) = if i % 2 == 0 {
                    (first.clone(), ["a", "b"])
                } else {
                    (second.clone(), ["b", "a"])
                };
                waits.push(tokio::spawn(async move {
                    store
                        .writer
                        .write(move |tx| {
                            for state in states {
                                crate::store::fts_queue::count(tx, "w", 1, state, 1)?;
                                // The other node takes its first bucket meanwhile.
                                tx.execute_batch("SELECT pg_sleep(0.01)")?;
                            }
                            Ok(())
                        })
                        .await
                }));
            }
            for wait in waits {
                wait.await.unwrap().expect("a write that changes two buckets");
            }
            let counts = first
                .readers
                .read(|db| {
                    Ok(db.query_map(
                        "SELECT state, n FROM work_order_counts WHERE workflow_id = 'w' ORDER BY state",
                        params![],
                        |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)),
                    )?)
                })
                .await
                .unwrap();
            assert_eq!(
                counts,
                [("a".to_string(), EACH * 2), ("b".to_string(), EACH * 2)]
            );
        });
    }
}
