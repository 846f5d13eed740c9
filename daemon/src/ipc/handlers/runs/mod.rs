//! Starting, cancelling and rerunning runs.

pub mod cancel;
pub mod rerun;
pub mod rerun_matching;
pub mod trigger;

use bolt_shared::protocol::RerunOutcome;
use bolt_sql::Db;

/// Records a rerun that was queued (a skipped one changed nothing).
fn audit_rerun(
    tx: &dyn Db,
    outcome: &RerunOutcome,
    from_job: Option<&str>,
) -> Result<(), crate::store::StoreError> {
    let Some(run) = &outcome.run_id else {
        return Ok(());
    };
    let mut metadata = serde_json::Map::new();
    metadata.insert("run".into(), run.clone().into());
    if let Some(job) = from_job {
        metadata.insert("from_job".into(), job.into());
    }
    crate::audit::record_for_work_order(
        tx,
        "work_order.rerun",
        &outcome.work_order_id,
        &outcome.work_order_id,
        metadata,
    )?;
    Ok(())
}
