//! PostgreSQL connection settings from a URL, as libpq reads them:
//! `postgres://user:password@host:port/database?sslmode=verify-full&sslrootcert=/path/ca.pem`.
//!
//! Known query parameters: `sslmode` (disable, prefer, require, verify-ca, verify-full;
//! default prefer), `sslrootcert` (a PEM file of CA certificates; default the Mozilla roots
//! of webpki-roots), `connect_timeout` (seconds, default 5), `application_name` (default
//! boltd), `options` (server settings, e.g. `-c search_path=bolt`) and `host` (a directory
//! holding the server's Unix socket, instead of a host in the URL).
//!
//! The password never appears in an error message, in `Debug` or in `Display` (which shows
//! the URL without it, for logs and `bolt status`).

use crate::error::{Error, Result};
use percent_encoding::percent_decode_str;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

const DEFAULT_PORT: u16 = 5432;
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How TLS is used, with libpq's meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, without checking its certificate.
    Prefer,
    /// TLS always; the certificate is checked against `sslrootcert` only when one is given
    /// (then as `verify-ca`).
    Require,
    /// TLS always, with a certificate signed by a trusted CA (any host name).
    VerifyCa,
    /// TLS always, with a certificate signed by a trusted CA for the host connected to.
    VerifyFull,
}

impl SslMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

impl FromStr for SslMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<SslMode> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(Error::config(format!(
                    "sslmode `{other}` in the PostgreSQL URL is not one of disable, prefer, require, verify-ca, verify-full"
                )));
            }
        })
    }
}

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Tcp(String),
    /// A directory holding the server's Unix socket.
    Socket(PathBuf),
}

/// Connection settings for a PostgreSQL database.
#[derive(Clone)]
pub struct PgSettings {
    pub host: Host,
    pub port: u16,
    pub user: String,
    password: Option<String>,
    pub database: String,
    pub sslmode: SslMode,
    pub sslrootcert: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub application_name: String,
    /// Server settings sent at connect (`-c name=value …`).
    pub options: Option<String>,
}

impl PgSettings {
    /// Reads a `postgres://` (or `postgresql://`) URL.
    pub fn from_url(url: &str) -> Result<PgSettings> {
        let scheme_ok = url.starts_with("postgres://") || url.starts_with("postgresql://");
        if !scheme_ok {
            return Err(Error::config(
                "the PostgreSQL URL must start with postgres:// or postgresql://",
            ));
        }
        // url's messages name the fault (e.g. "invalid port number"), never the input.
        let parsed = url::Url::parse(url)
            .map_err(|e| Error::config(format!("the PostgreSQL URL is not valid: {e}")))?;
        let user = decode(parsed.username(), "user name")?;
        let password = parsed
            .password()
            .map(|p| decode(p, "password"))
            .transpose()?;
        let database = decode(parsed.path().trim_start_matches('/'), "database name")?;
        if database.contains('/') {
            return Err(Error::config(
                "the PostgreSQL URL's path must be a single database name",
            ));
        }
        let mut settings = PgSettings {
            host: Host::Tcp(
                parsed
                    .host_str()
                    .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string())
                    .unwrap_or_default(),
            ),
            port: parsed.port().unwrap_or(DEFAULT_PORT),
            user,
            password: password.filter(|p| !p.is_empty()),
            database,
            sslmode: SslMode::Prefer,
            sslrootcert: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            application_name: "boltd".to_string(),
            options: None,
        };
        for (name, value) in parsed.query_pairs() {
            settings.set_parameter(&name, &value)?;
        }
        if settings.host == Host::Tcp(String::new()) {
            settings.host = Host::Tcp("localhost".to_string());
        }
        if settings.user.is_empty() {
            return Err(Error::config(
                "the PostgreSQL URL names no user (postgres://USER@host/database)",
            ));
        }
        if settings.database.is_empty() {
            settings.database = settings.user.clone();
        }
        Ok(settings)
    }

    fn set_parameter(&mut self, name: &str, value: &str) -> Result<()> {
        match name {
            "sslmode" => self.sslmode = value.parse()?,
            "sslrootcert" => self.sslrootcert = Some(PathBuf::from(value)),
            "connect_timeout" => {
                let secs: u64 = value.parse().map_err(|_| {
                    Error::config(format!(
                        "connect_timeout `{value}` in the PostgreSQL URL is not a number of seconds"
                    ))
                })?;
                // libpq: 0 means wait forever; a node must never hang, so keep the default.
                if secs > 0 {
                    self.connect_timeout = Duration::from_secs(secs);
                }
            }
            "application_name" => self.application_name = value.to_string(),
            "options" => self.options = Some(value.to_string()),
            "host" if value.starts_with('/') => self.host = Host::Socket(PathBuf::from(value)),
            "host" => self.host = Host::Tcp(value.to_string()),
            "port" => {
                self.port = value.parse().map_err(|_| {
                    Error::config(format!(
                        "port `{value}` in the PostgreSQL URL is not a port number"
                    ))
                })?
            }
            "user" => self.user = value.to_string(),
            "dbname" => self.database = value.to_string(),
            "password" => {
                return Err(Error::config(
                    "put the password in the PostgreSQL URL's user part (postgres://user:password@host/db), not in its query",
                ));
            }
            other => {
                return Err(Error::config(format!(
                    "unknown parameter `{other}` in the PostgreSQL URL (known: sslmode, sslrootcert, connect_timeout, application_name, options, host, port, user, dbname)"
                )));
            }
        }
        Ok(())
    }

    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    pub fn set_password(&mut self, password: Option<String>) {
        self.password = password;
    }

    /// These settings with `search_path` set to `schema` on every connection (each test's
    /// scratch schema; a deployment that keeps bolt's tables in their own schema).
    pub fn with_search_path(self, schema: &str) -> PgSettings {
        self.with_server_setting("search_path", schema)
    }

    /// These settings with the server setting `name` = `value` on every connection (added
    /// to the URL's `options`).
    pub fn with_server_setting(mut self, name: &str, value: &str) -> PgSettings {
        let setting = format!("-c {name}={value}");
        self.options = Some(match self.options.take() {
            Some(existing) => format!("{existing} {setting}"),
            None => setting,
        });
        self
    }

    pub(crate) fn to_config(&self) -> postgres::Config {
        let mut config = postgres::Config::new();
        match &self.host {
            Host::Tcp(host) => config.host(host),
            Host::Socket(dir) => config.host_path(dir),
        };
        config
            .port(self.port)
            .user(&self.user)
            .dbname(&self.database)
            .application_name(&self.application_name)
            .connect_timeout(self.connect_timeout)
            // A server that vanishes without closing the connection (a cut network, a
            // powered-off machine) is noticed within about half a minute instead of TCP's
            // hours, so a query fails with "unreachable" rather than hanging.
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(15))
            .keepalives_interval(Duration::from_secs(5))
            .keepalives_retries(3)
            .tcp_user_timeout(Duration::from_secs(30))
            .ssl_mode(match self.sslmode {
                SslMode::Disable => postgres::config::SslMode::Disable,
                SslMode::Prefer => postgres::config::SslMode::Prefer,
                SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                    postgres::config::SslMode::Require
                }
            });
        if let Some(password) = &self.password {
            config.password(password);
        }
        if let Some(options) = &self.options {
            config.options(options);
        }
        config
    }
}

fn decode(part: &str, what: &str) -> Result<String> {
    percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| Error::config(format!("the PostgreSQL URL's {what} is not valid UTF-8")))
}

impl FromStr for PgSettings {
    type Err = Error;

    fn from_str(url: &str) -> Result<PgSettings> {
        PgSettings::from_url(url)
    }
}

/// The URL without the password, e.g. `postgres://bolt@db:5432/bolt?sslmode=verify-full`.
impl fmt::Display for PgSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "postgres://{}@", self.user)?;
        match &self.host {
            Host::Tcp(host) if host.contains(':') => write!(f, "[{host}]:{}", self.port)?,
            Host::Tcp(host) => write!(f, "{host}:{}", self.port)?,
            Host::Socket(_) => {}
        }
        write!(f, "/{}?sslmode={}", self.database, self.sslmode.as_str())?;
        if let Host::Socket(dir) = &self.host {
            write!(f, "&host={}", dir.display())?;
        }
        if let Some(root) = &self.sslrootcert {
            write!(f, "&sslrootcert={}", root.display())?;
        }
        Ok(())
    }
}

impl fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("database", &self.database)
            .field("sslmode", &self.sslmode)
            .field("sslrootcert", &self.sslrootcert)
            .field("connect_timeout", &self.connect_timeout)
            .field("application_name", &self.application_name)
            .field("options", &self.options)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn a_full_url() {
        let s = PgSettings::from_url(
            "postgres://bolt:s%40cret@db.example:6543/bolt_prod?sslmode=verify-full&sslrootcert=/etc/ca.pem&connect_timeout=9",
        )
        .unwrap();
        assert_eq!(s.host, Host::Tcp("db.example".into()));
        assert_eq!(s.port, 6543);
        assert_eq!(s.user, "bolt");
        assert_eq!(s.password(), Some("s@cret"));
        assert_eq!(s.database, "bolt_prod");
        assert_eq!(s.sslmode, SslMode::VerifyFull);
        assert_eq!(s.sslrootcert, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(s.connect_timeout, Duration::from_secs(9));
        assert_eq!(
            s.to_string(),
            "postgres://bolt@db.example:6543/bolt_prod?sslmode=verify-full&sslrootcert=/etc/ca.pem"
        );
        let debug = format!("{s:?}");
        assert!(
            !debug.contains("s@cret") && !debug.contains("s%40cret"),
            "{debug}"
        );
        assert!(debug.contains("<redacted>"));
    }

    #[test]
    fn defaults() {
        let s = PgSettings::from_url("postgresql://root@127.0.0.1/").unwrap();
        assert_eq!(s.port, 5432);
        assert_eq!(s.database, "root");
        assert_eq!(s.sslmode, SslMode::Prefer);
        assert_eq!(s.password(), None);
        let s = PgSettings::from_url("postgres://me@[::1]:5433/db").unwrap();
        assert_eq!(s.host, Host::Tcp("::1".into()));
        assert_eq!(s.to_string(), "postgres://me@[::1]:5433/db?sslmode=prefer");
        let s = PgSettings::from_url("postgres:///db?host=/run/postgresql&user=me").unwrap();
        assert_eq!(s.host, Host::Socket("/run/postgresql".into()));
    }

    #[test]
    fn errors_say_what_is_wrong_and_never_show_the_password() {
        let cases = [
            ("mysql://u:hunter2@h/db", "must start with postgres://"),
            ("postgres://u:hunter2@h:notaport/db", "invalid port number"),
            (
                "postgres://u:hunter2@h/db?sslmode=always",
                "sslmode `always`",
            ),
            (
                "postgres://u:hunter2@h/db?colour=red",
                "unknown parameter `colour`",
            ),
            (
                "postgres://u:hunter2@h/db?connect_timeout=soon",
                "connect_timeout `soon`",
            ),
            ("postgres://:hunter2@h/db", "names no user"),
            ("postgres://u:hunter2@h/a/b", "single database name"),
            ("postgres://u@h/db?password=hunter2", "user part"),
        ];
        for (url, expected) in cases {
            let err = PgSettings::from_url(url).unwrap_err();
            let text = err.to_string();
            assert_eq!(err.kind(), ErrorKind::Config, "{url}");
            assert!(text.contains(expected), "{url}: {text}");
            assert!(!text.contains("hunter2"), "{url}: {text}");
            assert!(!format!("{err:?}").contains("hunter2"), "{url}");
        }
    }

    #[test]
    fn a_search_path_joins_other_options() {
        let s = PgSettings::from_url("postgres://u@h/db?options=-c%20work_mem%3D8MB")
            .unwrap()
            .with_search_path("scratch_1");
        assert_eq!(
            s.options.as_deref(),
            Some("-c work_mem=8MB -c search_path=scratch_1")
        );
    }
}
