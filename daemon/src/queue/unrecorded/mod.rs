//! Runs boltd itself could not record (the disk refused writes while they ran): they end as
//! exceptions and run again once the store takes writes, whatever the workflow's retry
//! policy says — the work was acknowledged, and it is boltd's fault, not the job's.

pub mod journal;

use crate::daemon::Daemon;
use crate::store::work_orders::{insert_run, refresh_work_order};
use crate::store::{StoreError, StoreResult, now_micros};
use bolt_shared::model::{Origin, RunState, WorkOrderState};
use bolt_shared::protocol::Event;
use bolt_sql::Db;
use std::sync::Arc;

/// The error type such runs end with.
pub const ERROR_TYPE: &str = "StoreError";

/// What a run queued for its records while it ran.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expected {
    pub steps: usize,
    pub finished_steps: usize,
    pub log_lines: usize,
}

/// Whether every record a run queued is in the store. Its records are written without
/// waiting; while the store refused writes, some were dropped.
pub fn records_complete(db: &dyn Db, run_id: &str, expected: &Expected) -> StoreResult<bool> {
    let steps = crate::store::steps::counts_of_run(db, run_id)?;
    let log_lines = crate::store::logs::count_of_run(db, run_id)?;
    Ok(steps.started as usize == expected.steps
        && steps.finished as usize == expected.finished_steps
        && log_lines as usize == expected.log_lines)
}

/// A run ended as unrecorded, and its replacement.
#[derive(Debug, Clone)]
pub struct Requeued {
    pub run_id: String,
    pub work_order_id: String,
    /// The new run, unless the input is gone (wiped: the run can't be repeated).
    pub retry: Option<String>,
    pub work_order_state: WorkOrderState,
}

/// Ends a run boltd could not record as an exception saying why, and queues it again with
/// the same input and attempt number (the workflow's retries are left for the job's own
/// failures). `None` if the run had already ended.
pub fn end_and_requeue(db: &dyn Db, run_id: &str, why: &str) -> StoreResult<Option<Requeued>> {
    let Some(run) = crate::store::runs::in_flight(db, run_id)? else {
        return Ok(None);
    };
    let retry = match (&run.dataclip_id, run.has_input) {
        (Some(clip), true) => Some(insert_run(
            db,
            &run.work_order_id,
            &run.version_id,
            run.starting_job.as_deref(),
            clip,
            Origin::Retry,
            run.priority,
            run.attempt,
            now_micros(),
        )?),
        _ => None,
    };
    let message = match &retry {
        Some(_) => format!(
            "boltd could not record this run ({why}); it was queued again once the store took writes (not counted against the workflow's retries)"
        ),
        None => format!(
            "boltd could not record this run ({why}); its input is gone, so it could not be queued again"
        ),
    };
    crate::store::runs::end_as_exception_of(db, run_id, ERROR_TYPE, &message)?;
    let work_order_state = refresh_work_order(db, &run.work_order_id)?;
    Ok(Some(Requeued {
        run_id: run_id.to_string(),
        work_order_id: run.work_order_id,
        retry,
        work_order_state,
    }))
}

/// Tells followers (the TUI, waiting webhooks) and the dispatcher.
pub fn announce(daemon: &Daemon, requeued: &Requeued) {
    daemon.events.publish(Event::RunChanged {
        id: requeued.run_id.clone(),
        work_order_id: requeued.work_order_id.clone(),
        state: RunState::Exception,
        created: false,
    });
    if let Some(retry) = &requeued.retry {
        daemon.events.publish(Event::RunChanged {
            id: retry.clone(),
            work_order_id: requeued.work_order_id.clone(),
            state: RunState::Available,
            created: true,
        });
        daemon.queue.notify_one();
    }
    daemon.events.publish(Event::WorkOrderChanged {
        id: requeued.work_order_id.clone(),
        state: requeued.work_order_state,
        created: false,
    });
}

/// Waits until the store takes writes again, then ends the run as unrecorded and queues it
/// again. When boltd stops first, the next start does it (the journal has the run's id).
pub async fn once_the_store_recovers(daemon: &Arc<Daemon>, run_id: &str, why: String) {
    daemon.unrecorded.record(run_id);
    loop {
        tokio::select! {
            biased;
            _ = daemon.until_stopping() => {
                tracing::warn!(run = %run_id, "boltd stops before the store took writes again: the next start queues this run again");
                return;
            }
            _ = daemon.store.health.until_writable() => {}
        }
        let (id, reason) = (run_id.to_string(), why.clone());
        match daemon
            .store
            .writer
            .write(move |tx| end_and_requeue(tx, &id, &reason))
            .await
        {
            Ok(Some(requeued)) => {
                tracing::warn!(run = %run_id, retry = ?requeued.retry, "a run boltd could not record was queued again");
                announce(daemon, &requeued);
                return;
            }
            Ok(None) => return,
            // Refused again: the disk failed again before this went through.
            Err(StoreError::Refusing(_)) => continue,
            Err(err) => {
                tracing::error!(run = %run_id, %err, "could not end a run boltd failed to record; the next start queues it again");
                return;
            }
        }
    }
}

/// At start, before runs still in flight are marked lost: ends the runs a previous boltd
/// could not record (its journal's ids) and queues them again, whatever their workflow's
/// retry policy says. Ids of runs that already ended are skipped.
pub fn requeue_left_over(db: &dyn Db, run_ids: &[String]) -> StoreResult<Vec<Requeued>> {
    let mut requeued = Vec::new();
    for run_id in run_ids {
        if let Some(done) =
            end_and_requeue(db, run_id, "the store refused writes until boltd stopped")?
        {
            requeued.push(done);
        }
    }
    Ok(requeued)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::suite;
    use crate::store::work_orders::fixture;
    use bolt_sql::{DbExt, params};

    #[test]
    fn records_are_complete_only_when_every_queued_step_and_line_is_stored() {
        suite::on_each_backend(|db| {
            fixture::one_run(db, "started");
            suite::seed(
                db,
                "INSERT INTO steps (id, run_id, job_key, job_name, started_at, finished_at) VALUES ('s1', 'r1', 'a', 'A', 1, 2);
                 INSERT INTO steps (id, run_id, job_key, job_name, started_at) VALUES ('s2', 'r1', 'b', 'B', 3);
                 INSERT INTO log_lines (id, run_id, source, level, message, timestamp) VALUES (1, 'r1', 'JOB', 'info', 'x', 1)",
            );
            let all = Expected {
                steps: 2,
                finished_steps: 1,
                log_lines: 1,
            };
            assert!(records_complete(db, "r1", &all).unwrap());
            let a_line_lost = Expected {
                log_lines: 2,
                ..all
            };
            assert!(!records_complete(db, "r1", &a_line_lost).unwrap());
            let an_end_lost = Expected {
                finished_steps: 2,
                ..all
            };
            assert!(!records_complete(db, "r1", &an_end_lost).unwrap());
        });
    }

    #[test]
    fn an_unrecorded_run_ends_as_a_store_error_and_runs_again_on_the_same_attempt() {
        suite::on_each_backend(|db| {
            fixture::one_run(db, "started");
            suite::seed(
                db,
                "UPDATE runs SET attempt = 2, priority = 0 WHERE id = 'r1'",
            );
            let requeued = end_and_requeue(db, "r1", "the disk was full")
                .unwrap()
                .unwrap();
            let retry = requeued.retry.clone().unwrap();
            let ended: (String, String, String) = db
                .query_row(
                    "SELECT state, error_type, error_message FROM runs WHERE id = 'r1'",
                    params![],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap()
                .unwrap();
            assert_eq!(
                (ended.0.as_str(), ended.1.as_str()),
                ("exception", ERROR_TYPE)
            );
            assert!(ended.2.contains("the disk was full") && ended.2.contains("queued again"));
            let again: (i64, i64, String) = db
                .query_row(
                    "SELECT attempt, priority, state FROM runs WHERE id = ?1",
                    params![retry],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap()
                .unwrap();
            assert_eq!(again, (2, 0, "available".into()));
            assert_eq!(requeued.work_order_state, WorkOrderState::Pending);
            // Ended already: nothing to do, at start-up either.
            assert!(end_and_requeue(db, "r1", "again").unwrap().is_none());
            let left_over = requeue_left_over(db, &["r1".to_string(), "none".to_string()]).unwrap();
            assert!(left_over.is_empty());
        });
    }

    #[test]
    fn without_its_input_an_unrecorded_run_is_not_queued_again() {
        suite::on_each_backend(|db| {
            fixture::one_run(db, "claimed");
            suite::seed(db, "UPDATE dataclips SET body = NULL WHERE id = 'in-wo'");
            let requeued = requeue_left_over(db, &["r1".to_string()]).unwrap();
            assert_eq!(requeued.len(), 1);
            assert_eq!(requeued[0].retry, None);
            let message: String = db
                .query_one("SELECT error_message FROM runs WHERE id = 'r1'", params![])
                .unwrap();
            assert!(message.contains("its input is gone"));
        });
    }
}
