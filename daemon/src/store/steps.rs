//! A run's steps in the store: a step as it starts and as it ends, and the steps a run
//! shows (its own and, for a rerun from a job, those attached from the earlier run).

use super::StoreResult;
use bolt_shared::model::ExitReason;
use bolt_sql::{Db, DbExt, Row, Sql, params};

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
pub fn insert(db: &dyn Db, step: &NewStep<'_>) -> StoreResult<()> {
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
    crate::refs::index_new(db, "steps", step.id)?;
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::suite;
    use crate::store::work_orders::fixture;

    fn started(db: &dyn Db, id: &str, run_id: &str, job_key: &str, started_at: i64) {
        insert(
            db,
            &NewStep {
                id,
                run_id,
                job_key,
                job_name: &job_key.to_uppercase(),
                input_dataclip_id: "in-wo",
                started_at,
            },
        )
        .unwrap();
    }

    fn ids(steps: &[RunStep]) -> Vec<&str> {
        let mut ids: Vec<&str> = steps.iter().map(|s| s.id.as_str()).collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn steps_start_finish_and_are_counted() {
        suite::on_each_backend(|db| {
            fixture::one_run(db, "started");
            started(db, "s1", "r1", "a", 10);
            started(db, "s2", "r1", "b", 20);
            assert_eq!(
                counts_of_run(db, "r1").unwrap(),
                StepCounts {
                    started: 2,
                    finished: 0
                }
            );
            finish(
                db,
                &StepEnd {
                    id: "s1",
                    output_dataclip_id: Some("in-wo"),
                    exit_reason: ExitReason::Fail,
                    error_type: Some("TypeError"),
                    error_message: Some("x is undefined"),
                    finished_at: 15,
                },
            )
            .unwrap();
            assert_eq!(
                counts_of_run(db, "r1").unwrap(),
                StepCounts {
                    started: 2,
                    finished: 1
                }
            );
            assert_eq!(
                counts_of_run(db, "none").unwrap(),
                StepCounts {
                    started: 0,
                    finished: 0
                }
            );
            let ended: (String, String, i64) = db
                .query_row(
                    "SELECT exit_reason, error_type, finished_at FROM steps WHERE id = 's1'",
                    params![],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap()
                .unwrap();
            assert_eq!(ended, ("fail".into(), "TypeError".into(), 15));
        });
    }

    #[test]
    fn a_rerun_shows_attached_steps_and_finds_the_latest_by_job_name_or_id() {
        suite::on_each_backend(|db| {
            fixture::one_run(db, "failed");
            fixture::run(db, "r2", "wo", "w", "started", 0);
            started(db, "s1", "r1", "a", 10);
            started(db, "s2", "r1", "b", 20);
            started(db, "s3", "r1", "a", 30);
            attach(db, "r2", "s1").unwrap();
            // Attaching twice changes nothing.
            attach(db, "r2", "s1").unwrap();
            started(db, "s4", "r2", "b", 40);
            assert_eq!(ids(&of_run(db, "r1").unwrap()), ["s1", "s2", "s3"]);
            assert_eq!(ids(&of_run(db, "r2").unwrap()), ["s1", "s4"]);
            let attached: Vec<i64> = db
                .query_map(
                    "SELECT attached FROM run_steps WHERE run_id = 'r2' ORDER BY step_id",
                    params![],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(attached, [1, 0]);
            assert_eq!(
                latest_of_job(db, "r1", "a").unwrap(),
                Some(RunStep {
                    id: "s3".into(),
                    job_key: "a".into(),
                    input_dataclip_id: Some("in-wo".into()),
                })
            );
            assert_eq!(latest_of_job(db, "r2", "a").unwrap().unwrap().id, "s1");
            assert_eq!(latest_of_job(db, "r1", "none").unwrap(), None);
            assert_eq!(latest_named(db, "r1", "B").unwrap().unwrap().id, "s2");
            assert_eq!(latest_named(db, "r1", "a").unwrap().unwrap().id, "s3");
            assert_eq!(latest_named(db, "r1", "s1").unwrap().unwrap().id, "s1");
            assert_eq!(latest_named(db, "r2", "s2").unwrap(), None);
        });
    }

    #[test]
    fn an_inserted_step_is_found_by_its_short_ref() {
        suite::on_each_backend(|db| {
            fixture::one_run(db, "started");
            let id = "0190a3c5-7c1e-7000-8000-00000000beef";
            started(db, id, "r1", "a", 1);
            assert_eq!(ids(&of_run(db, "r1").unwrap()), [id]);
            let resolved = crate::refs::resolve(db, "0000beef").unwrap();
            assert_eq!((resolved.id.as_str(), resolved.run_id.as_str()), (id, "r1"));
        });
    }
}
