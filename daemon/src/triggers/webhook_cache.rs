//! Finding the webhook trigger a request path names, with an in-memory cache: the lookup
//! is a SQL query on a reader thread, and at webhook rates it costs more than the intake.
//!
//! The cache is dropped whenever the daemon handles a request that may change workflows or
//! triggers (see `ipc::handlers`). A generation counter makes a lookup that raced with such
//! a change discard its answer instead of caching a stale one.

use crate::daemon::Daemon;
use crate::store::StoreResult;
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
        .read(move |conn| crate::store::webhook_triggers::by_path(conn, &key))
        .await?
        .map(Arc::new);
    if let Some(found) = &found {
        cache.put(segment.to_string(), found.clone(), generation);
    }
    Ok(found)
}

/// What a trigger needs for intake.
pub type Found = crate::store::webhook_triggers::WebhookTrigger;
