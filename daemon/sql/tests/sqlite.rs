//! SQLite only: storage faults and snapshots across connections.
// Test helpers outside #[test] functions panic on failure, like the tests themselves.
#![allow(clippy::unwrap_used)]

use bolt_sql::{Db, DbExt, ErrorKind, params};

#[test]
fn a_full_database_is_a_storage_error() {
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("full.db")).unwrap();
    // rusqlite's own methods of the same names win on the concrete type: go through Db.
    let db: &dyn Db = &conn;
    db.execute_batch("CREATE TABLE t (v BLOB)").unwrap();
    let pages: i64 = db.query_one("PRAGMA page_count", params![]).unwrap();
    conn.pragma_update(None, "max_page_count", pages + 2)
        .unwrap();
    let big = vec![7u8; 64 * 1024];
    let err = (0..10)
        .map(|_| db.execute("INSERT INTO t VALUES (?1)", params![big]))
        .find_map(Result::err)
        .expect("the insert should have filled the database");
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    assert!(err.to_string().contains("full"), "{err}");
}

#[test]
fn a_read_transaction_sees_one_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap.db");
    let writer = rusqlite::Connection::open(&path).unwrap();
    writer
        .execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1);",
        )
        .unwrap();
    let reader = rusqlite::Connection::open(&path).unwrap();
    let db: &dyn Db = &reader;
    let tx = db.read_transaction().unwrap();
    let before: i64 = tx.query_one("SELECT COUNT(*) FROM t", params![]).unwrap();
    (&writer as &dyn Db)
        .execute("INSERT INTO t VALUES (2)", params![])
        .unwrap();
    let during: i64 = tx.query_one("SELECT COUNT(*) FROM t", params![]).unwrap();
    tx.commit().unwrap();
    let after: i64 = db.query_one("SELECT COUNT(*) FROM t", params![]).unwrap();
    assert_eq!((before, during, after), (1, 1, 2));
}

#[test]
fn rusqlite_transactions_nest_savepoints() {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE t (v INTEGER)").unwrap();
    let tx = rusqlite::Connection::transaction(&mut conn).unwrap();
    {
        let db: &dyn Db = &tx;
        db.execute("INSERT INTO t VALUES (1)", params![]).unwrap();
        let inner = db.transaction().unwrap();
        inner
            .execute("INSERT INTO t VALUES (2)", params![])
            .unwrap();
        drop(inner);
    }
    tx.commit().unwrap();
    let n: i64 = (&conn as &dyn Db)
        .query_one("SELECT COUNT(*) FROM t", params![])
        .unwrap();
    assert_eq!(n, 1);
}
