//! The one error type of every store.

/// What can go wrong with a store call. Messages never name another tenant's data:
/// a row that exists for another tenant is reported exactly like a row that does not
/// exist at all.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The row (session, job, enrolment, evidence, job file) does not exist for this
    /// tenant.
    #[error("not found: {0}")]
    NotFound(String),
    /// The id is already taken by different data (see the idempotency rule in the
    /// crate docs: replaying identical data is not a conflict).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The request is malformed (bad id, JSON that does not parse, empty embedding) or
    /// not allowed by the tenant's settings (enrolment or evidence capture off).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The backend failed (I/O, SQLite, corrupt row). Usually worth retrying or
    /// alerting on; never caused by the caller's input.
    #[error("storage backend: {0}")]
    Backend(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    pub(crate) fn not_found(what: &str, id: &str) -> Self {
        Self::NotFound(format!("{what} {id:?}"))
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Backend(format!("sqlite: {e}"))
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        Self::Backend(format!("i/o: {e}"))
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        // A unique key taken by a concurrent writer is the same conflict a replay with
        // different data is; anything else is the backend's.
        if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) {
            return Self::Conflict(format!("postgres: {e}"));
        }
        match e.as_db_error() {
            Some(db) => Self::Backend(format!("postgres: {}: {}", db.severity(), db.message())),
            None => Self::Backend(format!("postgres: {e}")),
        }
    }
}
