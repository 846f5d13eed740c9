//! Search pages and header counts against a real store with hand-made history.

use super::*;
use crate::store::{DB_FILE, Store, dataclips, open_connection};
use chrono::{DateTime, Utc};
use rusqlite::params;
use std::collections::HashSet;

/// A store with a project and two workflows (`alpha`, `beta`) and a connection to write to.
struct Fixture {
    _dir: tempfile::TempDir,
    conn: Connection,
    /// Received time of the next work order (microseconds); advances 7 minutes each.
    clock: i64,
    runs: u64,
}

const START: i64 = 1_780_000_000_000_000; // 2026-05-28

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path(), 1).unwrap());
        let conn = open_connection(&dir.path().join(DB_FILE)).unwrap();
        conn.execute_batch(
            "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'proj', 0, 0);
             INSERT INTO workflows (id, project_id, key, name, created_at, updated_at) VALUES
                 ('wf-a', 'p', 'alpha', 'Alpha', 0, 0), ('wf-b', 'p', 'beta', 'Beta', 0, 0);
             INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES
                 ('v-a', 'wf-a', 1, '{}', 'h', 0), ('v-b', 'wf-b', 1, '{}', 'h', 0);",
        )
        .unwrap();
        Fixture {
            _dir: dir,
            conn,
            clock: START,
            runs: 0,
        }
    }

    fn id_at(micros: i64) -> String {
        let micros = micros as u64;
        let ts = uuid::Timestamp::from_unix(
            uuid::NoContext,
            micros / 1_000_000,
            ((micros % 1_000_000) * 1000) as u32,
        );
        uuid::Uuid::new_v7(ts).to_string()
    }

    /// A work order with an input, an output and a log line, each indexed.
    fn add(&mut self, workflow: &str, state: &str, input: &str, output: &str, log: &str) -> String {
        self.clock += 7 * 60 * 1_000_000;
        let at = self.clock;
        let id = Self::id_at(at);
        let input_id = Self::id_at(at + 1);
        let output_id = Self::id_at(at + 2);
        self.runs += 1;
        let run_id = Self::id_at(at + 3);
        let c = &self.conn;
        for clip in [&input_id, &output_id] {
            c.execute(
                "INSERT INTO dataclips (id, project_id, type, body, created_at) VALUES (?1, 'p', 'global', ?2, ?3)",
                params![clip, if *clip == input_id { input } else { output }, at],
            )
            .unwrap();
        }
        c.execute(
            "INSERT INTO work_orders (id, workflow_id, version_id, origin, dataclip_id, state, received_at, last_activity, run_count)
             VALUES (?1, ?2, ?3, 'webhook', ?4, ?5, ?6, ?6, 1)",
            params![id, workflow, workflow.replace("wf", "v"), input_id, state, at],
        )
        .unwrap();
        c.execute(
            "INSERT INTO runs (id, work_order_id, version_id, origin, state, created_at) VALUES (?1, ?2, 'v-a', 'webhook', 'success', ?3)",
            params![run_id, id, at],
        )
        .unwrap();
        counts::record_new(c, workflow, at, state).unwrap();
        crate::refs::index_new(c, "work_orders", &id).unwrap();
        crate::refs::index_new(c, "runs", &run_id).unwrap();
        c.execute(
            "INSERT INTO log_lines (run_id, source, level, message, timestamp) VALUES (?1, 'JOB', 'info', ?2, ?3)",
            params![run_id, log, at],
        )
        .unwrap();
        let log_id = c.last_insert_rowid().to_string();
        dataclips::index(c, &id, "input", &input_id, input).unwrap();
        dataclips::index(c, &id, "output", &output_id, output).unwrap();
        dataclips::index(c, &id, "log", &log_id, log).unwrap();
        id
    }

    fn list(&self, filter: &WorkOrderFilter, limit: u32, after: Option<&str>) -> WorkOrderPage {
        list(&self.conn, filter, limit, after).unwrap()
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
    let mut fx = Fixture::new();
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
}

#[test]
fn search_pages_combine_with_status_workflow_and_dates() {
    let mut fx = Fixture::new();
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
}

#[test]
fn search_says_where_it_matched_and_finds_ids_and_short_refs() {
    let mut fx = Fixture::new();
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
    let run: String = fx
        .conn
        .query_row("SELECT id FROM runs WHERE work_order_id = ?1", [&c], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        source(&short_ref(&run)).0,
        c,
        "a run's short ref finds its work order"
    );
}

#[test]
fn counts_of_a_common_word_are_capped_and_say_so() {
    let mut fx = Fixture::new();
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
}

#[test]
fn bucketed_counts_equal_counting_the_rows_through_updates_and_deletes() {
    let mut fx = Fixture::new();
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
    // State changes go through the code that derives a work order's state from its runs;
    // deletes (retention) through the trigger.
    for id in ids.iter().step_by(7) {
        fx.conn
            .execute(
                "UPDATE runs SET state = 'crashed' WHERE work_order_id = ?1",
                [id],
            )
            .unwrap();
        crate::store::work_orders::refresh_work_order(&fx.conn, id).unwrap();
    }
    for id in ids.iter().step_by(11) {
        fx.conn
            .execute("DELETE FROM work_orders WHERE id = ?1", [id])
            .unwrap();
    }
    let span = fx.clock - START;
    let windows = [
        (None, None),
        (Some(START + span / 3 + 12_345), None),
        (None, Some(START + span / 2 + 999)),
        (Some(START + span / 5 + 1), Some(START + span * 4 / 5 - 1)),
        (
            Some(START + 1_000),
            Some(START + 1_000 + 30 * 60 * 1_000_000),
        ),
    ];
    for (since, until) in windows {
        for workflow in [None, Some("alpha"), Some("beta")] {
            let filter = WorkOrderFilter {
                states: vec![WorkOrderState::Failed],
                workflow: workflow.map(str::to_string),
                since: since.map(at),
                until: until.map(at),
                ..WorkOrderFilter::default()
            };
            let resolved = ResolvedFilter::new(&fx.conn, &filter).unwrap();
            let fast = counts::state_counts(&fx.conn, &resolved).unwrap();
            let unfiltered = WorkOrderFilter {
                states: Vec::new(),
                ..filter.clone()
            };
            let slow = counts::scan(&fx.conn, &unfiltered).unwrap();
            assert_eq!(
                sorted(fast),
                sorted(slow),
                "{since:?} {until:?} {workflow:?}"
            );
        }
    }
    let everything = counts::scan(&fx.conn, &WorkOrderFilter::default()).unwrap();
    assert_eq!(total(&everything), 400 - 400_u64.div_ceil(11));
    // A deleted workflow takes its work orders and their counts with it.
    fx.conn.execute("PRAGMA foreign_keys = ON", []).unwrap();
    fx.conn
        .execute("DELETE FROM workflows WHERE id = 'wf-b'", [])
        .unwrap();
    let (after, _) = super::counts(&fx.conn, &WorkOrderFilter::default()).unwrap();
    let scanned = counts::scan(&fx.conn, &WorkOrderFilter::default()).unwrap();
    assert_eq!(sorted(after.clone()), sorted(scanned));
    let unique: HashSet<_> = after.iter().map(|c| c.state).collect();
    assert_eq!(unique.len(), after.len());
}

#[test]
fn a_work_order_created_and_deleted_in_one_write_batch_leaves_its_bucket_at_zero() {
    let mut fx = Fixture::new();
    // As on the store's writer thread: the +1 waits for the end of the batch.
    crate::store::fts_queue::queue_on_this_thread();
    let id = fx.add("wf-a", "success", "{}", "{}", "l");
    fx.conn
        .execute("DELETE FROM work_orders WHERE id = ?1", [&id])
        .unwrap();
    crate::store::fts_queue::insert_all(&fx.conn, crate::store::fts_queue::take()).unwrap();
    let total: i64 = fx
        .conn
        .query_row(
            "SELECT COALESCE(SUM(n), 0) FROM work_order_counts",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(total, 0);
}
