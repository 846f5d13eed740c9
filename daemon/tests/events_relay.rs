//! The event relay between nodes sharing a PostgreSQL database: two "nodes" (an event bus
//! and a relay each) on one database. Skipped with a notice without BOLT_TEST_POSTGRES_URL
//! (except the test that needs no database).
// Test helpers outside #[test] functions panic on failure, like the tests themselves.
#![allow(clippy::unwrap_used)]

use bolt_daemon::process::events::EventBus;
use bolt_daemon::process::relay::{self, PAYLOAD_BUDGET, RelayHandle, RelayOptions};
use bolt_shared::model::{LogLevel, LogLine};
use bolt_shared::protocol::Event;
use bolt_sql::testing::PgScratch;
use bolt_sql::{DbExt, PgClient, PgSettings, params};
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// Long enough for a notification to cross on a loaded test machine.
const ARRIVES_WITHIN: Duration = Duration::from_secs(10);
/// How long to watch for events that must not come.
const QUIET: Duration = Duration::from_millis(600);

struct Node {
    bus: EventBus,
    /// What this node's subscribers (the TUI, `bolt logs --follow`) receive.
    seen: broadcast::Receiver<Event>,
    relay: RelayHandle,
    settings: PgSettings,
}

impl Node {
    /// A node named `id` relaying on `channel` (unique per test: channels are per database).
    fn start(settings: &PgSettings, id: &str, channel: &str) -> Node {
        let mut settings = settings.clone();
        settings.application_name = format!("{channel}-{id}");
        let bus = EventBus::new();
        let seen = bus.subscribe();
        let relay = relay::start_with(
            settings.clone(),
            id.to_string(),
            &bus,
            RelayOptions {
                channel: channel.to_string(),
                gather: Duration::from_millis(10),
                backoff: Duration::from_millis(100),
                max_backoff: Duration::from_millis(400),
            },
        );
        Node {
            bus,
            seen,
            relay,
            settings,
        }
    }

    fn connection_name(&self, role: &str) -> String {
        relay::application_name(&self.settings, role)
    }

    async fn until_listening(&self) {
        let deadline = Instant::now() + ARRIVES_WITHIN;
        while !self.relay.listening() {
            assert!(Instant::now() < deadline, "the relay never listened");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The next event this node's subscribers see.
    async fn next(&mut self) -> Event {
        tokio::time::timeout(ARRIVES_WITHIN, self.seen.recv())
            .await
            .expect("no event arrived")
            .unwrap()
    }

    /// Every event this node's subscribers see within `QUIET`.
    async fn rest(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        let deadline = tokio::time::Instant::now() + QUIET;
        while let Ok(Ok(event)) = tokio::time::timeout_at(deadline, self.seen.recv()).await {
            events.push(event);
        }
        events
    }
}

fn log(id: i64, message: &str) -> Event {
    Event::Log(LogLine {
        id,
        run_id: "run-1".into(),
        step_id: None,
        source: "JOB".into(),
        level: LogLevel::Info,
        message: message.into(),
        timestamp: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
    })
}

/// Runs `test` on a runtime of its own: the scratch schema is created and dropped outside
/// it (the sync postgres client can't run on a runtime's thread).
fn with_runtime<F: Future<Output = ()>>(test: impl FnOnce() -> F) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(test());
}

/// Terminates the server processes of connections named `application_name`; how many.
async fn terminate(settings: &PgSettings, application_name: String) -> i64 {
    let settings = settings.clone();
    tokio::task::spawn_blocking(move || {
        let admin = PgClient::connect(&settings).unwrap();
        // In the select list, so it runs only for the rows the WHERE kept (the planner may
        // evaluate WHERE conditions in any order).
        let killed: Vec<i64> = admin
            .query_map(
                "SELECT CAST(pg_terminate_backend(pid) AS INTEGER) FROM pg_stat_activity
                 WHERE application_name = ?1",
                params![application_name.as_str()],
                |row| row.get(0),
            )
            .unwrap();
        killed.iter().sum()
    })
    .await
    .unwrap()
}

fn channel(pg: &PgScratch) -> String {
    format!("{}_ev", pg.schema())
}

#[test]
fn an_event_of_node_b_reaches_node_a_once_and_is_not_echoed() {
    let Some(pg) = PgScratch::new() else { return };
    let (settings, channel) = (pg.settings(), channel(&pg));
    with_runtime(|| async move {
        let mut a = Node::start(&settings, "node-a", &channel);
        let mut b = Node::start(&settings, "node-b", &channel);
        a.until_listening().await;
        b.until_listening().await;

        let from_b = [Event::WorkflowsChanged, log(1, "hello from b")];
        for event in &from_b {
            b.bus.publish(event.clone());
        }
        assert_eq!(a.next().await, from_b[0]);
        assert_eq!(a.next().await, from_b[1]);
        // B's subscribers saw its events once, as published locally.
        assert_eq!(b.next().await, from_b[0]);
        assert_eq!(b.next().await, from_b[1]);

        let from_a = Event::BulkProgress { done: 1, total: 2 };
        a.bus.publish(from_a.clone());
        assert_eq!(b.next().await, from_a);
        assert_eq!(a.next().await, from_a);

        // Exactly once: nothing comes back, on either node.
        assert_eq!(a.rest().await, []);
        assert_eq!(b.rest().await, []);
    });
}

#[test]
fn a_log_line_longer_than_a_notification_arrives_cut() {
    let Some(pg) = PgScratch::new() else { return };
    let (settings, channel) = (pg.settings(), channel(&pg));
    with_runtime(|| async move {
        let mut a = Node::start(&settings, "node-a", &channel);
        let mut b = Node::start(&settings, "node-b", &channel);
        a.until_listening().await;

        let long = "0123456789".repeat(3_000);
        b.bus.publish(log(7, &long));
        b.bus.publish(log(8, "short"));
        let Event::Log(cut) = a.next().await else {
            panic!("not a log line");
        };
        assert_eq!(cut.id, 7);
        assert!(cut.message.len() < PAYLOAD_BUDGET, "{}", cut.message.len());
        assert!(cut.message.starts_with("0123456789"));
        assert!(
            cut.message
                .ends_with("[cut to relay it between nodes: 30000 bytes in all]"),
            "{}",
            &cut.message[cut.message.len() - 80..]
        );
        assert_eq!(a.next().await, log(8, "short"));
        // Node B's own subscribers have the whole line.
        let Event::Log(whole) = b.next().await else {
            panic!("not a log line");
        };
        assert_eq!(whole.message, long);
    });
}

/// B keeps publishing progress until A hears it again; what A received meanwhile.
async fn until_a_hears_b_again(a: &mut Node, b: &Node) -> Vec<Event> {
    let deadline = Instant::now() + ARRIVES_WITHIN;
    let mut received = Vec::new();
    let mut done = 0;
    while !received
        .iter()
        .any(|e| matches!(e, Event::BulkProgress { .. }))
    {
        assert!(
            Instant::now() < deadline,
            "A never heard B again: {received:?}"
        );
        done += 1;
        b.bus.publish(Event::BulkProgress { done, total: 0 });
        received.extend(a.rest().await);
    }
    received
}

#[test]
fn the_listener_reconnects_after_its_connection_is_killed() {
    let Some(pg) = PgScratch::new() else { return };
    let (settings, channel) = (pg.settings(), channel(&pg));
    with_runtime(|| async move {
        let mut a = Node::start(&settings, "node-a", &channel);
        let b = Node::start(&settings, "node-b", &channel);
        a.until_listening().await;

        assert_eq!(
            terminate(&settings, a.connection_name("events-in")).await,
            1
        );
        let received = until_a_hears_b_again(&mut a, &b).await;
        // On reconnecting, A told its subscribers they may have missed events.
        assert!(
            received.contains(&Event::Lagged { missed: 0 }),
            "{received:?}"
        );
        assert!(a.relay.listening());
    });
}

#[test]
fn a_killed_sender_connection_costs_a_lagged_notice_and_recovers() {
    let Some(pg) = PgScratch::new() else { return };
    let (settings, channel) = (pg.settings(), channel(&pg));
    with_runtime(|| async move {
        let mut a = Node::start(&settings, "node-a", &channel);
        let b = Node::start(&settings, "node-b", &channel);
        a.until_listening().await;
        b.bus.publish(Event::WorkflowsChanged);
        assert_eq!(a.next().await, Event::WorkflowsChanged);

        assert_eq!(
            terminate(&settings, b.connection_name("events-out")).await,
            1
        );
        let received = until_a_hears_b_again(&mut a, &b).await;
        // The first event after the kill was lost, and A's subscribers were told before
        // the next one arrived.
        assert!(
            matches!(received[0], Event::Lagged { missed } if missed >= 1),
            "{received:?}"
        );
        assert!(matches!(received[1], Event::BulkProgress { done, .. } if done > 1));
    });
}

#[test]
fn without_a_database_events_are_still_published_locally_at_once() {
    // Nothing listens on port 1.
    let settings =
        PgSettings::from_url("postgres://bolt@127.0.0.1:1/bolt?sslmode=disable").unwrap();
    with_runtime(|| async move {
        let mut node = Node::start(&settings, "alone", "bolt_events_unreachable");
        let started = Instant::now();
        for n in 0..2_000 {
            node.bus.publish(log(n, "still here"));
        }
        for n in 0..2_000 {
            match node.next().await {
                Event::Log(line) => assert_eq!(line.id, n),
                other => panic!("{other:?}"),
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert!(!node.relay.listening());
    });
}

#[test]
fn a_burst_arrives_in_order_and_whatever_is_dropped_is_reported() {
    let Some(pg) = PgScratch::new() else { return };
    let (settings, channel) = (pg.settings(), channel(&pg));
    with_runtime(|| async move {
        let mut a = Node::start(&settings, "node-a", &channel);
        let b = Node::start(&settings, "node-b", &channel);
        a.until_listening().await;
        let burst = 3_000;
        let line = "a log line of ordinary length ".repeat(4);
        for n in 0..burst {
            b.bus.publish(log(n, &line));
        }
        // A marker after the burst: any events lost at its end are reported before it.
        tokio::time::sleep(Duration::from_secs(1)).await;
        b.bus.publish(Event::WorkflowsChanged);
        // Every event arrives, or is counted in a lagged notice; never twice, never out of
        // order.
        let (mut last, mut arrived, mut reported_missed) = (-1, 0, 0);
        loop {
            match a.next().await {
                Event::Log(line) => {
                    assert!(line.id > last, "{} after {last}", line.id);
                    last = line.id;
                    arrived += 1;
                }
                Event::Lagged { missed } => reported_missed += missed,
                Event::WorkflowsChanged => break,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(a.rest().await, []);
        assert_eq!(arrived + reported_missed, burst as u64);
        eprintln!("burst of {burst}: {arrived} arrived, {reported_missed} reported missed");
    });
}
