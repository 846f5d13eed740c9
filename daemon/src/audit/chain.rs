//! The audit chain: each event stores `hash` = sha256(`prev_hash` || its canonical
//! content), `prev_hash` being the hash of the event before it ('' for the first, or the
//! hash a retention purge's checkpoint recorded). Changing an event breaks its own hash;
//! removing one breaks the link of the next; [`verify`] finds the first of either.

use crate::store::{self, StoreResult};
use bolt_shared::audit::{ChainBreak, ChainReport};
use rusqlite::Connection;
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
pub fn tip(conn: &Connection) -> StoreResult<Tip> {
    let mut found = store::audit::newest(conn)?;
    if matches!(&found, Some(newest) if newest.hash.is_none()) && seal_legacy(conn)? > 0 {
        found = store::audit::newest(conn)?;
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
pub fn seal_legacy(conn: &Connection) -> StoreResult<u64> {
    let through = store::audit::legacy_through(conn)?;
    if store::audit::unsealed_through(conn, through)? == 0 {
        return Ok(0);
    }
    let mut prev = String::new();
    let mut sealed = 0;
    for row in store::audit::rows_through(conn, through)? {
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
        store::audit::seal(conn, row.id, &prev, &hash)?;
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
fn start(conn: &Connection) -> StoreResult<(i64, String)> {
    let checkpoint = store::audit::last_checkpoint(conn)?;
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
pub fn verify(conn: &Connection) -> StoreResult<ChainReport> {
    let (first_id, mut expected_prev) = start(conn)?;
    let mut expected_id = first_id;
    let mut report = ChainReport {
        checked: 0,
        first_id: None,
        last_id: None,
        broken: None,
    };
    // Events before the chain's start are what a purge left or what was slipped in front.
    if let Some(id) = store::audit::newest_below(conn, first_id)? {
        report.broken = Some(ChainBreak {
            id,
            problem: "gap".into(),
            detail: format!(
                "event {id} is older than the chain's start (event {first_id}, after the last retention purge): it was added around boltd"
            ),
        });
        return Ok(report);
    }
    store::audit::each_from(conn, first_id, |row| {
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
    use crate::store::Store;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1).unwrap();
        (dir, store)
    }

    async fn write(store: &Store, n: usize) {
        store
            .writer
            .write(move |tx| {
                for i in 0..n {
                    super::super::record(
                        tx,
                        "workflow.job_updated",
                        &format!("wf/job{i}"),
                        Some(&serde_json::json!({ "i": i })),
                    )?;
                }
                Ok(())
            })
            .await
            .unwrap();
    }

    fn open(dir: &tempfile::TempDir) -> Connection {
        crate::store::open_connection(&dir.path().join(crate::store::DB_FILE)).unwrap()
    }

    fn verify_now(dir: &tempfile::TempDir) -> ChainReport {
        verify(&open(dir)).unwrap()
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

    #[tokio::test]
    async fn events_from_before_the_chain_are_sealed_once_and_later_strays_are_reported() {
        let (dir, store) = store().await;
        drop(store);
        // As a store upgraded from before the chain: events without hashes, up to the id
        // the migration noted.
        let conn = open(&dir);
        for i in 1..=3 {
            conn.execute(
                "INSERT INTO audit_events (id, at, actor, action, subject) VALUES (?1, ?1, 'bolt', 'project.deploy', 'p')",
                [i],
            )
            .unwrap();
        }
        conn.execute(
            "UPDATE store_meta SET value = '3' WHERE key = 'audit_legacy_through'",
            [],
        )
        .unwrap();
        let store = Store::open(dir.path(), 1).unwrap();
        write(&store, 2).await;
        let report = verify_now(&dir);
        assert_eq!((report.checked, report.broken), (5, None));
        // One slipped in around boltd, after the chain began, is not sealed.
        conn.execute(
            "INSERT INTO audit_events (id, at, actor, action, subject) VALUES (6, 6, 'x', 'credential.deleted', 'c')",
            [],
        )
        .unwrap();
        write(&store, 1).await;
        let broken = verify_now(&dir).broken.unwrap();
        assert_eq!(
            (broken.id, broken.problem.as_str()),
            (6, "edited"),
            "{broken:?}"
        );
        assert!(broken.detail.contains("no hash"), "{broken:?}");
    }

    #[tokio::test]
    async fn a_whole_chain_verifies_and_an_edit_or_a_removal_is_found() {
        let (dir, store) = store().await;
        write(&store, 5).await;
        let report = verify_now(&dir);
        assert_eq!((report.checked, report.broken), (5, None));

        let conn = open(&dir);
        // Append-only, as long as nobody drops the triggers.
        let refused = conn
            .execute("UPDATE audit_events SET actor = 'mallory' WHERE id = 3", [])
            .unwrap_err()
            .to_string();
        assert!(refused.contains("append-only"), "{refused}");
        assert!(
            conn.execute("DELETE FROM audit_events WHERE id = 3", [])
                .is_err()
        );

        conn.execute_batch(
            "DROP TRIGGER audit_events_append_only_update;
             UPDATE audit_events SET actor = 'mallory' WHERE id = 3;",
        )
        .unwrap();
        let broken = verify_now(&dir).broken.unwrap();
        assert_eq!((broken.id, broken.problem.as_str()), (3, "edited"));

        conn.execute_batch(
            "UPDATE audit_events SET actor = 'boltd' WHERE id = 3;
             DROP TRIGGER audit_events_append_only_delete;
             DELETE FROM audit_events WHERE id = 2;",
        )
        .unwrap();
        let broken = verify_now(&dir).broken.unwrap();
        assert_eq!(
            (broken.id, broken.problem.as_str()),
            (3, "gap"),
            "{broken:?}"
        );
        assert!(broken.detail.contains("event 2 is missing"), "{broken:?}");
    }
}
