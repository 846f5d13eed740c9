//! `bolt store copy --to URL`: a real boltd's SQLite store, stopped, copied into a fresh
//! PostgreSQL database (made on `BOLT_TEST_POSTGRES_URL`'s server and dropped after).
//! Without the variable the test is skipped with a notice.

use bolt_e2e::{Daemon, bin};
use bolt_sql::{Db, DbExt, PgClient, PgSettings, params};
use std::process::{Command, Output};

const PROJECT: &str = r#"
name: desk
workflows:
  orders:
    name: Orders
    jobs:
      check:
        name: Check
        body: |
          fn(state => { console.log('order ' + state.data.id); if (state.data.bad) throw new Error('bad order ' + state.data.id); return state; });
    triggers:
      webhook: {type: webhook, custom_path: orders}
    edges:
      webhook->check: {source_trigger: webhook, target_job: check, condition_type: always}
"#;

/// A database of its own on the test server, dropped when this is.
struct FreshDatabase {
    admin: PgSettings,
    name: String,
}

impl FreshDatabase {
    fn create(suffix: &str) -> Option<FreshDatabase> {
        let Some(url) = std::env::var("BOLT_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            eprintln!("skipping the store copy test: BOLT_TEST_POSTGRES_URL is not set");
            return None;
        };
        let admin = PgSettings::from_url(&url).expect("BOLT_TEST_POSTGRES_URL");
        let name = format!("bolt_copy_{}_{suffix}", std::process::id());
        let client = PgClient::connect(&admin).expect("connect to the test server");
        // One statement per batch: a batch of several runs as one transaction, and these
        // two can't run inside one.
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            client.execute_batch(&sql).expect("a fresh database");
        }
        Some(FreshDatabase { admin, name })
    }

    fn settings(&self) -> PgSettings {
        let mut settings = self.admin.clone();
        settings.database = self.name.clone();
        settings
    }

    /// The database's URL (the test server needs no password).
    fn url(&self) -> String {
        self.settings().to_string()
    }

    fn connect(&self) -> PgClient {
        PgClient::connect(&self.settings()).expect("connect to the copy")
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let dropped = PgClient::connect(&self.admin).and_then(|admin| {
            admin.execute_batch(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
        });
        if let Err(e) = dropped {
            eprintln!("could not drop the test database {}: {e}", self.name);
        }
    }
}

fn bolt_copy(daemon: &Daemon, to: &str, extra: &[&str]) -> Output {
    Command::new(bin("bolt"))
        .args(["store", "copy", "--to", to, "--data-dir"])
        .arg(daemon.data_dir())
        .args(extra)
        .env_remove("BOLT_CONFIG")
        .env_remove("BOLT_DATA_DIR")
        .env_remove("PGPASSWORD")
        .output()
        .expect("run bolt store copy")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_stopped_store_is_copied_into_postgres_with_progress_and_counts() {
    if !bolt_e2e::sqlite_only("`bolt store copy` copies a SQLite data dir") {
        return;
    }
    let Some(database) = FreshDatabase::create("progress") else {
        return;
    };
    let mut daemon = Daemon::start();
    daemon.deploy_text(PROJECT);
    let out = daemon.bolt(&[
        "credential",
        "set",
        "api",
        "--field",
        "user=u",
        "--field",
        "token=s3cret-token",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for i in 0..12 {
        let body = if i % 4 == 3 {
            format!(r#"{{"id": {i}, "bad": true}}"#)
        } else {
            format!(r#"{{"id": {i}, "item": "malaria kit"}}"#)
        };
        daemon.post_and_wait("/i/orders", &body);
    }
    // While boltd runs, the copy is refused.
    let refused = bolt_copy(&daemon, &database.url(), &[]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("`bolt stop`"),
        "{}",
        text(&refused.stderr)
    );
    assert!(daemon.stop().success());

    // A password in the URL is never printed.
    let user = database.settings().user;
    let with_password = database.url().replacen(
        &format!("postgres://{user}@"),
        &format!("postgres://{user}:hunter2@"),
        1,
    );
    let out = bolt_copy(&daemon, &with_password, &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        !stdout.contains("hunter2") && !stderr.contains("hunter2"),
        "{stdout}{stderr}"
    );
    assert!(stderr.contains("table work_orders: 12/12 rows"), "{stderr}");
    assert!(stderr.contains("table log_lines: 0/"), "{stderr}");
    assert!(stdout.contains("verified"), "{stdout}");
    assert!(
        stdout.contains("next: start each node with --store"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(password not shown)") && stdout.contains("bolt.key"),
        "{stdout}"
    );

    // The rows are there, credentials still sealed.
    let pg = database.connect();
    let count = |table: &str| -> i64 {
        pg.query_one(&format!("SELECT COUNT(*) FROM {table}"), params![])
            .expect("count")
    };
    assert_eq!(count("work_orders"), 12);
    assert_eq!(count("runs"), 12);
    assert!(count("log_lines") >= 12);
    assert_eq!(count("credentials"), 1);
    assert_eq!(count("search_fts"), count("search_docs"));
    let states: Vec<(String, i64)> = pg
        .query_map(
            "SELECT state, COUNT(*) FROM work_orders GROUP BY state ORDER BY state",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("states");
    assert_eq!(
        states,
        [("failed".to_string(), 3), ("success".to_string(), 9)]
    );
    let body: Vec<u8> = pg
        .query_one("SELECT body FROM credentials WHERE name = 'api'", params![])
        .expect("the credential");
    assert!(!String::from_utf8_lossy(&body).contains("s3cret-token"));
    let key_check: Option<String> = pg
        .query_value(
            "SELECT value FROM store_meta WHERE key = 'key_check'",
            params![],
        )
        .expect("the key check");
    assert!(key_check.is_some());
    let found: i64 = pg
        .query_one(
            "SELECT COUNT(*) FROM search_fts WHERE text @@ CAST(?1 AS tsquery)",
            params!["'malaria' & 'kit'"],
        )
        .expect("search");
    assert!(found >= 9, "{found} documents found");

    // The same copy again is refused, and --json reports the same with the refusal.
    let again = bolt_copy(&daemon, &database.url(), &["--json"]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("already holds bolt data"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(count("work_orders"), 12, "the refused copy changed nothing");
}

#[test]
fn json_summary_lists_every_table() {
    if !bolt_e2e::sqlite_only("`bolt store copy` copies a SQLite data dir") {
        return;
    }
    let Some(database) = FreshDatabase::create("json") else {
        return;
    };
    let mut daemon = Daemon::start();
    daemon.deploy_text(PROJECT);
    daemon.post_and_wait("/i/orders", r#"{"id": 1}"#);
    assert!(daemon.stop().success());
    let out = bolt_copy(&daemon, &database.url(), &["--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let tables = summary["tables"].as_array().expect("tables");
    let rows = |name: &str| {
        tables
            .iter()
            .find(|t| t["table"] == name)
            .and_then(|t| t["rows"].as_u64())
    };
    assert_eq!(rows("work_orders"), Some(1));
    assert_eq!(rows("projects"), Some(1));
    assert_eq!(summary["target"], database.url());
    assert!(summary["search_documents"].as_u64().is_some_and(|n| n > 0));
    // Progress on stderr is JSON too.
    let first = text(&out.stderr)
        .lines()
        .next()
        .map(str::to_string)
        .unwrap_or_default();
    let event: serde_json::Value = serde_json::from_str(&first).expect("a JSON progress line");
    assert_eq!(event["event"], "copied");
}
