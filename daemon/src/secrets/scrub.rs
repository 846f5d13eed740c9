//! Replacing a run's credential values with `***` before anything is stored or shown.
//!
//! As Lightning does: every leaf value of the credentials a run uses is secret, except
//! values under keys that name things rather than unlock them (username, host, baseUrl…);
//! plus base64 of every `a:b` pair, which is what a Basic auth header carries.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

const NOT_SECRET: &[&str] = &[
    "account",
    "apiurl",
    "apiversion",
    "baseurl",
    "database",
    "email",
    "host",
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
];

/// Most values a run may carry into the scrubber (pairs grow quadratically).
const MAX_SAMPLES: usize = 50;

#[derive(Debug, Clone, Default)]
pub struct Scrubber {
    /// Longest first, so a value that contains another is replaced whole.
    secrets: Vec<String>,
}

impl Scrubber {
    pub fn new(credentials: &[&Value]) -> Scrubber {
        let mut samples = Vec::new();
        let mut names = Vec::new();
        for body in credentials {
            collect(body, None, &mut samples, &mut names);
        }
        samples.truncate(MAX_SAMPLES);
        let mut secrets: Vec<String> = samples.clone();
        let candidates: Vec<&String> = samples.iter().chain(names.iter()).collect();
        for a in &candidates {
            for b in &samples {
                if a != &b {
                    secrets.push(STANDARD.encode(format!("{a}:{b}")));
                }
            }
        }
        secrets.retain(|s| s.len() >= 3);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Scrubber { secrets }
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }

    /// Scrubs every string (keys and values) of a JSON value.
    pub fn scrub_json(&self, value: &mut Value) {
        if self.is_empty() {
            return;
        }
        match value {
            Value::String(s)
                if self
                    .secrets
                    .iter()
                    .any(|secret| s.contains(secret.as_str())) =>
            {
                *s = self.scrub(s);
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_json(v)),
            Value::Object(map) => {
                let needs_key_scrub = map
                    .keys()
                    .any(|k| self.secrets.iter().any(|s| k.contains(s.as_str())));
                if needs_key_scrub {
                    let taken = std::mem::take(map);
                    for (k, mut v) in taken {
                        self.scrub_json(&mut v);
                        map.insert(self.scrub(&k), v);
                    }
                } else {
                    map.values_mut().for_each(|v| self.scrub_json(v));
                }
            }
            Value::Number(n) => {
                let text = n.to_string();
                if self.secrets.iter().any(|s| s == &text) {
                    *value = Value::String("***".into());
                }
            }
            _ => {}
        }
    }
}

fn collect(value: &Value, key: Option<&str>, secrets: &mut Vec<String>, names: &mut Vec<String>) {
    let public = key.is_some_and(|k| NOT_SECRET.contains(&k.to_ascii_lowercase().as_str()));
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| collect(v, Some(k), secrets, names)),
        Value::Array(items) => items.iter().for_each(|v| collect(v, key, secrets, names)),
        Value::String(s) if !s.is_empty() => {
            if public {
                names.push(s.clone());
            } else {
                secrets.push(s.clone());
            }
        }
        Value::Number(n) if !public => secrets.push(n.to_string()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_and_basic_auth_pairs_are_hidden_names_are_not() {
        let cred = json!({"baseUrl": "https://dhis2.example.org", "username": "admin", "password": "hunter2-long"});
        let scrubber = Scrubber::new(&[&cred]);
        let header = format!("Basic {}", STANDARD.encode("admin:hunter2-long"));
        let line = format!("login admin/hunter2-long at https://dhis2.example.org with {header}");
        let clean = scrubber.scrub(&line);
        assert!(!clean.contains("hunter2-long"), "{clean}");
        assert!(
            !clean.contains(&STANDARD.encode("admin:hunter2-long")),
            "{clean}"
        );
        assert!(clean.contains("admin"), "{clean}");
        assert!(clean.contains("dhis2.example.org"), "{clean}");
    }

    #[test]
    fn nested_json_values_are_scrubbed() {
        let cred = json!({"access_token": "tok-123456", "pin": 987654});
        let scrubber = Scrubber::new(&[&cred]);
        let mut state =
            json!({"data": {"echo": "Bearer tok-123456", "n": 987654, "list": ["tok-123456"]}});
        scrubber.scrub_json(&mut state);
        let text = state.to_string();
        assert!(!text.contains("tok-123456"), "{text}");
        assert!(!text.contains("987654"), "{text}");
    }
}
