//! Server nodes sharing the store: their heartbeats, and the open sessions of nodes
//! that stopped beating.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use super::rows::{SESSION_COLUMNS, session_row};
use crate::error::Result;
use crate::types::SessionRecord;
use crate::validate;

pub(super) fn heartbeat(store: &SqliteStore, node: &str, now_ms: i64) -> Result<()> {
    validate::text("node", node)?;
    store.write(|tx| {
        // A late heartbeat never moves the time back.
        tx.execute(
            "INSERT INTO nodes (node, seen_at) VALUES (?1, ?2)
             ON CONFLICT (node) DO UPDATE SET seen_at = MAX(seen_at, excluded.seen_at)",
            params![node, now_ms],
        )?;
        Ok(())
    })
}

pub(super) fn last_heartbeat(store: &SqliteStore, node: &str) -> Result<Option<i64>> {
    validate::text("node", node)?;
    store.read(|tx| {
        Ok(tx
            .query_row(
                "SELECT seen_at FROM nodes WHERE node = ?1",
                params![node],
                |r| r.get(0),
            )
            .optional()?)
    })
}

pub(super) fn orphaned_sessions(
    store: &SqliteStore,
    alive_since: i64,
    own_node: Option<&str>,
) -> Result<Vec<SessionRecord>> {
    if let Some(n) = own_node {
        validate::text("node", n)?;
    }
    store.read(|tx| {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s
             WHERE s.ended_at IS NULL AND s.node IS NOT NULL
               AND (s.node = ?2 OR NOT EXISTS
                    (SELECT 1 FROM nodes n WHERE n.node = s.node AND n.seen_at >= ?1))
             ORDER BY s.started_at, s.tenant, s.session_id"
        ))?;
        let rows = stmt.query_map(params![alive_since, own_node], session_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    })
}
