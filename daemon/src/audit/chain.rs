//! The audit chain: each event stores `hash` = sha256(`prev_hash` || its canonical
//! content), `prev_hash` being the hash of the event before it ('' for the first, or the
//! hash a retention purge's checkpoint recorded). Changing an event breaks its own hash;
//! removing one breaks the link of the next; [`verify`] finds the first of either.

use crate::store::{self, StoreResult};
use bolt_shared::audit::{ChainBreak, ChainReport};
use bolt_sql::Db;
use sha2::{Digest, Sha256};
use std::ops::ControlFlow;

/// What an event's hash covers, in a fixed order.
pub struct Content<'a> {
    pub id: i64,
    pub at: i64,
    pub actor: &'a str,
    pub kind: &'a str,
    pub subject: &'a str,
    pub metadata: Option<&'a str>,
}

impl Content<'_> {
    /// sha256(prev || canonical JSON array of the fields), in hex.
    pub fn hash(&self, prev: &str) -> String {
        let canonical = serde_json::json!([
            self.id,
            self.at,
            self.actor,
            self.kind,
            self.subject,
            self.metadata
        ]);
        let mut digest = Sha256::new();
        digest.update(prev.as_bytes());
        digest.update(canonical.to_string().as_bytes());
        hex(&digest.finalize())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The newest event: the next one links to its hash.
pub struct Tip {
    pub id: i64,
    pub hash: String,
}

/// The chain's newest event (sealing events from before the chain existed, once).
pub fn tip(db: &dyn Db) -> StoreResult<Tip> {
    let mut found = store::audit::newest(db)?;
    if matches!(&found, Some(newest) if newest.hash.is_none()) && seal_legacy(db)? > 0 {
        found = store::audit::newest(db)?;
    }
    Ok(match found {
        Some(newest) => Tip {
            id: newest.id,
            // An event written around boltd (no hash): the next links to '' and verify
            // reports the stray one.
            hash: newest.hash.unwrap_or_default(),
        },
        None => Tip {
            id: 0,
            hash: String::new(),
        },
    })
}

/// Chains the events written before the chain existed (up to the id the migration
/// recorded); later events without a hash are not sealed: verify reports them.
pub fn seal_legacy(db: &dyn Db) -> StoreResult<u64> {
    let through = store::audit::legacy_through(db)?;
    if store::audit::unsealed_through(db, through)? == 0 {
        return Ok(0);
    }
    let mut prev = String::new();
    let mut sealed = 0;
    for row in store::audit::rows_through(db, through)? {
        if let Some(hash) = row.hash {
            prev = hash;
            continue;
        }
        let content = Content {
            id: row.id,
            at: row.at,
            actor: &row.actor,
            kind: &row.kind,
            subject: &row.subject,
            metadata: row.metadata.as_deref(),
        };
        let hash = content.hash(&prev);
        store::audit::seal(db, row.id, &prev, &hash)?;
        prev = hash;
        sealed += 1;
    }
    tracing::info!(
        sealed,
        "sealed the audit events written before the audit chain existed"
    );
    Ok(sealed)
}

/// Where the chain starts: after the last retention purge's checkpoint, else at the
/// beginning.
fn start(db: &dyn Db) -> StoreResult<(i64, String)> {
    let checkpoint = store::audit::last_checkpoint(db)?;
    let parsed = checkpoint
        .as_deref()
        .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
        .and_then(|m| {
            Some((
                m.get("through_id")?.as_i64()? + 1,
                m.get("through_hash")?.as_str()?.to_string(),
            ))
        });
    Ok(parsed.unwrap_or((1, String::new())))
}

/// Walks the chain from its start and reports the first gap or edit.
pub fn verify(db: &dyn Db) -> StoreResult<ChainReport> {
    let (first_id, mut expected_prev) = start(db)?;
    let mut expected_id = first_id;
    let mut report = ChainReport {
        checked: 0,
        first_id: None,
        last_id: None,
        broken: None,
    };
    // Events before the chain's start are what a purge left or what was slipped in front.
    if let Some(id) = store::audit::newest_below(db, first_id)? {
        report.broken = Some(ChainBreak {
            id,
            problem: "gap".into(),
            detail: format!(
                "event {id} is older than the chain's start (event {first_id}, after the last retention purge): it was added around boltd"
            ),
        });
        return Ok(report);
    }
    store::audit::each_from(db, first_id, |row| {
        let id = row.id;
        let content = Content {
            id,
            at: row.at,
            actor: &row.actor,
            kind: &row.kind,
            subject: &row.subject,
            metadata: row.metadata.as_deref(),
        };
        report.first_id.get_or_insert(id);
        let broken = if id != expected_id {
            let missing = if id == expected_id + 1 {
                format!("event {expected_id} is missing")
            } else if id > expected_id {
                format!("events {expected_id} to {} are missing", id - 1)
            } else {
                format!("its id repeats or goes back (expected {expected_id})")
            };
            Some(("gap", format!("the chain jumps to event {id}: {missing}")))
        } else if let (Some(prev), Some(hash)) = (&row.prev_hash, &row.hash) {
            if content.hash(prev) != *hash {
                Some((
                    "edited",
                    format!(
                        "event {id} ({} by {}) no longer matches its hash: it was changed after it was written",
                        row.kind, row.actor
                    ),
                ))
            } else if *prev != expected_prev {
                Some((
                    "gap",
                    format!(
                        "event {id} does not link to the event before it: an event before it was removed or rewritten"
                    ),
                ))
            } else {
                None
            }
        } else {
            Some((
                "edited",
                format!("event {id} has no hash: it was written around boltd"),
            ))
        };
        if let Some((problem, detail)) = broken {
            report.broken = Some(ChainBreak {
                id,
                problem: problem.into(),
                detail,
            });
            return ControlFlow::Break(());
        }
        report.checked += 1;
        report.last_id = Some(id);
        expected_prev = row.hash.unwrap_or_default();
        expected_id = id + 1;
        ControlFlow::Continue(())
    })?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite;
    use bolt_sql::{DbExt, Sql, params};

    fn write(db: &dyn Db, n: usize) {
        for i in 0..n {
            super::super::record(
                db,
                "workflow.job_updated",
                &format!("wf/job{i}"),
                Some(&serde_json::json!({ "i": i })),
            )
            .unwrap();
        }
    }

    /// Drops one of the append-only triggers, as someone editing the database could.
    fn drop_trigger(db: &dyn Db, name: &str) {
        const DROP: Sql = Sql::new("DROP TRIGGER {}", "DROP TRIGGER {} ON audit_events");
        suite::seed(db, &db.sql(&DROP).replace("{}", name));
    }

    /// Stores already written hold these hashes: what a hash covers never changes.
    #[test]
    fn an_event_hashes_to_what_stored_chains_hold() {
        let event = Content {
            id: 7,
            at: 1_700_000_000_000_000,
            actor: "alice",
            kind: "credential.updated",
            subject: "db",
            metadata: Some(r#"{"k":"v"}"#),
        };
        assert_eq!(
            event.hash(&"ab".repeat(32)),
            "8efa6c7e76909bc9b8af627be1c8801fec68a94929ebf5f3a6ad165c235f5858"
        );
        let first = Content {
            id: 1,
            at: 5,
            actor: "boltd",
            kind: "audit.purged",
            subject: "audit",
            metadata: None,
        };
        assert_eq!(
            first.hash(""),
            "3b92865a152b7f8026fce1110f8ca63349fdb55e7787e89fed66d2318bc59492"
        );
    }

    #[test]
    fn events_from_before_the_chain_are_sealed_once_and_later_strays_are_reported() {
        suite::on_each_backend(|db| {
            // As a store upgraded from before the chain: events without hashes, up to the
            // id the migration noted.
            for i in 1..=3i64 {
                db.execute(
                    "INSERT INTO audit_events (id, at, actor, action, subject) VALUES (?1, ?1, 'bolt', 'project.deploy', 'p')",
                    params![i],
                )
                .unwrap();
            }
            db.execute(
                "UPDATE store_meta SET value = '3' WHERE key = 'audit_legacy_through'",
                params![],
            )
            .unwrap();
            // What boltd does at start.
            assert_eq!(seal_legacy(db).unwrap(), 3);
            assert_eq!(seal_legacy(db).unwrap(), 0, "sealed once");
            write(db, 2);
            let report = verify(db).unwrap();
            assert_eq!((report.checked, report.broken), (5, None));
            // One slipped in around boltd, after the chain began, is not sealed.
            db.execute(
                "INSERT INTO audit_events (id, at, actor, action, subject) VALUES (6, 6, 'x', 'credential.deleted', 'c')",
                params![],
            )
            .unwrap();
            write(db, 1);
            let broken = verify(db).unwrap().broken.unwrap();
            assert_eq!(
                (broken.id, broken.problem.as_str()),
                (6, "edited"),
                "{broken:?}"
            );
            assert!(broken.detail.contains("no hash"), "{broken:?}");
        });
    }

    #[test]
    fn a_whole_chain_verifies_and_an_edit_or_a_removal_is_found() {
        suite::on_each_backend(|db| {
            write(db, 5);
            let report = verify(db).unwrap();
            assert_eq!((report.checked, report.broken), (5, None));
            assert_eq!((report.first_id, report.last_id), (Some(1), Some(5)));

            // Append-only, as long as nobody drops the triggers.
            let refused = db
                .execute(
                    "UPDATE audit_events SET actor = 'mallory' WHERE id = 3",
                    params![],
                )
                .unwrap_err()
                .to_string();
            assert!(refused.contains("append-only"), "{refused}");
            let refused = db
                .execute("DELETE FROM audit_events WHERE id = 3", params![])
                .unwrap_err()
                .to_string();
            assert!(refused.contains("append-only"), "{refused}");

            drop_trigger(db, "audit_events_append_only_update");
            suite::seed(db, "UPDATE audit_events SET actor = 'mallory' WHERE id = 3");
            let broken = verify(db).unwrap().broken.unwrap();
            assert_eq!((broken.id, broken.problem.as_str()), (3, "edited"));

            suite::seed(db, "UPDATE audit_events SET actor = 'boltd' WHERE id = 3");
            drop_trigger(db, "audit_events_append_only_delete");
            suite::seed(db, "DELETE FROM audit_events WHERE id = 2");
            let broken = verify(db).unwrap().broken.unwrap();
            assert_eq!(
                (broken.id, broken.problem.as_str()),
                (3, "gap"),
                "{broken:?}"
            );
            assert!(broken.detail.contains("event 2 is missing"), "{broken:?}");
        });
    }

    #[test]
    fn a_chain_longer_than_a_page_is_walked_to_its_end() {
        suite::on_each_backend(|db| {
            db.in_transaction(|tx| -> crate::store::StoreResult<()> {
                write(tx, 1005);
                Ok(())
            })
            .unwrap();
            let report = verify(db).unwrap();
            assert_eq!((report.checked, report.broken), (1005, None));
            assert_eq!(report.last_id, Some(1005));
        });
    }

    /// PostgreSQL: nodes sharing the database append to one chain without a repeated id.
    #[test]
    fn nodes_appending_at_once_keep_one_chain() {
        let Some(scratch) = bolt_sql::testing::PgScratch::new() else {
            return;
        };
        let setup = scratch.connect().unwrap();
        bolt_sql::pg::migrate(&setup, bolt_sql::schema::POSTGRES).unwrap();
        std::thread::scope(|threads| {
            for node in 0..3 {
                let client = scratch.connect().unwrap();
                threads.spawn(move || {
                    for i in 0..20 {
                        client
                            .in_transaction(|tx| {
                                super::super::record_as(
                                    tx,
                                    &format!("node{node}"),
                                    "run.cancelled",
                                    &format!("r{i}"),
                                    None,
                                )
                            })
                            .unwrap();
                    }
                });
            }
        });
        let report = verify(&setup).unwrap();
        assert_eq!((report.checked, report.broken), (60, None));
    }
}
