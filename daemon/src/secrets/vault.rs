//! AES-256-GCM encryption of credential bodies. The key comes from `BOLT_ENCRYPTION_KEY`
//! (base64 of 32 bytes) or from a key file generated on first start with mode 0600.

use aes_gcm::aead::{Aead, Generate, Key, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const ENV_KEY: &str = "BOLT_ENCRYPTION_KEY";
pub const KEY_FILE: &str = "bolt.key";
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "{ENV_KEY} must be the base64 encoding of exactly 32 random bytes (generate one with `openssl rand -base64 32`)"
    )]
    BadEnvKey,
    #[error(
        "the key file {path} is damaged (expected base64 of 32 bytes): restore it from backup, or the stored credentials cannot be read"
    )]
    BadKeyFile { path: String },
    #[error(transparent)]
    UnsafeKeyFile(#[from] crate::files::FileError),
    #[error("cannot read or create the key file {path}: {source}")]
    KeyFileIo {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "a stored credential could not be decrypted: it was written with another encryption key"
    )]
    Decrypt,
    #[error("encryption failed")]
    Encrypt,
}

#[derive(Clone)]
pub struct Vault {
    cipher: Aes256Gcm,
    /// The data dir's secret, from which keys for other purposes are derived.
    secret: [u8; 32],
}

impl Vault {
    /// The vault of a data dir: the environment key if set, else the key file (created if absent).
    pub fn open(data_dir: &Path) -> Result<Vault, VaultError> {
        if let Ok(text) = std::env::var(ENV_KEY)
            && !text.trim().is_empty()
        {
            let bytes = STANDARD
                .decode(text.trim())
                .map_err(|_| VaultError::BadEnvKey)?;
            return Self::from_bytes(&bytes).ok_or(VaultError::BadEnvKey);
        }
        let path = data_dir.join(KEY_FILE);
        let io_err = |source| VaultError::KeyFileIo {
            path: path.display().to_string(),
            source,
        };
        match read_key_file(&path) {
            Ok(text) => {
                let bytes = STANDARD
                    .decode(text.trim())
                    .map_err(|_| VaultError::BadKeyFile {
                        path: path.display().to_string(),
                    })?;
                Self::from_bytes(&bytes).ok_or(VaultError::BadKeyFile {
                    path: path.display().to_string(),
                })
            }
            Err(KeyRead::Missing) => {
                let key = Key::<Aes256Gcm>::generate();
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(io_err)?;
                file.write_all(STANDARD.encode(key.as_slice()).as_bytes())
                    .map_err(io_err)?;
                file.sync_all().map_err(io_err)?;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                    .map_err(io_err)?;
                tracing::info!(path = %path.display(), "generated a new credential encryption key; back it up");
                Self::from_bytes(key.as_slice()).ok_or(VaultError::Encrypt)
            }
            Err(KeyRead::Unsafe(err)) => Err(err.into()),
        }
    }

    fn from_bytes(bytes: &[u8]) -> Option<Vault> {
        let key: [u8; 32] = bytes.try_into().ok()?;
        Some(Vault {
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(key)),
            secret: key,
        })
    }

    /// A key for another purpose (HMAC-SHA256 of the purpose under the data dir's secret),
    /// so one secret to back up serves all, and no derived key reveals another.
    pub fn derive_key(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.secret)
            .expect("HMAC takes a key of any length");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// nonce || ciphertext+tag
    pub fn encrypt(&self, plain: &[u8]) -> Result<Vec<u8>, VaultError> {
        let nonce = Nonce::generate();
        let sealed = self
            .cipher
            .encrypt(&nonce, plain)
            .map_err(|_| VaultError::Encrypt)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(nonce.as_slice());
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn decrypt(&self, sealed: &[u8]) -> Result<Vec<u8>, VaultError> {
        if sealed.len() < NONCE_LEN {
            return Err(VaultError::Decrypt);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| VaultError::Decrypt)?;
        self.cipher
            .decrypt(&Nonce::from(nonce), body)
            .map_err(|_| VaultError::Decrypt)
    }
}

enum KeyRead {
    Missing,
    Unsafe(crate::files::FileError),
}

/// Reads the key file, which must be boltd's user's own regular file that nobody else can
/// read, reached without following a link (a link could hand boltd another user's key, or
/// make it write its new key over another file).
fn read_key_file(path: &Path) -> Result<String, KeyRead> {
    use crate::files;
    let mut file = match files::open_no_follow(
        std::fs::OpenOptions::new().read(true),
        path,
        "key file",
        || {
            format!(
                "replace the link with the key itself: `cp --remove-destination \"$(readlink -f {p})\" {p}`",
                p = path.display()
            )
        },
    ) {
        Ok(file) => file,
        Err(files::FileError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            return Err(KeyRead::Missing);
        }
        Err(err) => return Err(KeyRead::Unsafe(err)),
    };
    files::check_own_file(
        &file,
        path,
        "key file",
        Some("anyone who reads it can decrypt every stored credential"),
    )
    .map_err(KeyRead::Unsafe)?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut file, &mut text).map_err(|source| {
        KeyRead::Unsafe(files::FileError::Io {
            what: "key file",
            path: path.to_path_buf(),
            source,
        })
    })?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        let sealed = vault.encrypt(b"s3cret").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"s3cret"));
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        let again = Vault::open(dir.path()).unwrap();
        assert_eq!(again.decrypt(&sealed).unwrap(), b"s3cret");
    }

    #[test]
    fn a_key_file_others_can_read_or_a_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        Vault::open(dir.path()).unwrap();
        let key = dir.path().join(KEY_FILE);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Vault::open(dir.path()).err().unwrap().to_string();
        assert!(
            err.contains("mode 0644") && err.contains("chmod 600"),
            "{err}"
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let elsewhere = dir.path().join("elsewhere.key");
        std::fs::rename(&key, &elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &key).unwrap();
        let err = Vault::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("symbolic link"), "{err}");
    }

    #[test]
    fn derived_keys_differ_by_purpose_and_last() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        let a = vault.derive_key("a");
        assert_ne!(a, vault.derive_key("b"));
        assert_eq!(a, Vault::open(dir.path()).unwrap().derive_key("a"));
        let other = tempfile::tempdir().unwrap();
        assert_ne!(a, Vault::open(other.path()).unwrap().derive_key("a"));
    }

    #[test]
    fn wrong_key_cannot_decrypt() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let sealed = Vault::open(a.path()).unwrap().encrypt(b"x").unwrap();
        assert!(Vault::open(b.path()).unwrap().decrypt(&sealed).is_err());
    }
}
