//! Live events for the socket's subscribers, delivered off the path of whoever published
//! them (webhook intake, runs, deploys).
//!
//! One task takes events from the bus in batches, serialises each event once, and hands each
//! subscriber what it asked for (everything, or one run's events for `bolt logs --follow`)
//! through a bounded queue. Publishing never waits for subscribers, and a subscriber never
//! costs more than a queue push per batch: one that doesn't keep up (a slow terminal, a
//! stopped pager) misses events and gets a `lagged` event with their number once its queue
//! has room again.

use bolt_shared::protocol::{Event, ServerFrame, encode};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Most events serialised and handed out together.
const MAX_BATCH: usize = 1024;
/// How long the fan-out waits for more events before handing out a small batch: under load,
/// batches grow, and each subscriber gets a write per batch instead of one per event.
const GATHER: Duration = Duration::from_millis(2);

/// One event as a ready-to-write frame line, with what subscriptions select it by.
#[derive(Debug)]
pub struct EncodedEvent {
    /// `{"type":"event",…}\n`
    pub line: Vec<u8>,
    run_id: Option<String>,
    /// `lagged` notices go to every subscriber.
    for_everyone: bool,
}

/// What a subscription receives.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    All,
    /// One run's log lines and state changes (and its steps').
    Run(String),
}

impl Filter {
    fn wants(&self, event: &EncodedEvent) -> bool {
        match self {
            Filter::All => true,
            Filter::Run(run) => event.for_everyone || event.run_id.as_deref() == Some(run),
        }
    }
}

/// Events for one connection's writer.
pub type EventBatch = Arc<[Arc<EncodedEvent>]>;

struct Subscriber {
    filter: Filter,
    /// Weak: the connection, not the fan-out, decides how long its queue lives.
    queue: mpsc::WeakSender<super::server::Outgoing>,
    /// Events it could not take since it last got a notice of them.
    missed: u64,
}

#[derive(Default)]
pub struct Fanout {
    subscribers: Mutex<Vec<Subscriber>>,
}

impl Fanout {
    pub fn subscribe(&self, filter: Filter, queue: &mpsc::Sender<super::server::Outgoing>) {
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Subscriber {
                filter,
                queue: queue.downgrade(),
                missed: 0,
            });
    }

    /// Connections subscribed to events right now.
    pub fn count(&self) -> usize {
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|s| s.queue.strong_count() > 0)
            .count()
    }

    /// Hands out the bus's events until the bus closes.
    pub async fn run(self: Arc<Self>, mut events: broadcast::Receiver<Event>) {
        loop {
            let mut batch = Vec::new();
            let mut lagged = 0u64;
            match events.recv().await {
                Ok(event) => batch.push(event),
                Err(broadcast::error::RecvError::Lagged(missed)) => lagged += missed,
                Err(broadcast::error::RecvError::Closed) => return,
            }
            if self.is_idle() {
                continue;
            }
            tokio::time::sleep(GATHER).await;
            while batch.len() < MAX_BATCH {
                match events.try_recv() {
                    Ok(event) => batch.push(event),
                    Err(broadcast::error::TryRecvError::Lagged(missed)) => lagged += missed,
                    Err(_) => break,
                }
            }
            let mut encoded: Vec<Arc<EncodedEvent>> = Vec::with_capacity(batch.len() + 1);
            if lagged > 0 {
                // This task itself fell behind the bus: everyone missed those events.
                encoded.extend(encode_event(Event::Lagged { missed: lagged }));
            }
            encoded.extend(batch.into_iter().filter_map(encode_event));
            self.hand_out(encoded);
        }
    }

    fn is_idle(&self) -> bool {
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }

    fn hand_out(&self, encoded: Vec<Arc<EncodedEvent>>) {
        let everything: EventBatch = encoded.into();
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subscribers.retain_mut(|subscriber| {
            let mine: EventBatch = match &subscriber.filter {
                Filter::All => everything.clone(),
                filter if !everything.iter().any(|e| filter.wants(e)) => Arc::new([]),
                filter => everything
                    .iter()
                    .filter(|e| filter.wants(e))
                    .cloned()
                    .collect(),
            };
            match subscriber.queue.upgrade() {
                None => false,
                Some(_) if mine.is_empty() => true,
                Some(queue) => deliver(subscriber, &queue, mine),
            }
        });
    }
}

/// Queues `events` for one subscriber, after a notice of what it missed; false once its
/// connection is gone.
fn deliver(
    subscriber: &mut Subscriber,
    queue: &mpsc::Sender<super::server::Outgoing>,
    events: EventBatch,
) -> bool {
    use mpsc::error::TrySendError;
    if subscriber.missed > 0 {
        let notice: Option<EventBatch> = encode_event(Event::Lagged {
            missed: subscriber.missed,
        })
        .map(|e| vec![e].into());
        if let Some(notice) = notice {
            match queue.try_send(super::server::Outgoing::Events(notice)) {
                Ok(()) => subscriber.missed = 0,
                Err(TrySendError::Full(_)) => {
                    subscriber.missed += events.len() as u64;
                    return true;
                }
                Err(TrySendError::Closed(_)) => return false,
            }
        }
    }
    let count = events.len() as u64;
    match queue.try_send(super::server::Outgoing::Events(events)) {
        Ok(()) => true,
        Err(TrySendError::Full(_)) => {
            subscriber.missed += count;
            true
        }
        Err(TrySendError::Closed(_)) => false,
    }
}

fn encode_event(event: Event) -> Option<Arc<EncodedEvent>> {
    let (run_id, for_everyone) = match &event {
        Event::Log(line) => (Some(line.run_id.clone()), false),
        Event::RunChanged { id, .. } => (Some(id.clone()), false),
        Event::StepChanged { run_id, .. } => (Some(run_id.clone()), false),
        Event::Lagged { .. } => (None, true),
        _ => (None, false),
    };
    match encode(&ServerFrame::Event {
        event: Box::new(event),
    }) {
        Ok(line) => Some(Arc::new(EncodedEvent {
            line,
            run_id,
            for_everyone,
        })),
        Err(err) => {
            tracing::error!(%err, "cannot encode an event");
            None
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::server::Outgoing;
    use super::*;
    use bolt_shared::model::*;

    fn log(run: &str, n: i64) -> Event {
        Event::Log(LogLine {
            id: n,
            run_id: run.into(),
            step_id: None,
            source: "JOB".into(),
            level: LogLevel::Info,
            message: format!("line {n}"),
            timestamp: chrono::Utc::now(),
        })
    }

    fn events_of(item: Outgoing) -> Vec<Event> {
        let Outgoing::Events(batch) = item else {
            panic!("not events");
        };
        batch
            .iter()
            .map(
                |e| match serde_json::from_slice::<ServerFrame>(&e.line).unwrap() {
                    ServerFrame::Event { event } => *event,
                    other => panic!("{other:?}"),
                },
            )
            .collect()
    }

    #[tokio::test]
    async fn a_run_subscription_gets_only_its_run_and_a_slow_one_gets_a_lagged_notice() {
        let fanout = Fanout::default();
        let (all_tx, mut all_rx) = mpsc::channel(16);
        let (run_tx, mut run_rx) = mpsc::channel(16);
        let (slow_tx, mut slow_rx) = mpsc::channel(1);
        fanout.subscribe(Filter::All, &all_tx);
        fanout.subscribe(Filter::Run("r1".into()), &run_tx);
        fanout.subscribe(Filter::All, &slow_tx);
        for n in 0..3 {
            fanout.hand_out(
                [log("r1", n * 2), log("r2", n * 2 + 1)]
                    .into_iter()
                    .filter_map(encode_event)
                    .collect(),
            );
        }
        let all: Vec<Event> = (0..3)
            .flat_map(|_| events_of(all_rx.try_recv().unwrap()))
            .collect();
        assert_eq!(all.len(), 6);
        let mine: Vec<i64> = (0..3)
            .flat_map(|_| events_of(run_rx.try_recv().unwrap()))
            .map(|e| match e {
                Event::Log(line) if line.run_id == "r1" => line.id,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(mine, vec![0, 2, 4]);
        // The slow one took the first batch only; the next two (4 events) were dropped.
        assert_eq!(events_of(slow_rx.try_recv().unwrap()).len(), 2);
        assert!(slow_rx.try_recv().is_err());
        fanout.hand_out(vec![encode_event(log("r1", 9)).unwrap()]);
        assert_eq!(
            events_of(slow_rx.try_recv().unwrap()),
            vec![Event::Lagged { missed: 4 }]
        );
        // Closed connections are forgotten.
        drop(all_tx);
        drop(all_rx);
        fanout.hand_out(vec![encode_event(log("r1", 10)).unwrap()]);
        assert_eq!(fanout.count(), 2);
    }
}
