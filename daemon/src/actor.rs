//! Who a change is recorded as: the actor of audit rows and of workflow versions.
//!
//! A socket request runs as its caller (the Unix user on the other end of the socket,
//! from its peer credentials): [`acting_as`] scopes the request's task, and the store
//! writer carries the actor of the task that queued a write onto its own thread
//! ([`captured`], [`within`]), so every audit row and version written for the request
//! names that user. Changes boltd makes on its own (retention, runs) are `boltd`'s.

use std::cell::RefCell;
use std::future::Future;

/// The actor of changes no socket caller asked for.
pub const DAEMON: &str = "boltd";

tokio::task_local! {
    static CALLER: String;
}

thread_local! {
    /// Set on the store writer's thread while it runs a write queued by a caller's task.
    static WRITING_FOR: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The actor of the change being written.
pub fn current() -> String {
    captured().unwrap_or_else(|| DAEMON.to_string())
}

/// The caller this code runs for, if it runs for one.
pub fn captured() -> Option<String> {
    WRITING_FOR
        .with(|w| w.borrow().clone())
        .or_else(|| CALLER.try_with(Clone::clone).ok())
}

/// Runs a request's handling as `actor`.
pub async fn acting_as<F: Future>(actor: String, work: F) -> F::Output {
    CALLER.scope(actor, work).await
}

/// Runs `work` on this thread as `actor` (the writer, for the task that queued the write).
pub fn within<T>(actor: Option<String>, work: impl FnOnce() -> T) -> T {
    struct Restore(Option<String>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            WRITING_FOR.with(|w| *w.borrow_mut() = previous);
        }
    }
    if actor.is_none() {
        return work();
    }
    let _restore = Restore(WRITING_FOR.with(|w| w.replace(actor)));
    work()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_s_writes_name_its_caller() {
        assert_eq!(current(), DAEMON);
        let inside = acting_as("alice".into(), async { current() }).await;
        assert_eq!(inside, "alice");
        let captured = acting_as("bob".into(), async { captured() }).await;
        let on_writer = std::thread::spawn(move || within(captured, current))
            .join()
            .unwrap();
        assert_eq!(on_writer, "bob");
        assert_eq!(within(None, current), DAEMON);
    }
}
