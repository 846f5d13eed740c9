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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::suite;
    use crate::store::work_orders::fixture;
    use bolt_shared::audit::AuditFilter;

    #[test]
    fn a_queued_rerun_is_audited_with_its_run_and_workflow_and_a_skipped_one_is_not() {
        suite::on_each_backend(|db| {
            fixture::one_run(db, "failed");
            let skipped = RerunOutcome {
                work_order_id: "wo".into(),
                run_id: None,
                skipped: Some("its input was wiped".into()),
            };
            audit_rerun(db, &skipped, None).unwrap();
            let events = crate::store::audit::matching(db, &AuditFilter::default(), 10).unwrap();
            assert!(events.is_empty());

            let queued = RerunOutcome {
                work_order_id: "wo".into(),
                run_id: Some("r2".into()),
                skipped: None,
            };
            audit_rerun(db, &queued, Some("b")).unwrap();
            let events = crate::store::audit::matching(db, &AuditFilter::default(), 10).unwrap();
            assert_eq!(events.len(), 1);
            let event = &events[0];
            assert_eq!(
                (event.kind.as_str(), event.subject.as_str()),
                ("work_order.rerun", "wo")
            );
            let metadata = event.metadata.as_ref().unwrap();
            assert_eq!(metadata["run"], "r2");
            assert_eq!(metadata["from_job"], "b");
            assert_eq!(metadata["workflow"], "w");
        });
    }
}
