//! The layer's behaviour, with the same test bodies on SQLite and PostgreSQL.
// Test helpers outside #[test] functions panic on failure, like the tests themselves.
#![allow(clippy::unwrap_used)]

mod common;

use bolt_sql::{ConstraintKind, Db, DbExt, Dialect, ErrorKind, Value, params};
use common::create_table;

on_both!(
    every_value_type_round_trips,
    nulls_read_as_none_and_refuse_plain_types,
    placeholders_numbered_bare_and_inside_literals,
    constraint_errors_are_classified,
    savepoint_rollback_keeps_the_outer_transaction,
    a_dropped_transaction_rolls_back,
    a_failed_statement_in_a_savepoint_can_be_rolled_back,
    committing_after_a_failed_statement,
    callbacks_may_query_the_same_connection,
    query_helpers,
    query_while_stops_where_the_caller_says,
    aggregates_read_as_sqlite_returns_them,
    returning_gives_generated_ids,
    errors_name_the_statement_never_the_values,
    schema_changes_do_not_break_cached_statements,
);

fn every_value_type_round_trips(db: &dyn Db) {
    create_table(
        db,
        "v",
        "k TEXT PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB",
    );
    let insert = "INSERT INTO v (k, i, r, s, b) VALUES (?1, ?2, ?3, ?4, ?5)";
    let text = "é ✓ 'quoted' \"double\" ? ?1 \\ end".to_string();
    let blob: Vec<u8> = (0..=255u8).collect();
    db.execute(insert, params!["max", i64::MAX, f64::MAX, text, blob])
        .unwrap();
    db.execute(
        insert,
        params!["min", i64::MIN, -0.5f64, "", Vec::<u8>::new()],
    )
    .unwrap();
    db.execute(
        insert,
        params!["small", 7i32, 1e-300f64, String::from("s"), &blob[..3]],
    )
    .unwrap();
    db.execute(
        insert,
        params!["unsigned", u32::MAX, 2.0f64, "u", b"x".to_vec()],
    )
    .unwrap();
    db.execute(
        insert,
        params!["usize", 12usize, 0.1f64, "z", Value::Blob(vec![0])],
    )
    .unwrap();
    db.execute(
        insert,
        params!["flag", true, 3f64, Some("t"), Some(vec![1u8])],
    )
    .unwrap();

    let row = |k: &str| {
        db.query_row("SELECT i, r, s, b FROM v WHERE k = ?1", params![k], |r| {
            Ok((
                r.get::<i64>(0)?,
                r.get::<f64>(1)?,
                r.get::<String>(2)?,
                r.get::<Vec<u8>>(3)?,
            ))
        })
        .unwrap()
        .unwrap()
    };
    assert_eq!(row("max"), (i64::MAX, f64::MAX, text.clone(), blob.clone()));
    assert_eq!(row("min"), (i64::MIN, -0.5, String::new(), Vec::new()));
    assert_eq!(row("small"), (7, 1e-300, "s".into(), vec![0, 1, 2]));
    assert_eq!(
        row("unsigned"),
        (i64::from(u32::MAX), 2.0, "u".into(), b"x".to_vec())
    );
    assert_eq!(row("usize").0, 12);
    assert_eq!(row("flag").0, 1);

    let narrow = |k: &str| {
        db.query_row("SELECT i FROM v WHERE k = ?1", params![k], |r| {
            Ok((
                r.get::<i32>(0),
                r.get::<u32>(0),
                r.get::<usize>(0),
                r.get::<bool>(0),
            ))
        })
        .unwrap()
        .unwrap()
    };
    let (i, u, z, b) = narrow("small");
    assert_eq!(
        (i.unwrap(), u.unwrap(), z.unwrap(), b.unwrap()),
        (7, 7, 7, true)
    );
    let (i, u, _, _) = narrow("unsigned");
    assert_eq!(i.unwrap_err().kind(), ErrorKind::Conversion);
    assert_eq!(u.unwrap(), u32::MAX);
    let (i, ..) = narrow("max");
    let err = i.unwrap_err();
    assert!(err.to_string().contains("column 0 (`i`)"), "{err}");
    assert!(err.to_string().contains("out of its range"), "{err}");

    let values: Vec<Value> = db
        .query_row(
            "SELECT i, r, s, b FROM v WHERE k = 'small'",
            params![],
            |r| (0..r.len()).map(|i| r.value(i)).collect(),
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        values,
        [
            Value::Int(7),
            Value::Real(1e-300),
            Value::Text("s".into()),
            Value::Blob(vec![0, 1, 2])
        ]
    );
    // A flag compared in SQL reads as a bool on both (PostgreSQL's own booleans too).
    let yes: bool = db.query_one("SELECT ?1 = 7", params![7]).unwrap();
    assert!(yes);
}

fn nulls_read_as_none_and_refuse_plain_types(db: &dyn Db) {
    create_table(db, "n", "k TEXT, i INTEGER, r REAL, s TEXT, b BLOB");
    let none_text: Option<&str> = None;
    db.execute(
        "INSERT INTO n (k, i, r, s, b) VALUES (?1, ?2, ?3, ?4, ?5)",
        params!["a", None::<i64>, None::<f64>, none_text, Value::Null],
    )
    .unwrap();
    let row = db
        .query_row("SELECT i, r, s, b FROM n", params![], |r| {
            Ok((
                r.get::<Option<i64>>(0)?,
                r.get::<Option<f64>>(1)?,
                r.get::<Option<String>>(2)?,
                r.get::<Option<Vec<u8>>>(3)?,
                r.value(0)?,
            ))
        })
        .unwrap()
        .unwrap();
    assert_eq!(row, (None, None, None, None, Value::Null));
    let err = db
        .query_row("SELECT s FROM n", params![], |r| r.get::<String>(0))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conversion);
    assert!(
        err.to_string().contains("expected text, found NULL"),
        "{err}"
    );
    // A NULL parameter is NULL (cast it where PostgreSQL can't infer its type).
    let n: i64 = db
        .query_one(
            "SELECT COUNT(*) FROM n WHERE (CAST(?1 AS TEXT) IS NULL OR s = ?1)",
            params![none_text],
        )
        .unwrap();
    assert_eq!(n, 1);
}

fn placeholders_numbered_bare_and_inside_literals(db: &dyn Db) {
    create_table(db, "p", "a TEXT, b INTEGER");
    db.execute("INSERT INTO p (a, b) VALUES (?, ?)", params!["x?", 1])
        .unwrap();
    db.execute("INSERT INTO p (b, a) VALUES (?2, ?1)", params!["y", 2])
        .unwrap();
    // `?` in a literal, a quoted identifier's neighbour and a comment is not a parameter.
    let got: Vec<(String, String)> = db
        .query_map(
            "SELECT a, 'what? ?1' /* really? */ FROM p -- which?
             WHERE b >= ? AND a <> '?' ORDER BY b",
            params![1],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        got,
        [
            ("x?".to_string(), "what? ?1".to_string()),
            ("y".to_string(), "what? ?1".to_string())
        ]
    );
    // A number used twice binds once; a bare `?` after `?3` is the fourth.
    let n: i64 = db
        .query_one(
            "SELECT COUNT(*) FROM p WHERE (b = ?1 OR b = ?1 + 1) AND a <> ?2 AND b < ?3 AND b >= ?",
            params![1, "z", 10, 0],
        )
        .unwrap();
    assert_eq!(n, 2);
}

fn constraint_errors_are_classified(db: &dyn Db) {
    create_table(
        db,
        "parent",
        "id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE",
    );
    create_table(
        db,
        "child",
        "id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES parent(id), n INTEGER CHECK (n > 0)",
    );
    db.execute(
        "INSERT INTO parent (id, name) VALUES ('p', 'secret-name')",
        params![],
    )
    .unwrap();
    let kind = |sql: &str, p: &[bolt_sql::ValueRef<'_>]| {
        let err = db.execute(sql, p).unwrap_err();
        assert!(!err.to_string().contains("secret-value"), "{err}");
        err.kind()
    };
    assert_eq!(
        kind(
            "INSERT INTO parent (id, name) VALUES (?1, ?2)",
            params!["secret-value", "secret-name"]
        ),
        ErrorKind::Constraint(ConstraintKind::Unique)
    );
    assert_eq!(
        kind(
            "INSERT INTO parent (id, name) VALUES (?1, ?2)",
            params!["p", "secret-value"]
        ),
        ErrorKind::Constraint(ConstraintKind::Unique)
    );
    assert_eq!(
        kind(
            "INSERT INTO child (id, parent_id) VALUES (?1, ?2)",
            params!["c", "secret-value"]
        ),
        ErrorKind::Constraint(ConstraintKind::ForeignKey)
    );
    assert_eq!(
        kind(
            "INSERT INTO child (id, parent_id, n) VALUES ('c', 'p', ?1)",
            params![-1]
        ),
        ErrorKind::Constraint(ConstraintKind::Check)
    );
    assert_eq!(
        kind(
            "INSERT INTO parent (id, name) VALUES (?1, ?2)",
            params!["secret-value", None::<&str>]
        ),
        ErrorKind::Constraint(ConstraintKind::NotNull)
    );
    // Outside a transaction the connection goes on.
    assert_eq!(
        db.execute(
            "INSERT INTO child (id, parent_id, n) VALUES ('c', 'p', 1)",
            params![]
        )
        .unwrap(),
        1
    );
}

fn count(db: &dyn Db, table: &str) -> i64 {
    db.query_one(&format!("SELECT COUNT(*) FROM {table}"), params![])
        .unwrap()
}

fn savepoint_rollback_keeps_the_outer_transaction(db: &dyn Db) {
    create_table(db, "s", "v TEXT");
    let tx = db.transaction().unwrap();
    tx.execute("INSERT INTO s VALUES ('a')", params![]).unwrap();
    {
        let sp = tx.savepoint().unwrap();
        sp.execute("INSERT INTO s VALUES ('b')", params![]).unwrap();
        // `transaction()` on a transaction nests a savepoint too.
        let inner = sp.transaction().unwrap();
        inner
            .execute("INSERT INTO s VALUES ('c')", params![])
            .unwrap();
        inner.commit().unwrap();
        sp.rollback().unwrap();
    }
    let sp = tx.savepoint().unwrap();
    sp.execute("INSERT INTO s VALUES ('d')", params![]).unwrap();
    sp.commit().unwrap();
    tx.commit().unwrap();
    let rows: Vec<String> = db
        .query_map("SELECT v FROM s ORDER BY v", params![], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, ["a", "d"]);
}

fn a_dropped_transaction_rolls_back(db: &dyn Db) {
    create_table(db, "d", "v TEXT");
    {
        let tx = db.transaction().unwrap();
        tx.execute("INSERT INTO d VALUES ('gone')", params![])
            .unwrap();
    }
    assert_eq!(count(db, "d"), 0);
    let result: Result<(), bolt_sql::Error> = db.in_transaction(|tx| {
        tx.execute("INSERT INTO d VALUES ('gone too')", params![])?;
        tx.execute("INSERT INTO no_such_table VALUES (1)", params![])?;
        Ok(())
    });
    assert!(result.is_err());
    assert_eq!(count(db, "d"), 0);
    db.in_transaction(|tx| tx.execute("INSERT INTO d VALUES ('kept')", params![]))
        .unwrap();
    assert_eq!(count(db, "d"), 1);
}

fn a_failed_statement_in_a_savepoint_can_be_rolled_back(db: &dyn Db) {
    create_table(db, "u", "v TEXT UNIQUE");
    let tx = db.transaction().unwrap();
    tx.execute("INSERT INTO u VALUES ('a')", params![]).unwrap();
    {
        let sp = tx.savepoint().unwrap();
        let err = sp
            .execute("INSERT INTO u VALUES ('a')", params![])
            .unwrap_err();
        assert!(err.is_unique_violation());
        // Dropped: rolled back to the savepoint, which on PostgreSQL also ends the
        // transaction's aborted state.
    }
    tx.execute("INSERT INTO u VALUES ('b')", params![]).unwrap();
    tx.commit().unwrap();
    assert_eq!(count(db, "u"), 2);
}

fn committing_after_a_failed_statement(db: &dyn Db) {
    create_table(db, "f", "v TEXT UNIQUE");
    db.execute("INSERT INTO f VALUES ('a')", params![]).unwrap();
    let tx = db.transaction().unwrap();
    tx.execute("INSERT INTO f VALUES ('b')", params![]).unwrap();
    assert!(tx.execute("INSERT INTO f VALUES ('a')", params![]).is_err());
    let committed = tx.commit();
    match db.dialect() {
        // SQLite fails only the statement; the rest of the transaction commits.
        Dialect::Sqlite => {
            committed.unwrap();
            assert_eq!(count(db, "f"), 2);
        }
        // PostgreSQL aborted the whole transaction: the commit says so instead of
        // silently rolling back.
        Dialect::Postgres => {
            let err = committed.unwrap_err();
            assert!(err.to_string().contains("rolled back"), "{err}");
            assert_eq!(count(db, "f"), 1);
        }
    }
    // The connection is usable afterwards.
    db.execute("INSERT INTO f VALUES ('c')", params![]).unwrap();
}

fn callbacks_may_query_the_same_connection(db: &dyn Db) {
    create_table(db, "c", "id INTEGER, parent INTEGER");
    for (id, parent) in [(1, 0), (2, 1), (3, 1), (4, 2)] {
        db.execute("INSERT INTO c VALUES (?1, ?2)", params![id, parent])
            .unwrap();
    }
    let mut children = Vec::new();
    db.query("SELECT id FROM c ORDER BY id", params![], &mut |row| {
        let id: i64 = row.get(0)?;
        let n: i64 = db.query_one("SELECT COUNT(*) FROM c WHERE parent = ?1", params![id])?;
        children.push((id, n));
        Ok(())
    })
    .unwrap();
    assert_eq!(children, [(1, 2), (2, 1), (3, 0), (4, 0)]);
    // An error from the callback ends the query and comes back.
    let err = db
        .query("SELECT id FROM c", params![], &mut |row| {
            row.get::<String>(0).map(drop)
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conversion);
}

fn query_helpers(db: &dyn Db) {
    create_table(db, "q", "k TEXT, v INTEGER");
    assert_eq!(
        db.query_row("SELECT v FROM q", params![], |r| r.get::<i64>(0))
            .unwrap(),
        None
    );
    assert_eq!(
        db.query_value::<i64>("SELECT v FROM q", params![]).unwrap(),
        None
    );
    let err = db
        .query_one::<i64>("SELECT v FROM q", params![])
        .unwrap_err();
    assert!(err.to_string().contains("no row"), "{err}");
    assert!(err.to_string().contains("SELECT v FROM q"), "{err}");
    for i in 0..5 {
        db.execute("INSERT INTO q VALUES (?1, ?2)", params![format!("k{i}"), i])
            .unwrap();
    }
    let vs: Vec<i64> = db
        .query_map(
            "SELECT v FROM q WHERE v >= ?1 ORDER BY v LIMIT ?2",
            params![1, 3],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(vs, [1, 2, 3]);
    assert_eq!(
        db.execute("UPDATE q SET v = v + 10 WHERE v < ?1", params![2])
            .unwrap(),
        2
    );
    let first = db
        .query_row("SELECT k, v FROM q ORDER BY v", params![], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<i64>(1)?,
                r.column_name(1).to_string(),
            ))
        })
        .unwrap();
    assert_eq!(first, Some(("k2".to_string(), 2, "v".to_string())));
    let err = db
        .query_row("SELECT k FROM q", params![], |r| r.get::<String>(5))
        .unwrap_err();
    assert!(err.to_string().contains("no column 5"), "{err}");

    // query_while stops at the first false; an error from the callback still fails.
    let mut seen = Vec::new();
    db.query_while("SELECT v FROM q ORDER BY v", params![], |r| {
        seen.push(r.get::<i64>(0)?);
        Ok(seen.len() < 2)
    })
    .unwrap();
    assert_eq!(seen, [2, 3]);
    let err = db
        .query_while("SELECT k FROM q", params![], |r| {
            r.get::<String>(5).map(|_| true)
        })
        .unwrap_err();
    assert!(err.to_string().contains("no column 5"), "{err}");
}

fn query_while_stops_where_the_caller_says(db: &dyn Db) {
    create_table(db, "w", "v INTEGER");
    for v in 1..=5 {
        db.execute("INSERT INTO w (v) VALUES (?1)", params![v])
            .unwrap();
    }
    let mut seen = Vec::new();
    db.query_while("SELECT v FROM w ORDER BY v", params![], |r| {
        seen.push(r.get::<i64>(0)?);
        Ok(seen.len() < 3)
    })
    .unwrap();
    assert_eq!(seen, [1, 2, 3]);
    let failed = db.query_while("SELECT v FROM w ORDER BY v", params![], |r| {
        r.get::<String>(7).map(|_| true)
    });
    assert!(
        failed.is_err(),
        "the callback's own errors still end the query"
    );
    let mut all = 0;
    db.query_while("SELECT v FROM w", params![], |_| {
        all += 1;
        Ok(true)
    })
    .unwrap();
    assert_eq!(all, 5);
}

fn aggregates_read_as_sqlite_returns_them(db: &dyn Db) {
    create_table(db, "a", "n INTEGER, x REAL");
    for n in [1i64, 2, 4, 4_000_000_000_000] {
        db.execute("INSERT INTO a VALUES (?1, ?2)", params![n, n as f64 / 2.0])
            .unwrap();
    }
    let (sum, avg, count, max, fsum) = db
        .query_row(
            "SELECT SUM(n), AVG(n), COUNT(*), MAX(n), SUM(x) FROM a WHERE n < 100",
            params![],
            |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<f64>(1)?,
                    r.get::<i64>(2)?,
                    r.get::<i64>(3)?,
                    r.get::<f64>(4)?,
                ))
            },
        )
        .unwrap()
        .unwrap();
    assert_eq!((sum, count, max), (7, 3, 4));
    assert!((avg - 7.0 / 3.0).abs() < 1e-12, "{avg}");
    assert_eq!(fsum, 3.5);
    let total: i64 = db.query_one("SELECT SUM(n) FROM a", params![]).unwrap();
    assert_eq!(total, 4_000_000_000_007);
    let empty: Option<i64> = db
        .query_one("SELECT SUM(n) FROM a WHERE n < 0", params![])
        .unwrap();
    assert_eq!(empty, None);
    let whole_avg: f64 = db
        .query_one("SELECT AVG(n) FROM a WHERE n IN (2, 4)", params![])
        .unwrap();
    assert_eq!(whole_avg, 3.0);
}

fn returning_gives_generated_ids(db: &dyn Db) {
    let pk = match db.dialect() {
        Dialect::Sqlite => "id INTEGER PRIMARY KEY",
        Dialect::Postgres => "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    };
    db.execute_batch(&format!("CREATE TABLE g ({pk}, v TEXT)"))
        .unwrap();
    let a: i64 = db
        .query_one("INSERT INTO g (v) VALUES (?1) RETURNING id", params!["a"])
        .unwrap();
    let b: i64 = db
        .query_one("INSERT INTO g (v) VALUES (?1) RETURNING id", params!["b"])
        .unwrap();
    assert_eq!((a, b), (1, 2));
    // ON CONFLICT upserts read the same on both.
    db.execute_batch("CREATE TABLE kv (k TEXT PRIMARY KEY, n INTEGER NOT NULL)")
        .unwrap();
    for _ in 0..3 {
        db.execute(
            "INSERT INTO kv (k, n) VALUES (?1, 1) ON CONFLICT (k) DO UPDATE SET n = kv.n + 1",
            params!["x"],
        )
        .unwrap();
    }
    let n: i64 = db
        .query_one("SELECT n FROM kv WHERE k = 'x'", params![])
        .unwrap();
    assert_eq!(n, 3);
}

fn errors_name_the_statement_never_the_values(db: &dyn Db) {
    create_table(db, "e", "k TEXT PRIMARY KEY, n INTEGER");
    db.execute("INSERT INTO e VALUES (?1, 1)", params!["hunter2-key"])
        .unwrap();
    let err = db
        .execute(
            "INSERT INTO e (k, n) VALUES (?1, ?2)",
            params!["hunter2-key", 5],
        )
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert_eq!(err.statement(), Some("INSERT INTO e (k, n) VALUES …"));
    let err = db.execute("SELEKT nonsense", params![]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Other);
    assert!(err.to_string().contains("SELEKT nonsense"), "{err}");
}

fn schema_changes_do_not_break_cached_statements(db: &dyn Db) {
    create_table(db, "m", "a INTEGER");
    db.execute("INSERT INTO m VALUES (1)", params![]).unwrap();
    let read = || {
        db.query_row("SELECT * FROM m", params![], |r| Ok(r.len()))
            .unwrap()
    };
    assert_eq!(read(), Some(1));
    let add = match db.dialect() {
        Dialect::Sqlite => "ALTER TABLE m ADD COLUMN b INTEGER",
        Dialect::Postgres => "ALTER TABLE m ADD COLUMN b BIGINT",
    };
    db.execute_batch(add).unwrap();
    assert_eq!(read(), Some(2));
}
