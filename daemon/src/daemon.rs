//! The daemon's shared context: configuration, store, event bus, shutdown signal.

use crate::engine::CancelToken;
use crate::process::events::EventBus;
use crate::secrets::Vault;
use crate::store::Store;
use bolt_shared::Config;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use tokio::sync::Notify;
use tokio::sync::watch;

pub struct Daemon {
    pub config: Config,
    pub data_dir: PathBuf,
    pub socket: PathBuf,
    /// The address the webhook server actually bound, once it has.
    pub http_listen: std::sync::RwLock<Option<String>>,
    pub store: Store,
    pub vault: Vault,
    pub events: EventBus,
    /// Hands the bus's events to socket subscribers (`bolt logs --follow`, the TUI).
    pub fanout: std::sync::Arc<crate::ipc::Fanout>,
    pub started_at: DateTime<Utc>,
    /// Wakes the dispatcher when runs are queued or finish.
    pub queue: Notify,
    /// One permit per configured worker: how many runs execute job code at once. More runs
    /// than that are in flight (loading, waiting for their commits), so the CPU stays busy
    /// while others wait on the disk.
    pub engine_slots: tokio::sync::Semaphore,
    /// Webhook triggers by path; dropped whenever workflows may have changed.
    pub webhook_triggers: crate::triggers::webhook_cache::TriggerCache,
    /// What `GET /metrics` reports.
    pub metrics: crate::metrics::Metrics,
    /// The collections tokens of the runs under way.
    pub run_tokens: std::sync::Arc<crate::collections::token::RunTokens>,
    /// Runs boltd could not record, noted where a full store can't lose them.
    pub unrecorded: crate::queue::unrecorded::journal::Journal,
    /// Alert delivery (`[[notify]]`).
    pub notifier: crate::notify::Notifier,
    /// The roles of the socket's callers.
    pub access: crate::access::Access,
    /// This boltd as a node of its store (see `cluster`).
    pub membership: crate::cluster::Membership,
    /// Log line ids (see `cluster/log_ids.rs`).
    pub log_ids: crate::cluster::log_ids::LogIds,
    running: Mutex<HashMap<String, CancelToken>>,
    shutdown: watch::Sender<bool>,
    /// Closes the HTTP server: after the drain, as runs under way still use the collections API.
    http_close: watch::Sender<bool>,
    stop: watch::Sender<Option<StopMode>>,
}

/// How boltd was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Let the runs under way finish first (up to the configured grace).
    Drain,
    /// Exit as soon as the servers have stopped.
    Now,
}

impl StopMode {
    /// How long the runs under way get to finish.
    pub fn grace(self, config: &Config) -> std::time::Duration {
        match self {
            StopMode::Drain => std::time::Duration::from_secs(config.engine.shutdown_grace_secs),
            StopMode::Now => std::time::Duration::ZERO,
        }
    }
}

impl Daemon {
    pub fn new(
        config: Config,
        data_dir: PathBuf,
        socket: PathBuf,
        store: Store,
        vault: Vault,
        access: crate::access::Access,
    ) -> Daemon {
        let (shutdown, _) = watch::channel(false);
        let (http_close, _) = watch::channel(false);
        let (stop, _) = watch::channel(None);
        let engine_slots = tokio::sync::Semaphore::new(config.workers().max(1));
        let run_tokens = crate::collections::token::RunTokens::new(
            vault.derive_key(crate::collections::token::KEY_PURPOSE),
        );
        let metrics = crate::metrics::Metrics::new(&store.timings);
        Daemon {
            metrics,
            config,
            data_dir,
            socket,
            http_listen: std::sync::RwLock::new(None),
            store,
            vault,
            events: EventBus::new(),
            fanout: Default::default(),
            started_at: Utc::now(),
            queue: Notify::new(),
            engine_slots,
            webhook_triggers: Default::default(),
            run_tokens,
            unrecorded: crate::queue::unrecorded::journal::Journal::disabled(),
            notifier: Default::default(),
            access,
            membership: crate::cluster::Membership::new(
                "local".into(),
                crate::cluster::DEFAULT_LEASE,
                false,
            ),
            log_ids: Default::default(),
            running: Mutex::new(HashMap::new()),
            shutdown,
            http_close,
            stop,
        }
    }

    /// Keeps the ids of runs boltd could not record in `journal` (see `unrecorded`).
    pub fn with_unrecorded_journal(
        mut self,
        journal: crate::queue::unrecorded::journal::Journal,
    ) -> Daemon {
        self.unrecorded = journal;
        self
    }

    /// This boltd's place among the nodes of its store.
    pub fn with_membership(mut self, membership: crate::cluster::Membership) -> Daemon {
        self.membership = membership;
        self
    }

    /// Log line ids are handed out here so a line can be published before it is written.
    pub fn next_log_id(&self) -> i64 {
        self.log_ids.next()
    }

    pub fn track_run(&self, run_id: &str, token: CancelToken) {
        if let Ok(mut running) = self.running.lock() {
            running.insert(run_id.to_string(), token);
        }
    }

    pub fn untrack_run(&self, run_id: &str) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(run_id);
        }
    }

    pub fn running_count(&self) -> usize {
        self.running.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// Runs executing job code now (holding an engine slot); the other runs in flight are
    /// loading, waiting for a slot, or waiting for their last write.
    pub fn executing_count(&self) -> usize {
        self.config
            .workers()
            .max(1)
            .saturating_sub(self.engine_slots.available_permits())
    }

    /// Interrupts a running run; false when it is not running here.
    pub fn cancel_running(&self, run_id: &str) -> bool {
        match self
            .running
            .lock()
            .ok()
            .and_then(|r| r.get(run_id).cloned())
        {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// A receiver whose `changed()` resolves once boltd begins to shut down — at once when
    /// it already has. A task spawned just before a SIGTERM subscribes after it: a plain
    /// `subscribe()` would count that change as seen and the task would never stop.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        stop_signal(&self.shutdown)
    }

    pub fn shut_down(&self) {
        // `send_replace`, not `send`: `send` keeps nothing when no receiver is alive, and
        // `is_stopping` / `until_stopping` read the value later.
        self.shutdown.send_replace(true);
    }

    /// Resolves once the HTTP server should close (the runs under way are done).
    pub async fn until_http_closes(&self) {
        let mut close = self.http_close.subscribe();
        let _ = close.wait_for(|closing| *closing).await.is_ok();
    }

    /// Closes the HTTP server; until then a stopping boltd refuses webhooks with 503 but
    /// still serves the collections API to the runs it lets finish.
    pub fn close_http(&self) {
        self.http_close.send_replace(true);
    }

    /// Returns once boltd has begun to shut down (at once if it has).
    pub async fn until_stopping(&self) {
        let mut shutdown = self.shutdown.subscribe();
        // The guard `wait_for` returns is dropped here, not held across an await.
        let _ = shutdown.wait_for(|stopping| *stopping).await.is_ok();
    }

    /// Whether boltd has begun to shut down (it takes no more webhooks or runs).
    pub fn is_stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Asks the daemon to stop (`bolt stop`); a later `Now` cuts a drain short.
    pub fn request_stop(&self, mode: StopMode) {
        self.stop.send_modify(|current| {
            if *current != Some(StopMode::Now) {
                *current = Some(mode);
            }
        });
    }

    /// Stop requests from clients, as they come.
    pub fn stop_requests(&self) -> watch::Receiver<Option<StopMode>> {
        self.stop.subscribe()
    }

    pub fn http_listen(&self) -> Option<String> {
        self.http_listen.read().ok().and_then(|g| g.clone())
    }

    /// Base URL for webhook links: the configured public URL, else the bound address.
    pub fn public_url(&self) -> Option<String> {
        if let Some(url) = &self.config.http.public_url {
            return Some(url.trim_end_matches('/').to_string());
        }
        self.http_listen().map(|addr| format!("http://{addr}"))
    }
}

/// Subscribes to a stop flag so that a stop already under way counts as a change.
fn stop_signal(flag: &watch::Sender<bool>) -> watch::Receiver<bool> {
    let mut receiver = flag.subscribe();
    if *receiver.borrow() {
        receiver.mark_changed();
    }
    receiver
}

#[cfg(test)]
mod stop_signal_tests {
    use super::stop_signal;
    use std::time::Duration;
    use tokio::sync::watch;

    #[tokio::test]
    async fn a_task_that_subscribes_after_the_stop_still_hears_it() {
        let (flag, _keep) = watch::channel(false);
        flag.send_replace(true);
        let mut late = stop_signal(&flag);
        let heard = tokio::time::timeout(Duration::from_secs(1), late.changed()).await;
        assert!(matches!(heard, Ok(Ok(()))), "the stop is heard at once");
    }

    #[tokio::test]
    async fn a_task_that_subscribes_before_the_stop_hears_it_when_it_comes() {
        let (flag, _keep) = watch::channel(false);
        let mut early = stop_signal(&flag);
        assert!(!early.has_changed().unwrap_or(true), "nothing to hear yet");
        flag.send_replace(true);
        assert!(matches!(early.changed().await, Ok(())));
    }
}
