//! Where a store is, and opening the backend that keeps it there.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use crate::blobs::EvidenceBlobs;
use crate::error::{Result, StoreError};
use crate::postgres::{PostgresStore, is_postgres_url, redact};
use crate::sqlite::SqliteStore;
use crate::store::Store;

/// A `postgres://` or `postgresql://` URL. It may hold a password, so `Debug` and
/// `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl(String);

impl PostgresUrl {
    /// `Invalid` unless `url` starts with `postgres://` or `postgresql://`.
    pub fn new(url: impl Into<String>) -> Result<Self> {
        let url = url.into();
        if is_postgres_url(&url) {
            Ok(Self(url))
        } else {
            Err(StoreError::Invalid(
                "a store URL starts with postgres:// or postgresql:// (a data directory is \
                 given with --data-dir)"
                    .into(),
            ))
        }
    }

    /// The URL as given, password and all: only for connecting.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PostgresUrl {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl std::fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl std::fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

/// A data directory (SQLite, the default) or a PostgreSQL database.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    Postgres(PostgresUrl),
}

impl StoreLocation {
    /// The PostgreSQL database when there is one, else the data directory.
    pub fn pick(url: Option<&PostgresUrl>, data_dir: impl Into<PathBuf>) -> Self {
        match url {
            Some(u) => Self::Postgres(u.clone()),
            None => Self::Sqlite(data_dir.into()),
        }
    }

    /// What to name it in messages and logs (never a password).
    pub fn shown(&self) -> String {
        match self {
            Self::Sqlite(dir) => format!("data directory {}", dir.display()),
            Self::Postgres(url) => format!("PostgreSQL database {url}"),
        }
    }
}

/// Secrets stay out of logs: the password of a URL is never printed.
impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

/// Opens (creating and migrating as needed) the store at `location`.
pub fn open(location: &StoreLocation) -> Result<Arc<dyn Store>> {
    open_with_evidence(location, None)
}

/// As [`open`], with evidence bytes kept in the object store at `evidence_url` (see
/// [`EvidenceBlobs::open`]) instead of the data directory or the database.
pub fn open_with_evidence(
    location: &StoreLocation,
    evidence_url: Option<&str>,
) -> Result<Arc<dyn Store>> {
    let blobs = evidence_url
        .map(EvidenceBlobs::open)
        .transpose()?
        .map(Arc::new);
    Ok(match (location, blobs) {
        (StoreLocation::Sqlite(dir), None) => Arc::new(SqliteStore::open(dir)?),
        (StoreLocation::Sqlite(dir), Some(b)) => {
            Arc::new(SqliteStore::open(dir)?.with_evidence_blobs(b))
        }
        (StoreLocation::Postgres(url), None) => Arc::new(PostgresStore::open(url.as_str())?),
        (StoreLocation::Postgres(url), Some(b)) => {
            Arc::new(PostgresStore::open(url.as_str())?.with_evidence_blobs(b))
        }
    })
}
