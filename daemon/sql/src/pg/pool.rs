//! A pool of [`PgClient`]s (r2d2) that outlives the database going away and coming back.
//!
//! Connections are made on demand, so a pool can be created while the database is down.
//! A checkout tests the connection with an empty query first; a connection found broken
//! (or returned with a transaction still open) is dropped and a new one made. While the
//! database is down a checkout fails after `checkout_timeout` with
//! [`ErrorKind::Unreachable`](crate::ErrorKind::Unreachable) rather than waiting forever.

use super::client::PgClient;
use super::settings::PgSettings;
use super::tls;
use crate::db::{Db, Dialect, Tx, TxOp};
use crate::error::{Error, ErrorKind, Result};
use crate::row::Row;
use crate::value::ValueRef;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_postgres_rustls::MakeRustlsConnect;

/// How big a pool is and how long a checkout may wait.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_size: u32,
    /// The longest a checkout waits for a connection (a free one or a new one).
    pub checkout_timeout: Duration,
    /// A round trip on every checkout so a dead connection is never handed out. Costs one
    /// round trip per checkout; without it the first statement on a dead connection fails
    /// (as unreachable) and the connection is replaced after it is returned.
    pub test_on_checkout: bool,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_size: 8,
            checkout_timeout: Duration::from_secs(5),
            test_on_checkout: true,
        }
    }
}

/// The last failure to make a connection, cleared by the next success: what a checkout
/// that timed out reports.
type LastError = Arc<Mutex<Option<Error>>>;

/// Makes and checks connections for r2d2.
struct Manager {
    settings: PgSettings,
    tls: MakeRustlsConnect,
    last_error: LastError,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgClient;
    type Error = Error;

    fn connect(&self) -> Result<PgClient> {
        let client = PgClient::connect_with(&self.settings, self.tls.clone())?;
        if let Ok(mut last) = self.last_error.lock() {
            *last = None;
        }
        Ok(client)
    }

    fn is_valid(&self, conn: &mut PgClient) -> Result<()> {
        conn.ping()
    }

    fn has_broken(&self, conn: &mut PgClient) -> bool {
        conn.is_closed() || conn.transaction_open()
    }
}

/// Logs connection failures at debug level: while the database is down the pool retries
/// in the background, and what callers see is the checkout's "unreachable" error.
#[derive(Debug)]
struct LogErrors(LastError);

impl r2d2::HandleError<Error> for LogErrors {
    fn handle_error(&self, error: Error) {
        tracing::debug!(%error, "PostgreSQL connection failed");
        if let Ok(mut last) = self.0.lock() {
            *last = Some(error);
        }
    }
}

/// A pool of PostgreSQL connections.
#[derive(Clone)]
pub struct PgPool {
    pool: Arc<ClosedOffRuntime>,
    settings: PgSettings,
    last_error: LastError,
}

impl PgPool {
    /// A pool for `settings`. No connection is made yet: the database may be down now.
    pub fn new(settings: PgSettings, options: PoolOptions) -> Result<PgPool> {
        let last_error = LastError::default();
        let manager = Manager {
            tls: tls::connector(&settings)?,
            settings: settings.clone(),
            last_error: last_error.clone(),
        };
        let pool = r2d2::Pool::builder()
            .max_size(options.max_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(options.checkout_timeout)
            .test_on_check_out(options.test_on_checkout)
            .error_handler(Box::new(LogErrors(last_error.clone())))
            .build_unchecked(manager);
        Ok(PgPool {
            pool: Arc::new(ClosedOffRuntime(Some(pool))),
            settings,
            last_error,
        })
    }

    /// A connection, or [`ErrorKind::Unreachable`] when none could be had in time.
    pub fn get(&self) -> Result<PgConn> {
        self.pool.inner().get().map(PgConn).map_err(|_| {
            let last = self.last_error.lock().ok().and_then(|last| {
                last.as_ref()
                    .map(|e| Error::new(e.kind(), e.message().to_string()))
            });
            // Wrong credentials stay a settings error; everything else means "not now".
            match last {
                Some(e) if e.kind() == ErrorKind::Config => e,
                Some(e) => Error::new(ErrorKind::Unreachable, e.message().to_string()),
                None => Error::new(
                    ErrorKind::Unreachable,
                    format!(
                        "no connection to {} within {:?}: all {} are in use",
                        self.settings,
                        self.pool.inner().connection_timeout(),
                        self.pool.inner().max_size()
                    ),
                ),
            }
        })
    }

    /// The settings, for `bolt status` (shown without the password).
    pub fn settings(&self) -> &PgSettings {
        &self.settings
    }

    /// Connections open and idle now.
    pub fn state(&self) -> (u32, u32) {
        let state = self.pool.inner().state();
        (state.connections, state.idle_connections)
    }
}

/// The pool itself, closed on a thread of its own when the last [`PgPool`] goes: closing
/// a connection runs the sync client's own small runtime, which panics on a thread that
/// drives async tasks (where boltd drops its store at exit).
struct ClosedOffRuntime(Option<r2d2::Pool<Manager>>);

impl ClosedOffRuntime {
    fn inner(&self) -> &r2d2::Pool<Manager> {
        // Only `drop` takes it.
        self.0.as_ref().expect("the pool is there until dropped")
    }
}

impl Drop for ClosedOffRuntime {
    fn drop(&mut self) {
        if let Some(pool) = self.0.take() {
            let closing = std::thread::Builder::new()
                .name("bolt-pg-close".into())
                .spawn(move || drop(pool));
            if let Ok(closing) = closing {
                let _ = closing.join();
            }
        }
    }
}

/// A pooled connection: a [`Db`] that goes back to the pool when dropped.
pub struct PgConn(r2d2::PooledConnection<Manager>);

impl Deref for PgConn {
    type Target = PgClient;

    fn deref(&self) -> &PgClient {
        &self.0
    }
}

impl Db for PgConn {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&self, sql: &str, params: &[ValueRef<'_>]) -> Result<u64> {
        self.0.execute(sql, params)
    }

    fn query(
        &self,
        sql: &str,
        params: &[ValueRef<'_>],
        each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        self.0.query(sql, params, each)
    }

    fn execute_batch(&self, sql: &str) -> Result<()> {
        self.0.execute_batch(sql)
    }

    fn as_dyn(&self) -> &dyn Db {
        self
    }

    fn transaction_control(&self, op: TxOp<'_>) -> Result<()> {
        self.0.transaction_control(op)
    }

    fn transaction(&self) -> Result<Tx<'_>> {
        self.0.transaction()
    }

    fn read_transaction(&self) -> Result<Tx<'_>> {
        self.0.read_transaction()
    }
}
