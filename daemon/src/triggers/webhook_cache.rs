//! Finding the webhook trigger a request path names, with an in-memory cache: the lookup
//! is a SQL query on a reader thread, and at webhook rates it costs more than the intake.
//!
//! The cache is dropped whenever the daemon handles a request that may change workflows or
//! triggers (see `ipc::handlers`). A generation counter makes a lookup that raced with such
//! a change discard its answer instead of caching a stale one.

use crate::daemon::Daemon;
use crate::store::StoreResult;
use bolt_shared::model::{TriggerType, WebhookReply};
use rusqlite::OptionalExtension;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// More distinct paths than any real project has; past it the cache starts over, so
/// requests to random paths can't grow it without bound (unknown paths aren't cached).
const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub struct TriggerCache {
    generation: AtomicU64,
    entries: RwLock<HashMap<String, Arc<Found>>>,
}

impl TriggerCache {
    /// Forgets every cached trigger; call after anything that may change them is committed.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }

    fn get(&self, segment: &str) -> Option<Arc<Found>> {
        self.entries.read().ok()?.get(segment).cloned()
    }

    fn put(&self, segment: String, found: Arc<Found>, seen_generation: u64) {
        if let Ok(mut entries) = self.entries.write() {
            // Checked under the lock: an invalidation since the read makes the answer stale.
            if self.generation.load(Ordering::SeqCst) != seen_generation {
                return;
            }
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(segment, found);
        }
    }
}

/// The webhook trigger at `segment` (a trigger id or custom path), if there is one.
pub async fn lookup(daemon: &Arc<Daemon>, segment: &str) -> StoreResult<Option<Arc<Found>>> {
    let cache = &daemon.webhook_triggers;
    if let Some(found) = cache.get(segment) {
        return Ok(Some(found));
    }
    let generation = cache.generation.load(Ordering::SeqCst);
    let key = segment.to_string();
    let found = daemon
        .store
        .readers
        .read(move |conn| find_trigger(conn, &key))
        .await?
        .map(Arc::new);
    if let Some(found) = &found {
        cache.put(segment.to_string(), found.clone(), generation);
    }
    Ok(found)
}

/// What a trigger needs for intake.
#[derive(Clone)]
pub struct Found {
    pub trigger_id: String,
    pub enabled: bool,
    pub workflow_enabled: bool,
    pub workflow_id: String,
    pub project_id: String,
    pub version_id: String,
    pub reply: WebhookReply,
    pub auth: Vec<String>,
}

fn find_trigger(conn: &rusqlite::Connection, segment: &str) -> StoreResult<Option<Found>> {
    Ok(conn
        .prepare_cached("SELECT t.id, t.key, t.enabled, w.enabled, w.id, t.webhook_reply, t.auth, t.type, w.project_id, v.id
             FROM triggers t JOIN workflows w ON w.id = t.workflow_id
             JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.version
             WHERE (t.id = ?1 OR t.custom_path = ?1) AND w.deleted_at IS NULL")?
        .query_row([segment],
            |r| {
                Ok((
                    Found {
                        trigger_id: r.get(0)?,
                        enabled: r.get(2)?,
                        workflow_enabled: r.get(3)?,
                        workflow_id: r.get(4)?,
                        project_id: r.get(8)?,
                        version_id: r.get(9)?,
                        reply: WebhookReply::parse(&r.get::<_, String>(5)?)
                            .unwrap_or(WebhookReply::BeforeStart),
                        auth: r
                            .get::<_, Option<String>>(6)?
                            .and_then(|a| serde_json::from_str(&a).ok())
                            .unwrap_or_default(),
                    },
                    r.get::<_, String>(7)?,
                ))
            },
        )
        .optional()?
        .filter(|(_, kind)| kind == TriggerType::Webhook.as_str())
        .map(|(found, _)| found))
}
