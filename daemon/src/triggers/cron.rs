//! Cron triggers: each enabled schedule fires once per matching minute. A row in
//! `cron_fires` per (trigger, minute) makes that true across restarts too.

use crate::daemon::Daemon;
use crate::project::parse_cron;
use crate::store::work_orders::{Input, NewWorkOrder};
use crate::store::{self, StoreResult};
use crate::triggers::intake;
use crate::workflows;
use bolt_shared::model::{DataclipType, Origin};
use chrono::{DateTime, Timelike, Utc};
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
            let mut due = Vec::new();
            for trigger in store::cron::armed(conn)? {
                let scheduled = trigger
                    .expression
                    .as_deref()
                    .and_then(|e| parse_cron(e).ok());
                if scheduled.is_some_and(|s| s.matches(minute)) {
                    due.push((trigger.id, trigger.workflow_id, trigger.key));
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
            .write(move |tx| store::cron::claim_fire(tx, &claim_trigger, stamp))
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
                    Some(job) => store::cron::last_job_output(conn, &workflow, &job)?,
                    None => store::cron::last_success_state(conn, &workflow)?,
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
