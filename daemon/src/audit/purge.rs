//! Audit retention (`[audit] retention_days`): old events are deleted from the front of
//! the chain, and a checkpoint event records the hash the deleted part ended with, so
//! the chain that remains still verifies. Events the syslog collector hasn't
//! acknowledged are kept.

use crate::store::{self, StoreResult};
use rusqlite::Connection;

/// Deletes the events older than `before` (µs), up to the first undelivered one, and
/// appends the checkpoint. Returns how many were deleted.
pub fn purge_before(conn: &Connection, before: i64) -> StoreResult<u64> {
    let oldest_undelivered = store::audit::oldest_undelivered(conn)?;
    let through = store::audit::last_before(conn, before, oldest_undelivered.unwrap_or(i64::MAX))?;
    let Some(store::audit::EventHash {
        id: through_id,
        hash: Some(through_hash),
    }) = through
    else {
        return Ok(0);
    };
    // The newest event must stay: the chain's next event links to it.
    let newest = store::audit::newest(conn)?.map_or(0, |newest| newest.id);
    if through_id >= newest {
        return Ok(0);
    }
    let deleted = store::audit::delete_through(conn, through_id)?;
    let checkpoint = serde_json::json!({
        "through_id": through_id,
        "through_hash": through_hash,
        "purged": deleted,
        "before": crate::store::from_micros(before).to_rfc3339(),
    })
    .to_string();
    super::record_as(
        conn,
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
    use crate::store::{DB_FILE, Store, now_micros, open_connection};

    #[tokio::test]
    async fn a_purged_chain_still_verifies_from_its_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1).unwrap();
        store
            .writer
            .write(|tx| {
                for i in 0..4 {
                    super::super::record(tx, "run.cancelled", &format!("r{i}"), None)?;
                }
                Ok(())
            })
            .await
            .unwrap();
        let cutoff = now_micros() + 1;
        store
            .writer
            .write(|tx| super::super::record(tx, "run.cancelled", "late", None))
            .await
            .unwrap();
        let deleted = store
            .writer
            .write(move |tx| purge_before(tx, cutoff))
            .await
            .unwrap();
        assert_eq!(deleted, 4);
        let conn = open_connection(&dir.path().join(DB_FILE)).unwrap();
        let report = super::super::chain::verify(&conn).unwrap();
        assert_eq!(report.broken, None);
        assert_eq!((report.first_id, report.checked), (Some(5), 2));
        // Nothing else may delete: the permit is gone with the purge.
        assert!(conn.execute("DELETE FROM audit_events", []).is_err());
    }
}
