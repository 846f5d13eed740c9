//! Credentials in the store: sealed bodies by name, the jobs that use them, their audited
//! changes, and the check of the key they are sealed with.

use super::StoreResult;
use bolt_sql::{Db, DbExt, params};

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

pub fn exists(db: &dyn Db, name: &str) -> StoreResult<bool> {
    Ok(db
        .query_row(EXISTS, params![name], |_| Ok(true))?
        .unwrap_or(false))
}

/// The sealed body of the credential named `name`, if it is set.
pub fn sealed_body(db: &dyn Db, name: &str) -> StoreResult<Option<Vec<u8>>> {
    Ok(db.query_value(BODY, params![name])?)
}

/// Some credential's sealed body (none without credentials).
pub fn any_sealed_body(db: &dyn Db) -> StoreResult<Option<Vec<u8>>> {
    Ok(db.query_value(ANY_BODY, params![])?)
}

pub fn times(db: &dyn Db, name: &str) -> StoreResult<Option<Times>> {
    Ok(db.query_row(TIMES, params![name], |r| {
        Ok(Times {
            created_at: r.get(0)?,
            updated_at: r.get(1)?,
        })
    })?)
}

/// Creates the credential, or replaces the body and field names of the one of its name.
pub fn upsert(db: &dyn Db, new: &NewCredential) -> StoreResult<()> {
    db.execute(
        UPSERT,
        params![new.id, new.name, new.sealed, new.keys, new.now],
    )?;
    Ok(())
}

/// Deletes the credential named `name`: false when there was none.
pub fn delete(db: &dyn Db, name: &str) -> StoreResult<bool> {
    Ok(db.execute(DELETE, params![name])? > 0)
}

/// Every credential, by name.
pub fn listed(db: &dyn Db) -> StoreResult<Vec<Listed>> {
    Ok(db.query_map(LISTED, params![], |r| {
        Ok(Listed {
            name: r.get(0)?,
            keys: r.get(1)?,
            updated_at: r.get(2)?,
        })
    })?)
}

/// Every live job that uses a credential, by workflow name and job position.
pub fn uses(db: &dyn Db) -> StoreResult<Vec<Use>> {
    Ok(db.query_map(USES, params![], |r| {
        Ok(Use {
            credential: r.get(0)?,
            job: r.get(1)?,
        })
    })?)
}

/// Every audited change to credentials named `name`, oldest first.
pub fn changes(db: &dyn Db, name: &str) -> StoreResult<Vec<Change>> {
    Ok(db.query_map(CHANGES, params![name], |r| {
        Ok(Change {
            at: r.get(0)?,
            actor: r.get(1)?,
            action: r.get(2)?,
            metadata: r.get(3)?,
        })
    })?)
}

/// Every credential's sealed body, by name.
pub fn all_sealed(db: &dyn Db) -> StoreResult<Vec<Sealed>> {
    Ok(db.query_map(SEALED, params![], |r| {
        Ok(Sealed {
            id: r.get(0)?,
            name: r.get(1)?,
            body: r.get(2)?,
        })
    })?)
}

/// Replaces credential `id`'s sealed body.
pub fn reseal(db: &dyn Db, id: &str, sealed: &[u8]) -> StoreResult<()> {
    db.execute(RESEAL, params![sealed, id])?;
    Ok(())
}

/// The store's record of the key its credentials are sealed with.
pub fn key_check(db: &dyn Db) -> StoreResult<Option<String>> {
    Ok(db.query_value(KEY_CHECK, params![])?)
}

pub fn set_key_check(db: &dyn Db, check: &str) -> StoreResult<()> {
    db.execute(SET_KEY_CHECK, params![check])?;
    Ok(())
}
