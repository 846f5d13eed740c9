//! A run's steps in the store: a step as it starts and as it ends, and the steps a run
//! shows (its own and, for a rerun from a job, those attached from the earlier run).

use super::StoreResult;
use bolt_shared::model::ExitReason;
use bolt_sql::{Db, DbExt, Row, Sql, params};
use rusqlite::Connection;

/// A step as the engine starts it.
pub struct NewStep<'a> {
    pub id: &'a str,
    pub run_id: &'a str,
    pub job_key: &'a str,
    pub job_name: &'a str,
    pub input_dataclip_id: &'a str,
    pub started_at: i64,
}

const INSERT: &str =
    "INSERT INTO steps (id, run_id, job_key, job_name, input_dataclip_id, started_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

const INSERT_OWN: &str = "INSERT INTO run_steps (run_id, step_id, attached) VALUES (?1, ?2, 0)";

/// Stores a started step as one of its run's own, with its short ref.
///
/// Still on a rusqlite `Connection`: `refs::index_new` takes one until refs.rs is ported;
/// then this takes `&dyn Db` like the rest.
pub fn insert(conn: &Connection, step: &NewStep<'_>) -> StoreResult<()> {
    insert_rows(conn, step)?;
    crate::refs::index_new(conn, "steps", step.id)?;
    Ok(())
}

/// The step's row and its place among its run's own steps.
fn insert_rows(db: &dyn Db, step: &NewStep<'_>) -> StoreResult<()> {
    db.execute(
        INSERT,
        params![
            step.id,
            step.run_id,
            step.job_key,
            step.job_name,
            step.input_dataclip_id,
            step.started_at
        ],
    )?;
    db.execute(INSERT_OWN, params![step.run_id, step.id])?;
    Ok(())
}

/// How a step ended.
pub struct StepEnd<'a> {
    pub id: &'a str,
    pub output_dataclip_id: Option<&'a str>,
    pub exit_reason: ExitReason,
    pub error_type: Option<&'a str>,
    pub error_message: Option<&'a str>,
    pub finished_at: i64,
}

const FINISH: &str = "UPDATE steps SET output_dataclip_id = ?2, exit_reason = ?3, error_type = ?4,
     error_message = ?5, finished_at = ?6 WHERE id = ?1";

pub fn finish(db: &dyn Db, end: &StepEnd<'_>) -> StoreResult<()> {
    db.execute(
        FINISH,
        params![
            end.id,
            end.output_dataclip_id,
            end.exit_reason.as_str(),
            end.error_type,
            end.error_message,
            end.finished_at
        ],
    )?;
    Ok(())
}

/// How many steps of a run are stored, and how many of them have ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepCounts {
    pub started: i64,
    pub finished: i64,
}

pub fn counts_of_run(db: &dyn Db, run_id: &str) -> StoreResult<StepCounts> {
    let counts = db.query_row(
        "SELECT COUNT(*), COUNT(finished_at) FROM steps WHERE run_id = ?1",
        params![run_id],
        |r| {
            Ok(StepCounts {
                started: r.get(0)?,
                finished: r.get(1)?,
            })
        },
    )?;
    // An aggregate without GROUP BY always has its one row.
    Ok(counts.unwrap_or(StepCounts {
        started: 0,
        finished: 0,
    }))
}

/// A step a run shows, with its job and input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStep {
    pub id: String,
    pub job_key: String,
    pub input_dataclip_id: Option<String>,
}

fn run_step(r: &Row<'_>) -> bolt_sql::Result<RunStep> {
    Ok(RunStep {
        id: r.get(0)?,
        job_key: r.get(1)?,
        input_dataclip_id: r.get(2)?,
    })
}

const OF_RUN: &str = "SELECT s.id, s.job_key, s.input_dataclip_id FROM run_steps rs
     JOIN steps s ON s.id = rs.step_id WHERE rs.run_id = ?1";

/// The steps a run shows (its own and attached ones), in no particular order.
pub fn of_run(db: &dyn Db, run_id: &str) -> StoreResult<Vec<RunStep>> {
    Ok(db.query_map(OF_RUN, params![run_id], run_step)?)
}

const LATEST_OF_JOB: &str = "SELECT s.id, s.job_key, s.input_dataclip_id FROM run_steps rs
     JOIN steps s ON s.id = rs.step_id
     WHERE rs.run_id = ?1 AND s.job_key = ?2 ORDER BY s.started_at DESC LIMIT 1";

/// The latest step a run shows for a job (by its key).
pub fn latest_of_job(db: &dyn Db, run_id: &str, job_key: &str) -> StoreResult<Option<RunStep>> {
    Ok(db.query_row(LATEST_OF_JOB, params![run_id, job_key], run_step)?)
}

const LATEST_NAMED: &str = "SELECT s.id, s.job_key, s.input_dataclip_id FROM run_steps rs
     JOIN steps s ON s.id = rs.step_id
     WHERE rs.run_id = ?1 AND (s.job_key = ?2 OR s.job_name = ?2 OR s.id = ?2)
     ORDER BY s.started_at DESC LIMIT 1";

/// The latest step a run shows whose job key, job name or step id is `step`.
pub fn latest_named(db: &dyn Db, run_id: &str, step: &str) -> StoreResult<Option<RunStep>> {
    Ok(db.query_row(LATEST_NAMED, params![run_id, step], run_step)?)
}

const ATTACH: Sql = Sql::new(
    "INSERT OR IGNORE INTO run_steps (run_id, step_id, attached) VALUES (?1, ?2, 1)",
    "INSERT INTO run_steps (run_id, step_id, attached) VALUES (?1, ?2, 1)
     ON CONFLICT DO NOTHING",
);

/// Shows an earlier run's step in `run_id` (a rerun from a later job) without running it again.
pub fn attach(db: &dyn Db, run_id: &str, step_id: &str) -> StoreResult<()> {
    db.execute(db.sql(&ATTACH), params![run_id, step_id])?;
    Ok(())
}
