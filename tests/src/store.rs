//! Which store the end-to-end tests run boltd on. By default SQLite in each daemon's data
//! dir. With `BOLT_E2E_STORE=postgres` (and `BOLT_TEST_POSTGRES_URL`, the server's URL)
//! every [`Daemon`](crate::Daemon) gets a fresh PostgreSQL database of its own, dropped
//! when the test ends; `.ci/run` runs the suite both ways. Multi-node tests share one
//! [`ScratchDatabase`] between several daemons whatever the variable says.

use bolt_sql::{Db, DbExt, PgClient, PgSettings, params};
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

    /// Every row of every table as text, BYTEA columns escaped so that text inside them
    /// stays readable: what "never stored" checks search.
    pub fn stored_text(&self) -> String {
        let db = self.connect();
        let columns: Vec<(String, String, String)> = db
            .query_map(
                "SELECT table_name, column_name, data_type FROM information_schema.columns
                 WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
                params![],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("the database's columns");
        let mut tables: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (table, column, kind) in columns {
            let text = match kind.as_str() {
                "bytea" => format!("encode(\"{column}\", 'escape')"),
                _ => format!("CAST(\"{column}\" AS TEXT)"),
            };
            tables.entry(table).or_default().push(text);
        }
        let mut out = String::new();
        for (table, columns) in tables {
            let rows: Vec<Option<String>> = db
                .query_map(
                    &format!(
                        "SELECT concat_ws(' ', {}) FROM \"{table}\"",
                        columns.join(", ")
                    ),
                    params![],
                    |r| r.get(0),
                )
                .unwrap_or_else(|e| panic!("reading {table}: {e}"));
            for row in rows.into_iter().flatten() {
                out.push_str(&row);
                out.push('\n');
            }
        }
        out
    }

    /// The server's "host:port" (what a proxy in front of it forwards to).
    pub fn server_address(&self) -> String {
        let authority = authority(&self.url);
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, at)| at);
        if host_port.contains(':') {
            host_port.to_string()
        } else {
            format!("{host_port}:5432")
        }
    }

    /// The database's URL with the server at `address` ("host:port") instead: through a
    /// proxy.
    pub fn url_through(&self, address: &str) -> String {
        let authority = authority(&self.url);
        let user = authority.rsplit_once('@').map(|(user, _)| user);
        let replaced = match user {
            Some(user) => format!("{user}@{address}"),
            None => address.to_string(),
        };
        self.url.replacen(authority, &replaced, 1)
    }
}

/// A URL's authority: between "://" and the next '/' (or '?', or the end).
fn authority(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(url, |at| &url[at + 3..]);
    let end = after_scheme.find(['/', '?']).unwrap_or(after_scheme.len());
    &after_scheme[..end]
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

    #[test]
    fn the_server_is_found_and_swapped_for_a_proxy() {
        let database = |url: &str| ScratchDatabase {
            url: url.into(),
            name: "x".into(),
            server: String::new(),
        };
        let with_user = database("postgres://root@127.0.0.1:5432/x?sslmode=disable");
        assert_eq!(with_user.server_address(), "127.0.0.1:5432");
        assert_eq!(
            with_user.url_through("127.0.0.1:9"),
            "postgres://root@127.0.0.1:9/x?sslmode=disable"
        );
        let bare = database("postgres://db/x");
        assert_eq!(bare.server_address(), "db:5432");
        assert_eq!(bare.url_through("127.0.0.1:9"), "postgres://127.0.0.1:9/x");
    }
}
