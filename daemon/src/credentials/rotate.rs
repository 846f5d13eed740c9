//! `bolt credential rotate-key`, and the key check that tells a store and a key apart.
//!
//! A rotation writes the new key beside the old one (`bolt.key.new`), keeps the old key as
//! a dated backup file, re-encrypts every credential and records the new key's check in one
//! transaction, then moves the new key into place. Should boltd stop between the commit
//! and the move, its next start sees the store's check match `bolt.key.new` and finishes
//! the move; a rotation that never committed leaves the old key in charge.

use crate::secrets::{KEY_FILE, KeySource, NewKey, Vault};
use crate::store::{Store, StoreError, StoreResult, credentials};
use bolt_shared::credential_view::KeyRotation;
use bolt_sql::Db;
use std::path::{Path, PathBuf};

/// Where a rotation writes the new key until the store has committed to it.
pub const PENDING_KEY_FILE: &str = "bolt.key.new";

/// The store's record of the key its credentials are encrypted with.
pub fn stored_check(db: &dyn Db) -> StoreResult<Option<String>> {
    credentials::key_check(db)
}

pub fn record_check(db: &dyn Db, check: &str) -> StoreResult<()> {
    credentials::set_key_check(db, check)
}

/// Re-encrypts every credential with `new` and makes it the vault's key, in the caller's
/// transaction. On an error the vault keeps its key and nothing is written; should the
/// transaction then fail to commit, the caller puts the old key back.
pub fn reencrypt_all(db: &dyn Db, vault: &Vault, new: &NewKey) -> StoreResult<u64> {
    let rows = credentials::all_sealed(db)?;
    let mut plain = Vec::with_capacity(rows.len());
    for credentials::Sealed { id, name, body } in rows {
        let body = vault.decrypt(&body).map_err(|_| {
            StoreError::Invalid(format!(
                "credential `{name}` cannot be decrypted with the current key, so no key was rotated: set it again (`bolt credential set '{name}' …`) or remove it first"
            ))
        })?;
        plain.push((id, name, body));
    }
    let old = vault
        .switch_to(new)
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    let written = (|| -> StoreResult<u64> {
        for (id, name, body) in &plain {
            let sealed = vault
                .encrypt(body)
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            credentials::reseal(db, id, &sealed)?;
            crate::project::audit(db, "re_encrypted", "credential", name, None)?;
        }
        record_check(db, &new.key_check())?;
        crate::project::audit(
            db,
            "key_rotated",
            "store",
            "credentials",
            Some(serde_json::json!({ "credentials": plain.len(), "key_check": new.key_check() })),
        )?;
        Ok(plain.len() as u64)
    })();
    if written.is_err() {
        vault.restore(&old);
    }
    written
}

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(
        "the encryption key comes from the environment ({}), which bolt can't change: set a new key there yourself after re-encrypting, or unset it to use the key file",
        crate::secrets::ENV_KEY
    )]
    EnvKey,
    #[error("{0}")]
    Key(#[from] crate::secrets::VaultError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The whole rotation (see the module's comment). Only one at a time: the caller holds
/// the rotation lock.
pub async fn rotate(
    store: &Store,
    vault: &Vault,
    data_dir: &Path,
) -> Result<KeyRotation, RotateError> {
    let KeySource::File(key_file) = vault.source().clone() else {
        return Err(RotateError::EnvKey);
    };
    let old = NewKey::read_from(&key_file)?.ok_or_else(|| RotateError::Io {
        what: "cannot read the key file",
        path: key_file.clone(),
        source: std::io::ErrorKind::NotFound.into(),
    })?;
    let new = NewKey::generate();
    let pending = data_dir.join(PENDING_KEY_FILE);
    remove_if_present(&pending)?;
    new.write_to(&pending)?;
    let backup = backup_path(data_dir);
    if let Err(err) = old.write_to(&backup) {
        let _ = std::fs::remove_file(&pending);
        return Err(err.into());
    }
    let vault_in_tx = vault.clone();
    let key_for_tx = new.clone();
    let result = store
        .writer
        .write(move |tx| reencrypt_all(tx, &vault_in_tx, &key_for_tx))
        .await;
    let credentials = match result {
        Ok(count) => count,
        Err(err) => {
            // Not committed: the old key stays in charge (in memory and on disk).
            vault.restore(&old);
            let _ = std::fs::remove_file(&pending);
            let _ = std::fs::remove_file(&backup);
            return Err(err.into());
        }
    };
    std::fs::rename(&pending, &key_file).map_err(|source| RotateError::Io {
        what: "the store uses the new key, but it could not be moved into place; boltd moves it at its next start. Moving",
        path: pending.clone(),
        source,
    })?;
    sync_dir(data_dir);
    tracing::info!(backup = %backup.display(), credentials, "rotated the credential encryption key");
    Ok(KeyRotation {
        credentials,
        key_file: key_file.display().to_string(),
        old_key_backup: backup.display().to_string(),
        key_check: new.key_check(),
    })
}

/// `bolt.key.old-20250101T120000Z` (a suffix when two rotations share a second).
fn backup_path(data_dir: &Path) -> PathBuf {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut path = data_dir.join(format!("{KEY_FILE}.old-{stamp}"));
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = data_dir.join(format!("{KEY_FILE}.old-{stamp}-{n}"));
    }
    path
}

fn remove_if_present(path: &Path) -> Result<(), RotateError> {
    match std::fs::remove_file(path) {
        Err(source) if source.kind() != std::io::ErrorKind::NotFound => Err(RotateError::Io {
            what: "cannot remove",
            path: path.to_path_buf(),
            source,
        }),
        _ => Ok(()),
    }
}

/// Makes a rename durable (best effort: some filesystems can't sync a directory).
fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "the encryption key ({source_name}, key check {key}) is not the key this store's credentials were written with (key check {store}): put back the key file that belongs with this store (after `bolt credential rotate-key` the one before is kept as {KEY_FILE}.old-…; after `bolt restore`, the key that was in use when the backup was made), or the stored credentials can't be read{hint}"
)]
pub struct KeyMismatch {
    source_name: String,
    key: String,
    store: String,
    /// More to say on a database several nodes share.
    hint: String,
}

/// At boltd's start: checks that the key belongs with the store, finishes a rotation that
/// committed but whose key was not moved into place, and records the check in a store that
/// has none yet. Returns the vault to use.
pub async fn reconcile(store: &Store, vault: Vault, data_dir: &Path) -> anyhow::Result<Vault> {
    let stored = store.readers.read(|conn| stored_check(conn)).await?;
    let pending = data_dir.join(PENDING_KEY_FILE);
    let check = vault.key_check();
    match stored {
        Some(stored) if stored == check => {
            // A rotation that never committed.
            let _ = std::fs::remove_file(&pending);
            Ok(vault)
        }
        Some(stored) => {
            if let (KeySource::File(key_file), Ok(Some(new))) =
                (vault.source().clone(), NewKey::read_from(&pending))
                && new.key_check() == stored
            {
                std::fs::rename(&pending, &key_file)?;
                sync_dir(data_dir);
                tracing::warn!(
                    "finished a key rotation interrupted before its new key was moved into place"
                );
                return Ok(Vault::open(data_dir)?);
            }
            let source_name = match vault.source() {
                KeySource::Env => crate::secrets::ENV_KEY.to_string(),
                KeySource::File(path) => path.display().to_string(),
            };
            let hint = match store.database() {
                Some(_) => format!(
                    "; every node of a shared database needs the same key: copy {KEY_FILE} from a node that runs into {} (mode 0600), replacing the one this node made",
                    data_dir.display()
                ),
                None => String::new(),
            };
            Err(KeyMismatch {
                source_name,
                key: check,
                store: stored,
                hint,
            }
            .into())
        }
        None => {
            // A store from before key checks: the key is right if a credential decrypts.
            let probe = vault.clone();
            let decrypts = store
                .readers
                .read(move |conn| {
                    let sealed = credentials::any_sealed_body(conn)?;
                    Ok(sealed.is_none_or(|s| probe.decrypt(&s).is_ok()))
                })
                .await?;
            if decrypts {
                store
                    .writer
                    .write(move |tx| record_check(tx, &check))
                    .await?;
            } else {
                tracing::error!(
                    "the stored credentials were written with another encryption key: runs that use them will fail"
                );
            }
            Ok(vault)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn reencrypting_moves_every_credential_to_the_new_key_on_each_backend() {
        use crate::store::credentials::{self as rows, NewCredential};
        use crate::store::suite::on_each_backend;
        use bolt_sql::DbExt;
        on_each_backend(|db| {
            let dir = tempfile::tempdir().unwrap();
            let vault = Vault::open(dir.path()).unwrap();
            assert_eq!(stored_check(db).unwrap(), None);
            record_check(db, &vault.key_check()).unwrap();
            assert_eq!(stored_check(db).unwrap(), Some(vault.key_check()));
            let body = serde_json::json!({ "user": "ann", "password": "first-secret" });
            for name in ["api", "db"] {
                db.in_transaction(|tx| crate::credentials::set(tx, &vault, name, &body))
                    .unwrap();
            }

            let new = NewKey::generate();
            let count = db
                .in_transaction(|tx| reencrypt_all(tx, &vault, &new))
                .unwrap();
            assert_eq!(count, 2);
            assert_eq!(vault.key_check(), new.key_check());
            assert_eq!(stored_check(db).unwrap(), Some(new.key_check()));
            assert_eq!(
                crate::credentials::load(db, &vault, "db").unwrap(),
                Some(body.clone())
            );
            let actions: Vec<String> = rows::changes(db, "api")
                .unwrap()
                .into_iter()
                .map(|c| c.action)
                .collect();
            assert_eq!(actions, ["credential.created", "credential.re_encrypted"]);

            // A credential the key can't open stops the rotation before anything changes.
            rows::upsert(
                db,
                &NewCredential {
                    id: "c-bad",
                    name: "bad",
                    sealed: b"not sealed by any key",
                    keys: "[]",
                    now: 1,
                },
            )
            .unwrap();
            let other = NewKey::generate();
            let err = db
                .in_transaction(|tx| reencrypt_all(tx, &vault, &other))
                .unwrap_err();
            assert!(
                err.to_string().contains("`bad` cannot be decrypted"),
                "{err}"
            );
            assert_eq!(vault.key_check(), new.key_check());
            assert_eq!(stored_check(db).unwrap(), Some(new.key_check()));
        });
    }

    #[test]
    fn a_rotation_cut_off_before_the_key_moved_is_finished_at_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1).unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        let rt = runtime();
        let vault = rt.block_on(reconcile(&store, vault, dir.path())).unwrap();
        let stored = store
            .readers
            .read_blocking(|conn| stored_check(conn))
            .unwrap();
        assert_eq!(stored.as_deref(), Some(vault.key_check().as_str()));
        let in_tx = vault.clone();
        store
            .writer
            .write_blocking(move |tx| {
                crate::credentials::set(
                    tx,
                    &in_tx,
                    "api",
                    &serde_json::json!({"token": "secret-token-1"}),
                )
            })
            .unwrap();
        // The transaction commits with the new key, then the process stops before the move.
        let new = NewKey::generate();
        new.write_to(&dir.path().join(PENDING_KEY_FILE)).unwrap();
        let (in_tx, key) = (vault.clone(), new.clone());
        store
            .writer
            .write_blocking(move |tx| reencrypt_all(tx, &in_tx, &key))
            .unwrap();
        let restarted = Vault::open(dir.path()).unwrap();
        assert_ne!(
            restarted.key_check(),
            new.key_check(),
            "the key file still has the old key"
        );
        let recovered = rt
            .block_on(reconcile(&store, restarted, dir.path()))
            .unwrap();
        assert_eq!(recovered.key_check(), new.key_check());
        assert!(!dir.path().join(PENDING_KEY_FILE).exists());
        let body = store
            .readers
            .read_blocking(move |c| crate::credentials::load(c, &recovered, "api"))
            .unwrap();
        assert_eq!(body.unwrap()["token"], "secret-token-1");

        // Another key altogether is refused, naming what to do.
        std::fs::remove_file(dir.path().join(KEY_FILE)).unwrap();
        let stranger = Vault::open(dir.path()).unwrap();
        let err = rt
            .block_on(reconcile(&store, stranger, dir.path()))
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("is not the key this store's credentials were written with"),
            "{err}"
        );
    }
}
