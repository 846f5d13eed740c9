//! Which store the end-to-end tests run boltd on. By default SQLite in each daemon's data
//! dir. With `BOLT_E2E_STORE=postgres` (and `BOLT_TEST_POSTGRES_URL`, the server's URL)
//! every [`Daemon`](crate::Daemon) gets a fresh PostgreSQL database of its own, dropped
//! when the test ends; `.ci/run` runs the suite both ways. Multi-node tests share one
//! [`ScratchDatabase`] between several daemons whatever the variable says.

use bolt_sql::{Db, PgClient, PgSettings};
use std::sync::atomic::{AtomicU64, Ordering};

/// The variable that runs the suite on PostgreSQL.
pub const ENV_STORE: &str = "BOLT_E2E_STORE";
/// The test server's URL (as for the store's own PostgreSQL tests).
pub const ENV_POSTGRES_URL: &str = "BOLT_TEST_POSTGRES_URL";

/// The test server's URL, if one is configured.
pub fn postgres_url() -> Option<String> {
    std::env::var(ENV_POSTGRES_URL)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// Whether this run of the suite puts every daemon on PostgreSQL.
pub fn on_postgres() -> bool {
    let wanted = std::env::var(ENV_STORE).is_ok_and(|v| v.eq_ignore_ascii_case("postgres"));
    if wanted && postgres_url().is_none() {
        panic!("{ENV_STORE}=postgres needs {ENV_POSTGRES_URL} (the test server's URL)");
    }
    wanted
}

/// True on SQLite; on PostgreSQL prints why the test (or this part of it) is skipped and
/// returns false. For what only SQLite has: its files, its WAL, its disk faults.
pub fn sqlite_only(what: &str) -> bool {
    if on_postgres() {
        eprintln!("skipping on PostgreSQL: {what} (SQLite only)");
        return false;
    }
    true
}

/// A PostgreSQL database made for one test (one or several daemons), dropped with it.
pub struct ScratchDatabase {
    /// The database's URL, for `boltd --store`.
    pub url: String,
    name: String,
    server: String,
}

static MADE: AtomicU64 = AtomicU64::new(0);

impl ScratchDatabase {
    /// A new empty database on the test server; None without one (the caller skips).
    pub fn create() -> Option<ScratchDatabase> {
        postgres_url().map(|server| Self::create_on(&server))
    }

    /// A new empty database on the server at `server` (a URL naming any database there).
    pub fn create_on(server: &str) -> ScratchDatabase {
        let server = server.to_string();
        let name = format!(
            "bolt_e2e_{}_{}_{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::Relaxed),
            chrono::Utc::now().timestamp_micros() % 1_000_000
        );
        let admin = connect(&server);
        admin
            .execute_batch(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("creating the test database {name}: {e}"));
        ScratchDatabase {
            url: with_database(&server, &name),
            name,
            server,
        }
    }

    /// A connection to the database (for checks a test makes itself).
    pub fn connect(&self) -> PgClient {
        connect(&self.url)
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        // FORCE: a daemon killed a moment ago may still hold connections.
        if let Ok(settings) = PgSettings::from_url(&self.server)
            && let Ok(admin) = PgClient::connect(&settings)
        {
            let _ = admin.execute_batch(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn connect(url: &str) -> PgClient {
    let settings = PgSettings::from_url(url).unwrap_or_else(|e| panic!("{ENV_POSTGRES_URL}: {e}"));
    PgClient::connect(&settings)
        .unwrap_or_else(|e| panic!("{ENV_POSTGRES_URL} is set but the server can't be used: {e}"))
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|at| at + 3)
        .and_then(|from| base[from..].find('/').map(|slash| from + slash))
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_swapped_and_the_rest_kept() {
        assert_eq!(
            with_database("postgres://root@127.0.0.1:5432/test", "x"),
            "postgres://root@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
