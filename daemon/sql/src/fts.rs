//! Full-text search that finds the same documents on both backends.
//!
//! SQLite indexes text with FTS5's default `unicode61` tokenizer: a token is a run of
//! letters and digits, case-folded, with diacritics removed. PostgreSQL's own parsers
//! split differently (an e-mail address or a URL is one token there, `foo-bar` three), so
//! on PostgreSQL the text is tokenized here the unicode61 way and stored as a ready
//! `tsvector` (lexemes with positions), and queries are ready `tsquery`s: the server only
//! matches, it never parses words.
//!
//! The query language is the store's: whitespace-separated words that must all appear
//! as whole tokens, `word*` for a token prefix; a word that tokenizes into several tokens
//! (`user@example.com`) must appear as that phrase.
//!
//! | | SQLite (`search_fts`, FTS5) | PostgreSQL (`search_fts`, tsvector + GIN) |
//! |---|---|---|
//! | index | `INSERT … (rowid, text) VALUES (?1, ?2)` with the text | `INSERT … (rowid, text) VALUES (?1, CAST(?2 AS tsvector))` with [`tsvector`] |
//! | match | `search_fts MATCH ?` with [`Query::fts5`] | `text @@ CAST(? AS tsquery)` with [`Query::tsquery`] |

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The highest position a tsvector stores; later tokens share it (phrases that far into a
/// document match loosely there).
const MAX_POSITION: usize = 16_383;

/// The tokens of `text`, as FTS5's unicode61 tokenizer makes them.
pub fn tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            fold_into(c, &mut current);
        } else if is_combining_mark(c) {
            // A decomposed accent belongs to the letter before it, and is dropped.
        } else if !current.is_empty() {
            tokens.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// Lower-cases `c` and removes its diacritics.
fn fold_into(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    for lower in c.to_lowercase() {
        out.extend(
            std::iter::once(lower)
                .nfd()
                .filter(|d| !is_combining_mark(*d)),
        );
    }
}

/// PostgreSQL's longest lexeme: a longer word can't be indexed (its own `to_tsvector`
/// leaves such words out too).
const MAX_LEXEME_BYTES: usize = 2047;

/// What a tsvector may hold, with room to spare under PostgreSQL's 1 MB: words past it
/// (and positions of words already in) are left out of the index.
const MAX_TSVECTOR_BYTES: usize = 900_000;

/// `text` as a tsvector literal for `CAST(? AS tsvector)`: each token with its positions.
/// Words PostgreSQL can't index (too long, or past what a tsvector holds) are left out.
pub fn tsvector(text: &str) -> String {
    let mut positions: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    // PostgreSQL's size of the tsvector: per lexeme its bytes and an entry, 2 bytes per
    // position (estimated generously).
    let mut size = 0;
    for (i, token) in tokens(text).into_iter().enumerate() {
        if token.len() > MAX_LEXEME_BYTES {
            continue;
        }
        let added = if positions.contains_key(&token) {
            2
        } else {
            token.len() + 8 + 2
        };
        if size + added > MAX_TSVECTOR_BYTES {
            continue;
        }
        let at = positions.entry(token).or_default();
        // PostgreSQL keeps at most 256 positions per lexeme.
        if at.len() < 256 {
            at.push((i + 1).min(MAX_POSITION));
            size += added;
        }
    }
    let mut out = String::new();
    for (token, at) in positions {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&quote(&token));
        out.push(':');
        let mut at = at;
        at.dedup();
        let list: Vec<String> = at.iter().map(ToString::to_string).collect();
        out.push_str(&list.join(","));
    }
    out
}

/// A lexeme in tsvector/tsquery syntax: single-quoted, quotes and backslashes escaped.
fn quote(token: &str) -> String {
    format!("'{}'", token.replace('\\', "\\\\").replace('\'', "''"))
}

/// One word of a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub word: String,
    pub prefix: bool,
}

/// A search: every term must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub terms: Vec<Term>,
}

impl Query {
    /// Reads what a person typed: whitespace-separated words, `word*` a prefix. Quotes and
    /// stars inside words are dropped. None when nothing is left to search for.
    pub fn parse(text: &str) -> Option<Query> {
        let terms: Vec<Term> = text
            .split_whitespace()
            .filter_map(|word| {
                let prefix = word.ends_with('*');
                let bare: String = word.chars().filter(|c| *c != '"' && *c != '*').collect();
                (!bare.is_empty()).then_some(Term { word: bare, prefix })
            })
            .collect();
        (!terms.is_empty()).then_some(Query { terms })
    }

    /// The FTS5 query: each term a quoted string (a phrase of its tokens), `*` after a
    /// prefix term.
    pub fn fts5(&self) -> String {
        let terms: Vec<String> = self
            .terms
            .iter()
            .map(|t| {
                let quoted = format!("\"{}\"", t.word.replace('"', "\"\""));
                if t.prefix {
                    format!("{quoted}*")
                } else {
                    quoted
                }
            })
            .collect();
        terms.join(" ")
    }

    /// The tsquery literal for `CAST(? AS tsquery)`: terms joined by `&`, a term of several
    /// tokens a `<->` phrase, `:*` on a prefix term's last token. A term without tokens
    /// (only punctuation) is left out, as FTS5 leaves out an empty phrase; None when no
    /// term is left (the search matches nothing).
    pub fn tsquery(&self) -> Option<String> {
        let mut parts = Vec::new();
        for term in &self.terms {
            let tokens = tokens(&term.word);
            let Some(last) = tokens.len().checked_sub(1) else {
                continue;
            };
            let phrase: Vec<String> = tokens
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let lexeme = quote(t);
                    if term.prefix && i == last {
                        format!("{lexeme}:*")
                    } else {
                        lexeme
                    }
                })
                .collect();
            let phrase = phrase.join(" <-> ");
            parts.push(if tokens.len() > 1 {
                format!("({phrase})")
            } else {
                phrase
            });
        }
        (!parts.is_empty()).then(|| parts.join(" & "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unicode61s() {
        assert_eq!(
            tokens("User@Example.com sent foo-bar, v1.2 at 10:30 (Café crème) naïve_x"),
            [
                "user", "example", "com", "sent", "foo", "bar", "v1", "2", "at", "10", "30",
                "cafe", "creme", "naive", "x"
            ]
        );
        assert_eq!(tokens("e\u{301}te\u{301}"), ["ete"]);
        assert!(tokens(" -- ").is_empty());
    }

    #[test]
    fn tsvectors_hold_positions_and_escape_quotes() {
        assert_eq!(tsvector("b a b"), "'a':2 'b':1,3");
        assert_eq!(tsvector("it's"), "'it':1 's':2");
        assert_eq!(tsvector(""), "");
    }

    #[test]
    fn queries_for_both_backends() {
        let q = Query::parse("Alpha be* user@example.com \"x\"* *").unwrap();
        assert_eq!(q.fts5(), r#""Alpha" "be"* "user@example.com" "x"*"#);
        assert_eq!(
            q.tsquery().unwrap(),
            "'alpha' & 'be':* & ('user' <-> 'example' <-> 'com') & 'x':*"
        );
        assert_eq!(Query::parse("  "), None);
        assert_eq!(Query::parse("-- x").unwrap().tsquery().unwrap(), "'x'");
        assert_eq!(Query::parse("-- ..").unwrap().tsquery(), None);
    }
}
