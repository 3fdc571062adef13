//! Where a store is, and opening the backend that keeps it there.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::Result;
use crate::postgres::{PostgresStore, is_postgres_url};
use crate::sqlite::SqliteStore;
use crate::store::Store;

/// A data directory (SQLite, the default) or a PostgreSQL database.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    /// A `postgres://` or `postgresql://` URL (may hold a password: see `Debug`).
    Postgres(String),
}

impl StoreLocation {
    /// A PostgreSQL URL when `url` is one, else the data directory `data_dir`.
    pub fn pick(url: Option<&str>, data_dir: impl Into<PathBuf>) -> Self {
        match url {
            Some(u) if !u.is_empty() => Self::Postgres(u.to_owned()),
            _ => Self::Sqlite(data_dir.into()),
        }
    }

    /// What to name it in messages and logs (never a password).
    pub fn shown(&self) -> String {
        match self {
            Self::Sqlite(dir) => format!("data directory {}", dir.display()),
            Self::Postgres(url) => format!("PostgreSQL {}", crate::postgres::redact(url)),
        }
    }

    /// Whether `url` is a PostgreSQL URL this type accepts.
    pub fn is_postgres_url(url: &str) -> bool {
        is_postgres_url(url)
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
    Ok(match location {
        StoreLocation::Sqlite(dir) => Arc::new(SqliteStore::open(dir)?),
        StoreLocation::Postgres(url) => Arc::new(PostgresStore::open(url)?),
    })
}
