//! AES-256-GCM encryption of credential bodies. The key comes from `BOLT_ENCRYPTION_KEY`
//! (base64 of 32 bytes) or from a key file generated on first start with mode 0600.

use aes_gcm::aead::{Aead, Generate, Key as CipherKey, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

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

/// One 32-byte key: the cipher for credential bodies and the secret other keys derive from.
#[derive(Clone)]
struct Key {
    cipher: Aes256Gcm,
    secret: [u8; 32],
}

impl Key {
    fn from_bytes(bytes: &[u8]) -> Option<Key> {
        let secret: [u8; 32] = bytes.try_into().ok()?;
        Some(Key {
            cipher: Aes256Gcm::new(&CipherKey::<Aes256Gcm>::from(secret)),
            secret,
        })
    }

    fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.secret)
            .expect("HMAC takes a key of any length");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn check(&self) -> String {
        let digest = self.derive(KEY_CHECK_PURPOSE);
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// What a fingerprint of the key is derived for: never used to encrypt anything.
const KEY_CHECK_PURPOSE: &str = "bolt key check v1";

/// Where the key came from; only a key file can be rotated by bolt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    Env,
    File(PathBuf),
}

struct Keys {
    current: Key,
    /// The key before a rotation made by this process: rows a reader fetched just before
    /// the rotation committed still decrypt with it.
    previous: Option<Key>,
}

/// The data dir's key. Clones share it, so a rotation reaches every holder at once.
#[derive(Clone)]
pub struct Vault {
    keys: Arc<RwLock<Keys>>,
    source: KeySource,
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
            let key = Key::from_bytes(&bytes).ok_or(VaultError::BadEnvKey)?;
            return Ok(Vault::with(key, KeySource::Env));
        }
        let path = data_dir.join(KEY_FILE);
        match read_key_file(&path) {
            Ok(text) => {
                let key = parse_key(&text).ok_or_else(|| VaultError::BadKeyFile {
                    path: path.display().to_string(),
                })?;
                Ok(Vault::with(key, KeySource::File(path)))
            }
            Err(KeyRead::Missing) => {
                let bytes = new_key_bytes();
                write_key_file(&path, &bytes, true)?;
                tracing::info!(path = %path.display(), "generated a new credential encryption key; back it up");
                let key = Key::from_bytes(&bytes).ok_or(VaultError::Encrypt)?;
                Ok(Vault::with(key, KeySource::File(path)))
            }
            Err(KeyRead::Unsafe(err)) => Err(err.into()),
        }
    }

    /// A vault from a key file's text (base64 of 32 bytes), e.g. a backed-up key.
    pub fn from_key_text(text: &str) -> Option<Vault> {
        parse_key(text).map(|key| Vault::with(key, KeySource::Env))
    }

    fn with(key: Key, source: KeySource) -> Vault {
        Vault {
            keys: Arc::new(RwLock::new(Keys {
                current: key,
                previous: None,
            })),
            source,
        }
    }

    fn current(&self) -> Key {
        match self.keys.read() {
            Ok(keys) => keys.current.clone(),
            Err(poisoned) => poisoned.into_inner().current.clone(),
        }
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// A key for another purpose (HMAC-SHA256 of the purpose under the data dir's secret),
    /// so one secret to back up serves all, and no derived key reveals another.
    pub fn derive_key(&self, purpose: &str) -> [u8; 32] {
        self.current().derive(purpose)
    }

    /// A short fingerprint of the key (16 hex digits of a key derived for nothing else):
    /// tells whether a store and a key belong together without revealing the key.
    pub fn key_check(&self) -> String {
        self.current().check()
    }

    /// nonce || ciphertext+tag
    pub fn encrypt(&self, plain: &[u8]) -> Result<Vec<u8>, VaultError> {
        let nonce = Nonce::generate();
        let sealed = self
            .current()
            .cipher
            .encrypt(&nonce, plain)
            .map_err(|_| VaultError::Encrypt)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(nonce.as_slice());
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn decrypt(&self, sealed: &[u8]) -> Result<Vec<u8>, VaultError> {
        let (current, previous) = match self.keys.read() {
            Ok(keys) => (keys.current.clone(), keys.previous.clone()),
            Err(poisoned) => {
                let keys = poisoned.into_inner();
                (keys.current.clone(), keys.previous.clone())
            }
        };
        decrypt_with(&current, sealed).or_else(|err| match previous {
            Some(previous) => decrypt_with(&previous, sealed),
            None => Err(err),
        })
    }

    /// Makes `new` the key that encrypts (the current one stays able to decrypt, for rows
    /// read before the change committed). Returns the key text it replaced, for
    /// [`Vault::restore`] should the change not commit.
    pub fn switch_to(&self, new: &NewKey) -> Result<NewKey, VaultError> {
        let key = Key::from_bytes(&new.bytes).ok_or(VaultError::Encrypt)?;
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        let old = NewKey {
            bytes: keys.current.secret,
        };
        keys.previous = Some(std::mem::replace(&mut keys.current, key));
        Ok(old)
    }

    /// Puts back the key [`Vault::switch_to`] replaced.
    pub fn restore(&self, old: &NewKey) {
        if let Some(key) = Key::from_bytes(&old.bytes) {
            let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
            keys.current = key;
            keys.previous = None;
        }
    }
}

/// A freshly generated key, not in use yet (or a key being put back).
#[derive(Clone)]
pub struct NewKey {
    bytes: [u8; 32],
}

impl NewKey {
    pub fn generate() -> NewKey {
        NewKey {
            bytes: new_key_bytes(),
        }
    }

    pub fn key_check(&self) -> String {
        Key::from_bytes(&self.bytes)
            .map(|k| k.check())
            .unwrap_or_default()
    }

    /// Writes the key as a key file (0600; never over an existing file).
    pub fn write_to(&self, path: &Path) -> Result<(), VaultError> {
        write_key_file(path, &self.bytes, true)
    }

    /// Reads a key file as [`Vault::open`] does (private, no links).
    pub fn read_from(path: &Path) -> Result<Option<NewKey>, VaultError> {
        match read_key_file(path) {
            Ok(text) => {
                let key = parse_key(&text).ok_or_else(|| VaultError::BadKeyFile {
                    path: path.display().to_string(),
                })?;
                Ok(Some(NewKey { bytes: key.secret }))
            }
            Err(KeyRead::Missing) => Ok(None),
            Err(KeyRead::Unsafe(err)) => Err(err.into()),
        }
    }
}

fn new_key_bytes() -> [u8; 32] {
    let key = CipherKey::<Aes256Gcm>::generate();
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(key.as_slice());
    bytes
}

fn parse_key(text: &str) -> Option<Key> {
    let bytes = STANDARD.decode(text.trim()).ok()?;
    Key::from_bytes(&bytes)
}

fn decrypt_with(key: &Key, sealed: &[u8]) -> Result<Vec<u8>, VaultError> {
    if sealed.len() < NONCE_LEN {
        return Err(VaultError::Decrypt);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| VaultError::Decrypt)?;
    key.cipher
        .decrypt(&Nonce::from(nonce), body)
        .map_err(|_| VaultError::Decrypt)
}

/// Writes a key file with mode 0600, synced; `create_new` never replaces a file.
fn write_key_file(path: &Path, bytes: &[u8; 32], create_new: bool) -> Result<(), VaultError> {
    let io_err = |source| VaultError::KeyFileIo {
        path: path.display().to_string(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(create_new)
        .mode(0o600)
        .open(path)
        .map_err(io_err)?;
    file.write_all(STANDARD.encode(bytes).as_bytes())
        .map_err(io_err)?;
    file.sync_all().map_err(io_err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io_err)?;
    Ok(())
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
    fn a_switched_key_encrypts_and_the_old_one_still_decrypts_in_process() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        let before = vault.encrypt(b"old").unwrap();
        let check = vault.key_check();
        assert_eq!(check.len(), 16);
        let new = NewKey::generate();
        let old = vault.switch_to(&new).unwrap();
        assert_eq!(vault.key_check(), new.key_check());
        assert_ne!(vault.key_check(), check);
        let after = vault.encrypt(b"new").unwrap();
        assert_eq!(vault.decrypt(&before).unwrap(), b"old");
        // The key file still holds the old key: it can't read what the new key wrote.
        assert!(Vault::open(dir.path()).unwrap().decrypt(&after).is_err());
        vault.restore(&old);
        assert_eq!(vault.key_check(), check);
    }

    #[test]
    fn wrong_key_cannot_decrypt() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let sealed = Vault::open(a.path()).unwrap().encrypt(b"x").unwrap();
        assert!(Vault::open(b.path()).unwrap().decrypt(&sealed).is_err());
    }
}
