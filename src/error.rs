//! One error type for the whole service, with its status and its message in the user's
//! language. How it answers over HTTP (JSON on `/api`, a page elsewhere) is `web::errors`.

use crate::domain::{fields::FieldErrors, language::Language};
use crate::i18n;
use rocket::http::Status;
use std::collections::BTreeMap;

/// Everything that can go wrong while answering a request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// Malformed input (400).
    #[error("{0}")]
    BadRequest(String),
    /// Not logged in or bad credentials (401; pages redirect to the login page).
    #[error("{0}")]
    Unauthorized(String),
    /// Logged in but not allowed (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such object, or not one this user may see (404).
    #[error("not found")]
    NotFound,
    /// Not allowed in the current state, or a stale version (409).
    #[error("{0}")]
    Conflict(String),
    /// Field-level validation problems (422).
    #[error("validation failed")]
    Validation(FieldErrors),
    /// A value that must be unique is taken (409, with the fields).
    #[error("already exists")]
    Duplicate(FieldErrors),
    /// Body over the configured limit (413).
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// Throttled (429); retry after the given seconds.
    #[error("too many attempts; try again in {0} seconds")]
    TooManyRequests(i64),
    /// The database or another dependency is away (503).
    #[error("{0}")]
    Unavailable(String),
    /// Any other status a catcher answers with (405, 400 from Rocket itself, …).
    #[error("{1}")]
    Status(u16, String),
    /// A bug or an unexpected failure (500); details are logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Shorthand for handler results.
pub type AppResult<T> = Result<T, AppError>;

/// Whether a driver error's message is one of tokio-postgres's for a connection that failed
/// (its `Display` of the kinds Io, Closed and Timeout).
fn transport_failed(message: &str) -> bool {
    message.starts_with("error communicating with the server")
        || message == "connection closed"
        || message.starts_with("timeout waiting for server")
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                AppError::Conflict("err-concurrent-change".into())
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                AppError::Unavailable(info.message().to_string())
            }
            // The connection failed under a query: tokio-postgres's I/O, closed and timeout errors
            // (a host that stopped answering is given up on after `db::tls`'s timeouts). The
            // driver's other errors without a SQL state (a statement's parameters or columns not
            // matching) are bugs, and stay 500.
            Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, info) if transport_failed(info.message()) => {
                AppError::Unavailable(info.message().to_string())
            }
            // Input the database cannot store (a last line of defence; inputs are checked earlier).
            Error::DatabaseError(_, info) if info.message().contains("invalid byte sequence") => {
                AppError::BadRequest("err-unstorable-characters".into())
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<crate::db::PoolError> for AppError {
    fn from(e: crate::db::PoolError) -> Self {
        AppError::Unavailable(format!("the database is not available: {e}"))
    }
}

impl AppError {
    /// The HTTP status.
    pub fn status(&self) -> Status {
        match self {
            AppError::BadRequest(_) => Status::BadRequest,
            AppError::Unauthorized(_) => Status::Unauthorized,
            AppError::Forbidden(_) => Status::Forbidden,
            AppError::NotFound => Status::NotFound,
            AppError::Conflict(_) => Status::Conflict,
            AppError::Validation(_) => Status::UnprocessableEntity,
            AppError::Duplicate(_) => Status::Conflict,
            AppError::PayloadTooLarge => Status::PayloadTooLarge,
            AppError::TooManyRequests(_) => Status::TooManyRequests,
            AppError::Unavailable(_) => Status::ServiceUnavailable,
            AppError::Status(code, _) => Status::from_code(*code).unwrap_or(Status::InternalServerError),
            AppError::Internal(_) => Status::InternalServerError,
        }
    }

    /// The message shown to the client (never internal details).
    pub fn public_message(&self, lang: Language) -> String {
        match self {
            AppError::NotFound => i18n::t(lang, "err-not-found"),
            AppError::Validation(_) => i18n::t(lang, "err-validation"),
            AppError::Duplicate(_) => i18n::t(lang, "err-duplicate"),
            AppError::Internal(_) => i18n::t(lang, "err-internal"),
            AppError::Unavailable(_) => i18n::t(lang, "err-unavailable"),
            AppError::PayloadTooLarge => i18n::t(lang, "err-too-large"),
            AppError::TooManyRequests(secs) => {
                let minutes = (secs + 59) / 60;
                i18n::t_args(lang, "err-too-many-requests", &[("n", i18n::Arg::from(minutes))])
            }
            // Messages written as translation keys ("err-csrf") are translated.
            other => {
                let text = other.to_string();
                if text.starts_with("err-") && !text.contains(' ') { i18n::t(lang, &text) } else { text }
            }
        }
    }

    /// The error a catcher answers with when no guard left a more precise one.
    pub fn from_status(status: Status) -> AppError {
        match status.code {
            401 => AppError::Unauthorized("err-login-required".into()),
            403 => AppError::Forbidden("err-forbidden".into()),
            404 => AppError::NotFound,
            413 => AppError::PayloadTooLarge,
            422 => AppError::Status(422, "err-unprocessable".into()),
            400 => AppError::BadRequest("err-bad-request".into()),
            500 => AppError::Internal("unhandled".into()),
            code => AppError::Status(code, status.reason().unwrap_or("error").to_string()),
        }
    }

    /// Field problems as `{"field": ["message", …]}` in `lang`.
    pub fn fields(&self, lang: Language) -> BTreeMap<String, Vec<String>> {
        match self {
            AppError::Validation(f) | AppError::Duplicate(f) => {
                f.0.iter().map(|(k, v)| (k.clone(), v.iter().map(|e| i18n::field_error(lang, e)).collect())).collect()
            }
            _ => BTreeMap::new(),
        }
    }

    /// A validation error on one field.
    pub fn field(field: &str, key: &'static str) -> AppError {
        let mut f = FieldErrors::new();
        f.add(field, key);
        AppError::Validation(f)
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;
    use diesel::result::{DatabaseErrorKind, Error};

    fn driver(message: &str) -> AppError {
        AppError::from(Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, Box::new(message.to_string())))
    }

    /// A connection that failed under a query is 503 (try again); the driver's other errors
    /// without a SQL state are bugs, 500.
    #[test]
    fn a_failed_connection_is_unavailable_and_a_mismatched_statement_is_a_bug() {
        for failed in [
            "connection closed",
            "error communicating with the server: Connection timed out",
            "timeout waiting for server",
        ] {
            assert!(matches!(driver(failed), AppError::Unavailable(_)), "{failed}");
        }
        assert!(matches!(
            driver("bind message supplies 1 parameters, but prepared statement requires 2"),
            AppError::Internal(_)
        ));
    }
}
