//! Located JSONPath queries. OpenFn's `each`, `source`, `merge`… query the live state object and
//! then mutate what they found, so we return *where* the matches are, not copies of them.

use serde_json::Value;
use serde_json_path::{JsonPath, PathElement};

/// Runs `path` against the JSON document `json_text` and returns a JSON array of locations,
/// each an array of object keys (strings) and array indices (numbers), in match order.
pub fn jsonpath_locate(path: &str, json_text: &str) -> Result<String, String> {
    let document: Value =
        serde_json::from_str(json_text).map_err(|e| format!("invalid JSON document: {e}"))?;
    let query = normalize_path(path);
    let compiled =
        JsonPath::parse(&query).map_err(|e| format!("invalid JSONPath {path:?}: {e}"))?;
    let locations: Vec<Value> = compiled
        .query_located(&document)
        .locations()
        .map(|location| {
            Value::Array(
                location
                    .iter()
                    .map(|element| match element {
                        PathElement::Name(name) => Value::String((*name).to_string()),
                        PathElement::Index(index) => Value::from(*index),
                    })
                    .collect(),
            )
        })
        .collect();
    serde_json::to_string(&locations).map_err(|e| e.to_string())
}

/// Accepts the jsonpath-plus dialect real jobs use on top of RFC 9535: a path without the
/// leading `$` (`data.items`) and JavaScript equality operators in filters (`===`, `!==`).
fn normalize_path(path: &str) -> String {
    let trimmed = path.trim();
    let rooted = if trimmed.starts_with('$') {
        trimmed.to_string()
    } else if trimmed.starts_with('[') {
        format!("${trimmed}")
    } else {
        format!("$.{trimmed}")
    };
    truthy_filters(&rooted.replace("===", "==").replace("!==", "!="))
}

/// jsonpath-plus evaluates filters as JavaScript, so a bare `@.paid` means "is truthy";
/// in RFC 9535 it only means "exists". Rewrites every bare `@…` operand (one not compared
/// with `==`, `<`, … nor passed to a function) into an explicit truthiness test.
fn truthy_filters(path: &str) -> String {
    let chars: Vec<char> = path.chars().collect();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    let mut in_filter = 0usize; // bracket depth inside a filter selector, 0 = outside
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' && i + 1 < chars.len() {
                out.push(chars[i + 1]);
                i += 1;
            } else if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                out.push(c);
            }
            '[' => {
                if in_filter > 0 {
                    in_filter += 1;
                } else if chars.get(i + 1) == Some(&'?') {
                    in_filter = 1;
                }
                out.push(c);
            }
            ']' => {
                in_filter = in_filter.saturating_sub(1);
                out.push(c);
            }
            '@' if in_filter > 0 => {
                let end = operand_end(&chars, i + 1);
                let operand: String = chars[i..end].iter().collect();
                let before = out.trim_end();
                let after: String = chars[end..].iter().collect::<String>();
                let after = after.trim_start();
                let compared = before.ends_with(['=', '<', '>'])
                    || after.starts_with(['=', '<', '>'])
                    || after.starts_with("!=");
                let function_argument = before.ends_with([',', '('])
                    && before
                        .trim_end_matches(['(', ','])
                        .ends_with(|ch: char| ch.is_alphanumeric() || ch == '_' || ch == ')');
                if compared || function_argument {
                    out.push_str(&operand);
                } else {
                    out.push_str(&format!(
                        "({o} && {o} != false && {o} != null && {o} != 0 && {o} != '')",
                        o = operand
                    ));
                }
                i = end;
                continue;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// End (exclusive) of a filter operand `@.a.b['c'][0]` whose `@` is just before `start`.
fn operand_end(chars: &[char], start: usize) -> usize {
    let mut i = start;
    loop {
        match chars.get(i) {
            Some('.') => {
                i += 1;
                while chars.get(i).is_some_and(|ch| {
                    ch.is_alphanumeric() || *ch == '_' || *ch == '$' || *ch == '*'
                }) {
                    i += 1;
                }
            }
            Some('[') => {
                let mut depth = 0usize;
                let mut quote: Option<char> = None;
                while let Some(&ch) = chars.get(i) {
                    i += 1;
                    match (quote, ch) {
                        (Some(q), c) if c == q => quote = None,
                        (Some(_), _) => {}
                        (None, '\'' | '"') => quote = Some(ch),
                        (None, '[') => depth += 1,
                        (None, ']') => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => return i,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    fn locate(path: &str, json: &str) -> Value {
        serde_json::from_str(&jsonpath_locate(path, json).unwrap()).unwrap()
    }

    #[test]
    fn wildcard_over_array_gives_indices() {
        let got = locate(
            "$.data.orders[*]",
            r#"{"data":{"orders":[{"id":1},{"id":2}]}}"#,
        );
        assert_eq!(
            got,
            serde_json::json!([["data", "orders", 0], ["data", "orders", 1]])
        );
    }

    #[test]
    fn filter_with_parentheses_selects_truthy_members() {
        let json = r#"{"data":{"invoices":[{"no":1,"paid":true},{"no":2,"paid":false},{"no":3,"paid":true}]}}"#;
        let got = locate("$.data.invoices[?(@.paid)]", json);
        assert_eq!(
            got,
            serde_json::json!([["data", "invoices", 0], ["data", "invoices", 2]])
        );
        let got = locate("$.data.invoices[?(!@.paid)]", json);
        assert_eq!(got, serde_json::json!([["data", "invoices", 1]]));
        let got = locate("$.data.invoices[?(@.paid == true)]", json);
        assert_eq!(
            got,
            serde_json::json!([["data", "invoices", 0], ["data", "invoices", 2]])
        );
    }

    #[test]
    fn javascript_equality_and_missing_root_are_accepted() {
        let json = r#"{"data":{"xs":[{"k":"a"},{"k":"b"}]}}"#;
        assert_eq!(
            locate("data.xs[?(@.k === 'b')]", json),
            serde_json::json!([["data", "xs", 1]])
        );
    }

    #[test]
    fn missing_path_gives_no_locations_and_bad_path_errors() {
        assert_eq!(locate("$.nope.x", "{}"), serde_json::json!([]));
        assert!(jsonpath_locate("$.[", "{}").is_err());
    }

    #[test]
    fn recursive_descent_and_keys_with_spaces() {
        let json = r#"{"a":{"b c":{"x":1}},"x":2}"#;
        let got = locate("$..x", json);
        assert_eq!(got.as_array().unwrap().len(), 2);
        assert_eq!(
            locate("$.a['b c'].x", json),
            serde_json::json!([["a", "b c", "x"]])
        );
    }
}
