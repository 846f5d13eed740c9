//! Audit retention (`[audit] retention_days`): old events are deleted from the front of
//! the chain, and a checkpoint event records the hash the deleted part ended with, so
//! the chain that remains still verifies. Events the syslog collector hasn't
//! acknowledged are kept.

use crate::store::{self, StoreResult};
use bolt_sql::Db;

/// Deletes the events older than `before` (µs), up to the first undelivered one, and
/// appends the checkpoint. Returns how many were deleted.
pub fn purge_before(db: &dyn Db, before: i64) -> StoreResult<u64> {
    let oldest_undelivered = store::audit::oldest_undelivered(db)?;
    let through = store::audit::last_before(db, before, oldest_undelivered.unwrap_or(i64::MAX))?;
    let Some(store::audit::EventHash {
        id: through_id,
        hash: Some(through_hash),
    }) = through
    else {
        return Ok(0);
    };
    // The newest event must stay: the chain's next event links to it.
    let newest = store::audit::newest(db)?.map_or(0, |newest| newest.id);
    if through_id >= newest {
        return Ok(0);
    }
    let deleted = store::audit::delete_through(db, through_id)?;
    let checkpoint = serde_json::json!({
        "through_id": through_id,
        "through_hash": through_hash,
        "purged": deleted,
        "before": crate::store::from_micros(before).to_rfc3339(),
    })
    .to_string();
    super::record_as(
        db,
        crate::actor::DAEMON,
        "audit.purged",
        "audit",
        Some(&checkpoint),
    )?;
    Ok(deleted as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{now_micros, suite};
    use bolt_sql::{DbExt, params};

    #[test]
    fn a_purged_chain_still_verifies_from_its_checkpoint() {
        suite::on_each_backend(|db| {
            for i in 0..4 {
                super::super::record(db, "run.cancelled", &format!("r{i}"), None).unwrap();
            }
            let cutoff = now_micros() + 1;
            std::thread::sleep(std::time::Duration::from_millis(2));
            super::super::record(db, "run.cancelled", "late", None).unwrap();
            let deleted = db.in_transaction(|tx| purge_before(tx, cutoff)).unwrap();
            assert_eq!(deleted, 4);
            let report = super::super::chain::verify(db).unwrap();
            assert_eq!(report.broken, None);
            assert_eq!((report.first_id, report.checked), (Some(5), 2));
            let checkpoint = crate::store::audit::last_checkpoint(db).unwrap().unwrap();
            assert!(checkpoint.contains(r#""through_id":4"#), "{checkpoint}");
            // Nothing else may delete: the permit is gone with the purge.
            assert!(db.execute("DELETE FROM audit_events", params![]).is_err());
            // Nothing older is left to purge; the newest event always stays.
            let again = db
                .in_transaction(|tx| purge_before(tx, now_micros() + 1))
                .unwrap();
            assert_eq!(again, 0);
        });
    }

    #[test]
    fn events_the_syslog_collector_has_yet_to_take_are_kept() {
        suite::on_each_backend(|db| {
            for i in 0..4 {
                let id = super::super::record(db, "run.cancelled", &format!("r{i}"), None).unwrap();
                if i == 2 {
                    crate::store::audit::queue_for_syslog(db, id).unwrap();
                }
            }
            let deleted = db
                .in_transaction(|tx| purge_before(tx, now_micros() + 1))
                .unwrap();
            assert_eq!(deleted, 2, "the purge stops before event 3, still queued");
            assert_eq!(
                crate::store::audit::oldest_undelivered(db).unwrap(),
                Some(3)
            );
            let report = super::super::chain::verify(db).unwrap();
            assert_eq!((report.first_id, report.broken), (Some(3), None));
        });
    }
}
