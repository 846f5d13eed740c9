//! Run rows as the executor reads them: everything a claimed run needs, in one statement.

use super::{StoreError, StoreResult, now_micros};
use bolt_shared::model::RunState;
use bolt_sql::{Db, DbExt, Sql, params};

/// A claimed run with its workflow's settings and its input dataclip.
#[derive(Debug, Clone)]
pub struct RunToExecute {
    pub work_order_id: String,
    pub version_id: String,
    pub starting_job: Option<String>,
    pub dataclip_id: String,
    pub attempt: i64,
    pub project_id: String,
    /// The project's retention policy (`retain_all` or `erase_all`).
    pub retention_policy: String,
    pub max_attempts: i64,
    pub retry_backoff_secs: i64,
    pub run_timeout_secs: Option<i64>,
    pub memory_limit_mb: Option<i64>,
    /// The input dataclip's type, body (gone once wiped), webhook request and wipe reason.
    pub input_type: Option<String>,
    pub input_body: Option<String>,
    pub input_request: Option<String>,
    pub input_wipe_reason: Option<String>,
    /// The key of the trigger that made the work order, if any.
    pub trigger_key: Option<String>,
}

/// `+?1`, not `?1`: SQLite (3.50) re-prepares a join whose WHERE compares a column with a
/// bare bound parameter every time the value changes (the same plan, ~100 µs each time);
/// the unary plus keeps the plan and the prepared statement. PostgreSQL has no unary plus
/// on text (and keeps its plans anyway): there the comparison is plain.
const TO_EXECUTE: Sql = Sql::new(
    "SELECT r.work_order_id, r.version_id, r.starting_job, r.dataclip_id,
        r.attempt, w.project_id, p.retention_policy, w.max_attempts, w.retry_backoff_secs,
        w.run_timeout_secs, w.memory_limit_mb, d.type, d.body, d.request, d.wipe_reason, t.key
     FROM runs r JOIN work_orders wo ON wo.id = r.work_order_id
     JOIN workflows w ON w.id = wo.workflow_id JOIN projects p ON p.id = w.project_id
     LEFT JOIN dataclips d ON d.id = r.dataclip_id
     LEFT JOIN triggers t ON t.id = wo.trigger_id
     WHERE r.id = +?1",
    "SELECT r.work_order_id, r.version_id, r.starting_job, r.dataclip_id,
        r.attempt, w.project_id, p.retention_policy, w.max_attempts, w.retry_backoff_secs,
        w.run_timeout_secs, w.memory_limit_mb, d.type, d.body, d.request, d.wipe_reason, t.key
     FROM runs r JOIN work_orders wo ON wo.id = r.work_order_id
     JOIN workflows w ON w.id = wo.workflow_id JOIN projects p ON p.id = w.project_id
     LEFT JOIN dataclips d ON d.id = r.dataclip_id
     LEFT JOIN triggers t ON t.id = wo.trigger_id
     WHERE r.id = ?1",
);

/// A run that isn't there (a client sees "not found").
fn no_run(run_id: &str) -> StoreError {
    StoreError::NotFound(format!("run {run_id}"))
}

pub fn to_execute(db: &dyn Db, run_id: &str) -> StoreResult<RunToExecute> {
    db.query_row(db.sql(&TO_EXECUTE), params![run_id], |r| {
        Ok(RunToExecute {
            work_order_id: r.get(0)?,
            version_id: r.get(1)?,
            starting_job: r.get(2)?,
            dataclip_id: r.get(3)?,
            attempt: r.get(4)?,
            project_id: r.get(5)?,
            retention_policy: r.get(6)?,
            max_attempts: r.get(7)?,
            retry_backoff_secs: r.get(8)?,
            run_timeout_secs: r.get(9)?,
            memory_limit_mb: r.get(10)?,
            input_type: r.get(11)?,
            input_body: r.get(12)?,
            input_request: r.get(13)?,
            input_wipe_reason: r.get(14)?,
            trigger_key: r.get(15)?,
        })
    })?
    .ok_or_else(|| no_run(run_id))
}

/// How a run ended: its state, error and final state's body (if stored).
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub state: RunState,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    pub final_body: Option<String>,
}

/// `+?1` as in [`TO_EXECUTE`].
const END_OF: Sql = Sql::new(
    "SELECT r.state, r.error_type, r.error_message, d.body FROM runs r
             LEFT JOIN dataclips d ON d.id = r.final_dataclip_id WHERE r.id = +?1",
    "SELECT r.state, r.error_type, r.error_message, d.body FROM runs r
             LEFT JOIN dataclips d ON d.id = r.final_dataclip_id WHERE r.id = ?1",
);

pub fn end_of(db: &dyn Db, run_id: &str) -> StoreResult<Option<RunEnd>> {
    Ok(db.query_row(db.sql(&END_OF), params![run_id], |r| {
        Ok(RunEnd {
            state: RunState::parse(&r.get::<String>(0)?).unwrap_or(RunState::Exception),
            error_type: r.get(1)?,
            error_message: r.get(2)?,
            final_body: r.get(3)?,
        })
    })?)
}

/// The run queued after `run_id` in its work order (ids are time-ordered).
pub fn next_in_work_order(db: &dyn Db, run_id: &str) -> StoreResult<Option<String>> {
    Ok(db.query_value(
        "SELECT id FROM runs WHERE work_order_id = (SELECT work_order_id FROM runs WHERE id = ?1)
             AND id > ?1 ORDER BY id LIMIT 1",
        params![run_id],
    )?)
}

pub fn state_of(db: &dyn Db, run_id: &str) -> StoreResult<Option<RunState>> {
    let state: Option<String> =
        db.query_value("SELECT state FROM runs WHERE id = ?1", params![run_id])?;
    Ok(state.and_then(|s| RunState::parse(&s)))
}

/// Starts a claimed run.
pub fn mark_started(db: &dyn Db, run_id: &str) -> StoreResult<()> {
    db.execute(
        "UPDATE runs SET state = 'started', started_at = ?2 WHERE id = ?1",
        params![run_id, now_micros()],
    )?;
    Ok(())
}

/// Puts a claimed run that never started back in the queue; false if it had moved on.
pub fn release_claim(db: &dyn Db, run_id: &str) -> StoreResult<bool> {
    Ok(db.execute(
        "UPDATE runs SET state = 'available', claimed_at = NULL, node_id = NULL WHERE id = ?1 AND state = 'claimed'",
        params![run_id],
    )? > 0)
}

/// Ends a claimed or started run as an `ExecutionError` exception; false if it had
/// already ended.
pub fn end_as_exception(db: &dyn Db, run_id: &str, message: &str) -> StoreResult<bool> {
    Ok(db.execute(
        "UPDATE runs SET state = 'exception', error_type = 'ExecutionError', error_message = ?2,
             finished_at = ?3 WHERE id = ?1 AND state IN ('claimed', 'started')",
        params![run_id, message, now_micros()],
    )? > 0)
}

/// The work order a run belongs to.
pub fn work_order_of(db: &dyn Db, run_id: &str) -> StoreResult<Option<String>> {
    Ok(db.query_value(
        "SELECT work_order_id FROM runs WHERE id = ?1",
        params![run_id],
    )?)
}

/// How a run ended, as it is written.
pub struct Ending<'a> {
    pub state: RunState,
    pub error_type: Option<&'a str>,
    pub error_message: Option<&'a str>,
    pub final_dataclip_id: Option<&'a str>,
    /// Log lines and their bytes the run's log caps dropped.
    pub logs_dropped: (u64, u64),
}

pub fn record_end(db: &dyn Db, run_id: &str, ending: &Ending<'_>) -> StoreResult<()> {
    db.execute(
        "UPDATE runs SET state = ?2, error_type = ?3, error_message = ?4, finished_at = ?5,
         final_dataclip_id = ?6 WHERE id = ?1",
        params![
            run_id,
            ending.state.as_str(),
            ending.error_type,
            ending.error_message,
            now_micros(),
            ending.final_dataclip_id
        ],
    )?;
    let (lines, bytes) = ending.logs_dropped;
    if lines > 0 {
        db.execute(
            "UPDATE runs SET log_lines_dropped = ?2, log_bytes_dropped = ?3 WHERE id = ?1",
            params![run_id, lines as i64, bytes as i64],
        )?;
    }
    Ok(())
}

/// What a lost run's retry needs: the run, its workflow's retry policy and whether its
/// input is still there.
#[derive(Debug, Clone)]
pub struct LostRun {
    pub version_id: String,
    pub starting_job: Option<String>,
    pub dataclip_id: String,
    pub attempt: i64,
    pub max_attempts: i64,
    pub retry_backoff_secs: i64,
    /// The project's retention policy (`retain_all` or `erase_all`).
    pub retention_policy: String,
    pub input_body: Option<String>,
}

/// `+?1` as in [`TO_EXECUTE`].
const LOST: Sql = Sql::new(
    "SELECT r.version_id, r.starting_job, r.dataclip_id, r.attempt, w.max_attempts,
        w.retry_backoff_secs, p.retention_policy, d.body
     FROM runs r JOIN work_orders wo ON wo.id = r.work_order_id JOIN workflows w ON w.id = wo.workflow_id
     JOIN projects p ON p.id = w.project_id LEFT JOIN dataclips d ON d.id = r.dataclip_id WHERE r.id = +?1",
    "SELECT r.version_id, r.starting_job, r.dataclip_id, r.attempt, w.max_attempts,
        w.retry_backoff_secs, p.retention_policy, d.body
     FROM runs r JOIN work_orders wo ON wo.id = r.work_order_id JOIN workflows w ON w.id = wo.workflow_id
     JOIN projects p ON p.id = w.project_id LEFT JOIN dataclips d ON d.id = r.dataclip_id WHERE r.id = ?1",
);

pub fn lost(db: &dyn Db, run_id: &str) -> StoreResult<Option<LostRun>> {
    Ok(db.query_row(db.sql(&LOST), params![run_id], |r| {
        Ok(LostRun {
            version_id: r.get(0)?,
            starting_job: r.get(1)?,
            dataclip_id: r.get(2)?,
            attempt: r.get(3)?,
            max_attempts: r.get(4)?,
            retry_backoff_secs: r.get(5)?,
            retention_policy: r.get(6)?,
            input_body: r.get(7)?,
        })
    })?)
}

/// A run not yet ended, as queuing it again needs it.
#[derive(Debug, Clone)]
pub struct RunInFlight {
    pub work_order_id: String,
    pub version_id: String,
    pub starting_job: Option<String>,
    pub dataclip_id: Option<String>,
    pub attempt: i64,
    pub priority: i64,
    /// Whether its input's body is still stored.
    pub has_input: bool,
}

/// `+?1` as in [`TO_EXECUTE`].
const IN_FLIGHT: Sql = Sql::new(
    "SELECT r.work_order_id, r.version_id, r.starting_job, r.dataclip_id, r.attempt,
        r.priority, d.body IS NOT NULL
     FROM runs r LEFT JOIN dataclips d ON d.id = r.dataclip_id
     WHERE r.id = +?1 AND r.state IN ('available', 'claimed', 'started')",
    "SELECT r.work_order_id, r.version_id, r.starting_job, r.dataclip_id, r.attempt,
        r.priority, d.body IS NOT NULL
     FROM runs r LEFT JOIN dataclips d ON d.id = r.dataclip_id
     WHERE r.id = ?1 AND r.state IN ('available', 'claimed', 'started')",
);

/// The run, unless it has ended.
pub fn in_flight(db: &dyn Db, run_id: &str) -> StoreResult<Option<RunInFlight>> {
    Ok(db.query_row(db.sql(&IN_FLIGHT), params![run_id], |r| {
        Ok(RunInFlight {
            work_order_id: r.get(0)?,
            version_id: r.get(1)?,
            starting_job: r.get(2)?,
            dataclip_id: r.get(3)?,
            attempt: r.get(4)?,
            priority: r.get(5)?,
            has_input: r.get(6)?,
        })
    })?)
}

const END_AS_EXCEPTION_OF: &str = "UPDATE runs SET state = 'exception', error_type = ?2,
     error_message = ?3, finished_at = ?4 WHERE id = ?1";

/// Ends a run as an exception of the given type, whatever its state.
pub fn end_as_exception_of(
    db: &dyn Db,
    run_id: &str,
    error_type: &str,
    message: &str,
) -> StoreResult<()> {
    db.execute(
        END_AS_EXCEPTION_OF,
        params![run_id, error_type, message, now_micros()],
    )?;
    Ok(())
}

/// Where a work order's first run started (`None`: at its trigger); an error if it has no run.
pub fn first_starting_job(db: &dyn Db, work_order_id: &str) -> StoreResult<Option<String>> {
    let first: Option<Option<String>> = db.query_value(
        "SELECT starting_job FROM runs WHERE work_order_id = ?1 ORDER BY id LIMIT 1",
        params![work_order_id],
    )?;
    first.ok_or_else(|| StoreError::NotFound(format!("a run of work order {work_order_id}")))
}

/// The highest attempt number among a work order's runs (0 without any).
pub fn max_attempt(db: &dyn Db, work_order_id: &str) -> StoreResult<i64> {
    Ok(db.query_one(
        "SELECT COALESCE(MAX(attempt), 0) FROM runs WHERE work_order_id = ?1",
        params![work_order_id],
    )?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::suite;
    use crate::store::work_orders::fixture;

    #[test]
    fn a_claimed_run_is_read_with_its_settings_and_input() {
        suite::on_each_backend(|db| {
            fixture::one_run(db, "claimed");
            suite::seed(
                db,
                "UPDATE workflows SET run_timeout_secs = 60, memory_limit_mb = 256 WHERE id = 'w';
                 INSERT INTO triggers (id, workflow_id, key, type) VALUES ('t', 'w', 'hook', 'webhook');
                 UPDATE work_orders SET trigger_id = 't' WHERE id = 'wo';
                 UPDATE runs SET starting_job = 'j', attempt = 2 WHERE id = 'r1'",
            );
            let run = to_execute(db, "r1").unwrap();
            assert_eq!(
                (run.work_order_id.as_str(), run.version_id.as_str()),
                ("wo", "v-w")
            );
            assert_eq!(
                (run.starting_job.as_deref(), run.dataclip_id.as_str()),
                (Some("j"), "in-wo")
            );
            assert_eq!(
                (run.attempt, run.max_attempts, run.retry_backoff_secs),
                (2, 3, 10)
            );
            assert_eq!(
                (run.project_id.as_str(), run.retention_policy.as_str()),
                ("p", "retain_all")
            );
            assert_eq!(
                (run.run_timeout_secs, run.memory_limit_mb),
                (Some(60), Some(256))
            );
            assert_eq!(
                (run.input_type.as_deref(), run.input_body.as_deref()),
                (Some("global"), Some(r#"{"n":1}"#))
            );
            assert_eq!((run.input_request, run.input_wipe_reason), (None, None));
            assert_eq!(run.trigger_key.as_deref(), Some("hook"));
            assert!(matches!(
                to_execute(db, "none"),
                Err(StoreError::NotFound(_))
            ));
        });
    }

    #[test]
    fn a_run_moves_from_claimed_to_started_to_its_recorded_end() {
        suite::on_each_backend(|db| {
            fixture::one_run(db, "claimed");
            assert_eq!(state_of(db, "r1").unwrap(), Some(RunState::Claimed));
            assert_eq!(state_of(db, "none").unwrap(), None);
            assert_eq!(work_order_of(db, "r1").unwrap().as_deref(), Some("wo"));
            assert_eq!(work_order_of(db, "none").unwrap(), None);
            assert!(release_claim(db, "r1").unwrap());
            assert!(!release_claim(db, "r1").unwrap());
            assert_eq!(state_of(db, "r1").unwrap(), Some(RunState::Available));
            suite::seed(db, "UPDATE runs SET state = 'claimed' WHERE id = 'r1'");
            mark_started(db, "r1").unwrap();
            assert_eq!(state_of(db, "r1").unwrap(), Some(RunState::Started));
            assert!(!release_claim(db, "r1").unwrap());
            suite::seed(
                db,
                "INSERT INTO dataclips (id, project_id, type, body, created_at) VALUES ('out', 'p', 'step_result', '{\"done\":true}', 0)",
            );
            record_end(
                db,
                "r1",
                &Ending {
                    state: RunState::Failed,
                    error_type: Some("RuntimeError"),
                    error_message: Some("boom"),
                    final_dataclip_id: Some("out"),
                    logs_dropped: (3, 120),
                },
            )
            .unwrap();
            let end = end_of(db, "r1").unwrap().unwrap();
            assert_eq!(end.state, RunState::Failed);
            assert_eq!(
                (end.error_type.as_deref(), end.error_message.as_deref()),
                (Some("RuntimeError"), Some("boom"))
            );
            assert_eq!(end.final_body.as_deref(), Some(r#"{"done":true}"#));
            assert!(end_of(db, "none").unwrap().is_none());
            let dropped: (i64, i64) = db
                .query_row(
                    "SELECT log_lines_dropped, log_bytes_dropped FROM runs WHERE id = 'r1'",
                    params![],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap()
                .unwrap();
            assert_eq!(dropped, (3, 120));
            // Ended already: the executor's exception changes nothing.
            assert!(!end_as_exception(db, "r1", "late").unwrap());
            assert_eq!(state_of(db, "r1").unwrap(), Some(RunState::Failed));
        });
    }

    #[test]
    fn exceptions_in_flight_runs_and_lost_runs() {
        suite::on_each_backend(|db| {
            fixture::one_run(db, "started");
            let run = in_flight(db, "r1").unwrap().unwrap();
            assert_eq!(
                (run.work_order_id.as_str(), run.dataclip_id.as_deref()),
                ("wo", Some("in-wo"))
            );
            assert_eq!((run.attempt, run.priority, run.has_input), (1, 1, true));
            let lost_run = lost(db, "r1").unwrap().unwrap();
            assert_eq!(
                (lost_run.max_attempts, lost_run.retry_backoff_secs),
                (3, 10)
            );
            assert_eq!(lost_run.retention_policy, "retain_all");
            assert_eq!(lost_run.input_body.as_deref(), Some(r#"{"n":1}"#));
            assert!(lost(db, "none").unwrap().is_none());

            assert!(end_as_exception(db, "r1", "engine died").unwrap());
            let end = end_of(db, "r1").unwrap().unwrap();
            assert_eq!(end.state, RunState::Exception);
            assert_eq!(
                (end.error_type.as_deref(), end.error_message.as_deref()),
                (Some("ExecutionError"), Some("engine died"))
            );
            assert!(in_flight(db, "r1").unwrap().is_none());

            fixture::run(db, "r2", "wo", "w", "available", 0);
            suite::seed(db, "UPDATE dataclips SET body = NULL WHERE id = 'in-wo'");
            assert!(!in_flight(db, "r2").unwrap().unwrap().has_input);
            end_as_exception_of(db, "r2", "StoreError", "not recorded").unwrap();
            let end = end_of(db, "r2").unwrap().unwrap();
            assert_eq!(
                (end.state, end.error_type.as_deref()),
                (RunState::Exception, Some("StoreError"))
            );
        });
    }

    #[test]
    fn runs_of_a_work_order_in_order() {
        suite::on_each_backend(|db| {
            fixture::one_run(db, "failed");
            fixture::run(db, "r2", "wo", "w", "available", 0);
            fixture::run(db, "r3", "wo", "w", "available", 0);
            suite::seed(
                db,
                "UPDATE runs SET starting_job = 'second', attempt = 4 WHERE id = 'r2'",
            );
            assert_eq!(next_in_work_order(db, "r1").unwrap().as_deref(), Some("r2"));
            assert_eq!(next_in_work_order(db, "r2").unwrap().as_deref(), Some("r3"));
            assert_eq!(next_in_work_order(db, "r3").unwrap(), None);
            assert_eq!(first_starting_job(db, "wo").unwrap(), None);
            assert_eq!(max_attempt(db, "wo").unwrap(), 4);
            fixture::work_order(db, "empty", "w", "p");
            assert_eq!(max_attempt(db, "empty").unwrap(), 0);
            assert!(matches!(
                first_starting_job(db, "empty"),
                Err(StoreError::NotFound(_))
            ));
            suite::seed(db, "UPDATE runs SET starting_job = 'first' WHERE id = 'r1'");
            assert_eq!(
                first_starting_job(db, "wo").unwrap().as_deref(),
                Some("first")
            );
        });
    }
}
