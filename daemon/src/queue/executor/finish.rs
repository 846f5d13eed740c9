//! How a run ended, written once, and the retry its workflow's policy asks for.

use super::Ending;
use super::load::RunContext;
use crate::daemon::Daemon;
use crate::queue::retry::{self, Policy};
use crate::queue::unrecorded::{self, Expected, Requeued};
use crate::store::dataclips::{self, NewDataclip};
use crate::store::work_orders::{insert_run, refresh_work_order};
use crate::store::{StoreResult, now_micros};
use bolt_shared::model::*;
use bolt_shared::protocol::Event;
use bolt_sql::Db;
use serde_json::Value;
use std::sync::Arc;

/// How a run's final write went.
pub(super) enum Finished {
    /// Recorded as it ended: the work order's state and the retry its policy queued.
    Recorded(WorkOrderState, Option<String>),
    /// Some of its records were lost to a disk fault: ended as unrecorded and queued again.
    Requeued(Requeued),
}

/// Records how the run ended. If the store had a disk fault since the run began and some
/// of its records did not make it, it is ended as unrecorded and queued again instead.
pub(super) async fn finish(
    daemon: &Arc<Daemon>,
    ctx: &RunContext,
    ending: Ending,
    expected: Expected,
    faults: u64,
    started: std::time::Instant,
) -> StoreResult<()> {
    let run_id = ctx.run_id.clone();
    let wo = ctx.work_order_id.clone();
    let project = ctx.project_id.clone();
    let state = ending.state;
    let retry = retry_of(ctx, state);
    let reused_clip = ending.final_dataclip_id.clone();
    let final_body = if ctx.erase_all || reused_clip.is_some() {
        None
    } else {
        ending.final_state.as_ref().map(Value::to_string)
    };
    let (error_type, error_message) = (ending.error_type.clone(), ending.error_message.clone());
    let logs_dropped = ending.logs_dropped;
    let version_id = ctx.version_id.clone();
    let start = ctx.starting_job.clone();
    let input_clip = ctx.input_dataclip_id.clone();
    let health = daemon.store.health.clone();
    let finished = daemon
        .store
        .writer
        .write_repeatable(move |tx| {
            // On the writer thread, in order after the run's own records: a fault counted
            // here happened before this write.
            if health.faults() != faults
                && !unrecorded::records_complete(tx, &run_id, &expected)?
                && let Some(requeued) = unrecorded::end_and_requeue(
                    tx,
                    &run_id,
                    "the disk refused some of its records while it ran",
                )?
            {
                return Ok(Finished::Requeued(requeued));
            }
            let final_clip = match &final_body {
                Some(body) => Some(dataclips::insert(
                    tx,
                    &NewDataclip {
                        project_id: Some(&project),
                        kind: DataclipType::StepResult,
                        body: Some(body),
                        request: None,
                        name: None,
                        wipe_reason: None,
                        size_bytes: None,
                    },
                )?),
                None => reused_clip.clone(),
            };
            crate::store::runs::record_end(
                tx,
                &run_id,
                &crate::store::runs::Ending {
                    state,
                    error_type: error_type.as_deref(),
                    error_message: error_message.as_deref(),
                    final_dataclip_id: final_clip.as_deref(),
                    logs_dropped: (logs_dropped.lines, logs_dropped.bytes),
                },
            )?;
            if crate::notify::events::FAILED_STATES.contains(&state.as_str()) {
                crate::notify::events::run_ended(tx, &run_id)?;
            }
            let retry_run = match retry {
                Some((attempt, not_before)) => Some(insert_run(
                    tx,
                    &wo,
                    &version_id,
                    start.as_deref(),
                    &input_clip,
                    Origin::Retry,
                    1,
                    attempt,
                    not_before,
                )?),
                None => None,
            };
            Ok(Finished::Recorded(refresh_work_order(tx, &wo)?, retry_run))
        })
        .await?;
    let (wo_state, retry_run) = match finished {
        Finished::Recorded(wo_state, retry_run) => (wo_state, retry_run),
        Finished::Requeued(requeued) => {
            tracing::warn!(run = %ctx.run_id, retry = ?requeued.retry, "a run lost records to a disk fault: queued again");
            unrecorded::announce(daemon, &requeued);
            return Ok(());
        }
    };
    daemon.metrics.run_finished(state, started.elapsed());
    daemon.events.publish(Event::RunChanged {
        id: ctx.run_id.clone(),
        work_order_id: ctx.work_order_id.clone(),
        state,
        created: false,
    });
    if let Some(run) = retry_run {
        daemon.events.publish(Event::RunChanged {
            id: run,
            work_order_id: ctx.work_order_id.clone(),
            state: RunState::Available,
            created: true,
        });
        daemon.queue.notify_one();
    }
    daemon.events.publish(Event::WorkOrderChanged {
        id: ctx.work_order_id.clone(),
        state: wo_state,
        created: false,
    });
    Ok(())
}

/// (attempt, not_before) of the retry the workflow's policy asks for, if any.
fn retry_of(ctx: &RunContext, state: RunState) -> Option<(i64, i64)> {
    let policy = Policy {
        attempt: ctx.attempt,
        max_attempts: ctx.max_attempts,
        backoff_secs: ctx.backoff_secs,
        erase_all: ctx.erase_all,
        has_input: ctx.input.is_some(),
    };
    retry::next_attempt(&policy, state, now_micros())
}

/// Retries for runs found lost at start-up, per their workflow's policy.
pub fn retry_lost(db: &dyn Db, lost: &[(String, String)]) -> StoreResult<Vec<String>> {
    let mut queued = Vec::new();
    for (run_id, work_order_id) in lost {
        let Some(run) = crate::store::runs::lost(db, run_id)? else {
            continue;
        };
        let policy = Policy {
            attempt: run.attempt,
            max_attempts: run.max_attempts,
            backoff_secs: run.retry_backoff_secs,
            erase_all: run.retention_policy == "erase_all",
            has_input: run.input_body.is_some(),
        };
        let Some((next, not_before)) = retry::next_attempt(&policy, RunState::Lost, now_micros())
        else {
            continue;
        };
        let retry = insert_run(
            db,
            work_order_id,
            &run.version_id,
            run.starting_job.as_deref(),
            &run.dataclip_id,
            Origin::Retry,
            1,
            next,
            not_before,
        )?;
        refresh_work_order(db, work_order_id)?;
        queued.push(retry);
    }
    Ok(queued)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::suite;
    use crate::store::work_orders::fixture;
    use bolt_sql::{DbExt, params};

    #[test]
    fn a_lost_run_is_retried_by_its_policy_and_not_past_its_last_attempt() {
        suite::on_each_backend(|db| {
            fixture::one_run(db, "lost");
            fixture::work_order(db, "wo2", "w", "p");
            fixture::run(db, "last", "wo2", "w", "lost", 1);
            suite::seed(db, "UPDATE runs SET attempt = 3 WHERE id = 'last'");
            let before = now_micros();
            let lost = [
                ("r1".to_string(), "wo".to_string()),
                ("last".to_string(), "wo2".to_string()),
                ("gone".to_string(), "wo".to_string()),
            ];
            let queued = retry_lost(db, &lost).unwrap();
            assert_eq!(queued.len(), 1);
            let (attempt, origin, not_before): (i64, String, i64) = db
                .query_row(
                    "SELECT attempt, origin, not_before FROM runs WHERE id = ?1",
                    params![queued[0]],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap()
                .unwrap();
            assert_eq!((attempt, origin.as_str()), (2, "retry"));
            // The workflow's backoff (10 s) before the second attempt.
            assert!(not_before >= before + 10_000_000);
            let state: String = db
                .query_one("SELECT state FROM work_orders WHERE id = 'wo'", params![])
                .unwrap();
            assert_eq!(state, "pending");
        });
    }
}
