//! Candor's storage: tenants, interview sessions with their segments, state changes and
//! challenge results, identity enrolments, evidence media and batch jobs.
//!
//! Callers use the [`Store`] trait (share it as `Arc<dyn Store>`); [`SqliteStore`] is
//! the embedded default, which needs no server: SQLite in WAL mode in a data directory
//! (default [`DEFAULT_DATA_DIR`], database file [`DB_FILE`]), with the schema migrated
//! at open ([`schema`]). [`PostgresStore`] implements the same trait on a PostgreSQL
//! database that several server nodes share; [`open`] picks the backend from where
//! the store is (a data directory or a `postgres://` URL), and callers do not change.
//!
//! Rules every backend follows (details on [`Store`]):
//!
//! - **Synchronous.** From async code, call the store through
//!   `tokio::task::spawn_blocking` or a dedicated thread.
//! - **Tenant-scoped.** Every call names its tenant and sees only that tenant's rows;
//!   another tenant's row is `NotFound`, the same as a missing one.
//! - **Caller-made ids.** Session, job, candidate and challenge ids come from the caller
//!   ([`new_id`] makes a UUID); only evidence ids are made by the store. Tenant, session
//!   and job ids and evidence kinds must be 1–128 of `[A-Za-z0-9._-]`, not starting
//!   with `.` (they name directories).
//! - **Idempotent appends.** Replaying the same write under the same id is `Ok`; a
//!   different payload under a used id is `Conflict`.
//! - **Times.** `*_at` values are unix milliseconds; `*_us` values are stream time in
//!   microseconds.
//! - **Privacy.** Embeddings are returned only by [`Store::enrolment`]; purges and the
//!   retention sweep delete rows and evidence files and report what they deleted.

mod blobs;
mod codec;
pub mod digest;
pub mod error;
mod location;
pub mod postgres;
pub mod schema;
pub mod sqlite;
pub mod store;
pub mod types;
pub mod validate;

pub use blobs::EvidenceBlobs;
pub use error::{Result, StoreError};
pub use location::{PostgresUrl, StoreLocation, open, open_with_evidence};
pub use postgres::PostgresStore;
pub use sqlite::{DB_FILE, DEFAULT_DATA_DIR, EVIDENCE_DIR, SqliteStore};
pub use store::{ChangeFeed, Store};
pub use types::*;

/// The wall clock in unix milliseconds, as every `*_at` value is.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A fresh random id (UUID v4, hyphenated lower case), valid as a session or job id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
