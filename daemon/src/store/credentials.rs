//! Credentials in the store: sealed bodies by name, the jobs that use them, their audited
//! changes, and the check of the key they are sealed with.

use super::StoreResult;
use rusqlite::{Connection, OptionalExtension, params};

/// A credential as listed: its name, field names (a JSON array) and last change.
#[derive(Debug, Clone)]
pub struct Listed {
    pub name: String,
    pub keys: String,
    pub updated_at: i64,
}

/// A live job that uses a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    pub credential: String,
    /// "workflow / job".
    pub job: String,
}

/// When a credential was created and last changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    pub created_at: i64,
    pub updated_at: i64,
}

/// A sealed credential, for re-encrypting.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub id: String,
    pub name: String,
    pub body: Vec<u8>,
}

/// A credential to create or replace.
#[derive(Debug, Clone, Copy)]
pub struct NewCredential<'a> {
    /// Its id when it is new.
    pub id: &'a str,
    pub name: &'a str,
    pub sealed: &'a [u8],
    /// Its field names, as a JSON array.
    pub keys: &'a str,
    pub now: i64,
}

/// An audited change to a credential.
#[derive(Debug, Clone)]
pub struct Change {
    pub at: i64,
    pub actor: String,
    /// `credential.created`, `credential.updated`, …
    pub action: String,
    /// The audit event's metadata as JSON.
    pub metadata: Option<String>,
}

const EXISTS: &str = "SELECT 1 FROM credentials WHERE name = ?1";
const BODY: &str = "SELECT body FROM credentials WHERE name = ?1";
const ANY_BODY: &str = "SELECT body FROM credentials LIMIT 1";
const TIMES: &str = "SELECT created_at, updated_at FROM credentials WHERE name = ?1";
const DELETE: &str = "DELETE FROM credentials WHERE name = ?1";
const LISTED: &str = "SELECT name, keys, updated_at FROM credentials ORDER BY name";
const SEALED: &str = "SELECT id, name, body FROM credentials ORDER BY name";
const RESEAL: &str = "UPDATE credentials SET body = ?1 WHERE id = ?2";

const UPSERT: &str = "INSERT INTO credentials (id, name, body, keys, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?5)
     ON CONFLICT (name) DO UPDATE SET body = excluded.body, keys = excluded.keys,
        updated_at = excluded.updated_at";

const USES: &str = "SELECT j.credential, w.name || ' / ' || j.name
     FROM jobs j JOIN workflows w ON w.id = j.workflow_id
     WHERE j.credential IS NOT NULL AND w.deleted_at IS NULL ORDER BY w.name, j.position";

const CHANGES: &str = "SELECT at, actor, action, metadata FROM audit_events
     WHERE subject = ?1 AND action LIKE 'credential.%' ORDER BY id";

const KEY_CHECK: &str = "SELECT value FROM store_meta WHERE key = 'key_check'";
const SET_KEY_CHECK: &str = "INSERT INTO store_meta (key, value) VALUES ('key_check', ?1)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

pub fn exists(conn: &Connection, name: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached(EXISTS)?
        .query_row([name], |_| Ok(true))
        .optional()?
        .unwrap_or(false))
}

/// The sealed body of the credential named `name`, if it is set.
pub fn sealed_body(conn: &Connection, name: &str) -> StoreResult<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached(BODY)?
        .query_row([name], |r| r.get(0))
        .optional()?)
}

/// Some credential's sealed body (none without credentials).
pub fn any_sealed_body(conn: &Connection) -> StoreResult<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached(ANY_BODY)?
        .query_row([], |r| r.get(0))
        .optional()?)
}

pub fn times(conn: &Connection, name: &str) -> StoreResult<Option<Times>> {
    Ok(conn
        .prepare_cached(TIMES)?
        .query_row([name], |r| {
            Ok(Times {
                created_at: r.get(0)?,
                updated_at: r.get(1)?,
            })
        })
        .optional()?)
}

/// Creates the credential, or replaces the body and field names of the one of its name.
pub fn upsert(conn: &Connection, new: &NewCredential) -> StoreResult<()> {
    conn.prepare_cached(UPSERT)?
        .execute(params![new.id, new.name, new.sealed, new.keys, new.now])?;
    Ok(())
}

/// Deletes the credential named `name`: false when there was none.
pub fn delete(conn: &Connection, name: &str) -> StoreResult<bool> {
    Ok(conn.prepare_cached(DELETE)?.execute([name])? > 0)
}

/// Every credential, by name.
pub fn listed(conn: &Connection) -> StoreResult<Vec<Listed>> {
    let rows = conn
        .prepare_cached(LISTED)?
        .query_map([], |r| {
            Ok(Listed {
                name: r.get(0)?,
                keys: r.get(1)?,
                updated_at: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Every live job that uses a credential, by workflow name and job position.
pub fn uses(conn: &Connection) -> StoreResult<Vec<Use>> {
    let rows = conn
        .prepare_cached(USES)?
        .query_map([], |r| {
            Ok(Use {
                credential: r.get(0)?,
                job: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Every audited change to credentials named `name`, oldest first.
pub fn changes(conn: &Connection, name: &str) -> StoreResult<Vec<Change>> {
    let rows = conn
        .prepare_cached(CHANGES)?
        .query_map([name], |r| {
            Ok(Change {
                at: r.get(0)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                metadata: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Every credential's sealed body, by name.
pub fn all_sealed(conn: &Connection) -> StoreResult<Vec<Sealed>> {
    let rows = conn
        .prepare(SEALED)?
        .query_map([], |r| {
            Ok(Sealed {
                id: r.get(0)?,
                name: r.get(1)?,
                body: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Replaces credential `id`'s sealed body.
pub fn reseal(conn: &Connection, id: &str, sealed: &[u8]) -> StoreResult<()> {
    conn.prepare_cached(RESEAL)?.execute(params![sealed, id])?;
    Ok(())
}

/// The store's record of the key its credentials are sealed with.
pub fn key_check(conn: &Connection) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached(KEY_CHECK)?
        .query_row([], |r| r.get(0))
        .optional()?)
}

pub fn set_key_check(conn: &Connection, check: &str) -> StoreResult<()> {
    conn.prepare_cached(SET_KEY_CHECK)?.execute([check])?;
    Ok(())
}
