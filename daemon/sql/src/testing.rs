//! Test support: a fresh PostgreSQL schema per test, from `BOLT_TEST_POSTGRES_URL`.
//!
//! ```ignore
//! let Some(pg) = bolt_sql::testing::PgScratch::new() else { return };
//! let db = pg.pool().get()?;
//! ```
//!
//! Without the variable, [`PgScratch::new`] prints a notice and returns None, so the test
//! passes on a machine without PostgreSQL. The schema is dropped when the scratch is.

use crate::Db;
use crate::error::Result;
use crate::pg::{PgClient, PgPool, PgSettings, PoolOptions};
use std::io::Write;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Says once per test process that PostgreSQL tests are skipped. Written to stderr
/// directly: the test harness captures `eprintln!` of passing tests, and this notice is
/// meant to be seen.
fn skip_notice() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "skipping PostgreSQL tests: {URL_VARIABLE} is not set"
        );
    });
}

/// The variable naming the test server.
pub const URL_VARIABLE: &str = "BOLT_TEST_POSTGRES_URL";

/// A schema of its own on the test server, dropped on drop.
pub struct PgScratch {
    admin: PgSettings,
    settings: PgSettings,
    schema: String,
}

static SCRATCHES: AtomicU64 = AtomicU64::new(0);

impl PgScratch {
    /// A new scratch schema, or None (with a notice on stderr) when
    /// `BOLT_TEST_POSTGRES_URL` is not set. Panics when the server can't be used: a test
    /// that was asked to run against PostgreSQL must not pass without it.
    pub fn new() -> Option<PgScratch> {
        match PgScratch::try_new() {
            Ok(scratch) => scratch,
            Err(e) => panic!("{URL_VARIABLE} is set but PostgreSQL can't be used: {e}"),
        }
    }

    /// Like [`PgScratch::new`], returning the error instead of panicking.
    pub fn try_new() -> Result<Option<PgScratch>> {
        let Some(url) = std::env::var(URL_VARIABLE).ok().filter(|u| !u.is_empty()) else {
            skip_notice();
            return Ok(None);
        };
        let admin = PgSettings::from_url(&url)?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let schema = format!(
            "bolt_test_{}_{}_{nanos}",
            std::process::id(),
            SCRATCHES.fetch_add(1, Ordering::Relaxed)
        );
        PgClient::connect(&admin)?.execute_batch(&format!("CREATE SCHEMA {schema}"))?;
        Ok(Some(PgScratch {
            settings: admin.clone().with_search_path(&schema),
            admin,
            schema,
        }))
    }

    /// Settings whose connections use this schema.
    pub fn settings(&self) -> PgSettings {
        self.settings.clone()
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// A new connection to this schema.
    pub fn connect(&self) -> Result<PgClient> {
        PgClient::connect(&self.settings)
    }

    /// A pool of connections to this schema (small, with a short checkout timeout).
    pub fn pool(&self) -> Result<PgPool> {
        PgPool::new(
            self.settings(),
            PoolOptions {
                max_size: 4,
                checkout_timeout: std::time::Duration::from_secs(5),
                test_on_checkout: true,
            },
        )
    }
}

impl Drop for PgScratch {
    fn drop(&mut self) {
        let dropped = PgClient::connect(&self.admin).and_then(|admin| {
            admin.execute_batch(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
        });
        if let Err(e) = dropped {
            eprintln!("could not drop the test schema {}: {e}", self.schema);
        }
    }
}
