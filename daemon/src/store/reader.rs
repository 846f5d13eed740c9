//! A small pool of read-only connections; WAL lets them read while the writer writes.

use super::{StoreError, StoreResult, open_connection};
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};

#[derive(Clone)]
pub struct Readers {
    pool: Arc<(Mutex<Vec<Connection>>, Condvar)>,
}

impl Readers {
    pub fn open(path: &Path, count: usize) -> StoreResult<Readers> {
        let mut conns = Vec::with_capacity(count);
        for _ in 0..count {
            let conn = open_connection(path)?;
            conn.execute_batch("PRAGMA query_only = ON;")?;
            conns.push(conn);
        }
        Ok(Readers {
            pool: Arc::new((Mutex::new(conns), Condvar::new())),
        })
    }

    /// Runs `f` on a pooled connection, blocking the current thread.
    pub fn read_blocking<T>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let (lock, ready) = &*self.pool;
        let conn = {
            let mut conns = lock
                .lock()
                .map_err(|_| StoreError::Invalid("reader pool poisoned".into()))?;
            loop {
                if let Some(conn) = conns.pop() {
                    break conn;
                }
                conns = ready
                    .wait(conns)
                    .map_err(|_| StoreError::Invalid("reader pool poisoned".into()))?;
            }
        };
        let result = f(&conn);
        if let Ok(mut conns) = lock.lock() {
            conns.push(conn);
        }
        ready.notify_one();
        result
    }

    /// Runs `f` on a pooled connection from async code, off the async threads.
    pub async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let readers = self.clone();
        tokio::task::spawn_blocking(move || readers.read_blocking(f))
            .await
            .map_err(|e| StoreError::Invalid(format!("read task failed: {e}")))?
    }
}
