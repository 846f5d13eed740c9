//! Live events across the nodes sharing one PostgreSQL store: a `bolt` client connected to
//! any node sees the events of runs executing on every node.
//!
//! # Use
//!
//! Only with a PostgreSQL store, from within the tokio runtime:
//!
//! ```ignore
//! let relay = relay::start(settings, node_id, &daemon.events);
//! // Keep `relay` while the node runs: dropping it stops the relay.
//! ```
//!
//! [`start_with`] takes [`RelayOptions`] (another channel, timings) for tests.
//!
//! # How
//!
//! - Outgoing: a task reads this node's own events ([`EventBus::subscribe_local`]), gathers
//!   what arrives within a few tens of milliseconds, encodes it as notification payloads
//!   (`{"node":…,"events":[…]}`, split to fit PostgreSQL's 8000 bytes, an over-long log line
//!   cut and marked, see `payload`) and queues them for a sender thread, which sends each
//!   with `pg_notify` on a connection of its own.
//! - Incoming: a listener thread LISTENs on the channel and publishes other nodes' events
//!   with [`EventBus::publish_remote`], skipping this node's own payloads by node id.
//!   Remote events never reach the local feed, so nothing is sent back (no echo).
//! - Failures: publishing never waits for the database. The queue to the sender is bounded;
//!   while it is full or the database unreachable, payloads are dropped and their events
//!   counted, and the next payload starts with a `lagged` notice of how many other nodes'
//!   subscribers missed (they refresh from the store). The listener reconnects by itself
//!   with a growing backoff and logs once per outage; after reconnecting it publishes
//!   `lagged { missed: 0 }` (0: an unknown number) since events sent meanwhile are lost.
//! - The postgres client blocks: it runs only on the relay's two std threads, never on a
//!   runtime worker. Memory is bounded by the bus's capacity and the payload queue.
//!
//! In pg_stat_activity the relay's connections are named after the settings'
//! `application_name`, with ` events-out` and ` events-in` appended.

mod payload;

pub use payload::PAYLOAD_BUDGET;

use super::events::EventBus;
use bolt_shared::protocol::Event;
use bolt_sql::pg::{self, Listener, PgClient, PgSettings};
use payload::Payload;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// The channel all nodes of a store send their events to.
pub const CHANNEL: &str = "bolt_events";

/// Payloads waiting for the sender thread (each under 8000 bytes).
const QUEUE_PAYLOADS: usize = 64;
/// Most events encoded together.
const MAX_BATCH: usize = 1024;
/// How long the listener waits for a notification before checking whether to stop.
const LISTEN_WAIT: Duration = Duration::from_millis(250);
/// PostgreSQL keeps the first 63 bytes of an application_name.
const MAX_APPLICATION_NAME: usize = 63;

/// What a relay uses besides its settings; [`RelayOptions::default`] is what boltd uses.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// The notification channel (per database: tests use their own).
    pub channel: String,
    /// How long events are gathered into one notification after the first arrives.
    pub gather: Duration,
    /// The first wait before reconnecting; it doubles up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RelayOptions {
    fn default() -> Self {
        RelayOptions {
            channel: CHANNEL.to_string(),
            gather: Duration::from_millis(25),
            backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// A running relay; dropping it stops the relay (its threads end within a moment, or once
/// a connection attempt under way gives up).
pub struct RelayHandle {
    outgoing: tokio::task::JoinHandle<()>,
    /// Dropped with the handle: the listener thread notices the hang-up and ends.
    _stop_listening: mpsc::Sender<()>,
    listening: Arc<AtomicBool>,
}

impl RelayHandle {
    /// Whether the listener is connected and listening right now.
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }
}

impl Drop for RelayHandle {
    fn drop(&mut self) {
        self.outgoing.abort();
    }
}

/// Starts relaying `bus`'s events between this node (`node_id`) and the other nodes of the
/// database `settings` connects to. Call it within the tokio runtime.
pub fn start(settings: PgSettings, node_id: String, bus: &EventBus) -> RelayHandle {
    start_with(settings, node_id, bus, RelayOptions::default())
}

/// [`start`] with other options.
pub fn start_with(
    settings: PgSettings,
    node_id: String,
    bus: &EventBus,
    options: RelayOptions,
) -> RelayHandle {
    let missed = Arc::new(AtomicU64::new(0));
    let (queue, queued) = mpsc::sync_channel(QUEUE_PAYLOADS);
    let (stop_listening, stop) = mpsc::channel();
    let listening = Arc::new(AtomicBool::new(false));

    let sender = NotifySender {
        settings: named(&settings, "events-out"),
        channel: options.channel.clone(),
        client: None,
        retry_at: Instant::now(),
        backoff: Backoff::new(&options),
        outage: Outage::new("sending live events to other nodes"),
    };
    spawn_thread("events-out", {
        let missed = missed.clone();
        move || sender.run(queued, &missed)
    });

    let incoming = Incoming {
        settings: named(&settings, "events-in"),
        channel: options.channel.clone(),
        own_prefix: payload::node_prefix(&node_id),
        node_id: node_id.clone(),
        bus: bus.clone(),
        listening: listening.clone(),
    };
    spawn_thread("events-in", {
        let backoff = Backoff::new(&options);
        move || incoming.run(&stop, backoff)
    });

    let outgoing = tokio::spawn(gather_and_queue(
        bus.subscribe_local(),
        node_id,
        options.gather,
        queue,
        missed,
    ));
    RelayHandle {
        outgoing,
        _stop_listening: stop_listening,
        listening,
    }
}

/// The application_name of the relay's connection for `role` under `settings`.
pub fn application_name(settings: &PgSettings, role: &str) -> String {
    let base = &settings.application_name;
    let room = MAX_APPLICATION_NAME.saturating_sub(role.len() + 1);
    format!("{} {role}", &base[..base.floor_char_boundary(room)])
}

fn named(settings: &PgSettings, role: &str) -> PgSettings {
    let mut settings = settings.clone();
    settings.application_name = application_name(&settings, role);
    settings
}

fn spawn_thread(name: &str, run: impl FnOnce() + Send + 'static) {
    if let Err(err) = std::thread::Builder::new().name(name.into()).spawn(run) {
        tracing::error!(%err, "cannot start the {name} thread: live events of other nodes won't be relayed");
    }
}

// ---- outgoing ----

/// Gathers this node's events into payloads for the sender thread, until the bus closes or
/// the relay stops (the task is aborted).
async fn gather_and_queue(
    mut events: broadcast::Receiver<Event>,
    node_id: String,
    gather: Duration,
    queue: SyncSender<Payload>,
    missed: Arc<AtomicU64>,
) {
    while let Some(batch) = next_batch(&mut events, gather, &missed).await {
        let encoded = payload::encode(&node_id, &batch, PAYLOAD_BUDGET);
        missed.fetch_add(encoded.left_out, Ordering::Relaxed);
        for payload in encoded.payloads {
            match queue.try_send(payload) {
                Ok(()) => {}
                // The database is slow or gone: drop rather than wait.
                Err(TrySendError::Full(payload)) => {
                    missed.fetch_add(payload.events, Ordering::Relaxed);
                }
                Err(TrySendError::Disconnected(_)) => return,
            }
        }
    }
}

/// The next events to send: what arrived within `gather` of the first, after a notice of
/// the events lost since the last batch; None once the bus is closed.
async fn next_batch(
    events: &mut broadcast::Receiver<Event>,
    gather: Duration,
    missed: &AtomicU64,
) -> Option<Vec<Event>> {
    let first = loop {
        match events.recv().await {
            Ok(event) => break event,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                missed.fetch_add(n, Ordering::Relaxed);
            }
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    };
    tokio::time::sleep(gather).await;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match events.try_recv() {
            Ok(event) => batch.push(event),
            Err(broadcast::error::TryRecvError::Lagged(n)) => {
                missed.fetch_add(n, Ordering::Relaxed);
            }
            Err(_) => break,
        }
    }
    let lost = missed.swap(0, Ordering::Relaxed);
    if lost > 0 {
        batch.insert(0, Event::Lagged { missed: lost });
    }
    Some(batch)
}

/// Sends payloads with `pg_notify` on a connection of its own, reconnecting when needed.
struct NotifySender {
    settings: PgSettings,
    channel: String,
    client: Option<PgClient>,
    /// No connection attempt before this (backoff after a failure).
    retry_at: Instant,
    backoff: Backoff,
    outage: Outage,
}

impl NotifySender {
    /// Sends what is queued until the queue's sender (the outgoing task) is gone.
    fn run(mut self, queued: Receiver<Payload>, missed: &AtomicU64) {
        for payload in queued {
            if !self.send(&payload.text) {
                missed.fetch_add(payload.events, Ordering::Relaxed);
            }
        }
    }

    fn send(&mut self, text: &str) -> bool {
        if !self.connect_if_due() {
            return false;
        }
        let Some(client) = &self.client else {
            return false;
        };
        match pg::notify(client, &self.channel, text) {
            Ok(()) => {
                self.outage.restored();
                true
            }
            Err(err) => {
                if err.is_unreachable() || client.is_closed() {
                    self.client = None;
                    self.retry_at = Instant::now() + self.backoff.next();
                }
                self.outage.lost(&err);
                false
            }
        }
    }

    /// Whether there is a connection, connecting if there is none and it is time to try.
    fn connect_if_due(&mut self) -> bool {
        if self.client.is_some() {
            return true;
        }
        if Instant::now() < self.retry_at {
            return false;
        }
        match PgClient::connect(&self.settings) {
            Ok(client) => {
                self.client = Some(client);
                self.backoff.reset();
                true
            }
            Err(err) => {
                self.retry_at = Instant::now() + self.backoff.next();
                self.outage.lost(&err);
                false
            }
        }
    }
}

// ---- incoming ----

/// Publishes other nodes' events on this node's bus.
struct Incoming {
    settings: PgSettings,
    channel: String,
    node_id: String,
    /// How this node's own payloads begin: skipped without parsing.
    own_prefix: String,
    bus: EventBus,
    listening: Arc<AtomicBool>,
}

enum Ended {
    Stopped,
    Lost(bolt_sql::Error),
}

impl Incoming {
    /// Listens, reconnecting after each loss, until `stop` hangs up.
    fn run(self, stop: &Receiver<()>, mut backoff: Backoff) {
        let mut outage = Outage::new("receiving live events from other nodes");
        let mut first_attempt = true;
        loop {
            match Listener::connect(&self.settings, &self.channel) {
                Ok(mut listener) => {
                    outage.restored();
                    backoff.reset();
                    if !first_attempt {
                        // Whatever other nodes sent meanwhile is lost: subscribers refresh.
                        self.bus.publish_remote(Event::Lagged { missed: 0 });
                    }
                    self.listening.store(true, Ordering::Relaxed);
                    let ended = self.relay_in(&mut listener, stop);
                    self.listening.store(false, Ordering::Relaxed);
                    match ended {
                        Ended::Stopped => return,
                        Ended::Lost(err) => outage.lost(&err),
                    }
                }
                Err(err) => outage.lost(&err),
            }
            first_attempt = false;
            if stop_requested_within(stop, backoff.next()) {
                return;
            }
        }
    }

    fn relay_in(&self, listener: &mut Listener, stop: &Receiver<()>) -> Ended {
        loop {
            if stop_requested_within(stop, Duration::ZERO) {
                return Ended::Stopped;
            }
            match listener.next(LISTEN_WAIT) {
                Ok(Some(notification)) => self.publish(&notification.payload),
                Ok(None) => {}
                Err(err) => return Ended::Lost(err),
            }
        }
    }

    fn publish(&self, text: &str) {
        if text.starts_with(&self.own_prefix) {
            return;
        }
        match payload::decode(text) {
            Ok(decoded) if decoded.node == self.node_id => {}
            Ok(decoded) => {
                if decoded.unreadable > 0 {
                    tracing::debug!(
                        node = %decoded.node,
                        skipped = decoded.unreadable,
                        "events of kinds this build doesn't know were skipped"
                    );
                }
                for event in decoded.events {
                    self.bus.publish_remote(event);
                }
            }
            Err(err) => {
                tracing::debug!(%err, channel = %self.channel, "a notification that isn't a batch of events was ignored");
            }
        }
    }
}

/// Waits up to `wait` for the relay to stop; true when it has (the handle hung up).
fn stop_requested_within(stop: &Receiver<()>, wait: Duration) -> bool {
    let outcome = if wait.is_zero() {
        stop.try_recv().map_err(|e| match e {
            TryRecvError::Empty => RecvTimeoutError::Timeout,
            TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
        })
    } else {
        stop.recv_timeout(wait)
    };
    !matches!(outcome, Err(RecvTimeoutError::Timeout))
}

// ---- shared ----

/// The wait before the next connection attempt: doubling from the first to the most.
struct Backoff {
    first: Duration,
    most: Duration,
    next: Duration,
}

impl Backoff {
    fn new(options: &RelayOptions) -> Backoff {
        Backoff {
            first: options.backoff,
            most: options.max_backoff.max(options.backoff),
            next: options.backoff,
        }
    }

    fn next(&mut self) -> Duration {
        let wait = self.next;
        self.next = (wait * 2).min(self.most);
        wait
    }

    fn reset(&mut self) {
        self.next = self.first;
    }
}

/// Logs a failure once per outage, and its end.
struct Outage {
    what: &'static str,
    down: bool,
}

impl Outage {
    fn new(what: &'static str) -> Outage {
        Outage { what, down: false }
    }

    fn lost(&mut self, err: &bolt_sql::Error) {
        if !self.down {
            self.down = true;
            tracing::warn!(%err, "{} failed; retrying in the background", self.what);
        }
    }

    fn restored(&mut self) {
        if std::mem::take(&mut self.down) {
            tracing::info!("{} works again", self.what);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_most_and_resets() {
        let mut backoff = Backoff::new(&RelayOptions {
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            ..RelayOptions::default()
        });
        let waits: Vec<u128> = (0..4).map(|_| backoff.next().as_millis()).collect();
        assert_eq!(waits, [100, 200, 350, 350]);
        backoff.reset();
        assert_eq!(backoff.next(), Duration::from_millis(100));
    }

    #[test]
    fn application_names_keep_their_role_within_postgresqls_limit() {
        let mut settings = PgSettings::from_url("postgres://u@h/db").unwrap();
        assert_eq!(application_name(&settings, "events-in"), "boltd events-in");
        settings.application_name = "é".repeat(40);
        let name = application_name(&settings, "events-out");
        assert!(name.len() <= MAX_APPLICATION_NAME, "{}", name.len());
        assert!(name.ends_with(" events-out"));
    }

    #[tokio::test]
    async fn batches_gather_what_arrives_together_after_a_notice_of_what_was_missed() {
        let bus = EventBus::new();
        let mut events = bus.subscribe_local();
        let missed = AtomicU64::new(3);
        bus.publish(Event::WorkflowsChanged);
        bus.publish(Event::BulkProgress { done: 1, total: 2 });
        let batch = next_batch(&mut events, Duration::from_millis(1), &missed)
            .await
            .unwrap();
        assert_eq!(
            batch,
            [
                Event::Lagged { missed: 3 },
                Event::WorkflowsChanged,
                Event::BulkProgress { done: 1, total: 2 }
            ]
        );
        assert_eq!(missed.load(Ordering::Relaxed), 0);
        // Remote events are not sent out again.
        bus.publish_remote(Event::WorkflowsChanged);
        assert!(events.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_full_queue_drops_payloads_and_counts_their_events() {
        let bus = EventBus::new();
        let events = bus.subscribe_local();
        let (queue, queued) = mpsc::sync_channel(1);
        let missed = Arc::new(AtomicU64::new(0));
        // Nothing takes from the queue: the first payload waits, the later ones are dropped.
        let task = tokio::spawn(gather_and_queue(
            events,
            "me".into(),
            Duration::from_millis(1),
            queue,
            missed.clone(),
        ));
        for _ in 0..3 {
            bus.publish(Event::WorkflowsChanged);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(queued.try_recv().unwrap().events, 1);
        assert_eq!(missed.load(Ordering::Relaxed), 2);
        task.abort();
    }
}
