//! PostgreSQL's LISTEN/NOTIFY: a [`Listener`] on its own connection waits for the
//! notifications of one channel; [`notify`] sends one through any [`Db`].
//!
//! ```ignore
//! let mut listener = Listener::connect(&settings, "bolt_events")?;
//! pg::notify(&client, "bolt_events", "hello")?;
//! while let Some(n) = listener.next(Duration::from_millis(250))? { … }
//! ```
//!
//! Channels are per database, not per schema: every connection to the database that
//! listens on a channel hears every notification sent to it. A notification sent inside a
//! transaction is delivered when it commits. A lost connection is an
//! [`ErrorKind::Unreachable`] error; the caller connects a new listener (notifications sent
//! meanwhile are not delivered to it).

use super::errors::error;
use super::settings::PgSettings;
use super::tls;
use crate::db::Db;
use crate::error::{Error, ErrorKind, Result};
use crate::params;
use postgres::fallible_iterator::FallibleIterator;
use std::time::Duration;

/// A notification payload must be shorter than this many bytes (PostgreSQL's default
/// build refuses longer ones).
pub const MAX_PAYLOAD: usize = 8000;

/// Channel names are identifiers: at most 63 bytes (longer ones would be cut by LISTEN and
/// refused by `pg_notify`).
const MAX_CHANNEL: usize = 63;

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub channel: String,
    pub payload: String,
    /// The server process (backend) of the connection that sent it.
    pub process_id: i32,
}

/// A connection that listens on one channel. Its calls block: use it on a thread of its own
/// (never on an async runtime's worker).
pub struct Listener {
    client: postgres::Client,
    channel: String,
    backend_pid: i32,
}

impl Listener {
    /// Connects with `settings` (TLS as for [`PgClient`](super::PgClient)) and listens on
    /// `channel`.
    pub fn connect(settings: &PgSettings, channel: &str) -> Result<Listener> {
        check_channel(channel)?;
        let mut client = settings
            .to_config()
            .connect(tls::connector(settings)?)
            .map_err(|e| {
                let e = error(&e);
                Error::new(
                    e.kind(),
                    format!("connecting to {settings}: {}", e.message()),
                )
            })?;
        let listen = format!("LISTEN {}", quote_identifier(channel));
        client
            .batch_execute(&listen)
            .map_err(|e| error(&e).in_statement(&listen))?;
        let pid_query = "SELECT pg_backend_pid()";
        let backend_pid: i32 = client
            .query_one(pid_query, &[])
            .and_then(|row| row.try_get(0))
            .map_err(|e| error(&e).in_statement(pid_query))?;
        Ok(Listener {
            client,
            channel: channel.to_string(),
            backend_pid,
        })
    }

    /// The channel listened on.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// The server process serving this connection (`pg_stat_activity.pid`).
    pub fn backend_pid(&self) -> i32 {
        self.backend_pid
    }

    /// The next notification: one already received, or the first to arrive within
    /// `timeout`; None when none came. A lost connection is an `Unreachable` error.
    pub fn next(&mut self, timeout: Duration) -> Result<Option<Notification>> {
        let next = self
            .client
            .notifications()
            .timeout_iter(timeout)
            .next()
            .map_err(|e| lost(&e))?;
        match next {
            Some(n) => Ok(Some(Notification {
                channel: n.channel().to_string(),
                payload: n.payload().to_string(),
                process_id: n.process_id(),
            })),
            // The iterator also ends when the server closed the connection.
            None if self.client.is_closed() => Err(Error::new(
                ErrorKind::Unreachable,
                "the listening connection to PostgreSQL was closed",
            )),
            None => Ok(None),
        }
    }
}

/// While waiting, any failure means the connection is gone (the server terminated the
/// backend, the network broke): all are reported as unreachable.
fn lost(e: &postgres::Error) -> Error {
    let e = error(e);
    Error::new(
        ErrorKind::Unreachable,
        format!(
            "the listening connection to PostgreSQL was lost: {}",
            e.message()
        ),
    )
}

/// Sends `payload` to the listeners of `channel` (on commit, inside a transaction).
pub fn notify(db: &dyn Db, channel: &str, payload: &str) -> Result<()> {
    check_channel(channel)?;
    if payload.len() >= MAX_PAYLOAD {
        return Err(Error::new(
            ErrorKind::Other,
            format!(
                "a notification payload must be shorter than {MAX_PAYLOAD} bytes, this one has {}",
                payload.len()
            ),
        ));
    }
    db.execute("SELECT pg_notify(?1, ?2)", params![channel, payload])?;
    Ok(())
}

fn check_channel(channel: &str) -> Result<()> {
    if channel.is_empty() || channel.len() > MAX_CHANNEL {
        return Err(Error::config(format!(
            "a notification channel's name must have 1 to {MAX_CHANNEL} bytes, `{channel}` has {}",
            channel.len()
        )));
    }
    Ok(())
}

/// `name` as a quoted identifier: LISTEN takes an identifier (case-folded unless quoted),
/// `pg_notify` the exact text.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_are_quoted_and_checked() {
        assert_eq!(quote_identifier("bolt_Events"), "\"bolt_Events\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
        assert!(check_channel("bolt_events").is_ok());
        assert_eq!(check_channel("").unwrap_err().kind(), ErrorKind::Config);
        assert!(check_channel(&"x".repeat(64)).is_err());
    }
}
