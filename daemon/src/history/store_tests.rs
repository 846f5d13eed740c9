//! Search pages and header counts against a real store with hand-made history, on SQLite
//! and PostgreSQL (the store suite), and the same history read the same on both.

use super::*;
use crate::store::search::seed;
use crate::store::{DB_FILE, Store, open_connection, suite};
use bolt_sql::{DbExt, Dialect, params};
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::sync::Mutex;

const START: i64 = 1_780_000_000_000_000; // 2026-05-28
const HOUR: i64 = 3_600_000_000;

const WORKFLOWS: &str =
    "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'proj', 0, 0);
     INSERT INTO workflows (id, project_id, key, name, created_at, updated_at) VALUES
         ('wf-a', 'p', 'alpha', 'Alpha', 0, 0), ('wf-b', 'p', 'beta', 'Beta', 0, 0);
     INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES
         ('v-a', 'wf-a', 1, '{}', 'h', 0), ('v-b', 'wf-b', 1, '{}', 'h', 0);";

/// A store with a project and two workflows (`alpha`, `beta`), written by hand as the
/// store writes history: rows, hourly count buckets, short refs (SQLite's index) and
/// indexed documents.
struct Fixture<'a> {
    db: &'a dyn Db,
    /// Received time of the next work order (microseconds); advances 7 minutes each.
    clock: i64,
    /// Ids made so far: their random bits, so both backends get the same ids.
    made: u64,
}

impl<'a> Fixture<'a> {
    fn new(db: &'a dyn Db) -> Fixture<'a> {
        suite::seed(db, WORKFLOWS);
        Fixture {
            db,
            clock: START,
            made: 0,
        }
    }

    /// A UUID v7 of time `micros`.
    fn id_at(&mut self, micros: i64) -> String {
        self.made += 1;
        let mut bits = [0u8; 10];
        bits[2..].copy_from_slice(&self.made.to_be_bytes());
        uuid::Builder::from_unix_timestamp_millis((micros / 1000) as u64, &bits)
            .into_uuid()
            .to_string()
    }

    fn exec(&self, sql: &str, params: &[bolt_sql::ValueRef<'_>]) {
        self.db.execute(sql, params).unwrap();
    }

    /// A work order with an input, an output and a log line, each indexed.
    fn add(&mut self, workflow: &str, state: &str, input: &str, output: &str, log: &str) -> String {
        self.clock += 7 * 60 * 1_000_000;
        let at = self.clock;
        let id = self.id_at(at);
        let input_id = self.id_at(at + 1);
        let output_id = self.id_at(at + 2);
        let run_id = self.id_at(at + 3);
        for (clip, body) in [(&input_id, input), (&output_id, output)] {
            self.exec(
                "INSERT INTO dataclips (id, project_id, type, body, created_at) VALUES (?1, 'p', 'global', ?2, ?3)",
                params![clip, body, at],
            );
        }
        self.exec(
            "INSERT INTO work_orders (id, workflow_id, version_id, origin, dataclip_id, state, received_at, last_activity, run_count)
             VALUES (?1, ?2, ?3, 'webhook', ?4, ?5, ?6, ?6, 1)",
            params![id, workflow, workflow.replace("wf", "v"), input_id, state, at],
        );
        self.exec(
            "INSERT INTO runs (id, work_order_id, version_id, origin, state, created_at) VALUES (?1, ?2, 'v-a', 'webhook', 'success', ?3)",
            params![run_id, id, at],
        );
        self.bump(workflow, at, state, 1);
        self.short_ref('w', &id);
        self.short_ref('r', &run_id);
        let log_id: i64 = self
            .db
            .query_one(
                "INSERT INTO log_lines (run_id, source, level, message, timestamp) VALUES (?1, 'JOB', 'info', ?2, ?3) RETURNING id",
                params![run_id, log, at],
            )
            .unwrap();
        seed::index(self.db, &id, "input", &input_id, input);
        seed::index(self.db, &id, "output", &output_id, output);
        seed::index(self.db, &id, "log", &log_id.to_string(), log);
        id
    }

    /// What `counts::record_new`/`record_change` do to a bucket.
    fn bump(&self, workflow: &str, received_at: i64, state: &str, by: i64) {
        self.exec(
            "INSERT INTO work_order_counts (workflow_id, hour, state, n) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (workflow_id, hour, state) DO UPDATE SET n = work_order_counts.n + excluded.n",
            params![workflow, received_at.div_euclid(HOUR), state, by],
        );
    }

    /// SQLite's short-ref index entry (PostgreSQL indexes right(id, 8) by itself).
    fn short_ref(&self, letter: char, id: &str) {
        if self.db.dialect() == Dialect::Sqlite {
            let token = format!("{letter}{}", &id[id.len() - SHORT_REF_LEN..]);
            self.exec(
                "INSERT INTO short_refs (ref, id) VALUES (?1, ?2)",
                params![token, id],
            );
        }
    }

    /// A state change as the store makes one: the row and its buckets.
    fn set_state(&self, id: &str, to: &str) {
        let (workflow, received_at, from): (String, i64, String) = self
            .db
            .query_row(
                "SELECT workflow_id, received_at, state FROM work_orders WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
            .unwrap();
        self.exec(
            "UPDATE work_orders SET state = ?2 WHERE id = ?1",
            params![id, to],
        );
        if from != to {
            self.bump(&workflow, received_at, &from, -1);
            self.bump(&workflow, received_at, to, 1);
        }
    }

    fn run_of(&self, work_order_id: &str) -> String {
        self.db
            .query_one(
                "SELECT id FROM runs WHERE work_order_id = ?1",
                params![work_order_id],
            )
            .unwrap()
    }

    fn list(&self, filter: &WorkOrderFilter, limit: u32, after: Option<&str>) -> WorkOrderPage {
        list(self.db, filter, limit, after).unwrap()
    }

    /// Every page of a filter, following cursors.
    fn all_pages(&self, filter: &WorkOrderFilter, limit: u32) -> Vec<String> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.list(filter, limit, cursor.as_deref());
            ids.extend(page.rows.into_iter().map(|r| r.id));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return ids,
            }
        }
    }
}

/// A migrated SQLite store, for tests of code that still writes through rusqlite.
fn sqlite_store() -> (tempfile::TempDir, rusqlite::Connection) {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), 1).unwrap());
    let conn = open_connection(&dir.path().join(DB_FILE)).unwrap();
    (dir, conn)
}

fn search(text: &str) -> WorkOrderFilter {
    WorkOrderFilter {
        search: Some(text.into()),
        ..WorkOrderFilter::default()
    }
}

fn at(micros: i64) -> DateTime<Utc> {
    from_micros(micros)
}

fn sorted(mut counts: Vec<StateCount>) -> Vec<StateCount> {
    counts.sort_by_key(|c| c.state);
    counts
}

fn total(counts: &[StateCount]) -> u64 {
    counts.iter().map(|c| c.count).sum()
}

#[test]
fn a_common_word_lists_the_newest_page_and_later_pages_continue_without_repeats() {
    suite::on_each_backend(|db| {
        let mut fx = Fixture::new(db);
        let mut ids = Vec::new();
        for i in 0..300 {
            // Two documents of each work order hold the word: listed once.
            ids.push(fx.add(
                "wf-a",
                if i % 3 == 0 { "failed" } else { "success" },
                &format!(r#"{{"diagnosis": "malaria", "n": {i}}}"#),
                r#"{"diagnosis": "malaria", "saved": true}"#,
                &format!("record {i} done"),
            ));
        }
        ids.reverse();
        let first = fx.list(&search("malaria"), 50, None);
        let first_ids: Vec<String> = first.rows.iter().map(|r| r.id.clone()).collect();
        assert_eq!(first_ids, ids[..50], "newest first");
        assert_eq!(total(&first.counts), 300);
        assert!(!first.counts_capped);
        let hit = first.rows[0].hit.as_ref().unwrap();
        assert_eq!(
            hit.source,
            MatchSource::Output,
            "the newest matching document"
        );
        assert!(hit.snippet.contains("[malaria]"), "{}", hit.snippet);
        // New matches arriving between pages neither repeat nor push rows off the next page.
        for _ in 0..5 {
            fx.add("wf-a", "success", r#"{"d": "malaria"}"#, "{}", "late");
        }
        let mut seen = first_ids.clone();
        let mut cursor = first.next_cursor;
        while let Some(after) = cursor {
            let page = fx.list(&search("malaria"), 50, Some(&after));
            assert!(
                page.counts.is_empty(),
                "counts come with the first page only"
            );
            seen.extend(page.rows.into_iter().map(|r| r.id));
            cursor = page.next_cursor;
        }
        assert_eq!(seen, ids, "every match once, newest first");
    });
}

#[test]
fn search_pages_combine_with_status_workflow_and_dates() {
    suite::on_each_backend(|db| {
        let mut fx = Fixture::new(db);
        let mut all = Vec::new();
        for i in 0..120 {
            let workflow = if i % 2 == 0 { "wf-a" } else { "wf-b" };
            let state = ["success", "failed", "crashed"][i % 3];
            let word = if i % 5 == 0 { "cholera" } else { "fever" };
            let id = fx.add(
                workflow,
                state,
                &format!(r#"{{"dx": "{word}"}}"#),
                "{}",
                "ok",
            );
            all.push((id, workflow, state, word, fx.clock));
        }
        let since = START + 30 * 7 * 60 * 1_000_000 + 1;
        let until = START + 100 * 7 * 60 * 1_000_000 + 1;
        let filter = WorkOrderFilter {
            states: vec![WorkOrderState::Failed],
            workflow: Some("beta".into()),
            since: Some(at(since)),
            until: Some(at(until)),
            search: Some("fever".into()),
            ..WorkOrderFilter::default()
        };
        let in_window = |(_, w, _, word, t): &&(String, &str, &str, &str, i64)| {
            *w == "wf-b" && *word == "fever" && *t >= since && *t < until
        };
        let mut expected: Vec<String> = all
            .iter()
            .filter(in_window)
            .filter(|(_, _, s, _, _)| *s == "failed")
            .map(|(id, ..)| id.clone())
            .collect();
        expected.reverse();
        assert!(expected.len() > 5);
        assert_eq!(fx.all_pages(&filter, 4), expected);
        // Counts ignore the state selection but keep the rest of the filter.
        let counted = all.iter().filter(in_window).count() as u64;
        assert_eq!(total(&fx.list(&filter, 4, None).counts), counted);
        let (counts, capped) = counts(db, &filter).unwrap();
        assert_eq!((total(&counts), capped), (counted, false));
        // A bulk rerun takes every match, oldest first.
        let mut rerun = expected.clone();
        rerun.reverse();
        assert_eq!(matching_ids(db, &filter).unwrap(), rerun);
    });
}

#[test]
fn search_says_where_it_matched_and_finds_ids_and_short_refs() {
    suite::on_each_backend(|db| {
        let mut fx = Fixture::new(db);
        let a = fx.add("wf-a", "success", r#"{"in": "zebra"}"#, "{}", "log");
        let b = fx.add("wf-a", "success", "{}", r#"{"out": "giraffe"}"#, "log");
        let c = fx.add("wf-a", "success", "{}", "{}", "ran the okapi step");
        let source = |text: &str| {
            let page = fx.list(&search(text), 10, None);
            assert_eq!(page.rows.len(), 1, "{text}");
            (page.rows[0].id.clone(), page.rows[0].hit.clone().unwrap())
        };
        assert_eq!(source("zebra").0, a);
        assert_eq!(source("zebra").1.source, MatchSource::Input);
        assert_eq!(source("giraffe").0, b);
        assert_eq!(source("giraffe").1.source, MatchSource::Output);
        assert_eq!(source("okapi").0, c);
        assert_eq!(source("okapi").1.source, MatchSource::Log);
        assert_eq!(source("okapi").1.snippet, "ran the [okapi] step");
        assert_eq!(source("ran OKAPI").0, c, "every word, any case");
        assert!(
            fx.list(&search("okap"), 10, None).rows.is_empty(),
            "whole words"
        );
        assert_eq!(source("okap*").0, c, "a trailing * asks for a prefix");
        assert_eq!(
            source(&short_ref(&b)),
            (
                b.clone(),
                SearchHit {
                    source: MatchSource::Id,
                    snippet: b.clone(),
                }
            )
        );
        assert_eq!(source(&a).0, a);
        assert_eq!(
            source(&short_ref(&fx.run_of(&c))).0,
            c,
            "a run's short ref finds its work order"
        );
        assert!(fx.list(&search("--"), 10, None).rows.is_empty());
    });
}

#[test]
fn counts_of_a_common_word_are_capped_and_say_so() {
    suite::on_each_backend(|db| {
        let mut fx = Fixture::new(db);
        for _ in 0..SEARCH_COUNT_LIMIT + 20 {
            fx.add("wf-a", "success", r#"{"w": "common"}"#, "{}", "x");
        }
        let page = fx.list(&search("common"), 10, None);
        assert_eq!(page.rows.len(), 10);
        assert!(page.counts_capped);
        assert_eq!(total(&page.counts), SEARCH_COUNT_LIMIT as u64);
        let rare = fx.list(&search("x"), 10, None);
        assert!(rare.counts_capped, "the log word is just as common");
        fx.add("wf-b", "failed", r#"{"w": "unique"}"#, "{}", "y");
        let unique = fx.list(&search("unique"), 10, None);
        assert!(!unique.counts_capped);
        assert_eq!(total(&unique.counts), 1);
    });
}

/// The windows and workflows the bucket test counts in, against the clock's span.
fn count_windows(span: i64) -> Vec<(Option<i64>, Option<i64>)> {
    vec![
        (None, None),
        (Some(START + span / 3 + 12_345), None),
        (None, Some(START + span / 2 + 999)),
        (Some(START + span / 5 + 1), Some(START + span * 4 / 5 - 1)),
        (
            Some(START + 1_000),
            Some(START + 1_000 + 30 * 60 * 1_000_000),
        ),
    ]
}

/// Header counts from the hourly buckets equal counting the rows, in every window.
fn assert_buckets_match_the_rows(db: &dyn Db, span: i64) {
    for (since, until) in count_windows(span) {
        for workflow in [None, Some("alpha"), Some("beta")] {
            let filter = WorkOrderFilter {
                states: vec![WorkOrderState::Failed],
                workflow: workflow.map(str::to_string),
                since: since.map(at),
                until: until.map(at),
                ..WorkOrderFilter::default()
            };
            let resolved = ResolvedFilter::new(db, &filter).unwrap();
            let fast = counts::state_counts(db, &resolved).unwrap();
            let unfiltered = WorkOrderFilter {
                states: Vec::new(),
                ..filter.clone()
            };
            let slow = counts::scan(db, &unfiltered).unwrap();
            assert_eq!(
                sorted(fast),
                sorted(slow),
                "{since:?} {until:?} {workflow:?}"
            );
        }
    }
}

#[test]
fn bucketed_counts_equal_counting_the_rows_through_updates_and_deletes() {
    suite::on_each_backend(|db| {
        let mut fx = Fixture::new(db);
        let mut ids = Vec::new();
        for i in 0..400 {
            let workflow = if i % 4 == 0 { "wf-b" } else { "wf-a" };
            ids.push(fx.add(
                workflow,
                ["success", "failed", "pending"][i % 3],
                "{}",
                "{}",
                "l",
            ));
        }
        for id in ids.iter().step_by(7) {
            fx.set_state(id, "crashed");
        }
        // Deletes (retention) are counted by the database's trigger.
        for id in ids.iter().step_by(11) {
            fx.exec("DELETE FROM work_orders WHERE id = ?1", params![id]);
        }
        assert_buckets_match_the_rows(db, fx.clock - START);
        let everything = counts::scan(db, &WorkOrderFilter::default()).unwrap();
        assert_eq!(total(&everything), 400 - 400_u64.div_ceil(11));
        // A deleted workflow takes its work orders and their counts with it.
        fx.exec("DELETE FROM workflows WHERE id = 'wf-b'", params![]);
        let (after, capped) = super::counts(db, &WorkOrderFilter::default()).unwrap();
        assert!(!capped);
        let scanned = counts::scan(db, &WorkOrderFilter::default()).unwrap();
        assert_eq!(sorted(after.clone()), sorted(scanned));
        let unique: HashSet<_> = after.iter().map(|c| c.state).collect();
        assert_eq!(unique.len(), after.len());
    });
}

/// State changes made by the code that derives a work order's state from its runs move
/// the buckets (that code still writes through rusqlite: SQLite only).
#[test]
fn state_changes_from_runs_keep_the_buckets_exact() {
    let (_dir, conn) = sqlite_store();
    let mut fx = Fixture::new(&conn);
    let ids: Vec<String> = (0..60)
        .map(|i| fx.add("wf-a", ["success", "failed"][i % 2], "{}", "{}", "l"))
        .collect();
    for id in ids.iter().step_by(3) {
        conn.execute(
            "UPDATE runs SET state = 'crashed' WHERE work_order_id = ?1",
            [id],
        )
        .unwrap();
        crate::store::work_orders::refresh_work_order(&conn, id).unwrap();
    }
    assert_buckets_match_the_rows(&conn, fx.clock - START);
    let crashed = counts::scan(
        &conn,
        &WorkOrderFilter {
            states: vec![WorkOrderState::Crashed],
            ..WorkOrderFilter::default()
        },
    )
    .unwrap();
    assert_eq!(total(&crashed), 20);
}

#[test]
fn a_work_order_created_and_deleted_in_one_write_batch_leaves_its_bucket_at_zero() {
    let (_dir, conn) = sqlite_store();
    conn.execute_batch(WORKFLOWS).unwrap();
    // As on the store's writer thread: the +1 waits for the end of the batch.
    crate::store::fts_queue::queue_on_this_thread();
    conn.execute(
        "INSERT INTO work_orders (id, workflow_id, version_id, origin, state, received_at, last_activity)
         VALUES ('wo', 'wf-a', 'v-a', 'manual', 'success', ?1, ?1)",
        [START],
    )
    .unwrap();
    counts::record_new(&conn, "wf-a", START, "success").unwrap();
    conn.execute("DELETE FROM work_orders WHERE id = 'wo'", [])
        .unwrap();
    crate::store::fts_queue::insert_all(&conn, crate::store::fts_queue::take()).unwrap();
    let total: i64 = conn
        .query_row(
            "SELECT COALESCE(SUM(n), 0) FROM work_order_counts",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(total, 0);
}

/// Everything the history browser reads of one seeded history, written down: pages (rows,
/// hits, cursors), counts and bulk-rerun ids.
fn transcript(db: &dyn Db) -> Vec<String> {
    let mut fx = Fixture::new(db);
    let words = ["malaria", "fever", "cholera", "measles"];
    let states = ["success", "failed", "crashed", "pending", "killed"];
    let mut ids = Vec::new();
    for i in 0..240_usize {
        let workflow = if i % 3 == 0 { "wf-b" } else { "wf-a" };
        let word = words[i % 4];
        let input = format!(
            r#"{{"patient": "P-{:04}", "dx": "{word}", "email": "nurse{}@clinic.example"}}"#,
            i % 50,
            i % 7
        );
        let output = if i % 10 == 0 {
            r#"{"referral": "Hôpital Général"}"#.to_string()
        } else {
            "{}".to_string()
        };
        let log = format!("visit {i}: {word} screening done");
        ids.push(fx.add(workflow, states[i % 5], &input, &output, &log));
        // Activity moves on for some (ties on the rest are broken by id).
        if i % 4 == 1 {
            fx.exec(
                "UPDATE work_orders SET last_activity = last_activity + ?2 WHERE id = ?1",
                params![ids[i], (i as i64 % 9) * HOUR],
            );
        }
    }
    for id in ids.iter().step_by(13) {
        fx.set_state(id, "failed");
    }
    let mut out = Vec::new();
    let span = fx.clock - START;
    let windowed = |text: Option<&str>, by: Option<TimeField>| WorkOrderFilter {
        states: vec![WorkOrderState::Failed, WorkOrderState::Success],
        workflow: Some("Alpha".into()),
        since: Some(at(START + span / 4 + 17)),
        until: Some(at(START + span * 3 / 4 - 5)),
        search: text.map(str::to_string),
        by,
    };
    let short = short_ref(&ids[77]);
    let run_ref = short_ref(&fx.run_of(&ids[78]));
    let filters = [
        WorkOrderFilter::default(),
        WorkOrderFilter {
            states: vec![WorkOrderState::Crashed],
            ..WorkOrderFilter::default()
        },
        windowed(None, None),
        windowed(None, Some(TimeField::Activity)),
        WorkOrderFilter {
            by: Some(TimeField::Activity),
            ..WorkOrderFilter::default()
        },
        search("malaria"),
        search("MALARIA screening"),
        search("mal*"),
        search("chol* done"),
        search("P-0042"),
        search("nurse3@clinic.example"),
        search("hopital"),
        search("général"),
        search("--"),
        search("nothing-like-this"),
        search(&short),
        search(&ids[5]),
        search(&run_ref),
        windowed(Some("fever"), None),
        windowed(Some("screening"), Some(TimeField::Activity)),
    ];
    for filter in &filters {
        let label = format!("{filter:?}");
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = list(db, filter, 9, cursor.as_deref()).unwrap();
            write_page(&mut out, &label, &page);
            pages += 1;
            match page.next_cursor {
                Some(next) if pages < 40 => cursor = Some(next),
                _ => break,
            }
        }
        let (counts, capped) = counts(db, filter).unwrap();
        out.push(format!("{label} counts {:?} {capped}", sorted(counts)));
        out.push(format!(
            "{label} rerun {:?}",
            matching_ids(db, filter).unwrap()
        ));
    }
    out
}

/// A page as transcript lines.
fn write_page(out: &mut Vec<String>, what: &str, page: &WorkOrderPage) {
    out.push(format!(
        "{what}: next {:?} counts {:?} capped {}",
        page.next_cursor,
        sorted(page.counts.clone()),
        page.counts_capped
    ));
    for row in &page.rows {
        out.push(format!(
            "  {} {:?} {} {:?} {} {:?}",
            row.id,
            row.state,
            row.workflow,
            row.hit,
            row.last_activity.timestamp_micros(),
            row.first_error.as_ref().map(|e| &e.job)
        ));
    }
}

#[test]
fn the_same_history_reads_the_same_on_both_backends() {
    let transcripts = Mutex::new(Vec::new());
    suite::on_each_backend(|db| {
        let written = transcript(db);
        // Spot checks of what the transcript holds (on each backend).
        assert!(written.iter().any(|l| l.contains("[malaria]")));
        assert!(written.iter().any(|l| l.contains("source: Id")));
        transcripts.lock().unwrap().push(written);
    });
    let transcripts = transcripts.into_inner().unwrap();
    if let [sqlite, postgres] = transcripts.as_slice() {
        for (i, (s, p)) in sqlite.iter().zip(postgres).enumerate() {
            assert_eq!(s, p, "line {i} differs (left SQLite, right PostgreSQL)");
        }
        assert_eq!(sqlite.len(), postgres.len());
    }
}
