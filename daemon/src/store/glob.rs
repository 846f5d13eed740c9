//! SQLite's `GLOB` on PostgreSQL: a GLOB pattern as an anchored POSIX regular expression
//! (`key ~ ?`) that matches exactly the strings GLOB matches.
//!
//! GLOB, as SQLite reads it: `*` any run of characters, `?` any one character, `[…]` one
//! character of a set (`^` first inverts it, `]` first is a member, `a-z` a range, `-`
//! first or last is a member, a range whose ends are reversed holds nothing), an unclosed
//! `[` matches nothing; everything else matches itself, case-sensitively.

/// Never matches: a literal followed by the start-of-string anchor.
const NEVER: &str = "a^";

/// The regular expression matching what `glob` matches.
pub fn to_regex(glob: &str) -> String {
    let chars: Vec<char> = glob.chars().collect();
    let mut out = String::with_capacity(glob.len() + 8);
    out.push('^');
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => match set(&chars[i + 1..]) {
                Some((set, used)) => {
                    out.push_str(&set);
                    i += used;
                }
                None => return NEVER.to_string(),
            },
            c => push_literal(&mut out, c),
        }
        i += 1;
    }
    out.push('$');
    out
}

/// A set's regex and how many characters after its `[` it used (through its `]`), or
/// None when it never closes.
fn set(rest: &[char]) -> Option<(String, usize)> {
    let mut i = 0;
    let invert = rest.first() == Some(&'^');
    if invert {
        i += 1;
    }
    let mut singles = Vec::new();
    let mut ranges = Vec::new();
    if rest.get(i) == Some(&']') {
        singles.push(']');
        i += 1;
    }
    // The member a `-` may start a range from (none right after a range or at the start).
    let mut prior: Option<char> = None;
    loop {
        let c = *rest.get(i)?;
        if c == ']' {
            break;
        }
        let next = rest.get(i + 1).copied();
        match (c, prior, next) {
            ('-', Some(low), Some(high)) if high != ']' => {
                if low <= high {
                    // `low` was taken as a member already; the range holds it too.
                    ranges.push((low, high));
                }
                prior = None;
                i += 2;
            }
            _ => {
                singles.push(c);
                prior = Some(c);
                i += 1;
            }
        }
    }
    let regex = if singles.is_empty() && ranges.is_empty() {
        if invert {
            ".".to_string()
        } else {
            NEVER.to_string()
        }
    } else {
        let mut regex = String::from(if invert { "[^" } else { "[" });
        for c in singles {
            push_literal(&mut regex, c);
        }
        for (low, high) in ranges {
            push_literal(&mut regex, low);
            regex.push('-');
            push_literal(&mut regex, high);
        }
        regex.push(']');
        regex
    };
    Some((regex, i + 1))
}

/// `c` as itself, inside or outside a bracket expression: ASCII punctuation escaped with
/// `\` (which in PostgreSQL's regular expressions makes any non-alphanumeric literal).
fn push_literal(out: &mut String, c: char) {
    if c.is_ascii_punctuation() {
        out.push('\\');
    }
    out.push(c);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite::on_each_backend;
    use bolt_sql::{Db, DbExt, Dialect, params};

    const PATTERNS: &[&str] = &[
        "*", "", "a*", "*a", "a?c", "a[?]c", "a[*]c", "[[]x", "x[]]", "[]]", "[^]]", "[]a]",
        "[a-c]", "[^a-c]", "[c-a]", "[^c-a]", "[-a]", "[a-]", "[a-c-e]", "[!-/]", "[\\]", "a%b",
        "a_b", "a\\b", "100%", "%", "_", "[%_]", "x[", "*[", "[^", "a.c", "a+", "(a)", "{1}", "$",
        "^a", "a|b", "é?", "[à-ÿ]", "*:*:*", "a\nb", "a?", "[é]", "**", "?*?", "[a-c]*", "*[^a]",
        "\t*",
    ];
    const KEYS: &[&str] = &[
        "", "a", "abc", "a?c", "a*c", "[x", "x]", "]", "b", "d", "-", "e", "\"", "\\", "a%b",
        "a_b", "axb", "a\\b", "100%", "1000", "%", "_", "x", "a.c", "a+", "aa", "(a)", "{1}", "$",
        "^a", "a|b", "é", "éx", "ä", "1:2:3", "a\nb", "ab", "A", "ABC", "a?", "x[", "a\n", "\na",
        "c", "[", "cab", "\t",
    ];

    fn glob_matches(sqlite: &rusqlite::Connection, pattern: &str, key: &str) -> bool {
        sqlite
            .query_row("SELECT ?1 GLOB ?2", rusqlite::params![key, pattern], |r| {
                r.get(0)
            })
            .expect("GLOB answers")
    }

    fn regex_matches(db: &dyn Db, pattern: &str, key: &str) -> bool {
        let regex = to_regex(pattern);
        db.query_one("SELECT ?1 ~ ?2", params![key, regex])
            .unwrap_or_else(|e| panic!("{pattern:?} as {regex:?}: {e}"))
    }

    #[test]
    fn the_regex_matches_what_glob_matches() {
        let sqlite = rusqlite::Connection::open_in_memory().expect("an in-memory SQLite");
        on_each_backend(|db| {
            if db.dialect() != Dialect::Postgres {
                return;
            }
            for pattern in PATTERNS {
                for key in KEYS {
                    assert_eq!(
                        regex_matches(db, pattern, key),
                        glob_matches(&sqlite, pattern, key),
                        "pattern {pattern:?}, key {key:?}, regex {:?}",
                        to_regex(pattern)
                    );
                }
            }
        });
    }

    #[test]
    fn sets_and_literals_become_bracket_expressions_and_escapes() {
        assert_eq!(to_regex("a*"), "^a.*$");
        assert_eq!(to_regex("a[?]_%"), "^a[\\?]\\_\\%$");
        assert_eq!(to_regex("[^]a-c]"), "^[^\\]aa-c]$");
        assert_eq!(to_regex("x["), NEVER);
        // A reversed range holds nothing, its first end is still a member (as in SQLite).
        assert_eq!(to_regex("[c-a]"), "^[c]$");
    }
}
