//! Backpressure between a running job and whoever records its events: a job that logs
//! faster than its lines can be recorded waits, instead of piling them up in memory (a
//! million-line job once held gigabytes of queued lines, which the allocator then kept).

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

/// Counts events sent but not yet taken; a sender waits while `max` are in flight.
#[derive(Debug)]
pub struct EventGate {
    state: Mutex<GateState>,
    room: Condvar,
    max: usize,
}

#[derive(Debug, Default)]
struct GateState {
    in_flight: usize,
    /// The receiver is gone: nobody will make room any more.
    closed: bool,
}

/// The longest one wait lasts before the sender looks again (and goes on regardless once the
/// gate is closed): a job's engine thread never blocks for good.
const WAIT_SLICE: Duration = Duration::from_millis(50);

impl EventGate {
    pub fn new(max: usize) -> EventGate {
        EventGate {
            state: Mutex::new(GateState::default()),
            room: Condvar::new(),
            max: max.max(1),
        }
    }

    /// Called by the sender before each event: waits while the receiver is `max` behind.
    pub fn enter(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while state.in_flight >= self.max && !state.closed {
            state = self
                .room
                .wait_timeout(state, WAIT_SLICE)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        state.in_flight += 1;
    }

    /// Called by the receiver for each event it has taken.
    pub fn taken(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.in_flight = state.in_flight.saturating_sub(1);
        self.room.notify_one();
    }

    /// The receiver stops taking events: senders never wait again.
    pub fn close(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.closed = true;
        self.room.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_sender_waits_for_room_and_never_once_closed() {
        let gate = Arc::new(EventGate::new(2));
        let sent = Arc::new(AtomicUsize::new(0));
        let sender = {
            let (gate, sent) = (gate.clone(), sent.clone());
            std::thread::spawn(move || {
                for _ in 0..5 {
                    gate.enter();
                    sent.fetch_add(1, Ordering::SeqCst);
                }
            })
        };
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(sent.load(Ordering::SeqCst), 2, "held at the limit");
        gate.taken();
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(sent.load(Ordering::SeqCst), 3);
        gate.close();
        sender.join().expect("sender ends");
        assert_eq!(sent.load(Ordering::SeqCst), 5);
    }
}
