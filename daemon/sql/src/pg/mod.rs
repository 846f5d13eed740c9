//! The PostgreSQL backend: settings from a URL, TLS, a connection that is a [`Db`](crate::Db),
//! a pool, value mapping and error classification, migrations, and LISTEN/NOTIFY.

pub(crate) mod client;
pub(crate) mod errors;
pub(crate) mod listen;
pub(crate) mod migrate;
pub(crate) mod pool;
pub(crate) mod settings;
pub(crate) mod tls;
pub(crate) mod types;

pub use client::PgClient;
pub use listen::{Listener, MAX_PAYLOAD, Notification, notify};
pub use migrate::{Migrated, Migration, migrate, schema_version};
pub use pool::{PgConn, PgPool, PoolOptions};
pub use settings::{Host, PgSettings, SslMode};
