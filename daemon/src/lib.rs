//! boltd's library, laid out as the pipeline runs: `triggers` (webhooks, cron, intake) put
//! work orders into the `store`; the `queue` dispatches their runs to the `engine` and
//! records what they did; `ipc` serves the socket clients; `process` starts and stops boltd;
//! `cluster` keeps this boltd's place among the nodes sharing a PostgreSQL store.

pub mod access;
pub mod actor;
pub mod audit;
pub mod cluster;
pub mod collections;
pub mod credentials;
pub mod daemon;
pub use bolt_engine as engine;
pub mod files;
pub mod history;
pub mod installer;
pub mod ipc;
pub mod log_caps;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod process;
pub mod project;
pub mod queue;
pub mod refs;
pub mod retention;
pub mod saved_inputs;
pub mod secrets;
pub mod store;
pub mod triggers;
pub mod versions;
pub mod workflows;
