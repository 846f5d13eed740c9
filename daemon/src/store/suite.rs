//! The store test suite's backends: the same test body runs on a migrated SQLite database
//! and, when `BOLT_TEST_POSTGRES_URL` is set, on a fresh PostgreSQL schema migrated to
//! bolt's PostgreSQL schema. Without the variable the PostgreSQL run is skipped with a
//! notice (printed once per test process by `bolt_sql::testing`).
//!
//! ```ignore
//! #[test]
//! fn a_collection_is_created_once() {
//!     suite::on_each_backend(|db| {
//!         suite::seed(db, "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0)");
//!         // … call store functions with `db` and assert …
//!     });
//! }
//! ```

use bolt_sql::testing::PgScratch;
use bolt_sql::{Db, Dialect};

/// Runs `test` on SQLite, then on PostgreSQL when a test server is configured. A failure
/// names the backend it happened on.
pub fn on_each_backend(test: impl Fn(&dyn Db)) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("suite.db");
    let mut conn = super::open_connection(&path).expect("open a SQLite store");
    super::migrate_for_tests(&mut conn, &path);
    run_named(Dialect::Sqlite, || test(&conn));

    if let Some(scratch) = PgScratch::new() {
        let client = scratch
            .connect()
            .expect("connect to the PostgreSQL scratch schema");
        bolt_sql::pg::migrate(&client, bolt_sql::schema::POSTGRES)
            .expect("apply bolt's PostgreSQL schema");
        run_named(Dialect::Postgres, || test(&client));
    }
}

/// Runs `test` with two connections to one store, as two nodes would have (each may move
/// to a thread of its own): on SQLite (two connections to one file), then on PostgreSQL
/// when a test server is configured.
pub fn with_two_connections(test: impl Fn(Box<dyn Db + Send>, Box<dyn Db + Send>)) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("two.db");
    let mut conn = super::open_connection(&path).expect("open a SQLite store");
    super::migrate_for_tests(&mut conn, &path);
    let other = super::open_connection(&path).expect("open a second connection");
    run_named(Dialect::Sqlite, || test(Box::new(conn), Box::new(other)));

    if let Some(scratch) = PgScratch::new() {
        let first = scratch
            .connect()
            .expect("connect to the PostgreSQL scratch schema");
        bolt_sql::pg::migrate(&first, bolt_sql::schema::POSTGRES)
            .expect("apply bolt's PostgreSQL schema");
        let second = scratch.connect().expect("a second connection");
        run_named(Dialect::Postgres, || {
            test(Box::new(first), Box::new(second))
        });
    }
}

/// Runs set-up SQL (several statements) on either backend.
pub fn seed(db: &dyn Db, sql: &str) {
    db.execute_batch(sql)
        .unwrap_or_else(|e| panic!("seeding the {:?} store failed: {e}", db.dialect()));
}

fn run_named(dialect: Dialect, test: impl FnOnce()) {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(test));
    if let Err(panic) = outcome {
        eprintln!("store suite: the test failed on {dialect:?}");
        std::panic::resume_unwind(panic);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bolt_sql::{DbExt, params};

    #[test]
    fn both_backends_hold_the_same_schema_for_a_simple_round_trip() {
        on_each_backend(|db| {
            seed(
                db,
                "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'one', 1, 2)",
            );
            let name: Option<String> = db
                .query_value("SELECT name FROM projects WHERE id = ?1", params!["p"])
                .expect("a project row");
            assert_eq!(name.as_deref(), Some("one"));
        });
    }
}
