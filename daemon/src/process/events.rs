//! The daemon's event bus: every state change and log line, for subscribed clients.
//!
//! Subscribers see this node's events and, on PostgreSQL, other nodes' events too (the
//! relay, `process::relay`, publishes those with [`EventBus::publish_remote`]). The relay
//! itself reads only this node's own events ([`EventBus::subscribe_local`]), so an event
//! received from another node is never sent out again.

use bolt_shared::protocol::Event;
use tokio::sync::broadcast;

/// Events kept for a subscriber that hasn't read them yet; one that falls further behind
/// misses the oldest and is told how many.
const CAPACITY: usize = 4096;

#[derive(Clone)]
pub struct EventBus {
    /// Every event, this node's and other nodes': what subscribers read.
    all: broadcast::Sender<Event>,
    /// This node's own events only: what the relay sends to other nodes.
    local: broadcast::Sender<Event>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        let (all, _) = broadcast::channel(CAPACITY);
        let (local, _) = broadcast::channel(CAPACITY);
        Self { all, local }
    }

    /// Publishes an event of this node.
    pub fn publish(&self, event: Event) {
        // Copied for the relay only while one runs (on PostgreSQL).
        if self.local.receiver_count() > 0 {
            let _ = self.local.send(event.clone());
        }
        // No subscribers is fine: nobody is watching.
        let _ = self.all.send(event);
    }

    /// Publishes an event another node published, for this node's subscribers only.
    pub fn publish_remote(&self, event: Event) {
        let _ = self.all.send(event);
    }

    /// Every event, this node's and other nodes'.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.all.subscribe()
    }

    /// This node's own events (those given to [`EventBus::publish`]), for the relay.
    pub fn subscribe_local(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn remote_events_reach_subscribers_but_not_the_local_feed() {
        let bus = EventBus::new();
        let mut all = bus.subscribe();
        let mut local = bus.subscribe_local();
        bus.publish(Event::WorkflowsChanged);
        bus.publish_remote(Event::BulkProgress { done: 1, total: 2 });
        assert_eq!(all.try_recv().unwrap(), Event::WorkflowsChanged);
        assert_eq!(
            all.try_recv().unwrap(),
            Event::BulkProgress { done: 1, total: 2 }
        );
        assert_eq!(local.try_recv().unwrap(), Event::WorkflowsChanged);
        assert!(local.try_recv().is_err());
    }
}
