//! Numbered migrations on PostgreSQL, safe with several nodes starting at once.
//!
//! The migrator takes a session advisory lock (one per schema) before it looks at the
//! schema, so a second node waits for the first and then finds nothing left to do. Each
//! migration runs in its own transaction together with its row in `bolt_migrations`; a
//! schema newer than the newest migration this build knows is refused.

use crate::db::{Db, DbExt, Dialect};
use crate::error::{Error, ErrorKind, Result};
use crate::params;
use std::time::{SystemTime, UNIX_EPOCH};

/// One numbered migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// What a migration run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    /// The schema version found (0 for an empty schema).
    pub from: i64,
    /// The schema version now.
    pub to: i64,
}

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS bolt_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)";

/// Applies the `migrations` (sorted by version) newer than the schema's version.
/// `db` must be one connection (not a transaction): the lock is held by its session.
pub fn migrate(db: &dyn Db, migrations: &[Migration]) -> Result<Migrated> {
    if db.dialect() != Dialect::Postgres {
        return Err(Error::new(
            ErrorKind::Other,
            "these migrations are for PostgreSQL",
        ));
    }
    let key = lock_key(db)?;
    db.execute("SELECT pg_advisory_lock(?1)", params![key])?;
    let result = migrate_locked(db, migrations);
    let unlocked = db.execute("SELECT pg_advisory_unlock(?1)", params![key]);
    let migrated = result?;
    unlocked?;
    Ok(migrated)
}

/// The schema's version: the newest migration recorded (0 for none).
pub fn schema_version(db: &dyn Db) -> Result<i64> {
    let ledger_exists = db
        .query_value::<Option<String>>("SELECT to_regclass('bolt_migrations')::text", params![])?
        .flatten()
        .is_some();
    if !ledger_exists {
        return Ok(0);
    }
    db.query_one(
        "SELECT COALESCE(MAX(version), 0) FROM bolt_migrations",
        params![],
    )
}

fn migrate_locked(db: &dyn Db, migrations: &[Migration]) -> Result<Migrated> {
    // "relation already exists, skipping" on every start but the first is no news.
    db.execute_batch("SET client_min_messages = warning")?;
    db.execute_batch(LEDGER)?;
    let from = schema_version(db)?;
    let known = migrations.iter().map(|m| m.version).max().unwrap_or(0);
    if from > known {
        return Err(Error::new(
            ErrorKind::SchemaTooNew { found: from, known },
            format!(
                "the PostgreSQL schema is at version {from}, newer than this bolt knows ({known}): upgrade bolt"
            ),
        ));
    }
    for migration in migrations.iter().filter(|m| m.version > from) {
        db.in_transaction(|tx| {
            tx.execute_batch(migration.sql)?;
            tx.execute(
                "INSERT INTO bolt_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                params![migration.version, migration.name, now_micros()],
            )?;
            Ok::<_, Error>(())
        })
        .map_err(|e| {
            Error::new(
                e.kind(),
                format!(
                    "PostgreSQL migration {} ({}) failed: {}",
                    migration.version, migration.name, e
                ),
            )
        })?;
        tracing::info!(
            migration = migration.version,
            "applied PostgreSQL migration"
        );
    }
    Ok(Migrated {
        from,
        to: from.max(known),
    })
}

/// The advisory lock's key: a stable hash of the schema migrations go into, so nodes
/// sharing a schema share the lock and other schemas (tests, other deployments) don't.
fn lock_key(db: &dyn Db) -> Result<i64> {
    let schema = db
        .query_value::<Option<String>>("SELECT current_schema()::text", params![])?
        .flatten();
    let Some(schema) = schema else {
        return Err(Error::config(
            "PostgreSQL's search_path names no schema that exists: create it or fix the URL's options",
        ));
    };
    Ok(fnv1a(format!("bolt migrations {schema}").as_bytes()) as i64)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}
