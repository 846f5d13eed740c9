//! Credentials: encrypted at rest, listed by name and keys only, loaded for runs.

pub mod rotate;
pub mod show;

use crate::project::audit_event;
use crate::secrets::{Vault, check_secret_lengths};
use crate::store::credentials::{self as rows, NewCredential};
use crate::store::{StoreError, StoreResult, from_micros, new_id, now_micros};
use bolt_shared::model::CredentialSummary;
use bolt_sql::Db;
use serde_json::Value;

/// Creates or replaces a credential. Returns true when it was created.
pub fn set(db: &dyn Db, vault: &Vault, name: &str, body: &Value) -> StoreResult<bool> {
    write(db, vault, name, body, None)
}

/// Changes the fields named in `set` (dotted paths reach into objects: `oauth.token`) and
/// removes those in `unset`, keeping every other field as stored; creates the credential
/// when it doesn't exist and only `set` is given. Returns true when it was created.
pub fn update(
    db: &dyn Db,
    vault: &Vault,
    name: &str,
    set: &serde_json::Map<String, Value>,
    unset: &[String],
) -> StoreResult<bool> {
    if set.is_empty() && unset.is_empty() {
        return Err(StoreError::Invalid(
            "name at least one field to change (`--field key=value`) or remove (`--unset key`)"
                .into(),
        ));
    }
    let mut body = match load(db, vault, name)? {
        Some(body) => body,
        None if unset.is_empty() => Value::Object(Default::default()),
        None => {
            return Err(StoreError::Invalid(format!(
                "there is no credential named `{name}` to remove fields from (see `bolt credential list`)"
            )));
        }
    };
    for path in unset {
        if !show::remove_path(&mut body, path) {
            return Err(StoreError::Invalid(format!(
                "credential `{name}` has no field `{path}`; its fields are: {}",
                show::field_paths(&body).join(", ")
            )));
        }
    }
    for (path, value) in set {
        show::set_path(&mut body, path, value.clone())
            .map_err(|why| StoreError::Invalid(format!("credential `{name}`: {why}")))?;
    }
    let change = serde_json::json!({
        "set": set.keys().collect::<Vec<_>>(),
        "unset": unset,
    });
    write(db, vault, name, &body, Some(change))
}

fn write(
    db: &dyn Db,
    vault: &Vault,
    name: &str,
    body: &Value,
    change: Option<Value>,
) -> StoreResult<bool> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid("a credential needs a name".into()));
    }
    let Value::Object(map) = body else {
        return Err(StoreError::Invalid(
            "a credential must be a JSON object, e.g. {\"username\": \"…\", \"password\": \"…\"}"
                .into(),
        ));
    };
    check_secret_lengths(name, body).map_err(|short| StoreError::Invalid(short.to_string()))?;
    let keys: Vec<&String> = map.keys().collect();
    let keys = serde_json::to_string(&keys).map_err(|e| StoreError::Internal(e.to_string()))?;
    let sealed = vault
        .encrypt(body.to_string().as_bytes())
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    let now = now_micros();
    let existed = rows::exists(db, name)?;
    rows::upsert(
        db,
        &NewCredential {
            id: &new_id(),
            name,
            sealed: &sealed,
            keys: &keys,
            now,
        },
    )?;
    crate::project::audit(
        db,
        if existed { "updated" } else { "created" },
        "credential",
        name,
        change,
    )?;
    Ok(!existed)
}

pub fn remove(db: &dyn Db, name: &str) -> StoreResult<()> {
    if !rows::delete(db, name)? {
        return Err(StoreError::Invalid(format!(
            "there is no credential named `{name}` (see `bolt credential list`)"
        )));
    }
    audit_event(db, "deleted", "credential", name)
}

pub fn list(db: &dyn Db) -> StoreResult<Vec<CredentialSummary>> {
    let users = usage(db)?;
    let mut out = Vec::new();
    for row in rows::listed(db)? {
        out.push(CredentialSummary {
            keys: serde_json::from_str(&row.keys).unwrap_or_default(),
            used_by: users
                .iter()
                .filter(|u| u.credential == row.name)
                .map(|u| u.job.clone())
                .collect(),
            name: row.name,
            updated_at: from_micros(row.updated_at),
        });
    }
    // Referenced but not set yet: shown so people see what is missing.
    for user in &users {
        if !out.iter().any(|c| c.name == user.credential) {
            out.push(CredentialSummary {
                name: user.credential.clone(),
                keys: vec![],
                used_by: vec![user.job.clone()],
                updated_at: from_micros(0),
            });
        }
    }
    Ok(out)
}

/// Every live job that uses a credential.
pub(crate) fn usage(db: &dyn Db) -> StoreResult<Vec<rows::Use>> {
    rows::uses(db)
}

pub fn exists(db: &dyn Db, name: &str) -> StoreResult<bool> {
    rows::exists(db, name)
}

/// Decrypts a credential for a run; `None` when it is not set.
pub fn load(db: &dyn Db, vault: &Vault, name: &str) -> StoreResult<Option<Value>> {
    let Some(sealed) = rows::sealed_body(db, name)? else {
        return Ok(None);
    };
    let plain = vault
        .decrypt(&sealed)
        .map_err(|e| StoreError::Invalid(format!("credential `{name}`: {e}")))?;
    let value = serde_json::from_slice(&plain)
        .map_err(|e| StoreError::Invalid(format!("credential `{name}` is not JSON: {e}")))?;
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::suite::{on_each_backend, seed};

    #[test]
    fn credentials_are_listed_with_their_users_and_decrypted_on_each_backend() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        on_each_backend(|db| {
            seed(
                db,
                "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p1', 'alpha', 0, 0);
                 INSERT INTO workflows (id, project_id, key, name, created_at, updated_at)
                 VALUES ('w1', 'p1', 'a', 'Alpha', 0, 0);
                 INSERT INTO jobs (id, workflow_id, key, name, body, adaptor, credential, position)
                 VALUES ('j1', 'w1', 'fetch', 'Fetch', '', 'http', 'api', 0),
                        ('j2', 'w1', 'push', 'Push', '', 'http', 'missing', 1);",
            );
            assert!(!exists(db, "api").unwrap());
            assert_eq!(load(db, &vault, "api").unwrap(), None);
            let body = serde_json::json!({ "token": "s3cret" });
            let sealed = vault.encrypt(body.to_string().as_bytes()).unwrap();
            rows::upsert(
                db,
                &NewCredential {
                    id: "c1",
                    name: "api",
                    sealed: &sealed,
                    keys: r#"["token"]"#,
                    now: 5,
                },
            )
            .unwrap();
            assert!(exists(db, "api").unwrap());
            assert_eq!(load(db, &vault, "api").unwrap(), Some(body));

            let listed = list(db).unwrap();
            let seen: Vec<(&str, Vec<String>, Vec<String>)> = listed
                .iter()
                .map(|c| (c.name.as_str(), c.keys.clone(), c.used_by.clone()))
                .collect();
            assert_eq!(
                seen,
                [
                    ("api", vec!["token".into()], vec!["Alpha / Fetch".into()]),
                    ("missing", vec![], vec!["Alpha / Push".into()]),
                ]
            );
            assert_eq!(usage(db).unwrap().len(), 2);
        });
    }

    #[test]
    fn credentials_are_set_updated_and_removed_with_their_audit_on_each_backend() {
        use bolt_sql::DbExt;
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        on_each_backend(|db| {
            let body = serde_json::json!({ "user": "ann", "password": "first-secret" });
            assert!(
                db.in_transaction(|tx| set(tx, &vault, "api", &body))
                    .unwrap()
            );
            let mut change = serde_json::Map::new();
            change.insert("password".into(), serde_json::json!("second-secret"));
            let created = db
                .in_transaction(|tx| update(tx, &vault, "api", &change, &[]))
                .unwrap();
            assert!(!created);
            assert_eq!(
                load(db, &vault, "api").unwrap(),
                Some(serde_json::json!({ "user": "ann", "password": "second-secret" }))
            );
            db.in_transaction(|tx| remove(tx, "api")).unwrap();
            assert!(!exists(db, "api").unwrap());
            let err = db.in_transaction(|tx| remove(tx, "api")).unwrap_err();
            assert!(
                err.to_string().contains("no credential named `api`"),
                "{err}"
            );
            let actions: Vec<String> = rows::changes(db, "api")
                .unwrap()
                .into_iter()
                .map(|c| c.action)
                .collect();
            assert_eq!(
                actions,
                [
                    "credential.created",
                    "credential.updated",
                    "credential.deleted"
                ]
            );
        });
    }
}
