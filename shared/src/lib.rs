//! Shared by `boltd` and `bolt`: the domain model, the socket protocol, configuration,
//! default paths and a blocking socket client.

pub mod access;
pub mod adaptors;
pub mod audit;
pub mod backup;
pub mod client;
pub mod config;
pub mod credential_view;
pub mod escape;
pub mod model;
pub mod notify;
pub mod notify_config;
pub mod paths;
pub mod protocol;
pub mod time;
pub mod timespec;
pub mod users;
pub mod versions;

pub use config::Config;
pub use protocol::{PROTOCOL_VERSION, Request, Response};
