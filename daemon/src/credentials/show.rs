//! `bolt credential show`: a credential's fields with secret values masked, who uses it and
//! who changed it when; and the field paths `bolt credential set --field` edits.

use super::{load, usage};
use crate::secrets::{Vault, is_secret_leaf};
use crate::store::{StoreError, StoreResult, credentials, from_micros};
use bolt_shared::credential_view::{CredentialChange, CredentialDetail, CredentialField};
use bolt_sql::Db;
use serde_json::{Map, Value};

pub fn detail(db: &dyn Db, vault: &Vault, name: &str) -> StoreResult<CredentialDetail> {
    let times = credentials::times(db, name)?;
    let (Some(times), Some(body)) = (times, load(db, vault, name)?) else {
        return Err(StoreError::Invalid(format!(
            "there is no credential named `{name}` (see `bolt credential list`)"
        )));
    };
    let mut fields = Vec::new();
    leaves(&body, "", None, &mut |path, key, value| {
        let secret = is_secret_leaf(key, value);
        fields.push(CredentialField {
            key: path,
            secret,
            value: (!secret).then(|| value.clone()),
        });
    });
    Ok(CredentialDetail {
        name: name.to_string(),
        fields,
        used_by: usage(db)?
            .into_iter()
            .filter(|user| user.credential == name)
            .map(|user| user.job)
            .collect(),
        created_at: from_micros(times.created_at),
        updated_at: from_micros(times.updated_at),
        history: history(db, name)?,
    })
}

/// Every audited change to credentials of this name, oldest first.
fn history(db: &dyn Db, name: &str) -> StoreResult<Vec<CredentialChange>> {
    let mut out = Vec::new();
    for change in credentials::changes(db, name)? {
        let metadata: Value = change
            .metadata
            .and_then(|m| serde_json::from_str(&m).ok())
            .unwrap_or(Value::Null);
        let names = |key: &str| -> Vec<String> {
            metadata[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        out.push(CredentialChange {
            at: from_micros(change.at),
            actor: change.actor,
            action: change
                .action
                .trim_start_matches("credential.")
                .replace('_', "-"),
            set: names("set"),
            unset: names("unset"),
        });
    }
    Ok(out)
}

/// Calls `found(path, key, value)` for every leaf: `password`, `oauth.token`, `hosts[1]`.
/// An empty object or array is a leaf of its own.
fn leaves(
    value: &Value,
    path: &str,
    key: Option<&str>,
    found: &mut dyn FnMut(String, Option<&str>, &Value),
) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                leaves(v, &child, Some(k), found);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                leaves(v, &format!("{path}[{i}]"), key, found);
            }
        }
        _ => found(path.to_string(), key, value),
    }
}

/// The paths of a body's leaves, for messages.
pub fn field_paths(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    leaves(body, "", None, &mut |path, _, _| out.push(path));
    out
}

/// The keys `path` names: itself when the object has such a key (keys may hold dots),
/// else its dotted parts.
fn parts<'a>(body: &Value, path: &'a str) -> Vec<&'a str> {
    if body.get(path).is_some() || !path.contains('.') {
        vec![path]
    } else {
        path.split('.').collect()
    }
}

/// Sets the field at `path` (dots reach into objects, which are created as needed).
pub fn set_path(body: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let keys = parts(body, path);
    if keys.iter().any(|k| k.is_empty()) {
        return Err(format!(
            "`{path}` is not a field name (empty part between dots)"
        ));
    }
    let mut at = body;
    let (last, walk) = keys.split_last().ok_or("an empty field name")?;
    for (i, key) in walk.iter().enumerate() {
        let Value::Object(map) = at else {
            return Err(format!(
                "`{}` is not an object, so `{path}` can't be set in it",
                keys[..i].join(".")
            ));
        };
        at = map
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    match at {
        Value::Object(map) => {
            map.insert(last.to_string(), value);
            Ok(())
        }
        _ => Err(format!(
            "`{}` is not an object, so `{path}` can't be set in it",
            walk.join(".")
        )),
    }
}

/// Removes the field at `path`; false when there is none.
pub fn remove_path(body: &mut Value, path: &str) -> bool {
    let keys = parts(body, path);
    let Some((last, walk)) = keys.split_last() else {
        return false;
    };
    let mut at = body;
    for key in walk {
        match at.get_mut(*key) {
            Some(next) => at = next,
            None => return false,
        }
    }
    at.as_object_mut()
        .is_some_and(|map| map.remove(*last).is_some())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_credentials_detail_masks_secrets_and_names_users_and_changes_on_each_backend() {
        use crate::store::suite::{on_each_backend, seed};
        use bolt_sql::DbExt;
        on_each_backend(|db| {
            let dir = tempfile::tempdir().unwrap();
            let vault = Vault::open(dir.path()).unwrap();
            seed(
                db,
                "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p1', 'alpha', 0, 0);
                 INSERT INTO workflows (id, project_id, key, name, created_at, updated_at)
                 VALUES ('w1', 'p1', 'a', 'Alpha', 0, 0);
                 INSERT INTO jobs (id, workflow_id, key, name, body, adaptor, credential, position)
                 VALUES ('j1', 'w1', 'fetch', 'Fetch', '', 'http', 'api', 0);",
            );
            let body = json!({ "user": "ann", "password": "first-secret", "tls": [true] });
            db.in_transaction(|tx| super::super::set(tx, &vault, "api", &body))
                .unwrap();
            let mut change = Map::new();
            change.insert("user".into(), json!("bob"));
            db.in_transaction(|tx| super::super::update(tx, &vault, "api", &change, &[]))
                .unwrap();

            let shown = detail(db, &vault, "api").unwrap();
            let mut fields: Vec<(&str, bool, Option<&Value>)> = shown
                .fields
                .iter()
                .map(|f| (f.key.as_str(), f.secret, f.value.as_ref()))
                .collect();
            fields.sort_by_key(|f| f.0);
            assert_eq!(
                fields,
                [
                    ("password", true, None),
                    ("tls[0]", false, Some(&json!(true))),
                    ("user", false, Some(&json!("bob"))),
                ]
            );
            assert_eq!(shown.used_by, ["Alpha / Fetch"]);
            let actions: Vec<&str> = shown.history.iter().map(|c| c.action.as_str()).collect();
            assert_eq!(actions, ["created", "updated"]);
            assert!(shown.updated_at >= shown.created_at);

            let err = detail(db, &vault, "missing").unwrap_err();
            assert!(
                err.to_string().contains("no credential named `missing`"),
                "{err}"
            );
        });
    }

    #[test]
    fn paths_reach_into_objects_and_keep_dotted_keys() {
        let mut body = json!({"username": "u", "oauth": {"token": "old-token"}, "a.b": 1});
        set_path(&mut body, "oauth.token", json!("new-token")).unwrap();
        set_path(&mut body, "oauth.scope.read", json!(true)).unwrap();
        set_path(&mut body, "a.b", json!(2)).unwrap();
        assert_eq!(
            body,
            json!({"username": "u", "oauth": {"token": "new-token", "scope": {"read": true}}, "a.b": 2})
        );
        assert!(
            set_path(&mut body, "username.x", json!(1))
                .unwrap_err()
                .contains("`username` is not an object")
        );
        assert!(remove_path(&mut body, "oauth.scope"));
        assert!(!remove_path(&mut body, "oauth.nope"));
        assert_eq!(field_paths(&body), ["username", "oauth.token", "a.b"]);
    }
}
