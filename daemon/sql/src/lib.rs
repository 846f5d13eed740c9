//! bolt's backend-neutral SQL layer: the seam between the store and its database.
//!
//! # The seam
//!
//! Store functions are written once, against [`Db`] (`&dyn Db`), and run on SQLite
//! (rusqlite's `Connection`, `Transaction`, `Savepoint`) or PostgreSQL ([`PgClient`], a
//! pooled [`PgConn`]). A statement is SQLite SQL with `?1`/`?` placeholders; only the
//! statements whose dialects differ carry two texts ([`Sql`], picked with
//! [`DbExt::sql`]) or branch on [`Db::dialect`]. Typical differences: full-text search
//! (`MATCH` vs `@@ CAST(? AS tsquery)`, see [`fts`]), `INSERT OR IGNORE` (write
//! `ON CONFLICT DO NOTHING`, which both read), `PRAGMA`s (SQLite only),
//! `FOR UPDATE SKIP LOCKED` (PostgreSQL only).
//!
//! ```
//! use bolt_sql::{Db, DbExt, params};
//! # fn main() -> bolt_sql::Result<()> {
//! let conn = rusqlite::Connection::open_in_memory().unwrap();
//! let db: &dyn Db = &conn;
//! db.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)")?;
//! db.execute("INSERT INTO t (id, n) VALUES (?1, ?2)", params!["a", 1])?;
//! let n: Option<i64> = db.query_value("SELECT n FROM t WHERE id = ?1", params!["a"])?;
//! assert_eq!(n, Some(1));
//! # Ok(()) }
//! ```
//!
//! Call through `&dyn Db` (or a generic `D: Db`): on a concrete `rusqlite::Connection`,
//! rusqlite's own `execute`, `query_row`, `transaction`… win over the trait's. [`Error`]
//! converts from rusqlite's and postgres's errors (classified) for code that still calls
//! a driver directly (PRAGMAs, COPY).
//!
//! Transactions: [`Db::transaction`] begins one (`BEGIN IMMEDIATE` on SQLite, which takes
//! the write lock at once), or a savepoint when already inside one; [`Db::savepoint`] always
//! nests; [`Db::read_transaction`] gives several reads one snapshot (PostgreSQL:
//! `REPEATABLE READ READ ONLY`). The [`Tx`] handle is itself a `Db`, commits with [`Tx::commit`] and rolls back
//! when dropped. On PostgreSQL a failed statement aborts the whole transaction (SQLite
//! only fails the statement): code that expects a statement to fail and goes on must put
//! it in a savepoint, or avoid the error (`ON CONFLICT`). Committing a transaction in which
//! a statement failed returns an error (PostgreSQL would silently roll it back).
//!
//! Rows: [`Db::query`] calls back per row; [`DbExt`] adds `query_row` (→ `Option`),
//! `query_map`, `query_value`, `query_one` and `in_transaction`. Callbacks may run nested
//! queries on the same connection. On PostgreSQL a query's rows are all read before the
//! first callback, so page large results with `LIMIT`.
//!
//! Generated keys: write `INSERT … RETURNING id` and read it with `query_one`, on both
//! (SQLite has `RETURNING` since 3.35), instead of `last_insert_rowid()`.
//!
//! # Placeholders
//!
//! PostgreSQL's statements are rewritten once per text and cached per connection as
//! prepared statements (like rusqlite's `prepare_cached`): `?N` becomes `$N`, and a bare
//! `?` takes the number after the largest so far, as in SQLite. Question marks inside
//! string literals, quoted identifiers and comments stay. Named parameters (`:name`) and
//! PostgreSQL's `?` jsonb operators can't be used in shared SQL.
//!
//! PostgreSQL infers each parameter's type from where it appears. A parameter whose type
//! can't be inferred (`?1 - ?2` with both unknown, `SELECT ?1 + 1` as text) needs a cast:
//! `CAST(?1 AS BIGINT)` reads the same on both.
//!
//! # Types
//!
//! Values are SQLite's storage classes: [`Value`] (owned) and [`ValueRef`] (borrowed, what
//! parameters bind as): NULL, integer (i64), real (f64), text, blob. Rust types convert
//! with [`ToParam`] (`i64`, `i32`, `u32`, `usize`, `bool` as 0/1, `f64`, `&str`, `String`,
//! `&[u8]`, `Vec<u8>`, `Option<T>` as NULL) and [`FromValue`] (the same, narrowing integers with a range check).
//!
//! The PostgreSQL schema uses BIGINT for every integer (times are i64 microseconds, flags
//! 0/1), TEXT for text and JSON, BYTEA for blobs, so parameters bind as they do on SQLite.
//! Where the server infers another type the layer adapts: an integer binds to int4/int2
//! (range checked), float, bool (non-zero is true), text, or (as text the server parses)
//! numeric/json/jsonb; text binds to text types natively and to anything else as text the
//! server parses; a blob binds only to bytea. Reading, int2/4/8, oid and bool are integers,
//! float4/8 reals, numeric (SUM and AVG of bigints) an integer when whole and in range else
//! a real, text/varchar/char/name/json/jsonb text, bytea a blob; other types must be cast
//! in the SQL. See `pg/types.rs`.
//!
//! # Errors
//!
//! One [`Error`] whose [`ErrorKind`] says what the caller should do:
//! - [`ErrorKind::Constraint`] (unique, foreign key, check, not null, other — SQLite's
//!   extended result codes, PostgreSQL's SQLSTATE class 23; a trigger's RAISE counts as
//!   "other" on both);
//! - [`ErrorKind::Unreachable`]: the database can't be reached or the connection was lost
//!   (PostgreSQL class 08, admin shutdown 57P01–03, too many connections, I/O and
//!   connect failures, a pool checkout that timed out) — answer 503; the pool reconnects;
//! - [`ErrorKind::Storage`]: disk full or an I/O fault (SQLite's FULL/IOERR/CANTOPEN/
//!   CORRUPT, PostgreSQL's 53100/58030);
//! - [`ErrorKind::Config`] (a bad URL, certificate file, credentials or database name),
//!   [`ErrorKind::Conversion`] (a column read as the wrong type),
//!   [`ErrorKind::SchemaTooNew`], [`ErrorKind::Other`].
//!
//! Messages name the statement by its first words and never include a parameter's value:
//! PostgreSQL's DETAIL (which repeats key values and rows) is left out, and the input
//! value quoted by data exceptions is cut. Settings never show the password.
//!
//! # PostgreSQL
//!
//! [`PgSettings`] reads a `postgres://` URL (`sslmode`, `sslrootcert`, …); [`PgPool`] hands
//! out connections, survives the database going away (a checkout fails within its
//! timeout as unreachable, broken connections are replaced) and [`pg::migrate`] applies
//! numbered migrations under an advisory lock ([`schema::POSTGRES`] is bolt's schema).
//! [`pg::Listener`] waits on its own connection for a channel's notifications (LISTEN;
//! a lost connection is unreachable, the caller reconnects) and [`pg::notify`] sends one
//! through any `Db`.
//! With the `testing` feature, `testing::PgScratch` gives each test a fresh schema.
//! [`fts`] makes full-text search find the same documents on both backends.

mod db;
mod error;
pub mod fts;
pub mod pg;
mod placeholders;
mod row;
pub mod schema;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod value;

pub use db::{Db, DbExt, Dialect, Sql, Tx, TxOp};
pub use error::{ConstraintKind, Error, ErrorKind, Result};
pub use pg::{PgClient, PgConn, PgPool, PgSettings, PoolOptions, SslMode};
pub use placeholders::marks;
pub use row::Row;
pub use value::{ConversionError, FromValue, ToParam, Value, ValueRef};
