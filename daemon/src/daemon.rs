//! The daemon's shared context: configuration, store, event bus, shutdown signal.

use crate::events::EventBus;
use crate::secrets::Vault;
use crate::store::Store;
use bolt_shared::Config;
use chrono::{DateTime, Utc};
use std::path::PathBuf;
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
    pub started_at: DateTime<Utc>,
    shutdown: watch::Sender<bool>,
}

impl Daemon {
    pub fn new(
        config: Config,
        data_dir: PathBuf,
        socket: PathBuf,
        store: Store,
        vault: Vault,
    ) -> Daemon {
        let (shutdown, _) = watch::channel(false);
        Daemon {
            config,
            data_dir,
            socket,
            http_listen: std::sync::RwLock::new(None),
            store,
            vault,
            events: EventBus::new(),
            started_at: Utc::now(),
            shutdown,
        }
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub fn shut_down(&self) {
        let _ = self.shutdown.send(true);
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
