//! Cron triggers: each enabled schedule fires once per matching minute. A row in
//! `cron_fires` per (trigger, minute) makes that true across restarts too.

use crate::daemon::Daemon;
use crate::project::parse_cron;
use crate::store::StoreResult;
use crate::store::work_orders::{Input, NewWorkOrder};
use crate::triggers::intake;
use crate::workflows;
use bolt_shared::model::{DataclipType, Origin};
use chrono::{DateTime, Timelike, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use std::sync::Arc;
use std::time::Duration;

/// Test hook: check the schedule this often instead of once a minute.
pub const ENV_CHECK_MS: &str = "BOLT_CRON_CHECK_MS";

pub async fn run(daemon: Arc<Daemon>) {
    let mut shutdown = daemon.shutdown_signal();
    let check = std::env::var(ENV_CHECK_MS)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis);
    loop {
        let now = Utc::now();
        match tick(&daemon, now).await {
            Ok(_) => {}
            Err(crate::store::StoreError::Refusing(_)) => {
                tracing::warn!(
                    "cron triggers due this minute did not fire: the store refuses writes (see `bolt status`)"
                );
            }
            Err(err) => tracing::error!(%err, "cron check failed"),
        }
        let wait = check.unwrap_or_else(|| {
            let into_minute = Duration::from_millis(
                u64::from(now.second()) * 1000 + u64::from(now.timestamp_subsec_millis()),
            );
            Duration::from_secs(60).saturating_sub(into_minute) + Duration::from_millis(50)
        });
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => break,
        }
    }
}

fn minute_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(at)
}

/// Fires every cron trigger whose schedule matches the minute of `now`, once.
pub async fn tick(daemon: &Arc<Daemon>, now: DateTime<Utc>) -> StoreResult<usize> {
    let minute = minute_of(now);
    let due = daemon
        .store
        .readers
        .read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT t.id, t.cron_expression, w.id, t.key FROM triggers t JOIN workflows w ON w.id = t.workflow_id
                 WHERE t.type = 'cron' AND t.enabled = 1 AND w.enabled = 1 AND w.deleted_at IS NULL",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?)))?;
            let mut due = Vec::new();
            for row in rows {
                let (trigger, expression, workflow, key) = row?;
                if expression.and_then(|e| parse_cron(&e).ok()).is_some_and(|s| s.matches(minute)) {
                    due.push((trigger, workflow, key));
                }
            }
            Ok(due)
        })
        .await?;
    let mut fired = 0;
    for (trigger, workflow, trigger_key) in due {
        let stamp = minute.timestamp();
        let claim_trigger = trigger.clone();
        let first = daemon
            .store
            .writer
            .write(move |tx| {
                Ok(tx.execute(
                    "INSERT OR IGNORE INTO cron_fires (trigger_id, minute) VALUES (?1, ?2)",
                    params![claim_trigger, stamp],
                )? == 1)
            })
            .await?;
        if !first {
            continue;
        }
        let (deployed, input) = daemon
            .store
            .readers
            .read(move |conn| {
                let deployed = workflows::find(conn, &workflow)?;
                let cursor_job = deployed
                    .spec
                    .triggers
                    .iter()
                    .find(|t| t.key == trigger_key)
                    .and_then(|t| t.cron_cursor_job.clone());
                let input = match cursor_job {
                    Some(job) => last_job_output(conn, &workflow, &job)?,
                    None => last_success_input(conn, &workflow)?,
                };
                Ok((deployed, input))
            })
            .await?;
        let new = NewWorkOrder {
            workflow_id: deployed.id,
            project_id: deployed.project_id,
            version_id: deployed.version_id,
            trigger_id: Some(trigger),
            origin: Origin::Cron,
            input: match input {
                Some(id) => Input::Existing(id),
                None => Input::json(DataclipType::Global, &serde_json::json!({}), None),
            },
            starting_job: None,
            priority: 1,
            source_address: None,
        };
        intake::submit(daemon, new).await?;
        fired += 1;
    }
    Ok(fired)
}

/// As Lightning with a `cron_cursor_job`: the output of that job's last successful step in
/// this workflow (not wiped). Walks work orders newest first, so it stops at the first hit.
fn last_job_output(conn: &Connection, workflow_id: &str, job: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT s.output_dataclip_id FROM work_orders wo
             JOIN runs r ON r.work_order_id = wo.id
             JOIN steps s ON s.run_id = r.id
             JOIN dataclips d ON d.id = s.output_dataclip_id
             WHERE wo.workflow_id = ?1 AND s.job_key = ?2 AND s.exit_reason = 'success' AND d.wiped_at IS NULL
             ORDER BY wo.id DESC, s.finished_at DESC LIMIT 1",
            params![workflow_id, job],
            |r| r.get(0),
        )
        .optional()?)
}

/// As Lightning without one: the final state of the workflow's last successful run (not wiped).
fn last_success_input(conn: &Connection, workflow_id: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT r.final_dataclip_id FROM runs r JOIN work_orders wo ON wo.id = r.work_order_id
             JOIN dataclips d ON d.id = r.final_dataclip_id
             WHERE wo.workflow_id = ?1 AND r.state = 'success' AND d.wiped_at IS NULL
             ORDER BY r.finished_at DESC LIMIT 1",
            [workflow_id],
            |r| r.get(0),
        )
        .optional()?)
}
