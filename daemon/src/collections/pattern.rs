//! Key patterns as Lightning reads them: `*` matches any run of characters, and, because
//! Lightning hands the pattern to SQL `LIKE` after escaping only `\` and `%`, `_` matches
//! any one character. Everything else matches itself, case-sensitively (Postgres `LIKE`).
//!
//! SQLite's `LIKE` ignores ASCII case, so patterns become `GLOB` patterns (case-sensitive),
//! with GLOB's own special characters (`?`, `[`, `]`) escaped as one-character classes.

/// A key pattern, ready for `key GLOB ?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPattern {
    glob: String,
}

impl KeyPattern {
    pub fn new(pattern: &str) -> KeyPattern {
        let mut glob = String::with_capacity(pattern.len() + 4);
        for c in pattern.chars() {
            match c {
                '*' => glob.push('*'),
                '_' => glob.push('?'),
                '?' => glob.push_str("[?]"),
                '[' => glob.push_str("[[]"),
                ']' => glob.push_str("[]]"),
                other => glob.push(other),
            }
        }
        KeyPattern { glob }
    }

    /// The GLOB pattern text.
    pub fn glob(&self) -> &str {
        &self.glob
    }
}

/// Whether a key given to `get`/`rm` is a pattern: the adaptor treats a key with `*` as
/// one (and sends it as a query), any other as a key.
pub fn is_pattern(key: &str) -> bool {
    key.contains('*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn matches(pattern: &str, key: &str) -> bool {
        let conn = Connection::open_in_memory().unwrap();
        conn.query_row(
            "SELECT ?1 GLOB ?2",
            rusqlite::params![key, KeyPattern::new(pattern).glob()],
            |r| r.get(0),
        )
        .unwrap()
    }

    #[test]
    fn star_matches_any_run_and_the_rest_matches_itself() {
        assert!(matches("waiting:*", "waiting:0001"));
        assert!(matches("waiting:*", "waiting:"));
        assert!(!matches("waiting:*", "called:0001"));
        assert!(matches("foo:*:bar*", "foo:123:bar1"));
        assert!(!matches("foo:*:bar*", "foo:234:boo"));
        assert!(matches("*", ""));
        assert!(matches("exact", "exact"));
        assert!(!matches("exact", "exactly"));
    }

    #[test]
    fn case_counts_as_in_postgres() {
        assert!(!matches("Waiting:*", "waiting:1"));
        assert!(!matches("ward", "WARD"));
    }

    #[test]
    fn underscore_is_one_character_as_in_lightning() {
        assert!(matches("a_c", "abc"));
        assert!(matches("a_c", "a_c"));
        assert!(!matches("a_c", "ac"));
        assert!(matches("2025-05:_*", "2025-05:é1"));
    }

    #[test]
    fn glob_specials_and_like_specials_are_literal() {
        for key in ["a?c", "a[b]c", "a]c", "100%", "back\\slash", "a.c"] {
            assert!(matches(key, key), "{key}");
        }
        assert!(!matches("a?c", "abc"));
        assert!(!matches("a[b]c", "abc"));
        assert!(!matches("100%", "1000"));
        assert!(matches("[*]", "[anything]"));
    }

    #[test]
    fn patterns_are_keys_with_a_star() {
        assert!(is_pattern("a*"));
        assert!(!is_pattern("a_b"));
    }
}
