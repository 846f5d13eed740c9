//! Credentials: encrypted at rest, listed by name and keys only, loaded for runs.

pub mod rotate;
pub mod show;

use crate::project::audit_event;
use crate::secrets::{Vault, check_secret_lengths};
use crate::store::credentials::{self as rows, NewCredential};
use crate::store::{StoreError, StoreResult, from_micros, new_id, now_micros};
use bolt_shared::model::CredentialSummary;
use rusqlite::Connection;
use serde_json::Value;

/// Creates or replaces a credential. Returns true when it was created.
pub fn set(conn: &Connection, vault: &Vault, name: &str, body: &Value) -> StoreResult<bool> {
    write(conn, vault, name, body, None)
}

/// Changes the fields named in `set` (dotted paths reach into objects: `oauth.token`) and
/// removes those in `unset`, keeping every other field as stored; creates the credential
/// when it doesn't exist and only `set` is given. Returns true when it was created.
pub fn update(
    conn: &Connection,
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
    let mut body = match load(conn, vault, name)? {
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
    write(conn, vault, name, &body, Some(change))
}

fn write(
    conn: &Connection,
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
    let existed = rows::exists(conn, name)?;
    rows::upsert(
        conn,
        &NewCredential {
            id: &new_id(),
            name,
            sealed: &sealed,
            keys: &keys,
            now,
        },
    )?;
    crate::project::audit(
        conn,
        if existed { "updated" } else { "created" },
        "credential",
        name,
        change,
    )?;
    Ok(!existed)
}

pub fn remove(conn: &Connection, name: &str) -> StoreResult<()> {
    if !rows::delete(conn, name)? {
        return Err(StoreError::Invalid(format!(
            "there is no credential named `{name}` (see `bolt credential list`)"
        )));
    }
    audit_event(conn, "deleted", "credential", name)
}

pub fn list(conn: &Connection) -> StoreResult<Vec<CredentialSummary>> {
    let users = usage(conn)?;
    let mut out = Vec::new();
    for row in rows::listed(conn)? {
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
pub(crate) fn usage(conn: &Connection) -> StoreResult<Vec<rows::Use>> {
    rows::uses(conn)
}

pub fn exists(conn: &Connection, name: &str) -> StoreResult<bool> {
    rows::exists(conn, name)
}

/// Decrypts a credential for a run; `None` when it is not set.
pub fn load(conn: &Connection, vault: &Vault, name: &str) -> StoreResult<Option<Value>> {
    let Some(sealed) = rows::sealed_body(conn, name)? else {
        return Ok(None);
    };
    let plain = vault
        .decrypt(&sealed)
        .map_err(|e| StoreError::Invalid(format!("credential `{name}`: {e}")))?;
    let value = serde_json::from_slice(&plain)
        .map_err(|e| StoreError::Invalid(format!("credential `{name}` is not JSON: {e}")))?;
    Ok(Some(value))
}
