//! The run queue's dispatcher: claims available runs in priority then arrival order,
//! within the worker count and each workflow's and project's concurrency limit, and hands
//! them to the runner.

use crate::daemon::Daemon;
use crate::engine::CancelToken;
use crate::runner;
use crate::store::{StoreResult, now_micros};
use rusqlite::{Connection, params};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// (run, workflow, project, workflow concurrency, project concurrency)
type Candidate = (String, String, String, Option<i64>, Option<i64>);

pub async fn run(daemon: Arc<Daemon>) {
    let workers = daemon.config.workers().max(1);
    let mut shutdown = daemon.shutdown_signal();
    loop {
        let free = workers.saturating_sub(daemon.running_count());
        if free > 0 {
            match daemon.store.writer.write(move |tx| claim(tx, free)).await {
                Ok(claimed) => {
                    for run_id in claimed {
                        let token = CancelToken::new();
                        daemon.track_run(&run_id, token.clone());
                        let daemon = daemon.clone();
                        tokio::spawn(async move {
                            runner::execute(daemon.clone(), run_id.clone(), token).await;
                            daemon.untrack_run(&run_id);
                            daemon.queue.notify_one();
                        });
                    }
                }
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

/// Claims up to `limit` runs. FIFO per workflow: once a workflow is at its limit, none of
/// its later runs jump ahead.
fn claim(conn: &Connection, limit: usize) -> StoreResult<Vec<String>> {
    let mut active_by_workflow: HashMap<String, i64> = HashMap::new();
    let mut active_by_project: HashMap<String, i64> = HashMap::new();
    {
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
            *active_by_workflow.entry(workflow).or_default() += count;
            *active_by_project.entry(project).or_default() += count;
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, wo.workflow_id, w.project_id, w.concurrency, p.concurrency
         FROM runs r JOIN work_orders wo ON wo.id = r.work_order_id
         JOIN workflows w ON w.id = wo.workflow_id JOIN projects p ON p.id = w.project_id
         WHERE r.state = 'available' AND r.not_before <= ?1
         ORDER BY r.priority, r.id LIMIT 512",
    )?;
    let candidates: Vec<Candidate> = stmt
        .query_map([now_micros()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut claimed = Vec::new();
    let mut blocked: Vec<String> = Vec::new();
    for (run_id, workflow, project, workflow_limit, project_limit) in candidates {
        if claimed.len() >= limit {
            break;
        }
        if blocked.contains(&workflow) {
            continue;
        }
        let workflow_active = active_by_workflow.get(&workflow).copied().unwrap_or(0);
        let project_active = active_by_project.get(&project).copied().unwrap_or(0);
        // A workflow's own limit overrides the project's, as in Lightning.
        let at_limit = match (workflow_limit, project_limit) {
            (Some(limit), _) => workflow_active >= limit,
            (None, Some(limit)) => project_active >= limit,
            (None, None) => false,
        };
        if at_limit {
            blocked.push(workflow);
            continue;
        }
        conn.execute("UPDATE runs SET state = 'claimed', claimed_at = ?2 WHERE id = ?1 AND state = 'available'", params![run_id, now_micros()])?;
        *active_by_workflow.entry(workflow).or_default() += 1;
        *active_by_project.entry(project).or_default() += 1;
        claimed.push(run_id);
    }
    Ok(claimed)
}
