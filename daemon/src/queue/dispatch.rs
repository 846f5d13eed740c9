//! The run queue's dispatcher: claims available runs in priority then arrival order,
//! within the worker count and each workflow's and project's concurrency limit, and hands
//! them to the runner.

use crate::daemon::Daemon;
use crate::engine::CancelToken;
use crate::queue::executor;
use crate::store::{StoreResult, now_micros};
use rusqlite::{Connection, params};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// (run, workflow, project, workflow concurrency, project concurrency)
type Candidate = (String, String, String, Option<i64>, Option<i64>);

/// Runs in flight (claimed, not yet recorded) per worker. Only `workers` of them execute
/// job code at a time (`Daemon::engine_slots`); the rest load their context or wait for
/// their commits, which is most of a short run's life.
const IN_FLIGHT_PER_WORKER: usize = 8;

/// Under load a claim waits until this many slots are free, so that one claim's queries
/// (the writer's, ~50 µs) serve several runs rather than one each time a run ends. It
/// doesn't wait while an engine worker is idle: a run claimed then starts at once.
const CLAIM_AT_LEAST: usize = 4;

/// Whether to claim now, with `free` of `max_in_flight` slots free.
fn worth_claiming(free: usize, max_in_flight: usize, engine_idle: bool) -> bool {
    free > 0 && (engine_idle || free >= CLAIM_AT_LEAST.min(max_in_flight))
}

pub async fn run(daemon: Arc<Daemon>) {
    let max_in_flight = daemon.config.workers().max(1) * IN_FLIGHT_PER_WORKER;
    let mut shutdown = daemon.shutdown_signal();
    loop {
        if !daemon.store.health.writable() {
            // A claim is a write: wait until the store takes writes again.
            tokio::select! {
                _ = daemon.store.health.until_writable() => {}
                _ = shutdown.changed() => break,
            }
            continue;
        }
        let free = max_in_flight.saturating_sub(daemon.running_count());
        if worth_claiming(
            free,
            max_in_flight,
            daemon.engine_slots.available_permits() > 0,
        ) {
            match daemon
                .store
                .writer
                .write_repeatable(move |tx| claim(tx, free))
                .await
            {
                Ok(Claimed {
                    runs: claimed,
                    more,
                }) => {
                    let short = claimed.len() < free;
                    for run_id in claimed {
                        let token = CancelToken::new();
                        daemon.track_run(&run_id, token.clone());
                        let daemon = daemon.clone();
                        tokio::spawn(async move {
                            executor::execute(daemon.clone(), run_id.clone(), token).await;
                            daemon.untrack_run(&run_id);
                            daemon.queue.notify_one();
                        });
                    }
                    if short && more {
                        // Some candidates were passed over (their workflow filled up during
                        // the claim); the next claim leaves those workflows out in SQL.
                        continue;
                    }
                }
                // The store logs its own refusal once.
                Err(crate::store::StoreError::Refusing(_)) => {}
                Err(err) => tracing::error!(%err, "claiming runs failed"),
            }
        }
        tokio::select! {
            _ = daemon.queue.notified() => {}
            // Retries with a backoff become claimable on their own.
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = shutdown.changed() => break,
        }
    }
}

/// Runs claimed or started, per workflow and per project.
#[derive(Default)]
struct Active {
    by_workflow: HashMap<String, i64>,
    by_project: HashMap<String, i64>,
}

impl Active {
    fn load(conn: &Connection) -> StoreResult<Active> {
        let mut active = Active::default();
        let mut stmt = conn.prepare_cached(
            "SELECT wo.workflow_id, w.project_id, COUNT(*) FROM runs r JOIN work_orders wo ON wo.id = r.work_order_id
             JOIN workflows w ON w.id = wo.workflow_id WHERE r.state IN ('claimed', 'started') GROUP BY wo.workflow_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (workflow, project, count) = row?;
            active.add(workflow, project, count);
        }
        Ok(active)
    }

    fn add(&mut self, workflow: String, project: String, count: i64) {
        *self.by_workflow.entry(workflow).or_default() += count;
        *self.by_project.entry(project).or_default() += count;
    }

    /// Whether a workflow can take no further run under its (or its project's) limit.
    fn full(
        &self,
        workflow: &str,
        project: &str,
        workflow_limit: Option<i64>,
        project_limit: Option<i64>,
    ) -> bool {
        limit_reached(
            workflow_limit,
            project_limit,
            self.by_workflow.get(workflow).copied().unwrap_or(0),
            self.by_project.get(project).copied().unwrap_or(0),
        )
    }
}

/// What a claim took, and whether it stopped short of the queue's end.
struct Claimed {
    runs: Vec<String>,
    more: bool,
}

/// Candidates read per claim: enough for the free slots and some passed over. Reading a
/// fixed 512 cost the writer ~0.1 ms per finished run with a deep queue.
fn candidate_limit(free: usize) -> usize {
    (free * 2 + 16).min(512)
}

/// Claims up to `limit` runs. FIFO per workflow: once a workflow is at its limit, none of
/// its later runs jump ahead.
fn claim(conn: &Connection, limit: usize) -> StoreResult<Claimed> {
    let mut active = Active::load(conn)?;
    let blocked_now = workflows_at_limit(conn, &active)?;
    if blocked_now.all {
        // Every workflow is held or full (e.g. concurrency 0): nothing can be claimed, and
        // scanning a long queue for nothing would cost the writer on every new run.
        return Ok(Claimed {
            runs: Vec::new(),
            more: false,
        });
    }
    let blocked_json = serde_json::to_string(&blocked_now.ids).unwrap_or_else(|_| "[]".into());
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, wo.workflow_id, w.project_id, w.concurrency, p.concurrency
         FROM runs r JOIN work_orders wo ON wo.id = r.work_order_id
         JOIN workflows w ON w.id = wo.workflow_id JOIN projects p ON p.id = w.project_id
         WHERE r.state = 'available' AND r.not_before <= ?1
           AND wo.workflow_id NOT IN (SELECT value FROM json_each(?2))
         ORDER BY r.priority, r.id LIMIT ?3",
    )?;
    let wanted = candidate_limit(limit);
    let candidates: Vec<Candidate> = stmt
        .query_map(params![now_micros(), blocked_json, wanted as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    let more = candidates.len() >= wanted;
    let mut claimed = Vec::new();
    let mut blocked: Vec<String> = Vec::new();
    for (run_id, workflow, project, workflow_limit, project_limit) in candidates {
        if claimed.len() >= limit {
            break;
        }
        if blocked.contains(&workflow) {
            continue;
        }
        if active.full(&workflow, &project, workflow_limit, project_limit) {
            blocked.push(workflow);
            continue;
        }
        conn.prepare_cached("UPDATE runs SET state = 'claimed', claimed_at = ?2 WHERE id = ?1 AND state = 'available'")?.execute(params![run_id, now_micros()])?;
        active.add(workflow, project, 1);
        claimed.push(run_id);
    }
    Ok(Claimed {
        runs: claimed,
        more,
    })
}

/// Workflows that can't take another run right now, and whether that is all of them.
struct AtLimit {
    ids: Vec<String>,
    all: bool,
}

fn workflows_at_limit(conn: &Connection, active: &Active) -> StoreResult<AtLimit> {
    let mut stmt = conn.prepare_cached(
        "SELECT w.id, w.project_id, w.concurrency, p.concurrency
         FROM workflows w JOIN projects p ON p.id = w.project_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<i64>>(2)?,
            r.get::<_, Option<i64>>(3)?,
        ))
    })?;
    let mut ids = Vec::new();
    let mut total = 0usize;
    for row in rows {
        let (workflow, project, workflow_limit, project_limit) = row?;
        total += 1;
        if active.full(&workflow, &project, workflow_limit, project_limit) {
            ids.push(workflow);
        }
    }
    Ok(AtLimit {
        all: ids.len() == total,
        ids,
    })
}

/// A workflow's own limit overrides the project's, as in Lightning.
fn limit_reached(
    workflow_limit: Option<i64>,
    project_limit: Option<i64>,
    workflow_active: i64,
    project_active: i64,
) -> bool {
    match (workflow_limit, project_limit) {
        (Some(limit), _) => workflow_active >= limit,
        (None, Some(limit)) => project_active >= limit,
        (None, None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An idle daemon claims at once; a busy one waits for a few free slots, then claims
    /// them together, unless an engine worker has nothing to do.
    #[test]
    fn claims_wait_for_a_few_free_slots_only_under_load() {
        assert!(
            worth_claiming(16, 16, true),
            "idle: a new run starts at once"
        );
        assert!(!worth_claiming(0, 16, true), "no slot free");
        assert!(
            !worth_claiming(CLAIM_AT_LEAST - 1, 16, false),
            "busy: wait for more"
        );
        assert!(worth_claiming(CLAIM_AT_LEAST, 16, false));
        assert!(
            worth_claiming(1, 16, true),
            "an idle engine worker never waits"
        );
        assert!(
            worth_claiming(2, 2, false),
            "a tiny pool never waits for more than it has"
        );
    }
}
