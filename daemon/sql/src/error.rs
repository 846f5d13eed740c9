//! One error type for both backends, classified by what the caller should do about it.
//!
//! Messages carry the first words of the statement for context and never a parameter's
//! value, nor PostgreSQL's DETAIL (which repeats key values and whole rows).

use std::fmt;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A unique, foreign key, check or not-null constraint refused the change.
    Constraint(ConstraintKind),
    /// The database could not be reached or the connection was lost: answer 503 and try
    /// again later (the pool reconnects by itself).
    Unreachable,
    /// The disk is full or the storage failed (an I/O error).
    Storage,
    /// A column could not be read as the asked-for Rust type.
    Conversion,
    /// Connection settings are wrong (the URL, a certificate file).
    Config,
    /// Another transaction conflicted with this one (PostgreSQL chose it as a deadlock's
    /// victim, or a serialization failure): running it again usually succeeds.
    Conflict,
    /// The database's schema is newer than this build knows.
    SchemaTooNew { found: i64, known: i64 },
    /// Anything else: a bad statement, a type mismatch, a busy database.
    Other,
}

/// Which constraint refused a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    Unique,
    ForeignKey,
    Check,
    NotNull,
    /// A trigger or another integrity rule (e.g. the audit log's append-only guard).
    Other,
}

impl fmt::Display for ConstraintKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConstraintKind::Unique => "unique",
            ConstraintKind::ForeignKey => "foreign key",
            ConstraintKind::Check => "check",
            ConstraintKind::NotNull => "not null",
            ConstraintKind::Other => "integrity",
        })
    }
}

/// An error from the SQL layer.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.describe())]
pub struct Error {
    kind: ErrorKind,
    message: String,
    /// The first words of the statement that failed.
    statement: Option<String>,
    /// SQLite's own error, for callers that tell disk faults apart by its codes (a full
    /// disk, a read-only file system, an I/O error each get their own advice).
    sqlite: Option<Box<rusqlite::Error>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            statement: None,
            sqlite: None,
        }
    }

    pub(crate) fn with_sqlite_source(mut self, source: rusqlite::Error) -> Self {
        self.sqlite = Some(Box::new(source));
        self
    }

    /// The SQLite error this came from, when it came from SQLite.
    pub fn sqlite_error(&self) -> Option<&rusqlite::Error> {
        self.sqlite.as_deref()
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, message)
    }

    /// Names the statement this error came from (its first words only).
    pub(crate) fn in_statement(mut self, sql: &str) -> Self {
        if self.statement.is_none() && !sql.trim().is_empty() {
            self.statement = Some(first_words(sql));
        }
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The database's (or this layer's) message, without the statement.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The first words of the statement that failed, if any.
    pub fn statement(&self) -> Option<&str> {
        self.statement.as_deref()
    }

    pub fn is_constraint(&self) -> bool {
        matches!(self.kind, ErrorKind::Constraint(_))
    }

    pub fn is_unique_violation(&self) -> bool {
        self.kind == ErrorKind::Constraint(ConstraintKind::Unique)
    }

    pub fn is_conflict(&self) -> bool {
        self.kind == ErrorKind::Conflict
    }

    pub fn is_unreachable(&self) -> bool {
        self.kind == ErrorKind::Unreachable
    }

    fn describe(&self) -> String {
        let what = match self.kind {
            ErrorKind::Unreachable => format!("database unreachable: {}", self.message),
            ErrorKind::Storage => format!("storage failure: {}", self.message),
            ErrorKind::Conversion => format!("cannot read {}", self.message),
            ErrorKind::Constraint(_)
            | ErrorKind::Config
            | ErrorKind::SchemaTooNew { .. }
            | ErrorKind::Conflict
            | ErrorKind::Other => self.message.clone(),
        };
        match &self.statement {
            Some(sql) => format!("{what} (in `{sql}`)"),
            None => what,
        }
    }
}

/// A rusqlite error, classified (for store code that still calls rusqlite directly, e.g.
/// PRAGMAs).
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        crate::sqlite::error(e)
    }
}

/// A postgres error, classified (without its DETAIL).
impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Error {
        crate::pg::errors::error(&e)
    }
}

/// The first few words of a statement, whitespace collapsed: enough to find it in the
/// code, short enough for a log line. Literals written into the SQL text are code, not
/// user data, so they may appear; parameters never do.
pub(crate) fn first_words(sql: &str) -> String {
    const WORDS: usize = 6;
    const MAX_CHARS: usize = 80;
    let mut words = sql.split_whitespace();
    let mut out: String = words.by_ref().take(WORDS).collect::<Vec<_>>().join(" ");
    let more = words.next().is_some();
    if out.chars().count() > MAX_CHARS {
        out = out.chars().take(MAX_CHARS).collect();
        out.push('…');
    } else if more {
        out.push_str(" …");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_cut_to_their_first_words() {
        assert_eq!(
            first_words("INSERT INTO projects (id, name,\n   created_at) VALUES (?1, ?2, ?3)"),
            "INSERT INTO projects (id, name, created_at) …"
        );
        assert_eq!(first_words("SELECT 1"), "SELECT 1");
        let e = Error::new(
            ErrorKind::Constraint(ConstraintKind::Unique),
            "UNIQUE constraint failed: projects.name",
        )
        .in_statement("INSERT INTO projects (name) VALUES (?1)");
        assert_eq!(
            e.to_string(),
            "UNIQUE constraint failed: projects.name (in `INSERT INTO projects (name) VALUES (?1)`)"
        );
        assert!(e.is_unique_violation());
    }
}
