//! Running one test body on both backends.
#![allow(dead_code)]

use bolt_sql::testing::PgScratch;
use bolt_sql::{Db, Dialect, Sql};

/// An in-memory SQLite database, with foreign keys enforced as the store has them.
pub fn sqlite() -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    conn
}

/// Runs `body` on a pooled connection to a fresh PostgreSQL schema (skipped with a notice
/// when BOLT_TEST_POSTGRES_URL is not set).
pub fn on_postgres(body: impl FnOnce(&dyn Db)) {
    let Some(pg) = PgScratch::new() else { return };
    let pool = pg.pool().unwrap();
    let conn = pool.get().unwrap();
    body(&conn);
}

/// Creates a table from column definitions written with SQLite's types (INTEGER, REAL,
/// TEXT, BLOB), translated for PostgreSQL.
pub fn create_table(db: &dyn Db, name: &str, columns: &str) {
    let columns = match db.dialect() {
        Dialect::Sqlite => columns.to_string(),
        Dialect::Postgres => columns
            .replace("INTEGER", "BIGINT")
            .replace("REAL", "DOUBLE PRECISION")
            .replace("BLOB", "BYTEA"),
    };
    db.execute_batch(&format!("CREATE TABLE {name} ({columns})"))
        .unwrap();
}

/// A statement that differs: picked for `db`.
pub fn pick(db: &dyn Db, sql: &Sql) -> &'static str {
    sql.text(db.dialect())
}

/// `#[test]`s named `NAME::sqlite` and `NAME::postgres` for each `fn NAME(db: &dyn Db)`.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(&super::common::sqlite());
            }

            #[test]
            fn postgres() {
                super::common::on_postgres(|db| super::$name(db));
            }
        }
    )*};
}
