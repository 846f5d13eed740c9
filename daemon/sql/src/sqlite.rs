//! [`Db`] on rusqlite: a `Connection`, `Transaction` or `Savepoint` (statements go through
//! rusqlite's `prepare_cached`).

use crate::db::{Db, Dialect, Tx};
use crate::error::{ConstraintKind, Error, ErrorKind, Result};
use crate::row::Row;
use crate::value::ValueRef;
use rusqlite::ffi;
use rusqlite::types::{ToSqlOutput, ValueRef as SqliteValueRef};

/// A parameter as rusqlite binds it (borrowed, no copy).
struct Param<'a>(ValueRef<'a>);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            ValueRef::Null => SqliteValueRef::Null,
            ValueRef::Int(i) => SqliteValueRef::Integer(i),
            ValueRef::Real(f) => SqliteValueRef::Real(f),
            ValueRef::Text(s) => SqliteValueRef::Text(s.as_bytes()),
            ValueRef::Blob(b) => SqliteValueRef::Blob(b),
        }))
    }
}

fn bind<'a>(params: &'a [ValueRef<'a>]) -> impl rusqlite::Params + 'a {
    rusqlite::params_from_iter(params.iter().map(|p| Param(*p)))
}

fn execute(conn: &rusqlite::Connection, sql: &str, params: &[ValueRef<'_>]) -> Result<u64> {
    let run = || -> rusqlite::Result<usize> { conn.prepare_cached(sql)?.execute(bind(params)) };
    run()
        .map(|n| n as u64)
        .map_err(|e| error(e).in_statement(sql))
}

fn query(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[ValueRef<'_>],
    each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(sql)
        .map_err(|e| error(e).in_statement(sql))?;
    let mut rows = stmt
        .query(bind(params))
        .map_err(|e| error(e).in_statement(sql))?;
    while let Some(row) = rows.next().map_err(|e| error(e).in_statement(sql))? {
        each(&Row::sqlite(row)).map_err(|e| e.in_statement(sql))?;
    }
    Ok(())
}

fn execute_batch(conn: &rusqlite::Connection, sql: &str) -> Result<()> {
    conn.execute_batch(sql)
        .map_err(|e| error(e).in_statement(sql))
}

macro_rules! sqlite_db {
    ($ty:ty, nested: $nested:ident) => {
        impl Db for $ty {
            fn dialect(&self) -> Dialect {
                Dialect::Sqlite
            }

            fn execute(&self, sql: &str, params: &[ValueRef<'_>]) -> Result<u64> {
                execute(self, sql, params)
            }

            fn query(
                &self,
                sql: &str,
                params: &[ValueRef<'_>],
                each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
            ) -> Result<()> {
                query(self, sql, params, each)
            }

            fn execute_batch(&self, sql: &str) -> Result<()> {
                execute_batch(self, sql)
            }

            fn as_dyn(&self) -> &dyn Db {
                self
            }

            fn sqlite(&self) -> Option<&rusqlite::Connection> {
                Some(self)
            }

            fn transaction(&self) -> Result<Tx<'_>> {
                // rusqlite's own transactions are already open: nest a savepoint.
                if $nested(self) {
                    self.savepoint()
                } else {
                    Tx::open_transaction(self)
                }
            }

            fn read_transaction(&self) -> Result<Tx<'_>> {
                if $nested(self) {
                    self.savepoint()
                } else {
                    Tx::open_read_transaction(self)
                }
            }
        }
    };
}

fn in_transaction(conn: &rusqlite::Connection) -> bool {
    !conn.is_autocommit()
}

fn always(_: &rusqlite::Connection) -> bool {
    true
}

sqlite_db!(rusqlite::Connection, nested: in_transaction);
sqlite_db!(rusqlite::Transaction<'_>, nested: always);
sqlite_db!(rusqlite::Savepoint<'_>, nested: always);

/// An [`Error`] for a rusqlite error, classified.
pub(crate) fn error(e: rusqlite::Error) -> Error {
    let kind = match &e {
        rusqlite::Error::SqliteFailure(failure, _) => classify(failure),
        _ => ErrorKind::Other,
    };
    Error::new(kind, e.to_string()).with_sqlite_source(e)
}

fn classify(failure: &ffi::Error) -> ErrorKind {
    use rusqlite::ErrorCode as C;
    match failure.code {
        C::ConstraintViolation => ErrorKind::Constraint(match failure.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                ConstraintKind::Unique
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ConstraintKind::ForeignKey,
            ffi::SQLITE_CONSTRAINT_CHECK => ConstraintKind::Check,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ConstraintKind::NotNull,
            _ => ConstraintKind::Other,
        }),
        C::DiskFull | C::SystemIoFailure | C::CannotOpen | C::DatabaseCorrupt | C::NotADatabase => {
            ErrorKind::Storage
        }
        _ => ErrorKind::Other,
    }
}
