//! postgres errors classified by SQLSTATE (or, without one, by what failed), with messages
//! that leave out DETAIL (it repeats key values and whole rows) and quoted input values.

use crate::error::{ConstraintKind, Error, ErrorKind};

pub(crate) fn error(e: &postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        return Error::new(kind_of(code), message_of(code, db.message()));
    }
    if e.is_closed() {
        return Error::new(
            ErrorKind::Unreachable,
            "the connection to PostgreSQL was closed",
        );
    }
    // Without a SQLSTATE: the client's own checks (a parameter that could not be encoded,
    // a column that could not be decoded, a wrong parameter count: their causes are this
    // crate's messages or name no value), bad settings, or a failure to reach or talk to
    // the server.
    let mut text = e.to_string();
    if let Some(cause) = std::error::Error::source(e) {
        text = format!("{text}: {cause}");
    }
    let kind = if [
        "error serializing",
        "error deserializing",
        "expected ",
        "invalid column",
        "query returned",
    ]
    .iter()
    .any(|p| text.starts_with(p))
    {
        ErrorKind::Other
    } else if text.starts_with("authentication error") || text.starts_with("invalid configuration")
    {
        ErrorKind::Config
    } else {
        ErrorKind::Unreachable
    };
    Error::new(kind, text)
}

fn kind_of(code: &str) -> ErrorKind {
    match code {
        "23505" => ErrorKind::Constraint(ConstraintKind::Unique),
        "23503" => ErrorKind::Constraint(ConstraintKind::ForeignKey),
        "23514" => ErrorKind::Constraint(ConstraintKind::Check),
        "23502" => ErrorKind::Constraint(ConstraintKind::NotNull),
        c if c.starts_with("23") => ErrorKind::Constraint(ConstraintKind::Other),
        // Connection exceptions; the server shutting down, crashing, starting up or
        // terminating this backend; too many connections: all pass, so retry later.
        c if c.starts_with("08") => ErrorKind::Unreachable,
        "57P01" | "57P02" | "57P03" | "53300" => ErrorKind::Unreachable,
        // Disk full, out of memory on the server, I/O error.
        "53100" | "53200" | "58030" => ErrorKind::Storage,
        // A deadlock's victim, a serialization failure: the transaction may simply be run again.
        "40P01" | "40001" => ErrorKind::Conflict,
        // Bad credentials, a database that doesn't exist: the settings are wrong.
        c if c.starts_with("28") => ErrorKind::Config,
        "3D000" => ErrorKind::Config,
        _ => ErrorKind::Other,
    }
}

/// The server's message, with the input value cut from data exceptions (class 22), whose
/// messages quote it (`invalid input syntax for type bigint: "…"`).
fn message_of(code: &str, message: &str) -> String {
    if code.starts_with("22")
        && let Some(at) = message.find(": \"")
    {
        return message[..at].to_string();
    }
    message.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_map_to_kinds() {
        assert_eq!(
            kind_of("23505"),
            ErrorKind::Constraint(ConstraintKind::Unique)
        );
        assert_eq!(
            kind_of("23000"),
            ErrorKind::Constraint(ConstraintKind::Other)
        );
        assert_eq!(kind_of("08006"), ErrorKind::Unreachable);
        assert_eq!(kind_of("57P01"), ErrorKind::Unreachable);
        assert_eq!(kind_of("53100"), ErrorKind::Storage);
        assert_eq!(kind_of("28P01"), ErrorKind::Config);
        assert_eq!(kind_of("42601"), ErrorKind::Other);
    }

    #[test]
    fn data_exception_messages_lose_the_value() {
        assert_eq!(
            message_of(
                "22P02",
                "invalid input syntax for type bigint: \"my secret\""
            ),
            "invalid input syntax for type bigint"
        );
        assert_eq!(
            message_of("42601", "syntax error at or near \"x\""),
            "syntax error at or near \"x\""
        );
    }
}
