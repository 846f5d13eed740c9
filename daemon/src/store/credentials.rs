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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite::{on_each_backend, seed};

    fn new<'a>(id: &'a str, name: &'a str, sealed: &'a [u8], now: i64) -> NewCredential<'a> {
        NewCredential {
            id,
            name,
            sealed,
            keys: r#"["token"]"#,
            now,
        }
    }

    #[test]
    fn credentials_are_created_replaced_listed_and_deleted() {
        on_each_backend(|db| {
            assert!(!exists(db, "api").unwrap());
            assert_eq!(any_sealed_body(db).unwrap(), None);
            assert_eq!(sealed_body(db, "api").unwrap(), None);
            assert_eq!(times(db, "api").unwrap(), None);

            upsert(db, &new("c1", "api", &[0, 1, 255], 10)).unwrap();
            upsert(db, &new("c2", "db", &[7], 11)).unwrap();
            // Replacing keeps the id and creation time.
            upsert(db, &new("c3", "api", &[9, 9], 20)).unwrap();

            assert!(exists(db, "api").unwrap());
            assert_eq!(sealed_body(db, "api").unwrap(), Some(vec![9, 9]));
            assert!(any_sealed_body(db).unwrap().is_some());
            assert_eq!(
                times(db, "api").unwrap(),
                Some(Times {
                    created_at: 10,
                    updated_at: 20
                })
            );
            let listed_now = listed(db).unwrap();
            assert_eq!(
                listed_now
                    .iter()
                    .map(|c| (c.name.as_str(), c.keys.as_str(), c.updated_at))
                    .collect::<Vec<_>>(),
                [("api", r#"["token"]"#, 20), ("db", r#"["token"]"#, 11)]
            );

            let sealed = all_sealed(db).unwrap();
            assert_eq!(
                sealed
                    .iter()
                    .map(|c| (c.id.as_str(), c.name.as_str(), c.body.clone()))
                    .collect::<Vec<_>>(),
                [("c1", "api", vec![9, 9]), ("c2", "db", vec![7])]
            );
            reseal(db, "c2", &[1, 2, 3]).unwrap();
            assert_eq!(sealed_body(db, "db").unwrap(), Some(vec![1, 2, 3]));

            assert!(delete(db, "db").unwrap());
            assert!(!delete(db, "db").unwrap());
            assert!(!exists(db, "db").unwrap());
        });
    }

    #[test]
    fn live_jobs_using_credentials_are_found() {
        on_each_backend(|db| {
            seed(
                db,
                "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p1', 'alpha', 0, 0);
                 INSERT INTO workflows (id, project_id, key, name, created_at, updated_at)
                 VALUES ('w1', 'p1', 'a', 'Alpha', 0, 0);
                 INSERT INTO workflows (id, project_id, key, name, deleted_at, created_at, updated_at)
                 VALUES ('w2', 'p1', 'b', 'Gone', 1, 0, 0);
                 INSERT INTO jobs (id, workflow_id, key, name, body, adaptor, credential, position)
                 VALUES ('j1', 'w1', 'second', 'Second', '', 'http', 'api', 1),
                        ('j2', 'w1', 'first', 'First', '', 'http', 'db', 0),
                        ('j3', 'w1', 'plain', 'Plain', '', 'http', NULL, 2),
                        ('j4', 'w2', 'old', 'Old', '', 'http', 'api', 0);",
            );
            assert_eq!(
                uses(db).unwrap(),
                [
                    Use {
                        credential: "db".into(),
                        job: "Alpha / First".into()
                    },
                    Use {
                        credential: "api".into(),
                        job: "Alpha / Second".into()
                    },
                ]
            );
        });
    }

    #[test]
    fn audited_changes_and_the_key_check_are_read() {
        on_each_backend(|db| {
            seed(
                db,
                "INSERT INTO audit_events (at, actor, action, subject, metadata)
                 VALUES (1, 'ann', 'credential.created', 'api', NULL),
                        (2, 'bob', 'workflow.deployed', 'api', NULL),
                        (3, 'bob', 'credential.updated', 'api', '{\"keys\":1}'),
                        (4, 'bob', 'credential.created', 'db', NULL);",
            );
            let found = changes(db, "api").unwrap();
            assert_eq!(
                found
                    .iter()
                    .map(|c| (
                        c.at,
                        c.actor.as_str(),
                        c.action.as_str(),
                        c.metadata.as_deref()
                    ))
                    .collect::<Vec<_>>(),
                [
                    (1, "ann", "credential.created", None),
                    (3, "bob", "credential.updated", Some("{\"keys\":1}")),
                ]
            );

            assert_eq!(key_check(db).unwrap(), None);
            set_key_check(db, "first").unwrap();
            set_key_check(db, "second").unwrap();
            assert_eq!(key_check(db).unwrap().as_deref(), Some("second"));
        });
    }
}
