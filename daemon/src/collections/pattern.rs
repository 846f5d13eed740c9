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
    use crate::collections::rules::ItemQuery;
    use crate::store::collections as store;
    use crate::store::suite::{on_each_backend, seed};

    /// Checks each (pattern, key, whether it matches) by storing the key alone in a
    /// collection and asking for the pattern's page, on each backend.
    fn check(cases: &[(&str, &str, bool)]) {
        on_each_backend(|db| {
            seed(
                db,
                "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0)",
            );
            store::create(db, "p", "c", 0).unwrap();
            let c = store::find(db, "p", "c").unwrap().unwrap();
            for (at, &(pattern, key, expected)) in (1..).zip(cases) {
                store::delete_matching(db, &c.id, None, at).unwrap();
                let item = [(key.to_string(), "v".to_string())];
                store::write_items(db, &c.id, &item, &[None], 0, at).unwrap();
                let query = ItemQuery {
                    pattern: Some(KeyPattern::new(pattern)),
                    ..ItemQuery::default()
                };
                let found = store::page(db, &c.id, &query.range(), 10).unwrap();
                assert_eq!(
                    !found.is_empty(),
                    expected,
                    "pattern {pattern:?}, key {key:?} on {:?}",
                    db.dialect()
                );
            }
        });
    }

    #[test]
    fn star_matches_any_run_and_the_rest_matches_itself() {
        check(&[
            ("waiting:*", "waiting:0001", true),
            ("waiting:*", "waiting:", true),
            ("waiting:*", "called:0001", false),
            ("foo:*:bar*", "foo:123:bar1", true),
            ("foo:*:bar*", "foo:234:boo", false),
            ("*", "", true),
            ("exact", "exact", true),
            ("exact", "exactly", false),
        ]);
    }

    #[test]
    fn case_counts_as_in_postgres() {
        check(&[("Waiting:*", "waiting:1", false), ("ward", "WARD", false)]);
    }

    #[test]
    fn underscore_is_one_character_as_in_lightning() {
        check(&[
            ("a_c", "abc", true),
            ("a_c", "a_c", true),
            ("a_c", "ac", false),
            ("2025-05:_*", "2025-05:é1", true),
        ]);
    }

    #[test]
    fn glob_specials_and_like_specials_are_literal() {
        let mut cases: Vec<(&str, &str, bool)> = [
            "a?c",
            "a[b]c",
            "a]c",
            "100%",
            "back\\slash",
            "a.c",
            "[",
            "a%_",
            "x^$|",
        ]
        .into_iter()
        .map(|key| (key, key, true))
        .collect();
        cases.extend([
            ("a?c", "abc", false),
            ("a[b]c", "abc", false),
            ("100%", "1000", false),
            ("[*]", "[anything]", true),
            ("a%_", "a%%", true),
            ("a%_", "abc", false),
            ("a.c", "abc", false),
            ("[", "a", false),
        ]);
        check(&cases);
    }

    #[test]
    fn patterns_are_keys_with_a_star() {
        assert!(is_pattern("a*"));
        assert!(!is_pattern("a_b"));
    }
}
