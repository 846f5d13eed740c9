//! The seam: [`Db`], what every backend connection (and transaction) offers, and
//! [`DbExt`], the generic helpers the store calls.

use crate::error::{Error, ErrorKind, Result};
use crate::row::Row;
use crate::value::{FromValue, ValueRef};
use std::sync::atomic::{AtomicU64, Ordering};

/// Which SQL dialect a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A statement whose text differs between the dialects. Most statements are written once
/// (as SQLite SQL with `?1` placeholders); only these carry two texts.
#[derive(Debug, Clone, Copy)]
pub struct Sql {
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

impl Sql {
    pub const fn new(sqlite: &'static str, postgres: &'static str) -> Sql {
        Sql { sqlite, postgres }
    }

    pub fn text(&self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
        }
    }
}

/// A transaction boundary, as a backend carries it out.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum TxOp<'a> {
    Begin,
    BeginRead,
    Commit,
    Rollback,
    Savepoint(&'a str),
    Release(&'a str),
    RollbackTo(&'a str),
}

impl TxOp<'_> {
    /// The statement for `dialect`. A write transaction on SQLite takes the write lock at
    /// once (`IMMEDIATE`): a deferred one that writes later can fail with SQLITE_BUSY
    /// without waiting for the lock.
    pub fn sql(&self, dialect: Dialect) -> String {
        match self {
            TxOp::Begin => match dialect {
                Dialect::Sqlite => "BEGIN IMMEDIATE".to_string(),
                Dialect::Postgres => "BEGIN".to_string(),
            },
            // One snapshot for several reads (a page and its counts); SQLite's deferred
            // transaction holds its read snapshot from the first read on.
            TxOp::BeginRead => match dialect {
                Dialect::Sqlite => "BEGIN DEFERRED".to_string(),
                Dialect::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY".to_string(),
            },
            TxOp::Commit => "COMMIT".to_string(),
            TxOp::Rollback => "ROLLBACK".to_string(),
            TxOp::Savepoint(name) => format!("SAVEPOINT {name}"),
            TxOp::Release(name) => format!("RELEASE SAVEPOINT {name}"),
            // ROLLBACK TO keeps the savepoint on the stack in both databases.
            TxOp::RollbackTo(name) => {
                format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}")
            }
        }
    }
}

/// A connection, or a transaction on one: what the store's functions are written against.
///
/// Object safe: store functions take `&dyn Db`. Statements use SQLite's placeholders
/// (`?1`, `?`); parameters are borrowed values (see [`params!`](crate::params)).
pub trait Db {
    fn dialect(&self) -> Dialect;

    /// Runs one statement and returns how many rows it changed.
    fn execute(&self, sql: &str, params: &[ValueRef<'_>]) -> Result<u64>;

    /// Runs a query and calls `each` for every row, in order. `each` may use this same
    /// connection (nested queries work on both backends); an error from it ends the query
    /// and is returned.
    fn query(
        &self,
        sql: &str,
        params: &[ValueRef<'_>],
        each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()>;

    /// Runs several `;`-separated statements without parameters (DDL, migrations).
    fn execute_batch(&self, sql: &str) -> Result<()>;

    /// This connection as a trait object (implementations return `self`).
    fn as_dyn(&self) -> &dyn Db;

    /// The SQLite connection under this one, for what only SQLite has (PRAGMAs, the
    /// benchmark seeder's bulk statements, tests that poke at the file); None on
    /// PostgreSQL. Store code written for both backends never needs it.
    fn sqlite(&self) -> Option<&rusqlite::Connection> {
        None
    }

    /// Carries out a transaction boundary. Backends that need to watch them override it.
    #[doc(hidden)]
    fn transaction_control(&self, op: TxOp<'_>) -> Result<()> {
        self.execute_batch(&op.sql(self.dialect()))
    }

    /// Starts a transaction; on a transaction, a savepoint inside it. It rolls back when
    /// dropped without [`Tx::commit`].
    fn transaction(&self) -> Result<Tx<'_>> {
        Tx::open_transaction(self.as_dyn())
    }

    /// Starts a read-only transaction whose reads all see one snapshot of the database
    /// (on a transaction: a savepoint, which sees the transaction's own view).
    fn read_transaction(&self) -> Result<Tx<'_>> {
        Tx::open_read_transaction(self.as_dyn())
    }

    /// Starts a savepoint (a nested transaction that can be rolled back on its own).
    fn savepoint(&self) -> Result<Tx<'_>> {
        Tx::open_savepoint(self.as_dyn())
    }
}

/// A transaction or savepoint. It is itself a [`Db`]: statements run through it, and
/// `transaction()`/`savepoint()` on it nest a savepoint. Dropped without `commit`, it rolls
/// back.
pub struct Tx<'a> {
    db: &'a dyn Db,
    /// None for a top-level transaction.
    savepoint: Option<String>,
    finished: bool,
}

static SAVEPOINTS: AtomicU64 = AtomicU64::new(0);

impl<'a> Tx<'a> {
    pub(crate) fn open_transaction(db: &'a dyn Db) -> Result<Tx<'a>> {
        Tx::open(db, TxOp::Begin)
    }

    pub(crate) fn open_read_transaction(db: &'a dyn Db) -> Result<Tx<'a>> {
        Tx::open(db, TxOp::BeginRead)
    }

    fn open(db: &'a dyn Db, begin: TxOp<'_>) -> Result<Tx<'a>> {
        db.transaction_control(begin)?;
        Ok(Tx {
            db,
            savepoint: None,
            finished: false,
        })
    }

    pub(crate) fn open_savepoint(db: &'a dyn Db) -> Result<Tx<'a>> {
        // Unique names: rolling back one savepoint never picks a sibling by mistake.
        let name = format!("bolt_sp{}", SAVEPOINTS.fetch_add(1, Ordering::Relaxed));
        db.transaction_control(TxOp::Savepoint(&name))?;
        Ok(Tx {
            db,
            savepoint: Some(name),
            finished: false,
        })
    }

    pub fn commit(mut self) -> Result<()> {
        self.finished = true;
        match &self.savepoint {
            None => self.db.transaction_control(TxOp::Commit),
            Some(name) => self.db.transaction_control(TxOp::Release(name)),
        }
    }

    pub fn rollback(mut self) -> Result<()> {
        self.finished = true;
        self.undo()
    }

    fn undo(&self) -> Result<()> {
        match &self.savepoint {
            None => self.db.transaction_control(TxOp::Rollback),
            Some(name) => self.db.transaction_control(TxOp::RollbackTo(name)),
        }
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.finished
            && let Err(e) = self.undo()
        {
            // A lost connection takes its transaction with it; nothing else to do here.
            tracing::debug!(error = %e, "rolling back a dropped transaction failed");
        }
    }
}

impl Db for Tx<'_> {
    fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    fn execute(&self, sql: &str, params: &[ValueRef<'_>]) -> Result<u64> {
        self.db.execute(sql, params)
    }

    fn query(
        &self,
        sql: &str,
        params: &[ValueRef<'_>],
        each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        self.db.query(sql, params, each)
    }

    fn execute_batch(&self, sql: &str) -> Result<()> {
        self.db.execute_batch(sql)
    }

    fn as_dyn(&self) -> &dyn Db {
        self
    }

    fn sqlite(&self) -> Option<&rusqlite::Connection> {
        self.db.sqlite()
    }

    fn transaction_control(&self, op: TxOp<'_>) -> Result<()> {
        self.db.transaction_control(op)
    }

    fn transaction(&self) -> Result<Tx<'_>> {
        Tx::open_savepoint(self)
    }

    fn read_transaction(&self) -> Result<Tx<'_>> {
        Tx::open_savepoint(self)
    }
}

/// Generic helpers over [`Db`], for every `Db` including `dyn Db`.
pub trait DbExt: Db {
    /// The text of `sql` for this connection's dialect.
    fn sql(&self, sql: &Sql) -> &'static str {
        sql.text(self.dialect())
    }

    /// The first row mapped by `map`, or None when there is none.
    fn query_row<T>(
        &self,
        sql: &str,
        params: &[ValueRef<'_>],
        map: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut map = Some(map);
        let mut found = None;
        self.query(sql, params, &mut |row| {
            if let Some(map) = map.take() {
                found = Some(map(row)?);
            }
            Ok(())
        })?;
        Ok(found)
    }

    /// Every row, mapped by `map`.
    fn query_map<T>(
        &self,
        sql: &str,
        params: &[ValueRef<'_>],
        mut map: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.query(sql, params, &mut |row| {
            out.push(map(row)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `each` for every row until it returns false: SQLite then reads no further
    /// rows (PostgreSQL has read them all already, so page large results with `LIMIT`).
    fn query_while(
        &self,
        sql: &str,
        params: &[ValueRef<'_>],
        mut each: impl FnMut(&Row<'_>) -> Result<bool>,
    ) -> Result<()> {
        let mut stopped = false;
        let outcome = self.query(sql, params, &mut |row| {
            if each(row)? {
                return Ok(());
            }
            stopped = true;
            // `query` ends at the first error its callback returns.
            Err(Error::new(ErrorKind::Other, "stopped reading"))
        });
        match outcome {
            Err(_) if stopped => Ok(()),
            other => other,
        }
    }

    /// The first column of the first row, or None when there is no row.
    fn query_value<T: FromValue>(&self, sql: &str, params: &[ValueRef<'_>]) -> Result<Option<T>> {
        self.query_row(sql, params, |row| row.get(0))
    }

    /// The first column of the first row, which must exist (`SELECT COUNT(*)`, `RETURNING`).
    fn query_one<T: FromValue>(&self, sql: &str, params: &[ValueRef<'_>]) -> Result<T> {
        self.query_value(sql, params)?.ok_or_else(|| {
            Error::new(ErrorKind::Other, "the query returned no row").in_statement(sql)
        })
    }

    /// Runs `work` in a transaction (a savepoint when already in one): committed when it
    /// returns Ok, rolled back when it returns Err.
    fn in_transaction<T, E: From<Error>>(
        &self,
        work: impl FnOnce(&Tx<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let tx = self.transaction()?;
        let out = work(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

impl<D: Db + ?Sized> DbExt for D {}
