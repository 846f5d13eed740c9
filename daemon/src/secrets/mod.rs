//! Credentials at rest (AES-256-GCM) and scrubbing their values out of logs and outputs.

mod scrub;
mod vault;

pub use scrub::Scrubber;
pub use vault::{ENV_KEY, KEY_FILE, Vault, VaultError};
