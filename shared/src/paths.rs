//! Where bolt keeps things: flag, then environment, then bolt.toml, then XDG defaults.

use crate::config::{Config, ConfigError};
use std::path::{Path, PathBuf};

pub const ENV_CONFIG: &str = "BOLT_CONFIG";
pub const ENV_DATA_DIR: &str = "BOLT_DATA_DIR";
pub const ENV_SOCKET: &str = "BOLT_SOCKET";
pub const ENV_STORE_URL: &str = "BOLT_STORE_URL";

/// Settings after flags, environment and config file have been applied.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub config: Config,
    pub config_path: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub socket: PathBuf,
    /// The PostgreSQL store's URL; `None`: SQLite in the data dir.
    pub store_url: Option<String>,
}

/// Values given on the command line (they win over everything else).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    pub store_url: Option<String>,
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

pub fn default_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "bolt").map(|d| d.config_dir().join("bolt.toml"))
}

pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "bolt")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".bolt"))
}

/// The socket's default place: inside the data dir, in a directory only the owner can enter.
pub fn socket_in(data_dir: &Path) -> PathBuf {
    data_dir.join("run").join("boltd.sock")
}

pub fn resolve(overrides: &Overrides) -> Result<Resolved, ConfigError> {
    let explicit = overrides.config.clone().or_else(|| env_path(ENV_CONFIG));
    let (config, config_path) = match explicit {
        Some(path) => (Config::load(&path, true)?, Some(path)),
        None => match default_config_path() {
            Some(path) if path.exists() => (Config::load(&path, false)?, Some(path)),
            _ => (Config::default(), None),
        },
    };
    let data_dir = overrides
        .data_dir
        .clone()
        .or_else(|| env_path(ENV_DATA_DIR))
        .or_else(|| config.data_dir.clone())
        .unwrap_or_else(default_data_dir);
    let socket = overrides
        .socket
        .clone()
        .or_else(|| env_path(ENV_SOCKET))
        .or_else(|| config.socket.clone())
        .unwrap_or_else(|| socket_in(&data_dir));
    let store_url = overrides
        .store_url
        .clone()
        .or_else(|| std::env::var(ENV_STORE_URL).ok())
        .or_else(|| config.store.url.clone())
        .filter(|url| !url.trim().is_empty());
    Ok(Resolved {
        config,
        config_path,
        data_dir,
        socket,
        store_url,
    })
}
