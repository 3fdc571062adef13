//! Server nodes sharing the store: their heartbeats, and the open sessions of nodes
//! that stopped beating.

use super::PostgresStore;
use super::rows::{SESSION_COLUMNS, all, session_row};
use crate::error::Result;
use crate::types::SessionRecord;
use crate::validate;

pub(super) fn heartbeat(store: &PostgresStore, node: &str, now_ms: i64) -> Result<()> {
    validate::text("node", node)?;
    store.write(|tx| {
        // A late heartbeat never moves the time back.
        tx.execute(
            "INSERT INTO nodes AS n (node, seen_at) VALUES ($1, $2)
             ON CONFLICT (node) DO UPDATE SET seen_at = GREATEST(n.seen_at, excluded.seen_at)",
            &[&node, &now_ms],
        )?;
        Ok(())
    })
}

pub(super) fn last_heartbeat(store: &PostgresStore, node: &str) -> Result<Option<i64>> {
    validate::text("node", node)?;
    store.read(|tx| {
        let row = tx.query_opt("SELECT seen_at FROM nodes WHERE node = $1", &[&node])?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    })
}

pub(super) fn orphaned_sessions(
    store: &PostgresStore,
    alive_since: i64,
    own_node: Option<&str>,
) -> Result<Vec<SessionRecord>> {
    if let Some(n) = own_node {
        validate::text("node", n)?;
    }
    store.read(|tx| {
        let rows = tx.query(
            &format!(
                "SELECT {SESSION_COLUMNS} FROM sessions s
                 WHERE s.ended_at IS NULL AND s.node IS NOT NULL
                   AND (s.node = $2::TEXT OR NOT EXISTS
                        (SELECT 1 FROM nodes n WHERE n.node = s.node AND n.seen_at >= $1))
                 ORDER BY s.started_at, s.tenant, s.session_id"
            ),
            &[&alive_since, &own_node],
        )?;
        all(rows, session_row)
    })
}
