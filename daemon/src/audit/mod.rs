//! The audit log: who did what, when. Every event is written by [`record`], which chains
//! it to the one before ([`chain`]) and, when a syslog collector is configured, queues it
//! for ATNA delivery ([`atna`]).

pub mod atna;
pub mod chain;
pub mod purge;
pub mod query;

use crate::store::{self, StoreResult, now_micros};
use bolt_sql::{Db, DbExt, Dialect};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set at start when `[audit] syslog` is configured: new events are queued for delivery.
static FORWARDING: AtomicBool = AtomicBool::new(false);

/// Queue every event written from now on for the syslog collector.
pub fn forward_to_syslog(on: bool) {
    FORWARDING.store(on, Ordering::Relaxed);
}

/// Records an event as the current actor (see [`crate::actor`]). `kind` is
/// `subject_type.action`, e.g. `credential.updated`.
pub fn record(
    db: &dyn Db,
    kind: &str,
    subject: &str,
    metadata: Option<&serde_json::Value>,
) -> StoreResult<i64> {
    let metadata = metadata.map(|m| m.to_string());
    record_as(
        db,
        &crate::actor::current(),
        kind,
        subject,
        metadata.as_deref(),
    )
}

/// Records an event with its actor given (a webhook's source, boltd itself).
pub fn record_as(
    db: &dyn Db,
    actor: &str,
    kind: &str,
    subject: &str,
    metadata: Option<&str>,
) -> StoreResult<i64> {
    match db.dialect() {
        Dialect::Sqlite => append_to_chain(db, actor, kind, subject, metadata),
        // Nodes sharing a PostgreSQL database append to one chain: each holds the chain's
        // lock from reading the tip until its transaction ends.
        Dialect::Postgres => db.in_transaction(|tx| {
            store::audit::lock_chain(tx)?;
            append_to_chain(tx, actor, kind, subject, metadata)
        }),
    }
}

fn append_to_chain(
    db: &dyn Db,
    actor: &str,
    kind: &str,
    subject: &str,
    metadata: Option<&str>,
) -> StoreResult<i64> {
    let tip = chain::tip(db)?;
    let event = chain::Content {
        id: tip.id + 1,
        at: now_micros(),
        actor,
        kind,
        subject,
        metadata,
    };
    let hash = event.hash(&tip.hash);
    store::audit::append(
        db,
        &store::audit::NewAuditEvent {
            id: event.id,
            at: event.at,
            actor,
            kind,
            subject,
            metadata,
            prev_hash: &tip.hash,
            hash: &hash,
        },
    )?;
    if FORWARDING.load(Ordering::Relaxed) {
        store::audit::queue_for_syslog(db, event.id)?;
        atna::wake();
    }
    Ok(event.id)
}

/// Records an event about a work order or run (`work_order.rerun`, `run.cancelled`), with
/// its workflow's key in the metadata so `bolt audit --workflow` finds it.
pub fn record_for_work_order(
    db: &dyn Db,
    kind: &str,
    subject: &str,
    work_order_id: &str,
    mut metadata: serde_json::Map<String, serde_json::Value>,
) -> StoreResult<i64> {
    // Without its workflow (gone, or unreadable) the event is still recorded.
    let workflow = store::audit::workflow_of_work_order(db, work_order_id)
        .ok()
        .flatten();
    metadata.insert("work_order".into(), work_order_id.into());
    if let Some(workflow) = workflow {
        metadata.insert("workflow".into(), workflow.into());
    }
    record(
        db,
        kind,
        subject,
        Some(&serde_json::Value::Object(metadata)),
    )
}

/// At start: seals the events written before the chain existed, and starts delivering
/// to the syslog collector when one is configured.
pub async fn start(daemon: &std::sync::Arc<crate::daemon::Daemon>) -> anyhow::Result<()> {
    daemon
        .store
        .writer
        .write(|tx| chain::seal_legacy(tx))
        .await?;
    match atna::Settings::from_config(&daemon.config.audit)? {
        Some(settings) => {
            forward_to_syslog(true);
            tokio::spawn(atna::deliver(daemon.clone(), settings));
        }
        None => {
            // Events queued for a collector that is no longer configured would hold
            // back audit retention forever: they are let go (and counted in the log).
            let dropped = daemon
                .store
                .writer
                .write(|tx| store::audit::clear_outbox(tx))
                .await?;
            if dropped > 0 {
                tracing::warn!(
                    dropped,
                    "audit events were waiting for a syslog collector that is no longer configured ([audit] syslog); they stay in the audit log but won't be sent"
                );
            }
        }
    }
    Ok(())
}
