//! Cron triggers in the store: which are armed, the one claim per trigger and minute that
//! makes a tick fire once however many times it is looked at, and the input a tick takes.

use super::StoreResult;
use bolt_sql::{Db, DbExt, params};

/// An enabled cron trigger of an enabled workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronTrigger {
    pub id: String,
    pub key: String,
    pub workflow_id: String,
    pub expression: Option<String>,
}

const ARMED: &str = "SELECT t.id, t.key, w.id, t.cron_expression FROM triggers t
     JOIN workflows w ON w.id = t.workflow_id
     WHERE t.type = 'cron' AND t.enabled = 1 AND w.enabled = 1 AND w.deleted_at IS NULL";

/// One text for both backends. On PostgreSQL a second node's claim of the same tick waits
/// for the first one's transaction and then changes no row, so exactly one node fires it.
const CLAIM_FIRE: &str =
    "INSERT INTO cron_fires (trigger_id, minute) VALUES (?1, ?2) ON CONFLICT DO NOTHING";

const LAST_JOB_OUTPUT: &str = "SELECT s.output_dataclip_id FROM work_orders wo
     JOIN runs r ON r.work_order_id = wo.id
     JOIN steps s ON s.run_id = r.id
     JOIN dataclips d ON d.id = s.output_dataclip_id
     WHERE wo.workflow_id = ?1 AND s.job_key = ?2 AND s.exit_reason = 'success' AND d.wiped_at IS NULL
     ORDER BY wo.id DESC, s.finished_at DESC LIMIT 1";

const LAST_SUCCESS_STATE: &str = "SELECT r.final_dataclip_id FROM runs r
     JOIN work_orders wo ON wo.id = r.work_order_id
     JOIN dataclips d ON d.id = r.final_dataclip_id
     WHERE wo.workflow_id = ?1 AND r.state = 'success' AND d.wiped_at IS NULL
     ORDER BY r.finished_at DESC LIMIT 1";

pub fn armed(db: &dyn Db) -> StoreResult<Vec<CronTrigger>> {
    Ok(db.query_map(ARMED, params![], |r| {
        Ok(CronTrigger {
            id: r.get(0)?,
            key: r.get(1)?,
            workflow_id: r.get(2)?,
            expression: r.get(3)?,
        })
    })?)
}

/// Claims the fire of `trigger_id` at `minute` (seconds since the epoch): true for the
/// first claim only.
pub fn claim_fire(db: &dyn Db, trigger_id: &str, minute: i64) -> StoreResult<bool> {
    Ok(db.execute(CLAIM_FIRE, params![trigger_id, minute])? == 1)
}

/// As Lightning with a `cron_cursor_job`: the output of that job's last successful step in
/// this workflow (not wiped). Walks work orders newest first, so it stops at the first hit.
pub fn last_job_output(db: &dyn Db, workflow_id: &str, job: &str) -> StoreResult<Option<String>> {
    Ok(db.query_value(LAST_JOB_OUTPUT, params![workflow_id, job])?)
}

/// As Lightning without one: the final state of the workflow's last successful run (not
/// wiped).
pub fn last_success_state(db: &dyn Db, workflow_id: &str) -> StoreResult<Option<String>> {
    Ok(db.query_value(LAST_SUCCESS_STATE, params![workflow_id])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite;
    use std::sync::{Arc, Barrier};

    /// A workflow `w` with cron triggers `on` (armed), `off` (disabled) and a webhook; a
    /// disabled workflow `quiet` and a deleted one `gone`, each with an enabled cron.
    const TRIGGERS: &str = "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0);
         INSERT INTO workflows (id, project_id, key, name, created_at, updated_at) VALUES ('w', 'p', 'w', 'W', 0, 0);
         INSERT INTO workflows (id, project_id, key, name, enabled, created_at, updated_at) VALUES ('quiet', 'p', 'quiet', 'Q', 0, 0, 0);
         INSERT INTO workflows (id, project_id, key, name, deleted_at, created_at, updated_at) VALUES ('gone', 'p', 'gone', 'G', 5, 0, 0);
         INSERT INTO triggers (id, workflow_id, key, type, cron_expression) VALUES ('on', 'w', 'every', 'cron', '* * * * *');
         INSERT INTO triggers (id, workflow_id, key, type, enabled, cron_expression) VALUES ('off', 'w', 'never', 'cron', 0, '* * * * *');
         INSERT INTO triggers (id, workflow_id, key, type) VALUES ('hook', 'w', 'hook', 'webhook');
         INSERT INTO triggers (id, workflow_id, key, type, cron_expression) VALUES ('q', 'quiet', 'every', 'cron', '* * * * *');
         INSERT INTO triggers (id, workflow_id, key, type, cron_expression) VALUES ('g', 'gone', 'every', 'cron', '* * * * *');";

    #[test]
    fn only_enabled_cron_triggers_of_live_enabled_workflows_are_armed() {
        suite::on_each_backend(|db| {
            suite::seed(db, TRIGGERS);
            assert_eq!(
                armed(db).unwrap(),
                [CronTrigger {
                    id: "on".into(),
                    key: "every".into(),
                    workflow_id: "w".into(),
                    expression: Some("* * * * *".into()),
                }]
            );
        });
    }

    #[test]
    fn a_tick_is_claimed_once_per_trigger_and_minute() {
        suite::on_each_backend(|db| {
            assert!(claim_fire(db, "on", 60).unwrap());
            assert!(!claim_fire(db, "on", 60).unwrap());
            assert!(claim_fire(db, "on", 120).unwrap());
            assert!(claim_fire(db, "other", 60).unwrap());
        });
    }

    /// Several nodes (here: connections) look at the same tick at once: each claims it in a
    /// transaction of its own, as the writer does, and exactly one wins every tick.
    #[test]
    fn two_connections_racing_for_a_tick_fire_it_once() {
        const TICKS: i64 = 20;
        let race = |first: Box<dyn Db + Send>, second: Box<dyn Db + Send>| {
            let barrier = Arc::new(Barrier::new(2));
            let claimant = |db: Box<dyn Db + Send>, barrier: Arc<Barrier>| {
                std::thread::spawn(move || {
                    (0..TICKS)
                        .map(|tick| {
                            barrier.wait();
                            db.in_transaction(|tx| claim_fire(tx, "on", tick * 60))
                                .expect("a claim")
                        })
                        .collect::<Vec<bool>>()
                })
            };
            let a = claimant(first, barrier.clone());
            let b = claimant(second, barrier);
            let (a, b) = (a.join().expect("claimant a"), b.join().expect("claimant b"));
            for tick in 0..TICKS as usize {
                assert!(
                    a[tick] != b[tick],
                    "tick {tick}: a won {}, b won {}",
                    a[tick],
                    b[tick]
                );
            }
        };

        crate::store::suite::with_two_connections(race);
    }

    /// Work order `wo1` (older) and `wo2` (newer), each with one successful run ending in a
    /// step of job `j`; `wo2`'s output is wiped, and `wo3`'s run failed.
    const HISTORY: &str = "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0);
         INSERT INTO workflows (id, project_id, key, name, created_at, updated_at) VALUES ('w', 'p', 'w', 'W', 0, 0);
         INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v', 'w', 1, '{}', 'h', 0);
         INSERT INTO dataclips (id, project_id, type, body, created_at) VALUES ('out1', 'p', 'step_result', '{}', 0);
         INSERT INTO dataclips (id, project_id, type, body, wiped_at, wipe_reason, created_at) VALUES ('out2', 'p', 'step_result', NULL, 9, 'retention', 0);
         INSERT INTO dataclips (id, project_id, type, body, created_at) VALUES ('out3', 'p', 'step_result', '{}', 0);
         INSERT INTO work_orders (id, workflow_id, version_id, origin, state, received_at, last_activity) VALUES ('wo1', 'w', 'v', 'cron', 'success', 1, 1);
         INSERT INTO work_orders (id, workflow_id, version_id, origin, state, received_at, last_activity) VALUES ('wo2', 'w', 'v', 'cron', 'success', 2, 2);
         INSERT INTO work_orders (id, workflow_id, version_id, origin, state, received_at, last_activity) VALUES ('wo3', 'w', 'v', 'cron', 'failed', 3, 3);
         INSERT INTO runs (id, work_order_id, version_id, origin, state, final_dataclip_id, created_at, finished_at) VALUES ('r1', 'wo1', 'v', 'cron', 'success', 'out1', 1, 10);
         INSERT INTO runs (id, work_order_id, version_id, origin, state, final_dataclip_id, created_at, finished_at) VALUES ('r2', 'wo2', 'v', 'cron', 'success', 'out2', 2, 20);
         INSERT INTO runs (id, work_order_id, version_id, origin, state, final_dataclip_id, created_at, finished_at) VALUES ('r3', 'wo3', 'v', 'cron', 'failed', 'out3', 3, 30);
         INSERT INTO steps (id, run_id, job_key, job_name, output_dataclip_id, exit_reason, started_at, finished_at) VALUES ('s1', 'r1', 'j', 'J', 'out1', 'success', 1, 10);
         INSERT INTO steps (id, run_id, job_key, job_name, output_dataclip_id, exit_reason, started_at, finished_at) VALUES ('s2', 'r2', 'j', 'J', 'out2', 'success', 2, 20);
         INSERT INTO steps (id, run_id, job_key, job_name, output_dataclip_id, exit_reason, started_at, finished_at) VALUES ('s3', 'r3', 'j', 'J', 'out3', 'fail', 3, 30);";

    #[test]
    fn a_tick_takes_the_last_unwiped_success_as_its_input() {
        suite::on_each_backend(|db| {
            assert_eq!(last_job_output(db, "w", "j").unwrap(), None);
            assert_eq!(last_success_state(db, "w").unwrap(), None);
            suite::seed(db, HISTORY);
            assert_eq!(
                last_job_output(db, "w", "j").unwrap().as_deref(),
                Some("out1")
            );
            assert_eq!(last_job_output(db, "w", "other").unwrap(), None);
            assert_eq!(
                last_success_state(db, "w").unwrap().as_deref(),
                Some("out1")
            );
            suite::seed(db, "UPDATE dataclips SET wiped_at = NULL WHERE id = 'out2'");
            assert_eq!(
                last_job_output(db, "w", "j").unwrap().as_deref(),
                Some("out2")
            );
            assert_eq!(
                last_success_state(db, "w").unwrap().as_deref(),
                Some("out2")
            );
        });
    }
}
