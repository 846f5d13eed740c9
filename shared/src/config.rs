//! `bolt.toml`: the settings shared by `boltd` and `bolt`, with embedded defaults.
//!
//! Every field has a default, so bolt runs with no config file at all. See
//! `config/bolt.toml` for the documented reference.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the store, key file, pidfile and socket live.
    pub data_dir: Option<PathBuf>,
    /// The local socket; defaults to `<data_dir>/run/boltd.sock`.
    pub socket: Option<PathBuf>,
    pub log_level: Option<String>,
    /// The user boltd runs as, when it is neither the caller nor root (a name or a uid):
    /// `bolt` talks only to a daemon running as one of those three.
    pub daemon_user: Option<String>,
    pub http: HttpConfig,
    pub engine: EngineConfig,
    pub logs: LogsConfig,
    pub retention: RetentionConfig,
    pub collections: CollectionsConfig,
    pub tui: TuiConfig,
    pub adaptors: AdaptorsConfig,
    /// `[[notify]]`: alert channels (see `notify_config.rs`).
    pub notify: Vec<crate::notify_config::NotifyChannel>,
    pub audit: AuditConfig,
    /// Who may do what through the socket; absent: only boltd's own user (and root) can
    /// reach it, as admins.
    pub access: Option<AccessConfig>,
    pub store: StoreConfig,
}

/// `[store]`: where boltd keeps its records.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// A PostgreSQL database shared by every boltd node (`postgres://user@host/db`,
    /// with `?sslmode=…` for TLS); unset: SQLite in the data dir (one node).
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address the webhook server listens on; empty string disables it.
    pub listen: String,
    /// Base URL shown for webhook triggers (defaults to `http://<listen>`).
    pub public_url: Option<String>,
    /// Largest accepted webhook body; larger ones get 413.
    pub max_body_bytes: usize,
    /// How long `webhook_reply: after_completion` waits before answering.
    pub sync_reply_timeout_secs: u64,
    /// How long a request may take to send its body (from the first byte of the request
    /// on); a slower one gets 408, so a stalled client can't hold a connection forever.
    pub body_timeout_secs: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:4000".into(),
            public_url: None,
            max_body_bytes: 10 * 1024 * 1024,
            sync_reply_timeout_secs: 30,
            body_timeout_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Runs executed at once; 0 = twice the number of CPUs (at least 4).
    pub workers: usize,
    /// Wall-clock limit for a whole run (workflows may lower or raise it, up to the ceiling).
    pub run_timeout_secs: u64,
    /// Memory limit of one run's JavaScript heap (workflows may change it, up to the ceiling).
    pub memory_limit_mb: u64,
    /// The most `run_timeout_secs` a project may ask for: operator limits win.
    pub max_run_timeout_secs: u64,
    /// The most `memory_limit_mb` a project may ask for.
    pub max_memory_limit_mb: u64,
    /// Largest output state stored per step; larger ones are kept as "too large".
    pub max_dataclip_bytes: usize,
    /// On SIGTERM, SIGINT or `bolt stop`, how long runs already under way may take to
    /// finish before boltd exits anyway (runs it leaves are marked lost at the next start).
    pub shutdown_grace_secs: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            workers: 0,
            run_timeout_secs: 300,
            memory_limit_mb: 500,
            max_run_timeout_secs: 3600,
            max_memory_limit_mb: 1024,
            max_dataclip_bytes: 10 * 1024 * 1024,
            shutdown_grace_secs: 30,
        }
    }
}

/// Per-run log caps: a run past them keeps its first and last lines and records how many
/// it dropped, so one chatty job can't fill the disk or the daemon's memory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogsConfig {
    /// Most log lines stored per run.
    pub max_lines_per_run: u64,
    /// Most bytes of log messages stored per run.
    pub max_bytes_per_run: u64,
    /// Longest log line stored; longer ones are cut, saying how much was cut.
    pub max_line_bytes: usize,
}

impl Default for LogsConfig {
    fn default() -> Self {
        Self {
            max_lines_per_run: 100_000,
            max_bytes_per_run: 50 * 1024 * 1024,
            max_line_bytes: 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// How often the retention sweep runs.
    pub interval_secs: u64,
    /// Rows deleted or wiped per transaction, so webhooks never wait long.
    pub batch_size: usize,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            interval_secs: 600,
            batch_size: 500,
        }
    }
}

/// Limits of the collections store (Lightning's key-value collections).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CollectionsConfig {
    /// Longest value, in characters (Lightning: 1,000,000).
    pub max_value_chars: usize,
    /// Most bytes one collection may hold (keys and values together).
    pub max_collection_bytes: u64,
    /// Largest request body the collections API reads (an upsert of many items).
    pub max_request_bytes: usize,
}

impl Default for CollectionsConfig {
    fn default() -> Self {
        Self {
            max_value_chars: 1_000_000,
            max_collection_bytes: 256 * 1024 * 1024,
            max_request_bytes: 64 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AdaptorsConfig {
    /// The npm registry adaptors are installed from (see [`Config::adaptor_registry`]).
    pub registry: Option<String>,
}

/// The public npm registry.
pub const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org/";

/// npm's own settings for the registry, honoured so one setting serves npm and bolt.
pub const REGISTRY_ENV: [&str; 2] = ["npm_config_registry", "NPM_CONFIG_REGISTRY"];

/// Where audit events go besides the store.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// A syslog collector for IHE ATNA audit messages: `udp://host:514`, `tcp://host:601`
    /// or `tls://host:6514`.
    pub syslog: Option<String>,
    /// A PEM file of CA certificates trusted for `tls://` besides the system's roots.
    pub syslog_ca: Option<PathBuf>,
    /// Audit events older than this many days are purged (the chain keeps a checkpoint);
    /// unset keeps them all.
    pub retention_days: Option<u32>,
}

/// `[access]`: roles of Unix users and groups (`group:NAME`) on the socket.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    pub viewers: Vec<String>,
    pub editors: Vec<String>,
    pub admins: Vec<String>,
    /// The Unix group whose members may reach the socket (socket 0660, its directory
    /// 0750, both group-owned by it).
    pub group: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TuiConfig {
    /// `auto` (honours NO_COLOR), `full`, `reduced` (16 colours) or `none`.
    pub color: Option<String>,
    /// Use ASCII symbols instead of Unicode ones.
    pub ascii: bool,
    /// Times in `local` time (the default; the zone is named where times are shown) or `utc`.
    pub time: Option<String>,
    /// Overrides of the default keymap: action name → key (e.g. `rerun = "r"`).
    pub keys: BTreeMap<String, String>,
}

impl Config {
    /// Reads a config file; a missing file that was not asked for explicitly yields defaults.
    pub fn load(path: &Path, explicit: bool) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && !explicit => {
                Ok(Config::default())
            }
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|err| ConfigError::Parse {
            path: path.to_path_buf(),
            message: err.to_string(),
        })?;
        config.check().map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(config)
    }

    /// Settings that parse but can't work together: limits of 0, defaults over their ceiling.
    pub fn check(&self) -> Result<(), String> {
        let engine = &self.engine;
        let positive = [
            ("engine.run_timeout_secs", engine.run_timeout_secs),
            ("engine.memory_limit_mb", engine.memory_limit_mb),
            ("engine.max_run_timeout_secs", engine.max_run_timeout_secs),
            ("engine.max_memory_limit_mb", engine.max_memory_limit_mb),
            ("logs.max_lines_per_run", self.logs.max_lines_per_run),
            ("logs.max_bytes_per_run", self.logs.max_bytes_per_run),
            ("logs.max_line_bytes", self.logs.max_line_bytes as u64),
            ("http.body_timeout_secs", self.http.body_timeout_secs),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(format!("{key} is 0: it must be at least 1"));
            }
        }
        crate::notify_config::check_channels(&self.notify)?;
        if let Some(url) = &self.audit.syslog {
            crate::audit::SyslogTarget::parse(url)?;
        }
        if self.audit.retention_days == Some(0) {
            return Err("audit.retention_days is 0: it must be at least 1 (or leave it out to keep every audit event)".into());
        }
        if let Some(access) = &self.access {
            access.check()?;
        }
        for (key, value, ceiling_key, ceiling) in [
            (
                "engine.run_timeout_secs",
                engine.run_timeout_secs,
                "engine.max_run_timeout_secs",
                engine.max_run_timeout_secs,
            ),
            (
                "engine.memory_limit_mb",
                engine.memory_limit_mb,
                "engine.max_memory_limit_mb",
                engine.max_memory_limit_mb,
            ),
        ] {
            if value > ceiling {
                return Err(format!(
                    "{key} ({value}) is above {ceiling_key} ({ceiling}): lower the default or raise the ceiling"
                ));
            }
        }
        Ok(())
    }

    /// Runs at once. The default is twice the CPU count (at least 4): runs spend much of
    /// their time waiting on the disk and on the services their jobs call.
    pub fn workers(&self) -> usize {
        if self.engine.workers == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get() * 2)
                .unwrap_or(4)
                .max(4)
        } else {
            self.engine.workers
        }
    }

    /// The registry adaptors are installed from: `npm_config_registry` (then
    /// `NPM_CONFIG_REGISTRY`) from the environment, else `[adaptors] registry`, else the
    /// public npm registry. A command-line `--registry` wins over all of these.
    pub fn adaptor_registry(&self) -> String {
        self.adaptor_registry_with(|name| std::env::var(name).ok())
    }

    /// [`Config::adaptor_registry`] with the environment given.
    pub fn adaptor_registry_with(&self, env: impl Fn(&str) -> Option<String>) -> String {
        REGISTRY_ENV
            .iter()
            .filter_map(|name| env(name))
            .map(|value| value.trim().to_string())
            .find(|value| !value.is_empty())
            .or_else(|| {
                self.adaptors
                    .registry
                    .as_deref()
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(String::from)
            })
            .unwrap_or_else(|| DEFAULT_REGISTRY.to_string())
    }

    /// The base URL webhook triggers are reachable at.
    pub fn public_url(&self) -> Option<String> {
        if let Some(url) = &self.http.public_url {
            return Some(url.trim_end_matches('/').to_string());
        }
        if self.http.listen.is_empty() {
            None
        } else {
            Some(format!("http://{}", self.http.listen))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let cfg = Config::parse("", Path::new("bolt.toml")).unwrap();
        assert_eq!(cfg, Config::default());
        assert_eq!(cfg.http.listen, "127.0.0.1:4000");
    }

    #[test]
    fn typo_is_reported_with_position() {
        let err = Config::parse("[http]\nlisten_on = \"x\"\n", Path::new("bolt.toml")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("listen_on"), "{text}");
        assert!(text.contains("line 2"), "{text}");
    }

    #[test]
    fn the_registry_comes_from_npm_s_variable_then_the_file_then_npmjs() {
        let none = |_: &str| None;
        assert_eq!(
            Config::default().adaptor_registry_with(none),
            "https://registry.npmjs.org/"
        );
        let cfg = Config::parse(
            "[adaptors]\nregistry = \"https://npm.example.org/\"\n",
            Path::new("bolt.toml"),
        )
        .unwrap();
        assert_eq!(cfg.adaptor_registry_with(none), "https://npm.example.org/");
        let env =
            |name: &str| (name == "NPM_CONFIG_REGISTRY").then(|| "http://127.0.0.1:9/".into());
        assert_eq!(cfg.adaptor_registry_with(env), "http://127.0.0.1:9/");
        let both = |name: &str| match name {
            "npm_config_registry" => Some("http://first/".into()),
            _ => Some("http://second/".into()),
        };
        assert_eq!(cfg.adaptor_registry_with(both), "http://first/");
        let blank = |_: &str| Some("  ".to_string());
        assert_eq!(cfg.adaptor_registry_with(blank), "https://npm.example.org/");
    }

    #[test]
    fn limits_must_fit_under_their_ceilings() {
        let err = Config::parse(
            "[engine]\nmemory_limit_mb = 2000\nmax_memory_limit_mb = 1000\n",
            Path::new("bolt.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(
                "engine.memory_limit_mb (2000) is above engine.max_memory_limit_mb (1000)"
            ),
            "{err}"
        );
        let err = Config::parse("[logs]\nmax_lines_per_run = 0\n", Path::new("bolt.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("logs.max_lines_per_run is 0"), "{err}");
        Config::default().check().unwrap();
    }

    #[test]
    fn shipped_example_config_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/bolt.toml");
        let cfg = Config::load(&path, true).unwrap();
        assert_eq!(cfg.http.max_body_bytes, 10 * 1024 * 1024);
        assert_eq!(cfg.collections, CollectionsConfig::default());
    }
}
