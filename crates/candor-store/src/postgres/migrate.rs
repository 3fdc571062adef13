//! Schema migrations, applied when a store opens, once across every node.

use postgres::Client;

use super::schema::{LATEST_VERSION, MIGRATIONS, MIGRATIONS_TABLE};
use crate::error::{Result, StoreError};
use crate::now_ms;

/// Advisory lock key of migrations ("candor" + 1). Two nodes starting together queue
/// on it; the second finds the schema current and applies nothing.
const MIGRATE_LOCK: i64 = 0x63_61_6e_64_6f_72_01;

pub(super) fn current_version(client: &mut impl postgres::GenericClient) -> Result<i64> {
    let has_table: bool = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])?
        .try_get(0)?;
    if !has_table {
        return Ok(0);
    }
    Ok(client
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )?
        .try_get(0)?)
}

fn check(v: i64) -> Result<i64> {
    if v > LATEST_VERSION {
        Err(StoreError::Backend(format!(
            "database schema version {v} is newer than this build supports ({LATEST_VERSION})"
        )))
    } else {
        Ok(v)
    }
}

/// Applies pending migrations in one transaction holding `pg_advisory_xact_lock`, so
/// concurrent openers apply each migration exactly once. A database already at the
/// latest version is only read.
pub(super) fn migrate(client: &mut Client) -> Result<()> {
    if check(current_version(client)?)? == LATEST_VERSION {
        return Ok(());
    }
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])?;
    tx.batch_execute(MIGRATIONS_TABLE)?;
    let current = check(current_version(&mut tx)?)?;
    let now = now_ms();
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        tx.batch_execute(m.sql).map_err(|e| {
            StoreError::Backend(format!("migration {} ({}) failed: {e}", m.version, m.name))
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[&m.version, &m.name, &now],
        )?;
    }
    tx.commit()?;
    Ok(())
}
