//! PostgreSQL only: migrations under the advisory lock, connection loss and the pool,
//! type adaptation, TLS modes and connection errors.
// Test helpers outside #[test] functions panic on failure, like the tests themselves.
#![allow(clippy::unwrap_used)]

use bolt_sql::pg::{self, Listener, Migration, PgClient, PgPool, PgSettings, PoolOptions};
use bolt_sql::testing::PgScratch;
use bolt_sql::{Db, DbExt, ErrorKind, params, schema};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

fn scratch() -> Option<PgScratch> {
    PgScratch::new()
}

fn test_url() -> String {
    std::env::var(bolt_sql::testing::URL_VARIABLE).unwrap()
}

#[test]
fn migrations_race_between_three_nodes_and_apply_once() {
    let Some(pg) = scratch() else { return };
    let nodes = 3;
    let barrier = Arc::new(Barrier::new(nodes));
    let threads: Vec<_> = (0..nodes)
        .map(|_| {
            let settings = pg.settings();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let client = PgClient::connect(&settings).unwrap();
                barrier.wait();
                pg::migrate(&client, schema::POSTGRES).unwrap()
            })
        })
        .collect();
    let mut results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    results.sort_by_key(|m| m.from);
    let latest = schema::postgres_latest();
    assert_eq!(
        results[0],
        pg::Migrated {
            from: 0,
            to: latest
        }
    );
    for later in &results[1..] {
        assert_eq!(
            *later,
            pg::Migrated {
                from: latest,
                to: latest
            }
        );
    }
    let client = pg.connect().unwrap();
    let recorded: Vec<i64> = client
        .query_map(
            "SELECT version FROM bolt_migrations ORDER BY version",
            params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(recorded, (1..=latest).collect::<Vec<_>>());
    assert_eq!(pg::schema_version(&client).unwrap(), latest);
    // The schema is usable: the fresh-store row from SQLite's 0008 is there.
    let legacy: String = client
        .query_one(
            "SELECT value FROM store_meta WHERE key = 'audit_legacy_through'",
            params![],
        )
        .unwrap();
    assert_eq!(legacy, "0");
}

const FIRST: Migration = Migration {
    version: 1,
    name: "first",
    sql: "CREATE TABLE one (id BIGINT PRIMARY KEY);",
};
const SECOND: Migration = Migration {
    version: 2,
    name: "second",
    sql: "CREATE TABLE two (id BIGINT PRIMARY KEY);",
};

#[test]
fn a_schema_newer_than_this_build_is_refused() {
    let Some(pg) = scratch() else { return };
    let client = pg.connect().unwrap();
    assert_eq!(
        pg::migrate(&client, &[FIRST, SECOND]).unwrap(),
        pg::Migrated { from: 0, to: 2 }
    );
    let err = pg::migrate(&client, &[FIRST]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SchemaTooNew { found: 2, known: 1 });
    let text = err.to_string();
    assert!(text.contains("version 2") && text.contains("(1)"), "{text}");
    assert!(text.contains("upgrade bolt"), "{text}");
    // The lock was released: another node can still migrate.
    let other = pg.connect().unwrap();
    assert_eq!(
        pg::migrate(&other, &[FIRST, SECOND]).unwrap(),
        pg::Migrated { from: 2, to: 2 }
    );
}

#[test]
fn a_failing_migration_leaves_nothing_behind() {
    let Some(pg) = scratch() else { return };
    let client = pg.connect().unwrap();
    let broken = Migration {
        version: 2,
        name: "broken",
        sql: "CREATE TABLE half (id BIGINT); SELECT no_such_function();",
    };
    let err = pg::migrate(&client, &[FIRST, broken]).unwrap_err();
    assert!(
        err.to_string().contains("migration 2 (broken) failed"),
        "{err}"
    );
    assert_eq!(pg::schema_version(&client).unwrap(), 1);
    let half: Option<String> = client
        .query_one("SELECT to_regclass('half')::text", params![])
        .unwrap();
    assert_eq!(half, None);
    // Fixed, it applies.
    assert_eq!(
        pg::migrate(&client, &[FIRST, SECOND]).unwrap(),
        pg::Migrated { from: 1, to: 2 }
    );
}

fn backend_pid(db: &dyn Db) -> i64 {
    db.query_one("SELECT pg_backend_pid()", params![]).unwrap()
}

fn terminate(pg: &PgScratch, pid: i64) {
    let admin = pg.connect().unwrap();
    let done: bool = admin
        .query_one(
            "SELECT pg_terminate_backend(CAST(?1 AS INTEGER))",
            params![pid],
        )
        .unwrap();
    assert!(done);
    // Wait until the backend is gone.
    let deadline = Instant::now() + Duration::from_secs(10);
    while admin
        .query_value::<i64>(
            "SELECT 1 FROM pg_stat_activity WHERE pid = CAST(?1 AS INTEGER)",
            params![pid],
        )
        .unwrap()
        .is_some()
    {
        assert!(Instant::now() < deadline, "backend {pid} did not go away");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_terminated_pooled_connection_is_replaced_at_the_next_checkout() {
    let Some(pg) = scratch() else { return };
    let pool = PgPool::new(
        pg.settings(),
        PoolOptions {
            max_size: 1,
            ..PoolOptions::default()
        },
    )
    .unwrap();
    let first = backend_pid(&pool.get().unwrap());
    terminate(&pg, first);
    let conn = pool.get().unwrap();
    let second = backend_pid(&conn);
    assert_ne!(first, second);
}

#[test]
fn losing_the_connection_mid_use_is_unreachable_and_the_pool_recovers() {
    let Some(pg) = scratch() else { return };
    let pool = PgPool::new(
        pg.settings(),
        PoolOptions {
            max_size: 1,
            test_on_checkout: false,
            ..PoolOptions::default()
        },
    )
    .unwrap();
    {
        let conn = pool.get().unwrap();
        terminate(&pg, backend_pid(&conn));
        let err = conn.execute("SELECT 1", params![]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
        assert!(err.is_unreachable());
        // Inside a transaction too.
        assert_eq!(
            conn.transaction().err().map(|e| e.kind()),
            Some(ErrorKind::Unreachable)
        );
    }
    // Without test-on-checkout the broken connection was dropped when it came back.
    let conn = pool.get().unwrap();
    assert_eq!(conn.query_one::<i64>("SELECT 1", params![]).unwrap(), 1);
}

#[test]
fn a_checkout_while_the_database_is_down_fails_fast_as_unreachable() {
    // Nothing listens on port 1; the password must not show in any message.
    let settings =
        PgSettings::from_url("postgres://bolt:hunter2@127.0.0.1:1/bolt?sslmode=disable").unwrap();
    let pool = PgPool::new(
        settings,
        PoolOptions {
            max_size: 2,
            checkout_timeout: Duration::from_millis(500),
            test_on_checkout: true,
        },
    )
    .unwrap();
    let started = Instant::now();
    let err = pool.get().err().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("127.0.0.1:1"), "{text}");
}

#[test]
fn a_missing_database_and_wrong_user_are_config_errors() {
    let Some(_pg) = scratch() else { return };
    let mut settings = PgSettings::from_url(&test_url()).unwrap();
    settings.database = "bolt_no_such_database".into();
    let err = PgClient::connect(&settings).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains("bolt_no_such_database"), "{err}");
}

#[test]
fn parameters_adapt_to_the_types_postgresql_infers() {
    let Some(pg) = scratch() else { return };
    let db = pg.connect().unwrap();
    // int4 parameter: in range binds, out of range is an error naming the type.
    let n: i64 = db
        .query_one("SELECT CAST(?1 AS INTEGER) + 1", params![41])
        .unwrap();
    assert_eq!(n, 42);
    let err = db
        .query_one::<i64>("SELECT CAST(?1 AS INTEGER)", params![i64::MAX])
        .unwrap_err();
    assert!(err.to_string().contains("out of range"), "{err}");
    let small: i64 = db
        .query_one("SELECT CAST(?1 AS SMALLINT)", params![7])
        .unwrap();
    assert_eq!(small, 7);
    // numeric, json(b), text into other types: sent as text for the server to parse.
    let doubled: i64 = db.query_one("SELECT ?1::numeric * 2", params![21]).unwrap();
    assert_eq!(doubled, 42);
    let half: f64 = db.query_one("SELECT ?1::numeric / 4", params![2]).unwrap();
    assert_eq!(half, 0.5);
    let field: String = db
        .query_one("SELECT ?1::jsonb ->> 'a'", params![r#"{"a": "b"}"#])
        .unwrap();
    assert_eq!(field, "b");
    let json: String = db
        .query_one("SELECT ?1::json", params![r#"[1,2]"#])
        .unwrap();
    assert_eq!(json, "[1,2]");
    let jsonb: String = db
        .query_one("SELECT ?1::jsonb", params![r#"{"k":1}"#])
        .unwrap();
    assert_eq!(jsonb, r#"{"k": 1}"#);
    let from_text: i64 = db.query_one("SELECT ?1::bigint", params!["12"]).unwrap();
    assert_eq!(from_text, 12);
    let flag: bool = db.query_one("SELECT NOT ?1::boolean", params![0]).unwrap();
    assert!(flag);
    let real: f64 = db.query_one("SELECT ?1::real", params![1.5]).unwrap();
    assert_eq!(real, 1.5);
    let name: String = db
        .query_one("SELECT current_user::name", params![])
        .unwrap();
    assert!(!name.is_empty());
    let varchar: String = db
        .query_one("SELECT CAST(?1 AS VARCHAR(10))", params!["short"])
        .unwrap();
    assert_eq!(varchar, "short");
    // A bad value for a type: the error never repeats it.
    let err = db
        .query_one::<i64>("SELECT ?1::bigint", params!["hunter2"])
        .unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    // A blob only binds to bytea; a type this layer doesn't read says to cast it.
    let err = db
        .query_one::<i64>("SELECT CAST(?1 AS BIGINT)", params![vec![1u8]])
        .unwrap_err();
    assert!(err.to_string().contains("cannot bind a blob"), "{err}");
    let err = db
        .query_one::<String>("SELECT gen_random_uuid()", params![])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conversion);
    assert!(err.to_string().contains("uuid"), "{err}");
    let uuid: String = db
        .query_one(
            "SELECT ?1::uuid::text",
            params!["0190a3c4-0000-7000-8000-00000000abcd"],
        )
        .unwrap();
    assert_eq!(uuid, "0190a3c4-0000-7000-8000-00000000abcd");
}

#[test]
fn the_audit_log_guard_is_a_constraint_error() {
    let Some(pg) = scratch() else { return };
    let db = pg.connect().unwrap();
    pg::migrate(&db, schema::POSTGRES).unwrap();
    db.execute(
        "INSERT INTO audit_events (id, at, actor, action, subject, hash) VALUES (1, 1, 'a', 'x', 's', 'h')",
        params![],
    )
    .unwrap();
    let err = db
        .execute("UPDATE audit_events SET actor = 'b'", params![])
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Constraint(bolt_sql::ConstraintKind::Other)
    );
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = db
        .execute("DELETE FROM audit_events", params![])
        .unwrap_err();
    assert!(err.to_string().contains("retention purge"), "{err}");
    // A delete that matches nothing never fails; with the permit, deletes go through.
    db.execute("DELETE FROM audit_events WHERE id = 99", params![])
        .unwrap();
    db.in_transaction(|tx| {
        tx.execute("INSERT INTO audit_purge_permit (id) VALUES (1)", params![])?;
        tx.execute("DELETE FROM audit_events", params![])?;
        tx.execute("DELETE FROM audit_purge_permit", params![])
    })
    .unwrap();
}

#[test]
fn history_counts_follow_deleted_work_orders() {
    let Some(pg) = scratch() else { return };
    let db = pg.connect().unwrap();
    pg::migrate(&db, schema::POSTGRES).unwrap();
    db.execute_batch(
        "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0);
         INSERT INTO workflows (id, project_id, key, name, created_at, updated_at) VALUES ('w', 'p', 'w', 'W', 0, 0);
         INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v', 'w', 1, '{}', 'h', 0);
         INSERT INTO work_order_counts (workflow_id, hour, state, n) VALUES ('w', 0, 'success', 3), ('w', 1, 'failed', 1);",
    )
    .unwrap();
    for (id, state, at) in [
        ("a", "success", 1i64),
        ("b", "success", 2),
        ("c", "failed", 3_600_000_001),
    ] {
        db.execute(
            "INSERT INTO work_orders (id, workflow_id, version_id, origin, state, received_at, last_activity)
             VALUES (?1, 'w', 'v', 'webhook', ?2, ?3, ?3)",
            params![id, state, at],
        )
        .unwrap();
    }
    // Deleting the workflow cascades to its work orders: one upsert per bucket.
    db.execute("DELETE FROM workflows WHERE id = 'w'", params![])
        .unwrap();
    let buckets: Vec<(i64, String, i64)> = db
        .query_map(
            "SELECT hour, state, n FROM work_order_counts ORDER BY hour",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        buckets,
        [(0, "success".to_string(), 1), (1, "failed".to_string(), 0)]
    );
}

/// The server's certificate file, when TLS is on and the file is readable here.
fn server_certificate(db: &dyn Db) -> Option<String> {
    let ssl: String = db.query_one("SHOW ssl", params![]).ok()?;
    let file: String = db.query_one("SHOW ssl_cert_file", params![]).ok()?;
    let path = if file.starts_with('/') {
        file
    } else {
        let dir: String = db.query_one("SHOW data_directory", params![]).ok()?;
        format!("{dir}/{file}")
    };
    (ssl == "on" && std::fs::metadata(&path).is_ok()).then_some(path)
}

fn with_tls(mode: &str, root: Option<&str>, host: Option<&str>) -> PgSettings {
    let mut settings = PgSettings::from_url(&test_url()).unwrap();
    settings.sslmode = mode.parse().unwrap();
    settings.sslrootcert = root.map(Into::into);
    if let Some(host) = host {
        settings.host = bolt_sql::pg::Host::Tcp(host.into());
    }
    settings
}

fn encrypted(settings: &PgSettings) -> bolt_sql::Result<bool> {
    let client = PgClient::connect(settings)?;
    client.query_one(
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        params![],
    )
}

#[test]
fn tls_modes() {
    let Some(pg) = scratch() else { return };
    let Some(cert) = server_certificate(&pg.connect().unwrap()) else {
        eprintln!("skipping TLS tests: the server has no TLS certificate readable here");
        return;
    };
    assert!(!encrypted(&with_tls("disable", None, None)).unwrap());
    assert!(encrypted(&with_tls("prefer", None, None)).unwrap());
    assert!(encrypted(&with_tls("require", None, None)).unwrap());
    // The server's self-signed certificate isn't among the webpki roots.
    let err = encrypted(&with_tls("verify-full", None, None)).unwrap_err();
    assert!(err.to_string().contains("certificate"), "{err}");
    // Trusted through sslrootcert: verify-ca ignores the name, verify-full checks it
    // against the certificate's names.
    assert!(encrypted(&with_tls("verify-ca", Some(&cert), None)).unwrap());
    assert!(encrypted(&with_tls("require", Some(&cert), None)).unwrap());
    let names = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-ext", "subjectAltName", "-in", &cert])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if names.contains("DNS:localhost") {
        assert!(encrypted(&with_tls("verify-full", Some(&cert), Some("localhost"))).unwrap());
        let err = encrypted(&with_tls("verify-full", Some(&cert), Some("127.0.0.1"))).unwrap_err();
        assert!(err.to_string().contains("certificate"), "{err}");
    }
}

#[test]
fn a_read_transaction_sees_one_snapshot_and_writes_nothing() {
    let Some(pg) = scratch() else { return };
    let writer = pg.connect().unwrap();
    writer
        .execute_batch("CREATE TABLE t (v BIGINT); INSERT INTO t VALUES (1);")
        .unwrap();
    let reader = pg.connect().unwrap();
    let tx = reader.read_transaction().unwrap();
    let before: i64 = tx.query_one("SELECT COUNT(*) FROM t", params![]).unwrap();
    writer
        .execute("INSERT INTO t VALUES (2)", params![])
        .unwrap();
    let during: i64 = tx.query_one("SELECT COUNT(*) FROM t", params![]).unwrap();
    assert!(tx.execute("INSERT INTO t VALUES (3)", params![]).is_err());
    drop(tx);
    let after: i64 = reader
        .query_one("SELECT COUNT(*) FROM t", params![])
        .unwrap();
    assert_eq!((before, during, after), (1, 1, 2));
}

/// A channel no other test (nor a running boltd) uses: channels are per database.
fn unique_channel(pg: &PgScratch) -> String {
    format!("{}_chan", pg.schema())
}

#[test]
fn a_listener_hears_its_channel_in_order_and_nothing_else() {
    let Some(pg) = scratch() else { return };
    let channel = unique_channel(&pg);
    let mut listener = Listener::connect(&pg.settings(), &channel).unwrap();
    assert_eq!(listener.channel(), channel);
    let sender = pg.connect().unwrap();
    // Nothing sent yet: the wait ends after its timeout.
    let started = Instant::now();
    assert_eq!(listener.next(Duration::from_millis(200)).unwrap(), None);
    assert!(started.elapsed() >= Duration::from_millis(150));

    pg::notify(&sender, &format!("{channel}_other"), "not for us").unwrap();
    for n in 0..3 {
        pg::notify(&sender, &channel, &format!("payload {n}")).unwrap();
    }
    // Sent inside a transaction: delivered once it commits.
    let tx = sender.transaction().unwrap();
    pg::notify(&tx, &channel, "committed").unwrap();
    tx.commit().unwrap();
    let tx = sender.transaction().unwrap();
    pg::notify(&tx, &channel, "rolled back").unwrap();
    drop(tx);

    let sender_pid = i32::try_from(backend_pid(&sender)).unwrap();
    let mut heard = Vec::new();
    while let Some(n) = listener.next(Duration::from_millis(500)).unwrap() {
        assert_eq!(n.channel, channel);
        assert_eq!(n.process_id, sender_pid);
        heard.push(n.payload);
    }
    assert_eq!(heard, ["payload 0", "payload 1", "payload 2", "committed"]);
}

#[test]
fn payloads_up_to_the_limit_pass_and_longer_ones_are_refused() {
    let Some(pg) = scratch() else { return };
    let channel = unique_channel(&pg);
    let mut listener = Listener::connect(&pg.settings(), &channel).unwrap();
    let sender = pg.connect().unwrap();
    let longest = "é".repeat((pg::MAX_PAYLOAD - 1) / 2) + "x";
    assert_eq!(longest.len(), pg::MAX_PAYLOAD - 1);
    pg::notify(&sender, &channel, &longest).unwrap();
    let heard = listener.next(Duration::from_secs(5)).unwrap().unwrap();
    assert_eq!(heard.payload, longest);
    let err = pg::notify(&sender, &channel, &(longest + "x")).unwrap_err();
    assert!(err.to_string().contains("shorter than 8000 bytes"), "{err}");
    // The server agrees about the limit.
    let too_long = "x".repeat(pg::MAX_PAYLOAD);
    assert!(
        sender
            .execute(
                "SELECT pg_notify(?1, ?2)",
                params![channel.as_str(), too_long.as_str()]
            )
            .is_err()
    );
}

#[test]
fn a_terminated_listener_reports_unreachable_and_a_new_one_hears_again() {
    let Some(pg) = scratch() else { return };
    let channel = unique_channel(&pg);
    let mut listener = Listener::connect(&pg.settings(), &channel).unwrap();
    terminate(&pg, i64::from(listener.backend_pid()));
    let started = Instant::now();
    let err = loop {
        match listener.next(Duration::from_millis(200)) {
            Err(err) => break err,
            Ok(_) => assert!(
                started.elapsed() < Duration::from_secs(10),
                "the lost connection went unnoticed"
            ),
        }
    };
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    // Further waits keep failing rather than pretending all is quiet.
    assert!(listener.next(Duration::from_millis(50)).is_err());

    let mut listener = Listener::connect(&pg.settings(), &channel).unwrap();
    pg::notify(&pg.connect().unwrap(), &channel, "again").unwrap();
    let heard = listener.next(Duration::from_secs(5)).unwrap().unwrap();
    assert_eq!(heard.payload, "again");
}

#[test]
fn a_listener_for_an_unreachable_database_fails_as_unreachable() {
    let settings =
        PgSettings::from_url("postgres://bolt:hunter2@127.0.0.1:1/bolt?sslmode=disable").unwrap();
    let err = Listener::connect(&settings, "bolt_events").err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    assert!(!format!("{err} {err:?}").contains("hunter2"));
}
