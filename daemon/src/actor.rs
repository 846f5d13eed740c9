//! Who a change is recorded as: the actor of audit rows and of workflow versions.
//!
//! Every change through the socket is recorded as "bolt" for now. The Unix user on the
//! other end of the socket (its peer credentials) plugs in here: once the connection knows
//! its caller, this is the one place that hands it to every audit row and version.

/// The actor of the change being written.
pub fn current() -> String {
    "bolt".to_string()
}
