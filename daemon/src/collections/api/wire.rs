//! How the collections API writes and reads its values: timestamps, cursors, items, and
//! the stream's query parameters.

use crate::collections::pattern::KeyPattern;
use crate::collections::rules::ItemQuery;
use crate::store::collections::Item;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde_json::{Map, Value};

/// Lightning's default page size when a request gives no `limit`.
pub const DEFAULT_LIMIT: usize = 1000;
const QUERY_PARAMS: &[&str] = &[
    "key",
    "cursor",
    "limit",
    "created_after",
    "created_before",
    "updated_after",
    "updated_before",
];

/// RFC 3339 with microseconds, as Lightning writes `utc_datetime_usec`.
pub fn timestamp(micros: i64) -> String {
    crate::store::from_micros(micros)
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

pub(super) fn parse_timestamp(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.timestamp_micros())
}

/// A page cursor: base64 of the last item's `created` timestamp, as Lightning's.
pub fn encode_cursor(created_at: i64) -> String {
    STANDARD.encode(timestamp(created_at))
}

pub fn decode_cursor(cursor: &str) -> Option<i64> {
    // A `+` sent unencoded in a query arrives as a space.
    let cursor = cursor.trim().replace(' ', "+");
    let bytes = STANDARD
        .decode(&cursor)
        .or_else(|_| STANDARD_NO_PAD.decode(&cursor))
        .ok()?;
    parse_timestamp(std::str::from_utf8(&bytes).ok()?)
}

/// One item as Lightning encodes it: keys in alphabetical order.
pub(super) fn encode_item(out: &mut String, item: &Item) {
    out.push_str("{\"created\":\"");
    out.push_str(&timestamp(item.created_at));
    out.push_str("\",\"key\":");
    out.push_str(&serde_json::to_string(&item.key).unwrap_or_default());
    out.push_str(",\"updated\":\"");
    out.push_str(&timestamp(item.updated_at));
    out.push_str("\",\"value\":");
    out.push_str(&serde_json::to_string(&item.value).unwrap_or_default());
    out.push('}');
}

/// Reads the stream's query parameters (`None` means 400 with the message).
pub(super) fn item_query(query: &Map<String, Value>) -> Result<(ItemQuery, usize), String> {
    if let Some(unknown) = query.keys().find(|k| !QUERY_PARAMS.contains(&k.as_str())) {
        return Err(format!(
            "unknown query parameter `{unknown}`: use {}",
            QUERY_PARAMS.join(", ")
        ));
    }
    let text = |name: &str| query.get(name).and_then(Value::as_str);
    let limit = match text("limit") {
        None => DEFAULT_LIMIT,
        Some(limit) => limit
            .parse::<usize>()
            .map_err(|_| format!("limit `{limit}` is not a whole number"))?,
    };
    let time = |name: &str| -> Result<Option<i64>, String> {
        match text(name) {
            None => Ok(None),
            Some(value) => parse_timestamp(value).map(Some).ok_or_else(|| {
                format!("{name} `{value}` is not an ISO 8601 date and time with a zone (e.g. 2025-05-01T00:00:00Z)")
            }),
        }
    };
    let after = match text("cursor") {
        None | Some("") => None,
        Some(cursor) => Some(
            decode_cursor(cursor)
                .ok_or_else(|| format!("cursor `{cursor}` is not one this server gave"))?,
        ),
    };
    Ok((
        ItemQuery {
            pattern: text("key").map(KeyPattern::new),
            after,
            created_after: time("created_after")?,
            created_before: time("created_before")?,
            updated_after: time("updated_after")?,
            updated_before: time("updated_before")?,
        },
        limit,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triggers::webhook::form_pairs;

    #[test]
    fn cursors_are_lightnings_base64_timestamps() {
        let at = 1_746_171_000_123_456; // 2025-05-02T07:30:00.123456Z
        assert_eq!(timestamp(at), "2025-05-02T07:30:00.123456Z");
        let cursor = encode_cursor(at);
        assert_eq!(cursor, STANDARD.encode("2025-05-02T07:30:00.123456Z"));
        assert_eq!(decode_cursor(&cursor), Some(at));
        assert_eq!(decode_cursor(cursor.trim_end_matches('=')), Some(at));
        assert_eq!(decode_cursor("bm90IGEgZGF0ZQ=="), None);
        assert_eq!(decode_cursor("***"), None);
    }

    #[test]
    fn items_encode_with_lightnings_key_order() {
        let mut out = String::new();
        encode_item(
            &mut out,
            &Item {
                key: "k\"1".into(),
                value: "{\"a\":1}".into(),
                created_at: 0,
                updated_at: 1,
            },
        );
        assert_eq!(
            out,
            r#"{"created":"1970-01-01T00:00:00.000000Z","key":"k\"1","updated":"1970-01-01T00:00:00.000001Z","value":"{\"a\":1}"}"#
        );
    }

    #[test]
    fn query_parameters_are_checked() {
        let parse = |q: &str| item_query(&form_pairs(q));
        let (query, limit) = parse("key=waiting%3A*&limit=2").unwrap();
        assert_eq!(limit, 2);
        assert_eq!(query.pattern, Some(KeyPattern::new("waiting:*")));
        let (query, limit) = parse("created_after=2025-05-01T00:00:00Z").unwrap();
        assert_eq!(limit, DEFAULT_LIMIT);
        assert_eq!(query.created_after, Some(1_746_057_600_000_000));
        assert!(parse("colour=red").unwrap_err().contains("colour"));
        assert!(parse("limit=ten").is_err());
        assert!(parse("limit=-1").is_err());
        assert!(parse("updated_after=2025-05-01").is_err());
        assert!(parse("cursor=nope").is_err());
    }
}
