//! IHE ATNA: audit events sent to a syslog collector (`[audit] syslog`) as RFC 3881
//! audit messages in RFC 5424 syslog, over UDP, TCP or TLS. Events wait in the store's
//! outbox until the transport takes them; a collector that is down never holds up a
//! change: delivery retries with backoff and resumes where it stopped, also across
//! restarts.

pub mod message;
pub mod syslog;
pub mod transport;

use crate::daemon::Daemon;
use crate::store::{self, StoreResult};
use bolt_shared::audit::{AuditEvent, SyslogTarget};
use bolt_shared::config::AuditConfig;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::Notify;
use transport::Connection;

/// Events sent per read of the outbox.
const BATCH: i64 = 100;
const FIRST_RETRY: Duration = Duration::from_millis(500);
const LAST_RETRY: Duration = Duration::from_secs(60);
/// How often an idle deliverer looks at the outbox anyway (a wake-up can come just
/// before its event commits).
const IDLE_LOOK: Duration = Duration::from_secs(1);

/// Wakes the deliverer when an event is queued.
static WAKE: OnceLock<Notify> = OnceLock::new();

pub fn wake() {
    if let Some(notify) = WAKE.get() {
        notify.notify_one();
    }
}

/// Where and how events are sent.
pub struct Settings {
    target: SyslogTarget,
    tls: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
    source: message::Source,
}

impl Settings {
    /// `None` when no collector is configured.
    pub fn from_config(config: &AuditConfig) -> anyhow::Result<Option<Settings>> {
        let Some(url) = &config.syslog else {
            return Ok(None);
        };
        let target = SyslogTarget::parse(url).map_err(anyhow::Error::msg)?;
        let tls = match target.transport {
            bolt_shared::audit::SyslogTransport::Tls => {
                Some(transport::tls_config(config.syslog_ca.as_deref())?)
            }
            _ => None,
        };
        let host = nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "localhost".into());
        Ok(Some(Settings {
            target,
            tls,
            source: message::Source { host },
        }))
    }
}

/// Delivers the outbox until boltd stops.
pub async fn deliver(daemon: Arc<Daemon>, settings: Settings) {
    let wake = WAKE.get_or_init(Notify::new);
    let mut shutdown = daemon.shutdown_signal();
    let mut connection: Option<Connection> = None;
    let mut retry = FIRST_RETRY;
    let url = daemon.config.audit.syslog.clone().unwrap_or_default();
    loop {
        let batch = match daemon
            .store
            .readers
            .read(|conn| store::audit::pending(conn, BATCH))
            .await
        {
            Ok(batch) => batch,
            Err(err) => {
                tracing::warn!(%err, "cannot read the audit outbox");
                Vec::new()
            }
        };
        if batch.is_empty() {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(IDLE_LOOK) => {}
                _ = shutdown.changed() => break,
            }
            continue;
        }
        let (delivered, failure) = send(&mut connection, &settings, &batch).await;
        if !delivered.is_empty() {
            let ids = delivered.clone();
            let removed = daemon
                .store
                .writer
                .write(move |tx| store::audit::acknowledge(tx, &ids))
                .await;
            if let Err(err) = removed {
                tracing::warn!(%err, "cannot mark audit events as delivered; they will be sent again");
            }
        }
        let Some((event_id, error)) = failure else {
            if retry > FIRST_RETRY {
                tracing::info!(syslog = %url, "the audit syslog collector takes events again");
            }
            retry = FIRST_RETRY;
            continue;
        };
        connection = None;
        if retry == FIRST_RETRY {
            tracing::warn!(syslog = %url, %error, "cannot deliver audit events to the syslog collector; they stay in the store and are sent when it is back");
        }
        let noted = error.clone();
        let _ = daemon
            .store
            .writer
            .write(move |tx| store::audit::note_failure(tx, event_id, &noted))
            .await;
        tokio::select! {
            _ = tokio::time::sleep(retry) => {}
            _ = shutdown.changed() => break,
        }
        retry = (retry * 2).min(LAST_RETRY);
    }
}

/// Sends events in order until one fails; returns the ids taken and the failure.
async fn send(
    connection: &mut Option<Connection>,
    settings: &Settings,
    batch: &[AuditEvent],
) -> (Vec<i64>, Option<(i64, String)>) {
    let mut delivered = Vec::new();
    for event in batch {
        let frame = match message::audit_message(event, &settings.source) {
            Ok(xml) => syslog::message(event.at, &settings.source.host, &xml),
            Err(err) => {
                return (
                    delivered,
                    Some((event.id, format!("cannot write the message: {err}"))),
                );
            }
        };
        if let Some(open) = connection.as_ref()
            && open.is_closed().await
        {
            *connection = None;
        }
        if connection.is_none() {
            match Connection::open(&settings.target, settings.tls.as_ref()).await {
                Ok(open) => *connection = Some(open),
                Err(err) => return (delivered, Some((event.id, format!("connecting: {err}")))),
            }
        }
        let Some(open) = connection.as_mut() else {
            break;
        };
        match open.send(&frame).await {
            Ok(()) => delivered.push(event.id),
            Err(err) => return (delivered, Some((event.id, format!("sending: {err}")))),
        }
    }
    (delivered, None)
}

/// How many audit events wait for the collector, and the error the oldest last met.
pub fn outbox_state(db: &dyn bolt_sql::Db) -> StoreResult<(u64, Option<String>)> {
    let state = store::audit::outbox_state(db)?;
    Ok((state.waiting, state.last_error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite::on_each_backend;

    #[test]
    fn the_outbox_state_counts_waiting_events_and_the_last_error_on_each_backend() {
        on_each_backend(|db| {
            assert_eq!(outbox_state(db).unwrap(), (0, None));
            let id = crate::audit::record(db, "run.cancelled", "r1", None).unwrap();
            store::audit::queue_for_syslog(db, id).unwrap();
            store::audit::note_failure(db, id, "connection refused").unwrap();
            assert_eq!(
                outbox_state(db).unwrap(),
                (1, Some("connection refused".to_string()))
            );
        });
    }
}
