//! The forms a secret value takes when a job or an adaptor writes it: escaped in a JSON
//! string, quoted as Node's `util.inspect` quotes it, base64 (whole or inside a longer
//! base64 text), hex, URL- and form-encoded. The scrubber looks for every one of them.
//!
//! Not covered, on purpose: upper- or lower-casing the value, reversing it, hashing it, or
//! any encoding a job invents; those are not the value any more in a form bolt can know.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// Every form of `value` worth looking for, the value itself first; duplicates removed.
/// Each way of writing the text (raw, JSON- or inspect-escaped) is also looked for encoded:
/// a JSON document that holds the value is base64-encoded or URL-encoded whole.
pub fn written_forms(value: &str) -> Vec<String> {
    let json = json_escaped(value);
    let texts = dedup_keep_order(vec![
        value.to_string(),
        json_escaped(&json),
        json,
        json_ascii_escaped(value),
        inspect_escaped(value, true),
        inspect_escaped(value, false),
    ]);
    let mut forms = texts.clone();
    for text in &texts {
        forms.extend(base64_forms(text.as_bytes()));
        forms.push(hex(text.as_bytes(), false));
        forms.push(hex(text.as_bytes(), true));
        for style in [
            UrlStyle::Component,
            UrlStyle::Uri,
            UrlStyle::Strict,
            UrlStyle::Form,
        ] {
            forms.push(url_encoded(text, style, false));
            forms.push(url_encoded(text, style, true));
        }
    }
    dedup_keep_order(forms)
}

/// base64 of `pair` (a `user:password` text, as in a Basic auth header), in every alphabet.
pub fn pair_forms(pair: &str) -> Vec<String> {
    let bytes = pair.as_bytes();
    dedup_keep_order(vec![
        STANDARD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
        URL_SAFE.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
    ])
}

fn dedup_keep_order(forms: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    forms
        .into_iter()
        .filter(|f| !f.is_empty() && seen.insert(f.clone()))
        .collect()
}

/// The inside of a JSON string (serde_json and `JSON.stringify` escape alike).
pub fn json_escaped(value: &str) -> String {
    let quoted = serde_json::Value::String(value.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

/// JSON with every non-ASCII character as `\uXXXX` (Python's `json.dumps` default).
fn json_ascii_escaped(value: &str) -> String {
    let mut out = String::new();
    for c in json_escaped(value).chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// The inside of a string as Node's `util.inspect` prints it: single quotes (escaped when
/// `single_quoted`; Node switches to double quotes or backticks when the text holds `'`),
/// `\\`, `\n`, `\t`… and `\xHH` (upper-case hex) for other control characters.
fn inspect_escaped(value: &str, single_quoted: bool) -> String {
    let mut out = String::new();
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' if single_quoted => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// base64 of the value alone (padded or not, standard or URL-safe alphabet), plus the part of
/// its encoding that does not depend on what surrounds it when it sits inside a longer text
/// that was encoded whole (a JSON document, `user:password`…): one per byte offset mod 3.
fn base64_forms(bytes: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    for (padded, unpadded) in [(STANDARD, STANDARD_NO_PAD), (URL_SAFE, URL_SAFE_NO_PAD)] {
        forms.push(padded.encode(bytes));
        forms.push(unpadded.encode(bytes));
        for offset in 0..3usize {
            let mut shifted = vec![0u8; offset];
            shifted.extend_from_slice(bytes);
            let encoded = unpadded.encode(&shifted);
            // Character i carries bits 6i..6i+6 of the input: keep those wholly inside the
            // value's bits, 8·offset .. 8·(offset + len).
            let first = (8 * offset).div_ceil(6);
            let end = (8 * (offset + bytes.len())) / 6;
            if end > first && end <= encoded.len() {
                forms.push(encoded[first..end].to_string());
            }
        }
    }
    forms
}

fn hex(bytes: &[u8], upper: bool) -> String {
    bytes
        .iter()
        .map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        })
        .collect()
}

#[derive(Clone, Copy)]
enum UrlStyle {
    /// `encodeURIComponent`: keeps letters, digits and `-_.!~*'()`.
    Component,
    /// `encodeURI`: also keeps the URL's own punctuation `;,/?:@&=+$#`.
    Uri,
    /// RFC 3986 unreserved only: letters, digits and `-._~`.
    Strict,
    /// `application/x-www-form-urlencoded`: letters, digits and `*-._`, space as `+`.
    Form,
}

fn url_encoded(value: &str, style: UrlStyle, lower_hex: bool) -> String {
    let keep = |b: u8| {
        b.is_ascii_alphanumeric()
            || match style {
                UrlStyle::Component => b"-_.!~*'()".contains(&b),
                UrlStyle::Uri => b"-_.!~*'();,/?:@&=+$#".contains(&b),
                UrlStyle::Strict => b"-._~".contains(&b),
                UrlStyle::Form => b"*-._".contains(&b),
            }
    };
    let mut out = String::new();
    for &b in value.as_bytes() {
        if keep(b) {
            out.push(b as char);
        } else if b == b' ' && matches!(style, UrlStyle::Form) {
            out.push('+');
        } else if lower_hex {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const TRICKY: &str = "Tr1cky\"Quote\\Slash";

    #[test]
    fn json_forms_match_what_serializers_write() {
        let forms = written_forms(TRICKY);
        let stringified = serde_json::to_string(&serde_json::json!({ "p": TRICKY })).unwrap();
        assert!(
            forms
                .iter()
                .any(|f| stringified.contains(f.as_str()) && f != TRICKY),
            "{stringified} {forms:?}"
        );
        // A JSON string inside a JSON string (a stringified body logged as an object).
        let twice = serde_json::to_string(&serde_json::json!({ "body": stringified })).unwrap();
        assert!(forms.iter().any(|f| twice.contains(f.as_str())), "{twice}");
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";
        let pretty = serde_json::to_string_pretty(&serde_json::json!({ "key": pem })).unwrap();
        assert!(
            written_forms(pem)
                .iter()
                .any(|f| pretty.contains(f.as_str())),
            "{pretty}"
        );
        assert!(written_forms("pässwörd").contains(&"p\\u00e4ssw\\u00f6rd".to_string()));
    }

    #[test]
    fn inspect_forms_quote_like_node() {
        let forms = written_forms("it's\\a\nsecret\u{1b}");
        assert!(
            forms.contains(&"it\\'s\\\\a\\nsecret\\x1B".to_string()),
            "{forms:?}"
        );
        assert!(
            forms.contains(&"it's\\\\a\\nsecret\\x1B".to_string()),
            "{forms:?}"
        );
    }

    #[test]
    fn base64_forms_cover_every_alphabet_and_every_offset() {
        let value = "s3cr3t?>value~";
        let forms = written_forms(value);
        for encoded in [
            STANDARD.encode(value),
            STANDARD_NO_PAD.encode(value),
            URL_SAFE.encode(value),
            URL_SAFE_NO_PAD.encode(value),
        ] {
            assert!(forms.contains(&encoded), "{encoded} {forms:?}");
        }
        // Inside a longer encoded text, at each byte offset the value can start at.
        for prefix in ["", "a", "ab", "abc", "{\"password\":\""] {
            let text = format!("{prefix}{value}\"}}");
            for engine in [STANDARD, URL_SAFE] {
                let encoded = engine.encode(&text);
                assert!(
                    forms
                        .iter()
                        .any(|f| f.len() >= 6 && encoded.contains(f.as_str())),
                    "{prefix:?}: {encoded} has none of {forms:?}"
                );
            }
        }
    }

    #[test]
    fn pairs_are_encoded_in_every_alphabet() {
        let forms = pair_forms("admin:p>ss?w0rd");
        assert!(forms.contains(&STANDARD.encode("admin:p>ss?w0rd")));
        assert!(forms.contains(&URL_SAFE_NO_PAD.encode("admin:p>ss?w0rd")));
    }

    #[test]
    fn hex_forms_are_both_cases() {
        let forms = written_forms("k3y!");
        assert!(forms.contains(&"6b337921".to_string()));
        assert!(forms.contains(&"6B337921".to_string()));
    }

    #[test]
    fn url_forms_cover_percent_and_form_encoding() {
        let value = "p@ss w/rd&x=1";
        let forms = written_forms(value);
        for expected in [
            "p%40ss%20w%2Frd%26x%3D1", // encodeURIComponent
            "p@ss%20w/rd&x=1",         // encodeURI
            "p%40ss+w%2Frd%26x%3D1",   // a form field
            "p%40ss%20w%2frd%26x%3d1", // lower-case hex
        ] {
            assert!(
                forms.contains(&expected.to_string()),
                "{expected} {forms:?}"
            );
        }
    }

    #[test]
    fn plain_values_have_few_forms() {
        let forms = written_forms("abcdef123456");
        assert_eq!(forms[0], "abcdef123456");
        assert!(forms.len() < 16, "{forms:?}");
    }
}
