//! [`PgClient`]: one PostgreSQL connection as a [`Db`], with a statement cache keyed by the
//! SQLite-style text (the placeholder rewrite and the server's parse happen once per text).

use super::errors::error;
use super::settings::PgSettings;
use super::tls;
use super::types::Param;
use crate::db::{Db, Dialect, TxOp};
use crate::error::{Error, ErrorKind, Result};
use crate::placeholders;
use crate::row::Row;
use crate::value::ValueRef;
use hashlink::LruCache;
use postgres::types::ToSql;
use std::cell::{Cell, RefCell};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Prepared statements kept per connection. The store's statements are a few hundred
/// fixed texts; history filters build more, and the least recently used go first.
const STATEMENT_CACHE: usize = 512;

/// A PostgreSQL connection. Its methods take `&self` like rusqlite's, so store code is the
/// same for both; the connection itself is used by one thread at a time.
pub struct PgClient {
    inner: RefCell<Inner>,
    /// Open transaction and savepoint levels (0: none).
    depth: Cell<u32>,
    /// A statement failed inside the open transaction: PostgreSQL refuses everything until
    /// a rollback, and would turn a COMMIT into a silent ROLLBACK.
    aborted: Cell<bool>,
}

struct Inner {
    client: postgres::Client,
    statements: LruCache<String, postgres::Statement>,
}

impl PgClient {
    /// Connects with `settings` (TLS as its `sslmode` says).
    pub fn connect(settings: &PgSettings) -> Result<PgClient> {
        PgClient::connect_with(settings, tls::connector(settings)?)
    }

    pub(crate) fn connect_with(settings: &PgSettings, tls: MakeRustlsConnect) -> Result<PgClient> {
        let client = settings.to_config().connect(tls).map_err(|e| {
            let e = error(&e);
            Error::new(
                e.kind(),
                format!("connecting to {settings}: {}", e.message()),
            )
        })?;
        Ok(PgClient {
            inner: RefCell::new(Inner {
                client,
                statements: LruCache::new(STATEMENT_CACHE),
            }),
            depth: Cell::new(0),
            aborted: Cell::new(false),
        })
    }

    /// Whether the connection is known to be gone (a failed call noticed it).
    pub fn is_closed(&self) -> bool {
        self.inner.borrow().client.is_closed()
    }

    /// Whether a transaction is open on this connection.
    pub fn transaction_open(&self) -> bool {
        self.depth.get() > 0
    }

    /// A round trip to the server.
    pub fn ping(&self) -> Result<()> {
        let result = self.inner.borrow_mut().client.simple_query("");
        result.map(|_| ()).map_err(|e| error(&e))
    }

    fn statement(&self, sql: &str) -> Result<postgres::Statement> {
        if let Some(statement) = self.inner.borrow_mut().statements.get(sql) {
            return Ok(statement.clone());
        }
        let prepared = {
            let mut inner = self.inner.borrow_mut();
            inner.client.prepare(&placeholders::to_postgres(sql))
        };
        let statement = self.checked(prepared, sql)?;
        self.inner
            .borrow_mut()
            .statements
            .insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    /// Turns a postgres result into ours, noting a failed transaction and dropping a
    /// cached statement that failed on the server (it may have gone stale).
    fn checked<T>(&self, result: Result<T, postgres::Error>, sql: &str) -> Result<T> {
        result.map_err(|e| {
            if self.depth.get() > 0 {
                self.aborted.set(true);
            }
            let err = error(&e).in_statement(sql);
            if !err.is_constraint() {
                self.inner.borrow_mut().statements.remove(sql);
            }
            err
        })
    }

    fn run_control(&self, sql: &str) -> Result<()> {
        let result = self.inner.borrow_mut().client.batch_execute(sql);
        result.map_err(|e| error(&e).in_statement(sql))
    }
}

fn bind<'a>(params: &'a [Param<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl Db for PgClient {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&self, sql: &str, params: &[ValueRef<'_>]) -> Result<u64> {
        let statement = self.statement(sql)?;
        let params: Vec<Param<'_>> = params.iter().map(|p| Param(*p)).collect();
        let result = self
            .inner
            .borrow_mut()
            .client
            .execute(&statement, &bind(&params));
        self.checked(result, sql)
    }

    fn query(
        &self,
        sql: &str,
        params: &[ValueRef<'_>],
        each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        let statement = self.statement(sql)?;
        let params: Vec<Param<'_>> = params.iter().map(|p| Param(*p)).collect();
        // All rows are read before `each` runs, so `each` may query this connection too.
        let result = self
            .inner
            .borrow_mut()
            .client
            .query(&statement, &bind(&params));
        let rows = self.checked(result, sql)?;
        for row in &rows {
            each(&Row::postgres(row)).map_err(|e| e.in_statement(sql))?;
        }
        Ok(())
    }

    fn execute_batch(&self, sql: &str) -> Result<()> {
        let result = self.inner.borrow_mut().client.batch_execute(sql);
        // A batch is usually DDL, which can change what a prepared statement returns.
        self.inner.borrow_mut().statements.clear();
        self.checked(result, sql)
    }

    fn as_dyn(&self) -> &dyn Db {
        self
    }

    fn transaction_control(&self, op: TxOp<'_>) -> Result<()> {
        let sql = op.sql(Dialect::Postgres);
        match op {
            TxOp::Begin | TxOp::BeginRead => {
                self.run_control(&sql)?;
                self.depth.set(1);
                self.aborted.set(false);
            }
            TxOp::Savepoint(_) => {
                let result = self.inner.borrow_mut().client.batch_execute(&sql);
                self.checked(result, &sql)?;
                self.depth.set(self.depth.get() + 1);
            }
            TxOp::Release(_) => {
                let result = self.inner.borrow_mut().client.batch_execute(&sql);
                self.checked(result, &sql)?;
                self.depth.set(self.depth.get().saturating_sub(1));
            }
            TxOp::RollbackTo(_) => {
                let result = self.run_control(&sql);
                self.depth.set(self.depth.get().saturating_sub(1));
                result?;
                self.aborted.set(false);
            }
            TxOp::Commit => {
                self.depth.set(0);
                if self.aborted.replace(false) {
                    self.run_control("ROLLBACK")?;
                    return Err(Error::new(
                        ErrorKind::Other,
                        "the transaction was rolled back: a statement in it failed",
                    ));
                }
                self.run_control(&sql)?;
            }
            TxOp::Rollback => {
                self.depth.set(0);
                self.aborted.set(false);
                self.run_control(&sql)?;
            }
        }
        Ok(())
    }
}
