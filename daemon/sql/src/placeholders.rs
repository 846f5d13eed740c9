//! SQLite's placeholders (`?1`, `?`) rewritten to PostgreSQL's (`$1`).
//!
//! A bare `?` takes the number one greater than the largest used so far, as in SQLite, so
//! `?, ?3, ?` becomes `$1, $3, $4`. Question marks inside string literals, quoted
//! identifiers and comments are left alone. PostgreSQL's `?`-operators (jsonb) therefore
//! can't be written in shared SQL; nor can named (`:name`) parameters.

/// `n` bare placeholders, comma separated (`?, ?, ?`): an `IN (…)` list or a `VALUES`
/// row of `n` values.
pub fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// The PostgreSQL text of `sql`.
pub fn to_postgres(sql: &str) -> String {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 8);
    let mut highest: u64 = 0;
    let mut i = 0;
    // Copies runs of bytes untouched; only ASCII positions are ever split at, so every
    // slice boundary is a char boundary.
    let mut copied = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"') => {
                i = skip_quoted(bytes, i, quote);
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = bytes[i..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(bytes.len(), |n| i + n + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
            }
            b'?' => {
                out.push_str(&sql[copied..i]);
                let digits_end = bytes[i + 1..]
                    .iter()
                    .position(|b| !b.is_ascii_digit())
                    .map_or(bytes.len(), |n| i + 1 + n);
                let number = if digits_end > i + 1 {
                    sql[i + 1..digits_end].parse::<u64>().unwrap_or(u64::MAX)
                } else {
                    highest + 1
                };
                highest = highest.max(number);
                out.push('$');
                out.push_str(&number.to_string());
                i = digits_end;
                copied = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied..]);
    out
}

/// The index just past the quoted run starting at `start` (a doubled quote inside is an
/// escaped quote, and simply reads as the end of one run and the start of the next).
fn skip_quoted(bytes: &[u8], start: usize, quote: u8) -> usize {
    bytes[start + 1..]
        .iter()
        .position(|b| *b == quote)
        .map_or(bytes.len(), |n| start + 1 + n + 1)
}

#[cfg(test)]
mod tests {
    use super::to_postgres;

    #[test]
    fn numbered_and_bare_placeholders() {
        assert_eq!(
            to_postgres("SELECT * FROM t WHERE a = ?1 AND b = ?2 OR c = ?1"),
            "SELECT * FROM t WHERE a = $1 AND b = $2 OR c = $1"
        );
        assert_eq!(to_postgres("VALUES (?, ?, ?)"), "VALUES ($1, $2, $3)");
        assert_eq!(to_postgres("?, ?3, ?"), "$1, $3, $4");
        assert_eq!(to_postgres("LIMIT ?12"), "LIMIT $12");
        assert_eq!(to_postgres("x=?"), "x=$1");
    }

    #[test]
    fn literals_identifiers_and_comments_are_left_alone() {
        assert_eq!(
            to_postgres("SELECT 'what?', 'it''s ?1', \"odd?col\" FROM t WHERE x = ?"),
            "SELECT 'what?', 'it''s ?1', \"odd?col\" FROM t WHERE x = $1"
        );
        assert_eq!(
            to_postgres("SELECT 1 -- why?\n, ?1 /* really? */ , ?"),
            "SELECT 1 -- why?\n, $1 /* really? */ , $2"
        );
        assert_eq!(to_postgres("SELECT 'é?' || ?1"), "SELECT 'é?' || $1");
        assert_eq!(
            to_postgres("SELECT 'unterminated ?"),
            "SELECT 'unterminated ?"
        );
    }
}
