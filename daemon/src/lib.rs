//! boltd's library: the store, the socket server, triggers, the run queue and the
//! OpenFn-compatible engine (also used by `bolt execute`).

pub mod actor;
pub mod cli;
pub mod collections;
pub mod credentials;
pub mod daemon;
pub mod dispatcher;
pub mod engine;
pub mod events;
pub mod files;
pub mod history;
pub mod installer;
pub mod intake;
pub mod ipc;
pub mod lifecycle;
pub mod log_caps;
pub mod logging;
pub mod metrics;
pub mod plan;
pub mod project;
pub mod refs;
pub mod reprocess;
pub mod retention;
pub mod run;
pub mod runner;
pub mod runs;
pub mod saved_inputs;
pub mod scheduler;
pub mod secrets;
pub mod shutdown;
pub mod store;
pub mod unrecorded;
pub mod versions;
pub mod webhook;
pub mod webhook_triggers;
pub mod workflows;
