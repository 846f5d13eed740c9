//! The store's read connections. On SQLite, a small pool of read-only connections; WAL
//! lets them read while the writer writes. On PostgreSQL, a pool of connections that
//! replaces broken ones and reconnects by itself.
//!
//! After a disk fault the SQLite writer closes every connection of the process (so that
//! SQLite rebuilds its index of the write-ahead log from the file), these included: reads
//! wait for the pool to be suspended and reopened, a moment.

use super::{StoreError, StoreResult, open_connection};
use bolt_sql::{Db, PgPool};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Readers {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sqlite(Arc<Shared>),
    Postgres(Box<PgPool>),
}

struct Shared {
    path: PathBuf,
    count: usize,
    pool: Mutex<Pool>,
    ready: Condvar,
}

struct Pool {
    idle: Vec<Connection>,
    /// Connections open, idle or lent out.
    open: usize,
    /// Closed for a reopen: reads wait.
    suspended: bool,
}

fn open_reader(path: &Path) -> StoreResult<Connection> {
    let conn = open_connection(path)?;
    conn.execute_batch("PRAGMA query_only = ON;")?;
    Ok(conn)
}

impl Readers {
    pub fn open(path: &Path, count: usize) -> StoreResult<Readers> {
        let mut conns = Vec::with_capacity(count);
        for _ in 0..count {
            conns.push(open_reader(path)?);
        }
        Ok(Readers {
            backend: Backend::Sqlite(Arc::new(Shared {
                path: path.to_path_buf(),
                count,
                pool: Mutex::new(Pool {
                    open: conns.len(),
                    idle: conns,
                    suspended: false,
                }),
                ready: Condvar::new(),
            })),
        })
    }

    /// Readers on a PostgreSQL pool.
    pub fn postgres(pool: PgPool) -> Readers {
        Readers {
            backend: Backend::Postgres(Box::new(pool)),
        }
    }

    /// Runs `f` on a pooled connection, blocking the current thread.
    pub fn read_blocking<T>(&self, f: impl FnOnce(&dyn Db) -> StoreResult<T>) -> StoreResult<T> {
        match &self.backend {
            Backend::Sqlite(shared) => shared.read_blocking(|conn| f(conn)),
            Backend::Postgres(pool) => f(&pool.get()?),
        }
    }

    /// Runs `f` on a pooled connection from async code, off the async threads.
    pub async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Db) -> StoreResult<T> + Send + 'static,
    {
        let readers = self.clone();
        tokio::task::spawn_blocking(move || readers.read_blocking(f))
            .await
            .map_err(|e| StoreError::Invalid(format!("read task failed: {e}")))?
    }

    /// Waits (up to `within`) for the reads under way to end, then closes every connection;
    /// reads wait until [`Suspended::reopen`]. `None` when the reads did not end in time
    /// (the pool is left as it was), and on PostgreSQL (its pool replaces broken
    /// connections itself).
    pub fn suspend(&self, within: Duration) -> Option<Suspended> {
        match &self.backend {
            Backend::Sqlite(shared) => shared.suspend(within),
            Backend::Postgres(_) => None,
        }
    }
}

impl Shared {
    fn lock(&self) -> StoreResult<MutexGuard<'_, Pool>> {
        self.pool.lock().map_err(|_| {
            StoreError::Internal("the store's reader pool is poisoned (a reader panicked)".into())
        })
    }

    fn read_blocking<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let conn = {
            let mut pool = self.lock()?;
            loop {
                if !pool.suspended {
                    if let Some(conn) = pool.idle.pop() {
                        break conn;
                    }
                    if pool.open == 0 {
                        return Err(StoreError::Invalid(
                            "the store cannot be read right now: its files could not be reopened after a disk fault (see `bolt status`); boltd keeps trying".into(),
                        ));
                    }
                }
                pool = self.ready.wait(pool).map_err(|_| {
                    StoreError::Internal(
                        "the store's reader pool is poisoned (a reader panicked)".into(),
                    )
                })?;
            }
        };
        let result = f(&conn);
        if let Ok(mut pool) = self.lock() {
            pool.idle.push(conn);
        }
        self.ready.notify_all();
        result
    }

    fn suspend(self: &Arc<Self>, within: Duration) -> Option<Suspended> {
        let deadline = Instant::now() + within;
        let mut pool = self.lock().ok()?;
        pool.suspended = true;
        while pool.idle.len() < pool.open {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                pool.suspended = false;
                drop(pool);
                self.ready.notify_all();
                return None;
            }
            pool = self.ready.wait_timeout(pool, left).ok()?.0;
        }
        pool.idle.clear();
        pool.open = 0;
        Some(Suspended {
            shared: self.clone(),
        })
    }
}

/// The pool while closed; reopening it (also on drop) lets reads go on.
pub struct Suspended {
    shared: Arc<Shared>,
}

impl Suspended {
    /// Opens the connections again, as many as can be (reads fail with a message while none
    /// can, rather than wait forever).
    pub fn reopen(self) {
        drop(self);
    }
}

impl Drop for Suspended {
    fn drop(&mut self) {
        let shared = &self.shared;
        let mut opened = Vec::with_capacity(shared.count);
        for _ in 0..shared.count {
            match open_reader(&shared.path) {
                Ok(conn) => opened.push(conn),
                Err(err) => {
                    tracing::error!(%err, "could not reopen a read connection to the store");
                    break;
                }
            }
        }
        if let Ok(mut pool) = shared.pool.lock() {
            pool.open = opened.len();
            pool.idle = opened;
            pool.suspended = false;
        }
        shared.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wait_while_suspended_and_go_on_after() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        open_connection(&path).unwrap();
        let readers = Readers::open(&path, 2).unwrap();
        let suspended = readers.suspend(Duration::from_secs(1)).unwrap();
        let reader = readers.clone();
        let waiting = std::thread::spawn(move || {
            reader.read_blocking(|db| Ok(bolt_sql::DbExt::query_one::<i64>(db, "SELECT 1", &[])?))
        });
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiting.is_finished(), "a read waits for the reopen");
        suspended.reopen();
        assert_eq!(waiting.join().unwrap().unwrap(), 1);
    }

    #[test]
    fn a_suspend_gives_up_on_a_read_that_does_not_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        open_connection(&path).unwrap();
        let readers = Readers::open(&path, 1).unwrap();
        let (started, hold) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
        let reader = readers.clone();
        let long = std::thread::spawn(move || {
            reader.read_blocking(|_| {
                started.0.send(()).unwrap();
                hold.1.recv().ok();
                Ok(())
            })
        });
        started.1.recv().unwrap();
        assert!(readers.suspend(Duration::from_millis(50)).is_none());
        hold.0.send(()).unwrap();
        long.join().unwrap().unwrap();
        readers.read_blocking(|_| Ok(())).unwrap();
    }
}
