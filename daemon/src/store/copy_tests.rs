//! `store::copy` against a SQLite store written by the store's own functions and a fresh
//! PostgreSQL schema (`BOLT_TEST_POSTGRES_URL`; skipped with a notice without it).

use super::*;
use crate::store::work_orders::{Input, NewWorkOrder, create_work_order, refresh_work_order};
use crate::store::{DB_FILE, Store, credentials, logs, new_id, open_connection, runs, steps};
use bolt_shared::model::{DataclipType, ExitReason, LogLevel, Origin, RunState, WipeReason};
use bolt_sql::fts::Query;
use bolt_sql::testing::PgScratch;
use serde_json::json;

const EXAMPLE_PROJECT: &str = include_str!("../../../config/example-project.yaml");

/// A stopped store in a temp dir, written through the store's functions.
struct Source {
    dir: tempfile::TempDir,
    work_orders: usize,
}

impl Source {
    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join(DB_FILE)
    }

    fn open(&self) -> Connection {
        open_source(&self.path()).expect("open the store read-only")
    }
}

/// The example project, a credential, audit events and `work_orders` work orders, each
/// with a run, a step, an output and two log lines (indexed as the daemon indexes them);
/// every tenth one's output wiped by retention.
fn source_store(work_orders: usize) -> Source {
    let dir = tempfile::tempdir().expect("a temp dir");
    drop(Store::open(dir.path(), 1).expect("a new store"));
    let conn = open_connection(&dir.path().join(DB_FILE)).expect("open the store");
    deploy_example(&conn);
    credentials::upsert(
        &conn,
        &credentials::NewCredential {
            id: "cred-1",
            name: "dhis2",
            sealed: &[0, 159, 146, 150, 7, 1, 2, 3],
            keys: "[\"username\",\"password\"]",
            now: 1,
        },
    )
    .expect("a credential");
    credentials::set_key_check(&conn, "check-abc").expect("a key check");
    for i in 0..5 {
        crate::audit::record_as(
            &conn,
            "tester",
            "credential.updated",
            &format!("c{i}"),
            None,
        )
        .expect("an audit event");
    }
    let (workflow_id, project_id, version_id, trigger_id) = first_workflow(&conn);
    let mut log_id = 0;
    for i in 0..work_orders {
        let disease = if i % 3 == 0 { "malaria" } else { "influenza" };
        let input = json!({"patient": format!("P-{i:04}"), "disease": disease, "visits": i, "notes": "Café crème"});
        let created = create_work_order(
            &conn,
            &NewWorkOrder {
                workflow_id: workflow_id.clone(),
                project_id: project_id.clone(),
                version_id: version_id.clone(),
                trigger_id: Some(trigger_id.clone()),
                origin: Origin::Webhook,
                input: Input::json(DataclipType::HttpRequest, &input, None),
                starting_job: None,
                priority: 1,
                source_address: Some("127.0.0.1".into()),
            },
        )
        .expect("a work order");
        let wo = created.work_order_id;
        let input_id: String = (&conn as &dyn Db)
            .query_one(
                "SELECT dataclip_id FROM work_orders WHERE id = ?1",
                params![wo],
            )
            .expect("its input");
        let step_id = new_id();
        let now = super::super::now_micros();
        steps::insert(
            &conn,
            &steps::NewStep {
                id: &step_id,
                run_id: &created.run_id,
                job_key: "fetch",
                job_name: "Fetch",
                input_dataclip_id: &input_id,
                started_at: now,
            },
        )
        .expect("a step");
        let output = json!({"data": {"patient": format!("P-{i:04}"), "status": if i % 7 == 0 { "referred" } else { "seen" }}});
        let output_id = new_id();
        dataclips::insert_prepared(
            &conn,
            &dataclips::PreparedClip {
                id: output_id.clone(),
                kind: DataclipType::StepResult,
                body: output.to_string(),
                size: output.to_string().len(),
                wipe: None,
                index: Some(dataclips::index_text(&output)),
            },
            &project_id,
            &wo,
            "output",
        )
        .expect("an output");
        for message in [
            format!("fetched patient P-{i:04}"),
            "done: user@example.com".to_string(),
        ] {
            log_id += 1;
            logs::insert(
                &conn,
                &bolt_shared::model::LogLine {
                    id: log_id,
                    run_id: created.run_id.clone(),
                    step_id: Some(step_id.clone()),
                    source: "JOB".into(),
                    level: LogLevel::Info,
                    message: message.clone(),
                    timestamp: chrono::Utc::now(),
                },
            )
            .expect("a log line");
            dataclips::index(&conn, &wo, "log", &log_id.to_string(), &message).expect("indexed");
        }
        steps::finish(
            &conn,
            &steps::StepEnd {
                id: &step_id,
                output_dataclip_id: Some(&output_id),
                exit_reason: if i % 5 == 0 {
                    ExitReason::Fail
                } else {
                    ExitReason::Success
                },
                error_type: None,
                error_message: None,
                finished_at: now + 1000,
            },
        )
        .expect("a finished step");
        runs::record_end(
            &conn,
            &created.run_id,
            &runs::Ending {
                state: if i % 5 == 0 {
                    RunState::Failed
                } else {
                    RunState::Success
                },
                error_type: None,
                error_message: None,
                final_dataclip_id: Some(&output_id),
                logs_dropped: (0, 0),
            },
        )
        .expect("a finished run");
        refresh_work_order(&conn, &wo).expect("the work order's state");
        if i % 10 == 0 {
            dataclips::wipe(&conn, &output_id, WipeReason::Retention).expect("a wiped output");
        }
    }
    Source { dir, work_orders }
}

fn deploy_example(conn: &Connection) {
    let no_files = |path: &str| Err(format!("the example project reads no files ({path})"));
    let parsed = crate::project::parse_project(EXAMPLE_PROJECT, "example-project.yaml", &no_files)
        .expect("the example project parses");
    crate::project::apply(conn, &parsed.spec, None, Default::default()).expect("deployed");
}

fn first_workflow(conn: &Connection) -> (String, String, String, String) {
    (conn as &dyn Db)
        .query_row(
            "SELECT w.id, w.project_id,
                    (SELECT v.id FROM workflow_versions v WHERE v.workflow_id = w.id ORDER BY v.version DESC LIMIT 1),
                    t.id
             FROM workflows w JOIN triggers t ON t.workflow_id = w.id ORDER BY w.key LIMIT 1",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("read the workflow")
        .expect("a deployed workflow")
}

/// A fresh PostgreSQL schema and a connection to it, or None (skipped) without a server.
fn target() -> Option<(PgScratch, PgClient)> {
    let scratch = PgScratch::new()?;
    let client = scratch.connect().expect("connect to the scratch schema");
    Some((scratch, client))
}

fn copy_quietly(source: &Source, target: &PgClient) -> CopyResult<Copied> {
    copy_between(&source.open(), "test store", target, &mut |_| {
        ControlFlow::Continue(())
    })
}

/// Every row of `table`, sorted (the two databases may order text differently).
fn rows(db: &dyn Db, table: &str, columns: &[String]) -> Vec<Vec<Value>> {
    let sql = format!("SELECT {} FROM {}", column_list(columns), quoted(table));
    let mut rows: Vec<Vec<Value>> = db
        .query_map(&sql, params![], |r| {
            (0..r.len()).map(|i| r.value(i)).collect()
        })
        .unwrap_or_else(|e| panic!("reading {table}: {e}"));
    rows.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    rows
}

/// The search_docs rows a search matches, on either backend.
fn matches(db: &dyn Db, words: &str) -> Vec<i64> {
    let query = Query::parse(words).expect("a query");
    let found = match db.dialect() {
        bolt_sql::Dialect::Sqlite => db.query_map(
            "SELECT rowid FROM search_fts WHERE search_fts MATCH ?1 ORDER BY rowid",
            params![query.fts5()],
            |r| r.get(0),
        ),
        bolt_sql::Dialect::Postgres => match query.tsquery() {
            Some(tsquery) => db.query_map(
                "SELECT rowid FROM search_fts WHERE text @@ CAST(?1 AS tsquery) ORDER BY rowid",
                params![tsquery],
                |r| r.get(0),
            ),
            None => Ok(Vec::new()),
        },
    };
    found.unwrap_or_else(|e| panic!("searching {words}: {e}"))
}

/// History's first pages, newest first, by keyset on the id.
fn history_pages(db: &dyn Db, state: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut below = "~".to_string();
    loop {
        let page: Vec<String> = db
            .query_map(
                "SELECT id FROM work_orders WHERE state = ?1 AND id < ?2 ORDER BY id DESC LIMIT 40",
                params![state, below],
                |r| r.get(0),
            )
            .expect("a history page");
        let Some(last) = page.last() else {
            return pages;
        };
        below = last.clone();
        pages.push(page);
    }
}

/// A work order's runs, steps and log lines as `bolt show` and `bolt logs` read them.
fn work_order_detail(db: &dyn Db, work_order_id: &str) -> Vec<(String, String, String, String)> {
    db.query_map(
        "SELECT r.state, s.job_key, COALESCE(s.exit_reason, ''), l.message
         FROM runs r JOIN run_steps rs ON rs.run_id = r.id JOIN steps s ON s.id = rs.step_id
         JOIN log_lines l ON l.run_id = r.id AND l.step_id = s.id
         WHERE r.work_order_id = ?1 ORDER BY r.id, s.id, l.id",
        params![work_order_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .expect("a work order's detail")
}

#[test]
fn a_store_is_copied_and_answers_the_same_on_postgres() {
    let source = source_store(300);
    let Some((_scratch, pg)) = target() else {
        return;
    };
    let mut seen: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let copied = copy_between(&source.open(), "test store", &pg, &mut |p| {
        let entry = seen.entry(p.table.to_string()).or_default();
        assert!(p.done >= entry.0 && p.done <= p.total, "{p:?}");
        *entry = (p.done, p.total);
        ControlFlow::Continue(())
    })
    .expect("the copy");

    let sqlite = source.open();
    let sqlite: &dyn Db = &sqlite;
    let pg: &dyn Db = &pg;
    // Counts, as reported and as progress ended.
    let count = |table: &str| {
        copied
            .tables
            .iter()
            .find(|t| t.table == table)
            .map(|t| t.rows)
    };
    assert_eq!(count("work_orders"), Some(source.work_orders as u64));
    assert_eq!(count("log_lines"), Some(2 * source.work_orders as u64));
    assert_eq!(copied.credentials, 1);
    assert_eq!(copied.key_check.as_deref(), Some("check-abc"));
    for table in &copied.tables {
        assert_eq!(
            seen[&table.table],
            (table.rows, table.rows),
            "{}",
            table.table
        );
    }
    let docs = seen[SEARCH_INDEX].1;
    assert!(
        docs > 2 * source.work_orders as u64,
        "{docs} search documents"
    );
    assert_eq!(copied.search_documents, docs);
    // Foreign keys first: a table comes after the tables it refers to.
    let position = |t: &str| copied.tables.iter().position(|c| c.table == t).expect(t);
    for (parent, child) in [
        ("projects", "workflows"),
        ("workflow_versions", "work_orders"),
        ("dataclips", "work_orders"),
        ("work_orders", "runs"),
        ("runs", "steps"),
        ("steps", "run_steps"),
        ("runs", "log_lines"),
    ] {
        assert!(
            position(parent) < position(child),
            "{parent} before {child}"
        );
    }

    // Every row of every table, value for value (credentials still sealed).
    let plan = plan(&source.open(), &_scratch.connect().expect("connect")).expect("the plan");
    for table in &plan {
        assert_eq!(
            rows(sqlite, &table.name, &table.columns),
            rows(pg, &table.name, &table.columns),
            "table {}",
            table.name
        );
    }
    let no_marker: Option<String> = pg
        .query_value(
            "SELECT value FROM store_meta WHERE key = ?1",
            params![MARKER_KEY],
        )
        .expect("read store_meta");
    assert_eq!(no_marker, None, "the copy's marker is gone once verified");

    // The same answers from the store's reads.
    assert_eq!(
        format!("{:?}", credentials::listed(sqlite).expect("listed")),
        format!("{:?}", credentials::listed(pg).expect("listed"))
    );
    assert_eq!(
        credentials::sealed_body(pg, "dhis2").expect("sealed"),
        Some(vec![0, 159, 146, 150, 7, 1, 2, 3])
    );
    let filter = bolt_shared::audit::AuditFilter::default();
    assert_eq!(
        format!(
            "{:?}",
            crate::audit::query::list(sqlite, &filter).expect("audit")
        ),
        format!(
            "{:?}",
            crate::audit::query::list(pg, &filter).expect("audit")
        )
    );
    for state in ["success", "failed"] {
        let pages = history_pages(sqlite, state);
        assert!(!pages.is_empty(), "{state}");
        assert_eq!(pages, history_pages(pg, state), "history of {state}");
    }
    let some_work_order: String = sqlite
        .query_one(
            "SELECT id FROM work_orders ORDER BY id LIMIT 1 OFFSET 17",
            params![],
        )
        .expect("a work order");
    let detail = work_order_detail(sqlite, &some_work_order);
    assert_eq!(detail.len(), 2);
    assert_eq!(detail, work_order_detail(pg, &some_work_order));
    for words in [
        "malaria",
        "influenza p",
        "P-0017",
        "fetched patient",
        "user@example.com",
        "cafe",
        "refer*",
        "seen",
        "nothing-like-this",
    ] {
        let found = matches(sqlite, words);
        assert_eq!(found, matches(pg, words), "search {words:?}");
        if words != "nothing-like-this" {
            assert!(!found.is_empty(), "search {words:?} finds something");
        }
    }

    // The audit chain verifies there, and goes on from where it was.
    let sqlite_chain = crate::audit::chain::verify(sqlite).expect("verify on SQLite");
    let pg_chain = crate::audit::chain::verify(pg).expect("verify on PostgreSQL");
    assert!(pg_chain.broken.is_none(), "{pg_chain:?}");
    assert_eq!(pg_chain.checked, sqlite_chain.checked);
    assert!(pg_chain.checked >= 5);
    let next = crate::audit::record_as(pg, "tester", "credential.updated", "after", None)
        .expect("an event after the copy");
    assert_eq!(next, sqlite_chain.last_id.expect("events") + 1);
    assert!(
        crate::audit::chain::verify(pg)
            .expect("verify")
            .broken
            .is_none()
    );

    // New rows get ids after the copied ones.
    let run_id: String = pg
        .query_one("SELECT id FROM runs LIMIT 1", params![])
        .expect("a run");
    let new_log: i64 = pg
        .query_one(
            "INSERT INTO log_lines (run_id, source, level, message, timestamp) VALUES (?1, 'JOB', 'info', 'x', 0) RETURNING id",
            params![run_id],
        )
        .expect("a new log line");
    assert_eq!(new_log, 2 * source.work_orders as i64 + 1);
    let new_doc: i64 = pg
        .query_one(
            "INSERT INTO search_docs (work_order_id, source, ref_id) VALUES ('w', 'log', '1') RETURNING rowid",
            params![],
        )
        .expect("a new search document");
    let max_doc: i64 = sqlite
        .query_one("SELECT MAX(rowid) FROM search_docs", params![])
        .expect("max");
    assert_eq!(new_doc, max_doc + 1);
    // The triggers are on again: a deleted work order leaves its count.
    let counted = |db: &dyn Db| -> i64 {
        db.query_one(
            "SELECT COALESCE(SUM(n), 0) FROM work_order_counts",
            params![],
        )
        .expect("counts")
    };
    assert_eq!(counted(pg), source.work_orders as i64);
    pg.execute(
        "DELETE FROM work_orders WHERE id = ?1",
        params![some_work_order],
    )
    .expect("delete a work order");
    assert_eq!(counted(pg), source.work_orders as i64 - 1);
}

#[test]
fn a_database_holding_bolt_data_is_refused_and_left_as_it_was() {
    let source = source_store(3);
    let Some((_scratch, pg)) = target() else {
        return;
    };
    pg::migrate(&pg, schema::POSTGRES).expect("migrate");
    pg.execute(
        "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('theirs', 'theirs', 0, 0)",
        params![],
    )
    .expect("a project of someone else");
    let err = copy_quietly(&source, &pg).expect_err("refused");
    assert!(
        matches!(&err, CopyError::TargetNotEmpty { table } if table == "projects"),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("table projects has rows") && text.contains("empty database"),
        "{text}"
    );
    let projects: Vec<String> = pg
        .query_map("SELECT id FROM projects", params![], |r| r.get(0))
        .expect("projects");
    assert_eq!(projects, ["theirs"]);
    let meta: i64 = pg
        .query_one("SELECT COUNT(*) FROM store_meta", params![])
        .expect("meta");
    assert_eq!(meta, 1, "only the migration's own row");

    // A finished copy is refused the same way the second time.
    let Some((_scratch, pg)) = target() else {
        return;
    };
    copy_quietly(&source, &pg).expect("the first copy");
    let err = copy_quietly(&source, &pg).expect_err("the second copy is refused");
    assert!(matches!(err, CopyError::TargetNotEmpty { .. }), "{err}");
}

#[test]
fn a_copy_stopped_midway_is_named_by_the_next_one() {
    let source = source_store(300);
    let Some((_scratch, pg)) = target() else {
        return;
    };
    let err = copy_between(&source.open(), "test store", &pg, &mut |p| {
        if p.table == "dataclips" && p.done > 0 && p.done < p.total {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .expect_err("stopped");
    let text = err.to_string();
    assert!(
        text.contains("stopped in table dataclips after 500 of 600 rows")
            && text.contains("drop and recreate"),
        "{text}"
    );
    let err = copy_quietly(&source, &pg).expect_err("the half-filled database is refused");
    let text = err.to_string();
    assert!(matches!(err, CopyError::Unfinished { .. }), "{text}");
    assert!(
        text.contains("in table dataclips after 500 of 600 rows")
            && text.contains("Drop and recreate the database"),
        "{text}"
    );
}

#[test]
fn only_a_store_at_the_current_schema_is_copied() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join(DB_FILE);
    let err = open_source(&path).expect_err("no store");
    assert!(err.to_string().contains("no bolt store"), "{err}");
    drop(Store::open(dir.path(), 1).expect("a store"));
    open_source(&path).expect("a current store opens");
    let conn = open_connection(&path).expect("open");
    conn.pragma_update(None, "user_version", migrations::latest() - 1)
        .expect("an older version");
    let err = open_source(&path).expect_err("an older store");
    assert!(
        err.to_string()
            .contains("start boltd (this version) once on it"),
        "{err}"
    );
    conn.pragma_update(None, "user_version", migrations::latest() + 1)
        .expect("a newer version");
    let err = open_source(&path).expect_err("a newer store");
    assert!(err.to_string().contains("upgrade bolt"), "{err}");
}

#[test]
fn documents_are_indexed_as_the_store_indexed_them() {
    let body = json!({"b": "Word", "a": [1, true, null, {"c": "x y"}]});
    assert_eq!(
        indexed_text("output", body.to_string()),
        dataclips::index_text(&body)
    );
    assert_eq!(
        indexed_text("input", "not json at all".into()),
        "not json at all"
    );
    assert_eq!(indexed_text("log", "{\"k\": 1}".into()), "{\"k\": 1}");
    let long = "é".repeat(MAX_INDEXED_CHARS + 10);
    assert_eq!(indexed_text("log", long).chars().count(), MAX_INDEXED_CHARS);
}

#[test]
fn a_page_of_big_rows_ends_early_and_the_keyset_goes_on_from_its_last_key() {
    let conn = Connection::open_in_memory().expect("a database");
    conn.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY, body TEXT)")
        .expect("a table");
    let big = "x".repeat(BATCH_BYTES / 2);
    for id in ["a", "b", "c", "d", "e"] {
        conn.execute("INSERT INTO t VALUES (?1, ?2)", rusqlite::params![id, big])
            .expect("a big row");
    }
    let table = TablePlan {
        name: "t".into(),
        columns: vec!["id".into(), "body".into()],
        key: vec![0],
        identity: Vec::new(),
        has_triggers: false,
    };
    let first = read_page(&conn, &select_page(&table, false, 100), &[], 100).expect("a page");
    assert_eq!(first.len(), 2, "two halves of the byte budget make a page");
    let after = [first[1][0].clone()];
    let next = read_page(&conn, &select_page(&table, true, 100), &after, 100).expect("a page");
    assert_eq!(next[0][0], Value::Text("c".into()));
}
