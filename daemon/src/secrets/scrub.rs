//! Replacing a run's credential values with `***` before anything is stored or shown.
//!
//! Every secret value of the credentials a run uses (see [`super::values`]), with no limit
//! on their number, is looked for in every form a job or adaptor typically writes it
//! ([`super::forms`]: JSON and `util.inspect` escaping, base64, hex, URL encoding), plus
//! base64 of `name:secret` pairs (Basic auth headers). One Aho-Corasick automaton finds all
//! of them in a single pass over the text, so many values and large logs stay cheap.
//!
//! Matching is on substrings: a secret inside a longer word is still replaced (leaking is
//! worse than over-scrubbing), and every overlapping match is merged into one `***`, so no
//! piece of a secret is left beside it. Secrets shorter than [`MIN_SECRET_CHARS`] can no
//! longer be set; one stored before that is replaced only where it stands alone as a word,
//! so it can't blank out the middle of ordinary words.

use super::forms::{pair_forms, written_forms};
use super::values::{CredentialValues, MIN_SECRET_CHARS};
use aho_corasick::{AhoCorasick, MatchKind};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;

/// Most `name:secret` pairs encoded whole (they grow quadratically). Past it, a pair's
/// base64 is still scrubbed where it matters: the secret's own base64 forms cover it inside
/// any longer encoded text; only the name part stays readable.
const MAX_PAIRS: usize = 4096;

const MASK: &str = "***";

#[derive(Debug, Clone, Default)]
pub struct Scrubber {
    inner: Option<Arc<Inner>>,
}

#[derive(Debug)]
struct Inner {
    /// Every form of every secret long enough to replace wherever it appears.
    anywhere: Option<AhoCorasick>,
    /// Secrets too short for that (stored before bolt refused them): whole words only.
    alone: Option<AhoCorasick>,
    /// Secret values as a JSON number's text.
    numbers: HashSet<String>,
}

impl Scrubber {
    pub fn new(credentials: &[&Value]) -> Scrubber {
        let values = CredentialValues::of(credentials);
        let mut secrets = values.secrets;
        secrets.sort();
        secrets.dedup();
        if secrets.is_empty() {
            return Scrubber::default();
        }
        let (long, short): (Vec<&String>, Vec<&String>) = secrets
            .iter()
            .partition(|s| s.chars().count() >= MIN_SECRET_CHARS);
        let mut patterns: HashSet<String> = HashSet::new();
        for secret in &long {
            patterns.extend(written_forms(secret));
        }
        let mut pairs = 0;
        'pairs: for first in values.names.iter().chain(secrets.iter()) {
            for second in &secrets {
                if first == second {
                    continue;
                }
                if pairs == MAX_PAIRS {
                    break 'pairs;
                }
                pairs += 1;
                patterns.extend(pair_forms(&format!("{first}:{second}")));
            }
        }
        let build = |patterns: Vec<&str>| -> Option<AhoCorasick> {
            if patterns.is_empty() {
                return None;
            }
            match AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(patterns)
            {
                Ok(matcher) => Some(matcher),
                Err(err) => {
                    // Only a pattern set too large for memory gets here.
                    tracing::error!(%err, "cannot build the secret scrubber");
                    None
                }
            }
        };
        let anywhere = build(patterns.iter().map(String::as_str).collect());
        let alone = build(short.iter().map(|s| s.as_str()).collect());
        Scrubber {
            inner: Some(Arc::new(Inner {
                anywhere,
                alone,
                numbers: secrets.iter().cloned().collect(),
            })),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_none()
    }

    /// The text with every secret replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        match self.ranges(text) {
            None => text.to_string(),
            Some(ranges) => masked(text, &ranges),
        }
    }

    /// Byte ranges to mask, merged and ordered; `None` when the text holds no secret.
    fn ranges(&self, text: &str) -> Option<Vec<(usize, usize)>> {
        let inner = self.inner.as_ref()?;
        let mut found: Vec<(usize, usize)> = Vec::new();
        if let Some(matcher) = &inner.anywhere {
            found.extend(
                matcher
                    .find_overlapping_iter(text)
                    .map(|m| (m.start(), m.end())),
            );
        }
        if let Some(matcher) = &inner.alone {
            found.extend(
                matcher
                    .find_overlapping_iter(text)
                    .filter(|m| stands_alone(text, m.start(), m.end()))
                    .map(|m| (m.start(), m.end())),
            );
        }
        if found.is_empty() {
            return None;
        }
        found.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(found.len());
        for (start, end) in found {
            match merged.last_mut() {
                Some(last) if start < last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        Some(merged)
    }

    /// Scrubs every string (keys and values) of a JSON value, and numbers equal to a secret.
    pub fn scrub_json(&self, value: &mut Value) {
        let Some(inner) = &self.inner else {
            return;
        };
        match value {
            Value::String(s) => {
                if let Some(ranges) = self.ranges(s) {
                    *s = masked(s, &ranges);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_json(v)),
            Value::Object(map) => {
                if map.keys().any(|k| self.ranges(k).is_some()) {
                    let taken = std::mem::take(map);
                    for (k, mut v) in taken {
                        self.scrub_json(&mut v);
                        map.insert(self.scrub(&k), v);
                    }
                } else {
                    map.values_mut().for_each(|v| self.scrub_json(v));
                }
            }
            Value::Number(n) if inner.numbers.contains(&n.to_string()) => {
                *value = Value::String(MASK.into());
            }
            _ => {}
        }
    }
}

fn masked(text: &str, ranges: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for &(start, end) in ranges {
        out.push_str(&text[at..start]);
        out.push_str(MASK);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// No letter or digit touches the match on either side.
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use serde_json::json;

    const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nVJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n-----END PRIVATE KEY-----\n";
    const TRICKY: &str = "Tr1cky\"Quote\\Slash";

    fn scrubber() -> Scrubber {
        let cred = json!({"baseUrl": "https://dhis2.example.org", "username": "admin", "password": TRICKY, "private_key": PEM});
        Scrubber::new(&[&cred])
    }

    fn assert_clean(text: &str) {
        for secret in [TRICKY, PEM, "Tr1cky", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"] {
            assert!(!text.contains(secret), "{secret:?} in {text}");
        }
    }

    #[test]
    fn secrets_and_basic_auth_pairs_are_hidden_names_are_not() {
        let cred = json!({"baseUrl": "https://dhis2.example.org", "username": "admin", "password": "hunter2-long"});
        let scrubber = Scrubber::new(&[&cred]);
        let header = format!("Basic {}", STANDARD.encode("admin:hunter2-long"));
        let line = format!("login admin/hunter2-long at https://dhis2.example.org with {header}");
        let clean = scrubber.scrub(&line);
        assert_eq!(
            clean,
            "login admin/*** at https://dhis2.example.org with Basic ***"
        );
    }

    #[test]
    fn raw_multi_line_values_are_hidden() {
        let clean = scrubber().scrub(&format!("key:\n{PEM}\ndone"));
        assert_eq!(clean, "key:\n***\ndone");
    }

    #[test]
    fn json_stringify_and_console_log_of_the_configuration_are_hidden() {
        let config = json!({"username": "admin", "password": TRICKY, "private_key": PEM});
        let scrubber = scrubber();
        for text in [
            serde_json::to_string(&config).unwrap(),
            serde_json::to_string_pretty(&config).unwrap(),
            // A stringified configuration inside a logged object: escaped twice.
            serde_json::to_string_pretty(&json!({"body": config.to_string()})).unwrap(),
        ] {
            let clean = scrubber.scrub(&text);
            assert_clean(&clean);
            assert!(
                clean.contains("\"password\": \"***\"")
                    || clean.contains("\"password\":\"***\"")
                    || clean.contains("\\\"password\\\":\\\"***\\\""),
                "{clean}"
            );
            assert!(clean.contains("admin"), "{clean}");
        }
    }

    #[test]
    fn node_inspect_quoting_is_hidden() {
        let clean = scrubber().scrub("{ password: 'Tr1cky\"Quote\\\\Slash', key: '-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\nVJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\\n-----END PRIVATE KEY-----\\n' }");
        assert_eq!(clean, "{ password: '***', key: '***' }");
    }

    #[test]
    fn encoded_forms_are_hidden() {
        let scrubber = scrubber();
        let hex: String = TRICKY.bytes().map(|b| format!("{b:02x}")).collect();
        for text in [
            STANDARD.encode(TRICKY),
            URL_SAFE_NO_PAD.encode(TRICKY),
            STANDARD.encode(PEM),
            hex.clone(),
            hex.to_uppercase(),
            "Tr1cky%22Quote%5CSlash".to_string(),
            "Tr1cky%22Quote%5cSlash".to_string(),
            STANDARD.encode(format!("admin:{TRICKY}")),
            // Inside a longer text encoded whole, at any offset.
            STANDARD.encode(format!("{{\"password\":\"{TRICKY}\"}}")),
            STANDARD.encode(format!(
                "x{}",
                serde_json::to_string(&json!({"k": PEM})).unwrap()
            )),
        ] {
            let clean = scrubber.scrub(&format!("sent {text} ok"));
            assert!(clean.contains("***"), "{text} not hidden: {clean}");
            assert!(!clean.contains(&text), "{clean}");
            assert!(
                clean.starts_with("sent ") && clean.ends_with(" ok"),
                "{clean}"
            );
        }
        let form = scrubber.scrub("password=Tr1cky%22Quote%5CSlash&user=admin");
        assert_eq!(form, "password=***&user=admin");
    }

    #[test]
    fn a_secret_inside_a_longer_word_is_still_hidden_and_the_rest_kept() {
        let cred = json!({"token": "shortcut"});
        let scrubber = Scrubber::new(&[&cred]);
        assert_eq!(scrubber.scrub("shortcuts and a shortcut"), "***s and a ***");
    }

    #[test]
    fn overlapping_occurrences_leave_no_piece_behind() {
        let cred = json!({"a": "abcabcab", "b": "cabxyz12"});
        let scrubber = Scrubber::new(&[&cred]);
        assert_eq!(scrubber.scrub("<abcabcabcabcab>"), "<***>");
        assert_eq!(scrubber.scrub("abcabcabxyz12!"), "***!");
    }

    #[test]
    fn legacy_short_values_are_hidden_only_where_they_stand_alone() {
        // Stored before bolt refused short values.
        let cred = json!({"password": "short", "pin": 4321});
        let scrubber = Scrubber::new(&[&cred]);
        assert_eq!(
            scrubber.scrub("a shortcut, short and pin 4321 or 43210"),
            "a shortcut, *** and pin *** or 43210"
        );
    }

    #[test]
    fn no_limit_on_the_number_of_values() {
        let values: serde_json::Map<String, Value> = (0..500)
            .map(|i| (format!("k{i}"), json!(format!("secret-value-{i:04}"))))
            .collect();
        let cred = Value::Object(values);
        let scrubber = Scrubber::new(&[&cred]);
        let text: String = (0..500).map(|i| format!("secret-value-{i:04} ")).collect();
        let clean = scrubber.scrub(&text);
        assert!(!clean.contains("secret-value"), "{clean}");
        assert_eq!(clean.matches("***").count(), 500);
    }

    #[test]
    fn nested_json_values_keys_and_numbers_are_scrubbed() {
        let cred = json!({"access_token": "tok-123456", "pin": 987654});
        let scrubber = Scrubber::new(&[&cred]);
        let mut state = json!({"data": {"echo": "Bearer tok-123456", "n": 987654, "list": ["tok-123456"], "tok-123456": 1, "json": "{\"t\":\"tok-123456\"}"}});
        scrubber.scrub_json(&mut state);
        let text = state.to_string();
        assert!(!text.contains("tok-123456"), "{text}");
        assert!(!text.contains("987654"), "{text}");
        assert_eq!(state["data"]["echo"], "Bearer ***");
        assert_eq!(state["data"]["n"], "***");
    }

    #[test]
    fn without_credentials_nothing_changes() {
        let scrubber = Scrubber::new(&[]);
        assert!(scrubber.is_empty());
        assert_eq!(scrubber.scrub("anything"), "anything");
    }
}
