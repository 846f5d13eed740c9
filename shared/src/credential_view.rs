//! A credential as `bolt credential show` prints it (secrets masked), and key rotation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One leaf of a credential: `password`, `oauth.client_id`, `hosts[0]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CredentialField {
    pub key: String,
    /// Whether the value is secret (everything but names such as username, host, baseUrl).
    pub secret: bool,
    /// The value when it is not secret; secret values never leave boltd (not even their
    /// length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// One change to a credential, from the audit log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CredentialChange {
    pub at: DateTime<Utc>,
    pub actor: String,
    /// created | updated | deleted | re-encrypted
    pub action: String,
    /// The fields a change set or removed, when it named them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unset: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CredentialDetail {
    pub name: String,
    pub fields: Vec<CredentialField>,
    /// "Workflow / Job" for every deployed job that uses it.
    pub used_by: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Oldest first.
    pub history: Vec<CredentialChange>,
}

/// What `bolt credential rotate-key` did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KeyRotation {
    /// Credentials re-encrypted with the new key.
    pub credentials: u64,
    /// The key file now holding the new key.
    pub key_file: String,
    /// Where the old key was kept (0600); remove it once backups no longer need it.
    pub old_key_backup: String,
    /// A short, non-secret fingerprint of the new key (the store's key check).
    pub key_check: String,
}
