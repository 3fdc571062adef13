//! Challenge requests between nodes: left by the node that got the call, answered by
//! the node that runs the session.

use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::SqliteStore;
use super::sessions::require_session;
use crate::error::{Result, StoreError};
use crate::types::{ChallengeRequest, NewChallengeRequest};
use crate::validate;

const COLUMNS: &str = "tenant, session_id, request_id, node, kind, window_ms, requested_at, \
    answer_json, answered_at";

fn row(r: &Row<'_>) -> rusqlite::Result<ChallengeRequest> {
    Ok(ChallengeRequest {
        tenant: r.get(0)?,
        session_id: r.get(1)?,
        request_id: r.get(2)?,
        node: r.get(3)?,
        kind: r.get(4)?,
        window_ms: r.get(5)?,
        requested_at: r.get(6)?,
        answer_json: r.get(7)?,
        answered_at: r.get(8)?,
    })
}

fn get_tx(
    tx: &Transaction<'_>,
    tenant: &str,
    request_id: &str,
) -> Result<Option<ChallengeRequest>> {
    Ok(tx
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM challenge_requests WHERE tenant = ?1 AND request_id = ?2"
            ),
            params![tenant, request_id],
            row,
        )
        .optional()?)
}

pub(super) fn request(store: &SqliteStore, r: &NewChallengeRequest) -> Result<()> {
    validate::challenge_request(r)?;
    store.write(|tx| {
        require_session(tx, &r.tenant, &r.session_id)?;
        if let Some(e) = get_tx(tx, &r.tenant, &r.request_id)? {
            return validate::same_challenge_request(&e, r);
        }
        tx.execute(
            "INSERT INTO challenge_requests (tenant, request_id, session_id, node, kind,
                window_ms, requested_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                r.tenant,
                r.request_id,
                r.session_id,
                r.node,
                r.kind,
                r.window_ms,
                r.requested_at
            ],
        )?;
        Ok(())
    })
}

pub(super) fn pending(
    store: &SqliteStore,
    node: &str,
    since: i64,
) -> Result<Vec<ChallengeRequest>> {
    validate::text("node", node)?;
    store.read(|tx| {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM challenge_requests
             WHERE node = ?1 AND answered_at IS NULL AND requested_at >= ?2
             ORDER BY requested_at, tenant, request_id"
        ))?;
        let rows = stmt.query_map(params![node, since], row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    })
}

pub(super) fn answer(
    store: &SqliteStore,
    tenant: &str,
    request_id: &str,
    answer_json: &str,
    answered_at: i64,
) -> Result<()> {
    validate::path_id("tenant", tenant)?;
    validate::text("request id", request_id)?;
    validate::json("challenge answer", answer_json)?;
    store.write(|tx| {
        let n = tx.execute(
            "UPDATE challenge_requests SET answer_json = ?3, answered_at = ?4
             WHERE tenant = ?1 AND request_id = ?2 AND answered_at IS NULL",
            params![tenant, request_id, answer_json, answered_at],
        )?;
        if n == 0 && get_tx(tx, tenant, request_id)?.is_none() {
            return Err(StoreError::not_found("challenge request", request_id));
        }
        Ok(())
    })
}

pub(super) fn get(store: &SqliteStore, tenant: &str, request_id: &str) -> Result<ChallengeRequest> {
    validate::path_id("tenant", tenant)?;
    validate::text("request id", request_id)?;
    store.read(|tx| {
        get_tx(tx, tenant, request_id)?
            .ok_or_else(|| StoreError::not_found("challenge request", request_id))
    })
}
