//! The audit log as the socket carries it: events, the filter `bolt audit` sends, the
//! chain check's report, and where ATNA messages go.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One audit event: who did what to which subject, and when.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The Unix user on the socket (`alice`), `webhook 10.0.0.5:41234` for a webhook's
    /// source, or `boltd` for changes boltd makes on its own.
    pub actor: String,
    /// `subject_type.action`, e.g. `workflow.deployed`, `credential.updated`, `run.cancelled`.
    pub kind: String,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

/// What `bolt audit` asks for; every field narrows the list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AuditFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// A workflow's key or name (events about it and its jobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    /// An event kind (`credential.updated`) or a prefix of one (`credential`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Most events returned, newest first (0: the server's default).
    #[serde(default)]
    pub limit: u32,
}

/// What `bolt audit verify` found walking the chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChainReport {
    /// Events checked.
    pub checked: u64,
    /// The first event of the chain that was checked (after the last purge, if any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_id: Option<i64>,
    /// The first break found; `None` when the chain is whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken: Option<ChainBreak>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChainBreak {
    /// The event where the chain stops matching.
    pub id: i64,
    /// `edited` (the event's content no longer matches its hash) or `gap` (events before
    /// it were removed, or its link to the previous one was changed).
    pub problem: String,
    /// What was found, in words.
    pub detail: String,
}

/// How ATNA delivery stands (`bolt status`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SyslogDelivery {
    /// `[audit] syslog`.
    pub target: String,
    /// Events the collector's transport has not taken yet.
    pub waiting: u64,
    /// Why the oldest of them is still waiting (its last failed try).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Where ATNA audit messages are sent: `[audit] syslog` in bolt.toml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogTarget {
    pub transport: SyslogTransport,
    pub host: String,
    pub port: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogTransport {
    Udp,
    Tcp,
    Tls,
}

impl SyslogTarget {
    /// Reads `udp://host:514`, `tcp://host:601`, `tls://host:6514` (the port defaults to
    /// those); the error says what is wrong with the setting.
    pub fn parse(url: &str) -> Result<SyslogTarget, String> {
        let bad = |why: &str| {
            format!(
                "audit.syslog = \"{url}\" {why}: write it as udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT"
            )
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("has no scheme"))?;
        let (transport, default_port) = match scheme {
            "udp" => (SyslogTransport::Udp, 514),
            "tcp" => (SyslogTransport::Tcp, 601),
            "tls" => (SyslogTransport::Tls, 6514),
            _ => return Err(bad(&format!("has the unknown scheme `{scheme}`"))),
        };
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() || rest.contains('/') {
            return Err(bad("needs a host (and nothing after it)"));
        }
        // `[::1]:514` keeps its brackets off the host.
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(':') && !port.contains(']') => {
                let port = port.parse::<u16>().map_err(|_| {
                    bad(&format!("has the port `{port}`, not a number up to 65535"))
                })?;
                (host, port)
            }
            _ => (rest, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("needs a host"));
        }
        Ok(SyslogTarget {
            transport,
            host: host.to_string(),
            port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_targets_read_as_written() {
        let t = SyslogTarget::parse("udp://127.0.0.1:5514").unwrap();
        assert_eq!(
            (t.transport, t.host.as_str(), t.port),
            (SyslogTransport::Udp, "127.0.0.1", 5514)
        );
        let t = SyslogTarget::parse("tls://audit.example.org").unwrap();
        assert_eq!((t.transport, t.port), (SyslogTransport::Tls, 6514));
        let t = SyslogTarget::parse("tcp://[::1]:601").unwrap();
        assert_eq!(t.host, "::1");
        let err = SyslogTarget::parse("http://x:1").unwrap_err();
        assert!(err.contains("unknown scheme `http`"), "{err}");
        let err = SyslogTarget::parse("udp://x:99999").unwrap_err();
        assert!(err.contains("port `99999`"), "{err}");
        assert!(SyslogTarget::parse("localhost:514").is_err());
    }
}
