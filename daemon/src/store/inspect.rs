//! Inspecting history in the store: a work order's runs and their steps, dataclips, a
//! run's log lines and the failure triage groups.

use super::{StoreError, StoreResult, from_micros};
use bolt_shared::model::*;
use bolt_sql::{Db, DbExt, Dialect, Sql, params};

const INPUT_OF_WORK_ORDER: &str = "SELECT dataclip_id FROM work_orders WHERE id = ?1";
const SOURCE_ADDRESS: &str = "SELECT source_address FROM work_orders WHERE id = ?1";
const VERSION_NUMBER: &str = "SELECT version FROM workflow_versions WHERE id = ?1";
const DATACLIP_REQUEST: &str = "SELECT request FROM dataclips WHERE id = ?1";

const DATACLIP: &str = "SELECT type, name, size_bytes, wiped_at, wipe_reason, CASE WHEN ?2 THEN body END FROM dataclips WHERE id = ?1";

const RUNS_OF_WORK_ORDER: &str = "SELECT id, state, error_type, error_message, origin, starting_job, version_id, created_at, claimed_at, started_at, finished_at, attempt,
                log_lines_dropped, log_bytes_dropped
         FROM runs WHERE work_order_id = ?1 ORDER BY id DESC";

const STEPS_OF_RUN: &str = "SELECT s.id, s.job_key, s.job_name, s.exit_reason, s.error_type, s.error_message, s.started_at, s.finished_at,
                s.input_dataclip_id, s.output_dataclip_id, rs.attached
         FROM run_steps rs JOIN steps s ON s.id = rs.step_id WHERE rs.run_id = ?1 ORDER BY s.started_at, s.id";

/// ?1 the run, ?2 the step (NULL: all), ?3 the line after which to start, ?4 the levels (a
/// JSON array), ?5 the most lines to read.
const LOG_LINES: Sql = Sql::new(
    "SELECT id, run_id, step_id, source, level, message, timestamp FROM log_lines
         WHERE run_id = ?1 AND (?2 IS NULL OR step_id = ?2) AND id > ?3
           AND level IN (SELECT value FROM json_each(?4))
         ORDER BY id LIMIT ?5",
    "SELECT id, run_id, step_id, source, level, message, timestamp FROM log_lines
         WHERE run_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR step_id = ?2) AND id > ?3
           AND level IN (SELECT json_array_elements_text(CAST(?4 AS json)))
         ORDER BY id LIMIT ?5",
);

/// PostgreSQL reads a query's rows before handing out the first: log lines are read in
/// pages of this many there, so a page that fills up early stops reading soon.
const LOG_LINES_PER_READ_POSTGRES: i64 = 500;

/// PostgreSQL groups by `w.id` (the same as `wo.workflow_id`), so that `w.name` may be
/// selected.
const FAILURES: Sql = Sql::new(
    "SELECT g.workflow, g.job, g.error_type, g.n, g.first_seen, g.last_seen, g.example, x.error_message FROM (
             SELECT w.name AS workflow, COALESCE(wo.error_job, '(run)') AS job, COALESCE(wo.error_type, wo.state) AS error_type,
                    COUNT(*) AS n, MIN(wo.received_at) AS first_seen, MAX(wo.last_activity) AS last_seen, MAX(wo.id) AS example
             FROM work_orders wo JOIN workflows w ON w.id = wo.workflow_id
             WHERE wo.state IN ('failed', 'crashed', 'killed', 'exception', 'lost') AND wo.last_activity >= ?1
             GROUP BY wo.workflow_id, wo.error_job, COALESCE(wo.error_type, wo.state)
         ) g JOIN work_orders x ON x.id = g.example ORDER BY g.n DESC, g.last_seen DESC",
    "SELECT g.workflow, g.job, g.error_type, g.n, g.first_seen, g.last_seen, g.example, x.error_message FROM (
             SELECT w.name AS workflow, COALESCE(wo.error_job, '(run)') AS job, COALESCE(wo.error_type, wo.state) AS error_type,
                    COUNT(*) AS n, MIN(wo.received_at) AS first_seen, MAX(wo.last_activity) AS last_seen, MAX(wo.id) AS example
             FROM work_orders wo JOIN workflows w ON w.id = wo.workflow_id
             WHERE wo.state IN ('failed', 'crashed', 'killed', 'exception', 'lost') AND wo.last_activity >= ?1
             GROUP BY w.id, wo.error_job, COALESCE(wo.error_type, wo.state)
         ) g JOIN work_orders x ON x.id = g.example ORDER BY g.n DESC, g.last_seen DESC",
);

/// A run of a work order, as `bolt show` lists it. Times are microseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub id: String,
    pub state: RunState,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    pub origin: Origin,
    pub starting_job: Option<String>,
    pub version_id: String,
    pub created_at: i64,
    pub claimed_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub attempt: u32,
    pub logs_dropped: LogsDropped,
}

/// A step of a run (executed by it, or attached from an earlier run). Times are
/// microseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRow {
    pub id: String,
    pub job_key: String,
    pub job_name: String,
    pub exit_reason: Option<ExitReason>,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub input_dataclip_id: Option<String>,
    pub output_dataclip_id: Option<String>,
    pub attached: bool,
}

/// Which log lines to read: of a run (or of one of its steps), after a line, at some levels.
pub struct LogQuery<'a> {
    pub run_id: &'a str,
    pub step_id: Option<&'a str>,
    /// Lines with a higher id than this (0: from the start).
    pub after_id: i64,
    pub levels: &'a [&'a str],
    /// The most lines to read.
    pub limit: i64,
}

/// The input dataclip of work order `id`; not found when there is no such work order.
pub fn work_order_input(db: &dyn Db, id: &str) -> StoreResult<Option<String>> {
    one(db, INPUT_OF_WORK_ORDER, id, "work order")
}

/// The address work order `id`'s webhook request came from.
pub fn source_address(db: &dyn Db, id: &str) -> StoreResult<Option<String>> {
    one(db, SOURCE_ADDRESS, id, "work order")
}

/// The number of workflow version `version_id`.
pub fn version_number(db: &dyn Db, version_id: &str) -> StoreResult<i64> {
    one(db, VERSION_NUMBER, version_id, "workflow version")
}

/// The one value `sql` reads for `id`; not found (naming `what`) when there is no row.
fn one<T: bolt_sql::FromValue>(db: &dyn Db, sql: &str, id: &str, what: &str) -> StoreResult<T> {
    db.query_row(sql, params![id], |r| r.get(0))?
        .ok_or_else(|| StoreError::NotFound(format!("{what} {id}")))
}

/// A dataclip's metadata, with its body when `with_body`; `None` when there is no such
/// dataclip.
pub fn dataclip(db: &dyn Db, id: &str, with_body: bool) -> StoreResult<Option<DataclipInfo>> {
    Ok(db.query_row(DATACLIP, params![id, with_body], |r| {
        Ok(DataclipInfo {
            id: id.to_string(),
            kind: DataclipType::parse(&r.get::<String>(0)?).unwrap_or(DataclipType::StepResult),
            name: r.get(1)?,
            size_bytes: r.get::<Option<i64>>(2)?.map(|n| n as u64),
            wiped_at: r.get::<Option<i64>>(3)?.map(from_micros),
            wipe_reason: r
                .get::<Option<String>>(4)?
                .and_then(|w| WipeReason::parse(&w)),
            body: r.get(5)?,
        })
    })?)
}

/// The HTTP request (its JSON text) stored with an http_request dataclip, if any.
pub fn dataclip_request(db: &dyn Db, id: &str) -> StoreResult<Option<String>> {
    Ok(db
        .query_value::<Option<String>>(DATACLIP_REQUEST, params![id])?
        .flatten())
}

/// The runs of work order `id`, newest first.
pub fn runs_of(db: &dyn Db, work_order_id: &str) -> StoreResult<Vec<RunRow>> {
    Ok(
        db.query_map(RUNS_OF_WORK_ORDER, params![work_order_id], |r| {
            Ok(RunRow {
                id: r.get(0)?,
                state: RunState::parse(&r.get::<String>(1)?).unwrap_or(RunState::Exception),
                error_type: r.get(2)?,
                error_message: r.get(3)?,
                origin: Origin::parse(&r.get::<String>(4)?).unwrap_or(Origin::Manual),
                starting_job: r.get(5)?,
                version_id: r.get(6)?,
                created_at: r.get(7)?,
                claimed_at: r.get(8)?,
                started_at: r.get(9)?,
                finished_at: r.get(10)?,
                attempt: r.get::<i64>(11)? as u32,
                logs_dropped: LogsDropped {
                    lines: r.get::<i64>(12)?.max(0) as u64,
                    bytes: r.get::<i64>(13)?.max(0) as u64,
                },
            })
        })?,
    )
}

/// The steps of run `run_id`, in the order they started.
pub fn steps_of(db: &dyn Db, run_id: &str) -> StoreResult<Vec<StepRow>> {
    Ok(db.query_map(STEPS_OF_RUN, params![run_id], |r| {
        Ok(StepRow {
            id: r.get(0)?,
            job_key: r.get(1)?,
            job_name: r.get(2)?,
            exit_reason: r
                .get::<Option<String>>(3)?
                .and_then(|e| ExitReason::parse(&e)),
            error_type: r.get(4)?,
            error_message: r.get(5)?,
            started_at: r.get(6)?,
            finished_at: r.get(7)?,
            input_dataclip_id: r.get(8)?,
            output_dataclip_id: r.get(9)?,
            attached: r.get(10)?,
        })
    })?)
}

/// Reads the log lines `query` selects, oldest first, handing each to `take` until it
/// returns false (the page is full) or the lines run out. SQLite reads lines one at a
/// time; PostgreSQL reads a query's rows all at once, so there they are read in smaller
/// pages, each after the last line read. Either way a page that fills up early never
/// holds the rest in memory.
pub fn log_lines(
    db: &dyn Db,
    query: &LogQuery,
    mut take: impl FnMut(LogLine) -> bool,
) -> StoreResult<()> {
    let levels =
        serde_json::to_string(query.levels).map_err(|e| StoreError::Internal(e.to_string()))?;
    let per_read = match db.dialect() {
        Dialect::Sqlite => query.limit,
        Dialect::Postgres => query.limit.min(LOG_LINES_PER_READ_POSTGRES),
    };
    let (mut after_id, mut left) = (query.after_id, query.limit);
    while left > 0 {
        let (want, from) = (per_read.min(left), after_id);
        let (mut read, mut full) = (0, false);
        db.query_while(
            db.sql(&LOG_LINES),
            params![query.run_id, query.step_id, from, levels, want],
            |r| {
                let line = log_line(r)?;
                read += 1;
                after_id = line.id;
                full = !take(line);
                Ok(!full)
            },
        )?;
        if full || read < want {
            break;
        }
        left -= read;
    }
    Ok(())
}

fn log_line(r: &bolt_sql::Row<'_>) -> bolt_sql::Result<LogLine> {
    Ok(LogLine {
        id: r.get(0)?,
        run_id: r.get(1)?,
        step_id: r.get(2)?,
        source: r.get(3)?,
        level: LogLevel::parse(&r.get::<String>(4)?).unwrap_or(LogLevel::Info),
        message: r.get(5)?,
        timestamp: from_micros(r.get(6)?),
    })
}

/// Failed work orders last active at or after `since` (microseconds), grouped by
/// (workflow, job, error type), the biggest groups first.
pub fn failures(db: &dyn Db, since: i64) -> StoreResult<Vec<FailureGroup>> {
    Ok(db.query_map(db.sql(&FAILURES), params![since], |r| {
        Ok(FailureGroup {
            workflow: r.get(0)?,
            job: r.get(1)?,
            error_type: r.get(2)?,
            count: r.get::<i64>(3)? as u64,
            first_seen: from_micros(r.get(4)?),
            last_seen: from_micros(r.get(5)?),
            example_ref: short_ref(&r.get::<String>(6)?),
            example_message: r.get(7)?,
        })
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite::{on_each_backend, seed};

    const HISTORY: &str = "
        INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0);
        INSERT INTO workflows (id, project_id, key, name, created_at, updated_at) VALUES ('w', 'p', 'w', 'Flow', 0, 0);
        INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v', 'w', 3, '{}', 'h', 0);
        INSERT INTO dataclips (id, project_id, type, body, request, name, size_bytes, created_at)
            VALUES ('in', 'p', 'http_request', '{\"a\":1}', '{\"method\":\"POST\"}', NULL, 7, 0),
                   ('out', 'p', 'step_result', '{\"b\":2}', NULL, 'saved', 7, 0);
        INSERT INTO dataclips (id, project_id, type, wiped_at, wipe_reason, created_at)
            VALUES ('gone', 'p', 'step_result', 9, 'retention', 0);
        INSERT INTO work_orders (id, workflow_id, version_id, origin, dataclip_id, state, received_at, last_activity, source_address)
            VALUES ('wo', 'w', 'v', 'webhook', 'in', 'success', 0, 0, '10.0.0.1');
        INSERT INTO runs (id, work_order_id, version_id, origin, state, error_type, error_message, starting_job,
                          attempt, created_at, claimed_at, started_at, finished_at, log_lines_dropped, log_bytes_dropped)
            VALUES ('r1', 'wo', 'v', 'webhook', 'failed', 'TypeError', 'boom', NULL, 1, 1, 2, 3, 4, 0, 0),
                   ('r2', 'wo', 'v', 'retry', 'success', NULL, NULL, 'j2', 2, 5, NULL, NULL, NULL, 3, 300);
        INSERT INTO steps (id, run_id, job_key, job_name, input_dataclip_id, output_dataclip_id, exit_reason, started_at, finished_at)
            VALUES ('s1', 'r1', 'j1', 'Job one', 'in', 'out', 'success', 10, 20),
                   ('s2', 'r2', 'j2', 'Job two', 'out', NULL, NULL, 30, NULL);
        INSERT INTO run_steps (run_id, step_id, attached) VALUES ('r1', 's1', 0), ('r2', 's1', 1), ('r2', 's2', 0);";

    #[test]
    fn a_work_order_its_runs_steps_and_dataclips() {
        on_each_backend(|db| {
            seed(db, HISTORY);
            assert_eq!(work_order_input(db, "wo").unwrap().as_deref(), Some("in"));
            assert!(matches!(
                work_order_input(db, "nope"),
                Err(StoreError::NotFound(_))
            ));
            assert_eq!(
                source_address(db, "wo").unwrap().as_deref(),
                Some("10.0.0.1")
            );
            assert_eq!(version_number(db, "v").unwrap(), 3);
            assert!(matches!(
                version_number(db, "nope"),
                Err(StoreError::NotFound(_))
            ));

            let with_body = dataclip(db, "in", true).unwrap().unwrap();
            assert_eq!(with_body.kind, DataclipType::HttpRequest);
            assert_eq!(with_body.body.as_deref(), Some(r#"{"a":1}"#));
            assert_eq!(with_body.size_bytes, Some(7));
            assert_eq!(dataclip(db, "in", false).unwrap().unwrap().body, None);
            assert_eq!(
                dataclip(db, "out", true).unwrap().unwrap().name.as_deref(),
                Some("saved")
            );
            let gone = dataclip(db, "gone", true).unwrap().unwrap();
            assert_eq!(gone.wipe_reason, Some(WipeReason::Retention));
            assert_eq!(gone.wiped_at, Some(from_micros(9)));
            assert_eq!(dataclip(db, "nope", true).unwrap(), None);
            assert_eq!(
                dataclip_request(db, "in").unwrap().as_deref(),
                Some(r#"{"method":"POST"}"#)
            );
            assert_eq!(dataclip_request(db, "out").unwrap(), None);
            assert_eq!(dataclip_request(db, "nope").unwrap(), None);

            let runs = runs_of(db, "wo").unwrap();
            let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
            assert_eq!(ids, ["r2", "r1"]);
            assert_eq!(runs[0].origin, Origin::Retry);
            assert_eq!(runs[0].starting_job.as_deref(), Some("j2"));
            assert_eq!(runs[0].attempt, 2);
            assert_eq!(
                runs[0].logs_dropped,
                LogsDropped {
                    lines: 3,
                    bytes: 300
                }
            );
            assert_eq!(runs[1].state, RunState::Failed);
            assert_eq!(runs[1].error_message.as_deref(), Some("boom"));
            assert_eq!(
                (runs[1].created_at, runs[1].claimed_at, runs[1].finished_at),
                (1, Some(2), Some(4))
            );

            let steps = steps_of(db, "r2").unwrap();
            let seen: Vec<(&str, bool)> =
                steps.iter().map(|s| (s.id.as_str(), s.attached)).collect();
            assert_eq!(seen, [("s1", true), ("s2", false)]);
            assert_eq!(steps[0].exit_reason, Some(ExitReason::Success));
            assert_eq!(
                (steps[0].input_dataclip_id.as_deref(), steps[0].finished_at),
                (Some("in"), Some(20))
            );
            assert_eq!(steps[1].job_name, "Job two");
            assert!(steps_of(db, "nope").unwrap().is_empty());
        });
    }

    /// 1200 lines of run `r1`: even ids from step `s1`, every third line at debug level.
    fn seed_log_lines(db: &dyn Db) {
        db.in_transaction(|tx| -> StoreResult<()> {
            for id in 1..=1200i64 {
                let step = (id % 2 == 0).then_some("s1");
                let level = if id % 3 == 0 { "debug" } else { "info" };
                tx.execute(
                    "INSERT INTO log_lines (id, run_id, step_id, source, level, message, timestamp)
                     VALUES (?1, 'r1', ?2, 'job', ?3, ?4, ?5)",
                    params![id, step, level, format!("line {id}"), id * 10],
                )?;
            }
            Ok(())
        })
        .unwrap();
    }

    fn read(db: &dyn Db, query: &LogQuery) -> Vec<LogLine> {
        let mut lines = Vec::new();
        log_lines(db, query, |line| {
            lines.push(line);
            true
        })
        .unwrap();
        lines
    }

    fn ids(lines: &[LogLine]) -> Vec<i64> {
        lines.iter().map(|l| l.id).collect()
    }

    #[test]
    fn log_lines_are_read_in_order_filtered_and_stop_when_the_page_is_full() {
        const ALL: &[&str] = &["debug", "info", "warn", "error", "success", "always"];
        on_each_backend(|db| {
            seed(db, HISTORY);
            seed_log_lines(db);
            let all = LogQuery {
                run_id: "r1",
                step_id: None,
                after_id: 0,
                levels: ALL,
                limit: 2000,
            };
            let lines = read(db, &all);
            assert_eq!(ids(&lines), (1..=1200).collect::<Vec<_>>());
            assert_eq!(
                lines[1],
                LogLine {
                    id: 2,
                    run_id: "r1".into(),
                    step_id: Some("s1".into()),
                    source: "job".into(),
                    level: LogLevel::Info,
                    message: "line 2".into(),
                    timestamp: from_micros(20),
                }
            );
            let info = read(
                db,
                &LogQuery {
                    levels: &["info"],
                    ..all
                },
            );
            assert_eq!(info.len(), 800);
            assert!(info.iter().all(|l| l.level == LogLevel::Info));
            let step = read(
                db,
                &LogQuery {
                    step_id: Some("s1"),
                    ..all
                },
            );
            assert_eq!(step.len(), 600);
            assert!(step.iter().all(|l| l.id % 2 == 0));
            let after = read(
                db,
                &LogQuery {
                    after_id: 1000,
                    ..all
                },
            );
            assert_eq!(ids(&after), (1001..=1200).collect::<Vec<_>>());
            let limited = read(db, &LogQuery { limit: 700, ..all });
            assert_eq!(ids(&limited), (1..=700).collect::<Vec<_>>());
            assert!(
                read(
                    db,
                    &LogQuery {
                        run_id: "r2",
                        ..all
                    }
                )
                .is_empty()
            );

            // `take` is not called again once it said the page is full.
            let mut calls = 0;
            log_lines(db, &all, |_| {
                calls += 1;
                calls < 550
            })
            .unwrap();
            assert_eq!(calls, 550);
        });
    }

    #[test]
    fn failures_are_grouped_by_workflow_job_and_error() {
        on_each_backend(|db| {
            seed(
                db,
                "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0);
                 INSERT INTO workflows (id, project_id, key, name, created_at, updated_at) VALUES ('w', 'p', 'w', 'Flow', 0, 0);
                 INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v', 'w', 1, '{}', 'h', 0);
                 INSERT INTO work_orders (id, workflow_id, version_id, origin, state, received_at, last_activity, error_job, error_type, error_message) VALUES
                     ('0190a1b2-0000-7000-8000-00000000000a', 'w', 'v', 'webhook', 'failed', 5, 10, 'j1', 'TypeError', 'bad 1'),
                     ('0190a1b2-0000-7000-8000-00000000000b', 'w', 'v', 'webhook', 'failed', 6, 20, 'j1', 'TypeError', 'bad 2'),
                     ('0190a1b2-0000-7000-8000-00000000000c', 'w', 'v', 'webhook', 'crashed', 7, 15, NULL, NULL, NULL),
                     ('0190a1b2-0000-7000-8000-00000000000d', 'w', 'v', 'webhook', 'success', 8, 30, NULL, NULL, NULL);",
            );
            let groups = failures(db, 0).unwrap();
            assert_eq!(
                groups,
                [
                    FailureGroup {
                        workflow: "Flow".into(),
                        job: "j1".into(),
                        error_type: "TypeError".into(),
                        count: 2,
                        first_seen: from_micros(5),
                        last_seen: from_micros(20),
                        example_ref: short_ref("0190a1b2-0000-7000-8000-00000000000b"),
                        example_message: Some("bad 2".into()),
                    },
                    FailureGroup {
                        workflow: "Flow".into(),
                        job: "(run)".into(),
                        error_type: "crashed".into(),
                        count: 1,
                        first_seen: from_micros(7),
                        last_seen: from_micros(15),
                        example_ref: short_ref("0190a1b2-0000-7000-8000-00000000000c"),
                        example_message: None,
                    },
                ]
            );
            let recent = failures(db, 16).unwrap();
            assert_eq!(recent.len(), 1);
            assert_eq!(recent[0].count, 1);
        });
    }
}
