//! How a handler's failure reaches the client: a store error becomes an [`ErrorBody`] whose
//! code says whose mistake it was.

use crate::store::StoreError;
use bolt_shared::protocol::{ErrorBody, ErrorCode};

impl From<StoreError> for ErrorBody {
    fn from(err: StoreError) -> Self {
        match err {
            // Invalid carries a message meant for the user (what is wrong and how to fix it).
            StoreError::Invalid(message) => ErrorBody::new(ErrorCode::BadRequest, message),
            // The store says what failed and what to do; it logged it once already.
            StoreError::Refusing(refusal) => {
                ErrorBody::new(ErrorCode::Internal, refusal.to_string())
            }
            StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows) | StoreError::NotFound(_) => {
                ErrorBody::new(ErrorCode::NotFound, "not found")
            }
            other => {
                tracing::error!(err = %other, "store error while handling a request");
                ErrorBody::new(
                    ErrorCode::Internal,
                    format!("internal error, see boltd's log ({other})"),
                )
            }
        }
    }
}

/// A user's mistake, with a message that says what is wrong and how to fix it.
pub fn bad_request(message: impl Into<String>) -> ErrorBody {
    ErrorBody::new(ErrorCode::BadRequest, message)
}
