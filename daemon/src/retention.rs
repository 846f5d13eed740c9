//! Per-project retention, applied in small batches so webhooks never wait behind it:
//! `history_retention_days` deletes old work orders, `dataclip_retention_days` wipes old
//! bodies (keeping their metadata). Named (saved) inputs are never touched.

use crate::daemon::Daemon;
use crate::refs;
use crate::store::dataclips;
use crate::store::retention::{self as store, ProjectRetention, WorkOrderParts};
use crate::store::{StoreResult, now_micros};
use bolt_shared::model::WipeReason;
use bolt_sql::Db;
use std::sync::Arc;
use std::time::Duration;

/// Test hook: how many seconds a retention "day" lasts (default 86400).
pub const ENV_DAY_SECS: &str = "BOLT_RETENTION_DAY_SECS";

fn day_micros() -> i64 {
    let secs = std::env::var(ENV_DAY_SECS)
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(24 * 3600);
    secs * 1_000_000
}

pub async fn run(daemon: Arc<Daemon>) {
    let mut shutdown = daemon.shutdown_signal();
    let every = Duration::from_secs(daemon.config.retention.interval_secs.max(1));
    loop {
        match sweep(&daemon).await {
            Ok((deleted, wiped)) if deleted + wiped > 0 => {
                tracing::info!(deleted, wiped, "retention sweep")
            }
            Ok(_) => {}
            // Retention waits for a store that takes writes; it said so once already.
            Err(crate::store::StoreError::Refusing(_)) => {}
            Err(err) => tracing::error!(%err, "retention sweep failed"),
        }
        if let Some(days) = daemon.config.audit.retention_days {
            let before = crate::store::now_micros() - i64::from(days) * day_micros();
            match daemon
                .store
                .writer
                .write(move |tx| crate::audit::purge::purge_before(tx, before))
                .await
            {
                Ok(0) | Err(crate::store::StoreError::Refusing(_)) => {}
                Ok(purged) => tracing::info!(purged, "audit retention purged old events"),
                Err(err) => tracing::error!(%err, "audit retention failed"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => break,
        }
    }
}

/// One full sweep; returns (work orders deleted, dataclips wiped).
pub async fn sweep(daemon: &Arc<Daemon>) -> StoreResult<(usize, usize)> {
    let batch = daemon.config.retention.batch_size.max(1);
    let projects = daemon
        .store
        .readers
        .read(|conn| store::policies(conn))
        .await?;
    let (mut deleted, mut wiped) = (0, 0);
    for ProjectRetention {
        project_id: project,
        history_days: history,
        dataclip_days: dataclip,
    } in projects
    {
        tracing::debug!(%project, ?history, ?dataclip, "retention sweep of a project");
        if let Some(days) = history {
            let cutoff = now_micros() - days * day_micros();
            deleted += drain(daemon, batch, &project, move |tx, p| {
                delete_history_batch(tx, p, cutoff, batch)
            })
            .await?;
        }
        if let Some(days) = dataclip {
            let cutoff = now_micros() - days * day_micros();
            wiped += drain(daemon, batch, &project, move |tx, p| {
                wipe_batch(tx, p, cutoff, batch)
            })
            .await?;
        }
    }
    Ok((deleted, wiped))
}

/// Runs `step` in its own transaction until a batch comes back short; returns the total.
async fn drain(
    daemon: &Arc<Daemon>,
    batch: usize,
    project: &str,
    step: impl Fn(&dyn Db, &str) -> StoreResult<usize> + Clone + Send + 'static,
) -> StoreResult<usize> {
    let mut total = 0;
    loop {
        let (project, step) = (project.to_string(), step.clone());
        let n = daemon
            .store
            .writer
            .write(move |tx| step(tx, &project))
            .await?;
        total += n;
        // A long sweep must not hold up a stop; the next start goes on where it left off.
        if n < batch || daemon.is_stopping() {
            return Ok(total);
        }
    }
}

/// Deletes up to `batch` finished work orders last active before `cutoff`, with their runs,
/// steps, logs, index entries and the dataclips nothing else refers to.
pub fn delete_history_batch(
    db: &dyn Db,
    project: &str,
    cutoff: i64,
    batch: usize,
) -> StoreResult<usize> {
    let ids = store::expired_work_orders(db, project, cutoff, batch)?;
    for id in &ids {
        let mut clips = store::dataclips_of(db, id)?;
        store::unindex_work_order(db, id)?;
        unindex_refs(db, id)?;
        store::delete_work_order(db, id)?;
        clips.sort();
        clips.dedup();
        for clip in clips {
            store::delete_dataclip_if_unused(db, &clip)?;
        }
    }
    Ok(ids.len())
}

/// Removes the short refs of a work order, its runs and their steps (deleted with it).
fn unindex_refs(db: &dyn Db, work_order_id: &str) -> StoreResult<()> {
    let WorkOrderParts { runs, steps } = store::parts_of(db, work_order_id)?;
    refs::unindex(db, "steps", &steps)?;
    refs::unindex(db, "runs", &runs)?;
    refs::unindex(db, "work_orders", &[work_order_id.to_string()])
}

/// Wipes up to `batch` bodies created before `cutoff` (not named, not global).
pub fn wipe_batch(db: &dyn Db, project: &str, cutoff: i64, batch: usize) -> StoreResult<usize> {
    let ids = store::expired_dataclips(db, project, cutoff, batch)?;
    for id in &ids {
        dataclips::wipe(db, id, WipeReason::Retention)?;
    }
    Ok(ids.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fts_queue::indexed;
    use crate::store::retention::tests::{HISTORY, WO_NEW, WO_OLD, WO_OTHER, WO_RUNNING};
    use crate::store::suite::{on_each_backend, seed};
    use bolt_sql::{DbExt, params};

    fn ids(db: &dyn Db, table: &str) -> Vec<String> {
        db.query_map(
            &format!("SELECT id FROM {table} ORDER BY id"),
            params![],
            |r| r.get(0),
        )
        .unwrap()
    }

    #[test]
    fn old_bodies_are_wiped_then_old_history_deleted_in_batches() {
        on_each_backend(|db| {
            seed(db, HISTORY);
            dataclips::index(db, WO_OLD, "input", "in-1", "alpha words").unwrap();
            dataclips::index(db, WO_NEW, "input", "in-new", "alpha new").unwrap();
            refs::index_new(db, "work_orders", WO_OLD).unwrap();
            refs::index_new(db, "work_orders", WO_NEW).unwrap();

            assert_eq!(wipe_batch(db, "p1", 100, 1).unwrap(), 1);
            assert_eq!(wipe_batch(db, "p1", 100, 10).unwrap(), 1);
            assert_eq!(wipe_batch(db, "p1", 100, 10).unwrap(), 0);
            let wiped: Vec<(String, Option<String>, Option<String>)> = db
                .query_map(
                    "SELECT id, body, wipe_reason FROM dataclips WHERE wiped_at IS NOT NULL ORDER BY id",
                    params![],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap();
            assert_eq!(
                wiped,
                [
                    ("in-1".into(), None, Some("retention".into())),
                    ("out-1".into(), None, Some("retention".into())),
                ]
            );
            assert_eq!(indexed(db, "alpha").len(), 1);

            assert_eq!(delete_history_batch(db, "p1", 100, 10).unwrap(), 1);
            assert_eq!(delete_history_batch(db, "p1", 100, 10).unwrap(), 0);
            assert_eq!(ids(db, "work_orders"), [WO_RUNNING, WO_NEW, WO_OTHER]);
            let old_ref = &WO_OLD[WO_OLD.len() - 8..];
            assert!(
                refs::find_by_tail(db, "work_orders", old_ref, 2)
                    .unwrap()
                    .is_empty()
            );
            let new_ref = &WO_NEW[WO_NEW.len() - 8..];
            assert_eq!(
                refs::find_by_tail(db, "work_orders", new_ref, 2).unwrap(),
                [WO_NEW]
            );
            assert!(ids(db, "runs").is_empty());
            assert_eq!(ids(db, "dataclips"), ["global-1", "in-new", "saved"]);
            assert_eq!(indexed(db, "alpha").len(), 1);
        });
    }
}
