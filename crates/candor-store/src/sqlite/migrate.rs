//! Schema migrations, applied when a store opens.

use rusqlite::{Connection, TransactionBehavior, params};

use crate::error::{Result, StoreError};
use crate::now_ms;
use crate::schema::{LATEST_VERSION, MIGRATIONS, MIGRATIONS_TABLE};

pub(super) fn current_version(conn: &Connection) -> Result<i64> {
    let has_table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')",
        [],
        |r| r.get(0),
    )?;
    if !has_table {
        return Ok(0);
    }
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?)
}

/// Applies pending migrations, all in one `BEGIN IMMEDIATE` transaction (so two
/// processes opening the same database at once cannot both apply them). A database
/// already at the latest version is only read.
pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    let check = |v: i64| {
        if v > LATEST_VERSION {
            Err(StoreError::Backend(format!(
                "database schema version {v} is newer than this build supports ({LATEST_VERSION})"
            )))
        } else {
            Ok(v)
        }
    };
    if check(current_version(conn)?)? == LATEST_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(MIGRATIONS_TABLE)?;
    let current = check(current_version(&tx)?)?;
    let now = now_ms();
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        tx.execute_batch(m.sql).map_err(|e| {
            StoreError::Backend(format!("migration {} ({}) failed: {e}", m.version, m.name))
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![m.version, m.name, now],
        )?;
    }
    tx.commit()?;
    Ok(())
}
