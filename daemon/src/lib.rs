//! boltd's library: the store, the socket server, triggers, the run queue and the
//! OpenFn-compatible engine (also used by `bolt execute`).

pub mod cli;
pub mod credentials;
pub mod daemon;
pub mod engine;
pub mod events;
pub mod ipc;
pub mod lifecycle;
pub mod project;
pub mod run;
pub mod secrets;
pub mod store;
pub mod workflows;
