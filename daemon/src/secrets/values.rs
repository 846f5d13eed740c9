//! Which values of a credential are secret, and the shortest secret bolt accepts.
//!
//! As in Lightning: every leaf value is secret, except values under keys that name things
//! rather than unlock them (username, host, baseUrl…). Booleans and empty strings are never
//! secret; numbers are, as their decimal text.

use serde_json::Value;

/// Keys whose values are not secret (compared case-insensitively).
pub const NOT_SECRET: &[&str] = &[
    "account",
    "apiurl",
    "apiversion",
    "baseurl",
    "database",
    "email",
    "host",
    "hostname",
    "hosturl",
    "instanceurl",
    "loginurl",
    "user",
    "username",
    "port",
    "clientid",
    "client_id",
    "tenant",
    "realm",
    "region",
    "url",
    "server",
    "scheme",
    "protocol",
    "version",
];

/// The shortest secret value bolt can hide without blanking out ordinary words: every
/// occurrence of a secret is replaced, inside longer words too, so a value like `abc` would
/// turn `abcess` into `***ess`.
pub const MIN_SECRET_CHARS: usize = 6;

/// The secret values and the public names (usernames…) of credential bodies.
#[derive(Debug, Default)]
pub struct CredentialValues {
    pub secrets: Vec<String>,
    pub names: Vec<String>,
}

impl CredentialValues {
    pub fn of(bodies: &[&Value]) -> CredentialValues {
        let mut values = CredentialValues::default();
        for body in bodies {
            collect(body, None, &mut |_, text, public| {
                if public {
                    values.names.push(text);
                } else {
                    values.secrets.push(text);
                }
            });
        }
        values
    }
}

fn is_public(key: Option<&str>) -> bool {
    key.is_some_and(|k| NOT_SECRET.contains(&k.to_ascii_lowercase().as_str()))
}

/// Whether a leaf `value` under `key` is secret (as scrubbing treats it): strings and
/// numbers are, unless the key names rather than unlocks; booleans, nulls and "" never are.
pub fn is_secret_leaf(key: Option<&str>, value: &Value) -> bool {
    match value {
        Value::String(s) => !s.is_empty() && !is_public(key),
        Value::Number(_) => !is_public(key),
        _ => false,
    }
}

/// Calls `found(key, text, public)` for every string and number leaf.
fn collect(value: &Value, key: Option<&str>, found: &mut dyn FnMut(Option<&str>, String, bool)) {
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| collect(v, Some(k), found)),
        Value::Array(items) => items.iter().for_each(|v| collect(v, key, found)),
        Value::String(s) if !s.is_empty() => found(key, s.clone(), is_public(key)),
        Value::Number(n) => found(key, n.to_string(), is_public(key)),
        _ => {}
    }
}

/// Secret values of a credential too short to hide: (key, length in characters).
#[derive(Debug, Clone, PartialEq)]
pub struct ShortSecrets {
    pub credential: String,
    pub fields: Vec<(String, usize)>,
}

impl ShortSecrets {
    fn listed(&self) -> String {
        self.fields
            .iter()
            .map(|(key, chars)| {
                format!(
                    "`{key}` ({chars} character{})",
                    if *chars == 1 { "" } else { "s" }
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// One line, for a form with little room.
    pub fn summary(&self) -> String {
        format!(
            "{} too short: secret values need at least {MIN_SECRET_CHARS} characters (bolt hides them as ***, inside words too)",
            self.listed()
        )
    }
}

impl std::fmt::Display for ShortSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "credential `{}` was not saved: the value of {} is too short to keep secret. \
             bolt replaces every secret value with *** wherever it appears in logs and outputs, \
             inside longer words too, so a value under {MIN_SECRET_CHARS} characters would also \
             blank out ordinary text. Use a value of at least {MIN_SECRET_CHARS} characters; if it \
             is not secret, leave it out of the credential (put it in the job or its input) or \
             under a key bolt treats as public ({}).",
            self.credential,
            self.listed(),
            NOT_SECRET.join(", ")
        )
    }
}

impl std::error::Error for ShortSecrets {}

/// Refuses a credential body holding a secret value too short to hide, saying which key and
/// what to do. Checked whenever a credential is set (CLI, TUI, socket).
pub fn check_secret_lengths(name: &str, body: &Value) -> Result<(), ShortSecrets> {
    let mut fields = Vec::new();
    collect(body, None, &mut |key, text, public| {
        let chars = text.chars().count();
        if !public && chars < MIN_SECRET_CHARS {
            fields.push((key.unwrap_or("(top level)").to_string(), chars));
        }
    });
    if fields.is_empty() {
        return Ok(());
    }
    Err(ShortSecrets {
        credential: name.to_string(),
        fields,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_public_and_everything_else_is_secret() {
        let body = json!({"baseUrl": "https://x.org", "Username": "admin", "password": "hunter2-long", "pin": 12345678, "tls": true, "nested": {"token": ["tok-123456"]}});
        let values = CredentialValues::of(&[&body]);
        assert_eq!(values.names, vec!["https://x.org", "admin"]);
        assert_eq!(
            values.secrets,
            vec!["hunter2-long", "12345678", "tok-123456"]
        );
    }

    #[test]
    fn short_secrets_are_refused_with_the_key_and_what_to_do() {
        let short = check_secret_lengths(
            "dhis2",
            &json!({"username": "bob", "port": 80, "password": "abc", "pin": 1234}),
        )
        .unwrap_err();
        let err = short.to_string();
        assert!(
            short
                .summary()
                .starts_with("`password` (3 characters), `pin` (4 characters) too short")
        );
        assert!(err.contains("credential `dhis2` was not saved"), "{err}");
        assert!(err.contains("`password` (3 characters)"), "{err}");
        assert!(err.contains("`pin` (4 characters)"), "{err}");
        assert!(err.contains("at least 6 characters"), "{err}");
        assert!(!err.contains("`username`"), "{err}");
        assert!(
            !err.contains("abc"),
            "the message must not echo the value: {err}"
        );
        check_secret_lengths(
            "ok",
            &json!({"username": "bob", "password": "abcdef", "debug": false, "empty": ""}),
        )
        .unwrap();
        // Characters, not bytes.
        assert!(check_secret_lengths("u", &json!({"password": "ääää"})).is_err());
    }
}
