//! Credentials at rest (AES-256-GCM) and scrubbing their values out of logs and outputs.

mod forms;
mod scrub;
mod values;
mod vault;

pub use scrub::Scrubber;
pub use values::{
    MIN_SECRET_CHARS, NOT_SECRET, ShortSecrets, check_secret_lengths, is_secret_leaf,
};
pub use vault::{ENV_KEY, KEY_FILE, KeySource, NewKey, Vault, VaultError};
