//! Challenge requests between nodes: left by the node that got the call, answered by
//! the node that runs the session.

use postgres::{Row, Transaction};

use super::PostgresStore;
use super::rows::{all, u32_col};
use super::sessions::require_session;
use crate::error::{Result, StoreError};
use crate::types::{ChallengeRequest, NewChallengeRequest};
use crate::validate;

const COLUMNS: &str = "tenant, session_id, request_id, node, kind, window_ms, requested_at, \
    answer_json, answered_at";

fn row(r: &Row) -> Result<ChallengeRequest> {
    Ok(ChallengeRequest {
        tenant: r.try_get(0)?,
        session_id: r.try_get(1)?,
        request_id: r.try_get(2)?,
        node: r.try_get(3)?,
        kind: r.try_get(4)?,
        window_ms: u32_col(r, 5)?,
        requested_at: r.try_get(6)?,
        answer_json: r.try_get(7)?,
        answered_at: r.try_get(8)?,
    })
}

fn get_tx(
    tx: &mut Transaction<'_>,
    tenant: &str,
    request_id: &str,
) -> Result<Option<ChallengeRequest>> {
    tx.query_opt(
        &format!("SELECT {COLUMNS} FROM challenge_requests WHERE tenant = $1 AND request_id = $2"),
        &[&tenant, &request_id],
    )?
    .as_ref()
    .map(row)
    .transpose()
}

pub(super) fn request(store: &PostgresStore, r: &NewChallengeRequest) -> Result<()> {
    validate::challenge_request(r)?;
    store.write(|tx| {
        require_session(tx, &r.tenant, &r.session_id)?;
        // Insert first, compare after: a replay racing the first write stores once.
        let inserted = tx.execute(
            "INSERT INTO challenge_requests (tenant, request_id, session_id, node, kind,
                window_ms, requested_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (tenant, request_id) DO NOTHING",
            &[
                &r.tenant,
                &r.request_id,
                &r.session_id,
                &r.node,
                &r.kind,
                &i64::from(r.window_ms),
                &r.requested_at,
            ],
        )?;
        if inserted == 1 {
            return Ok(());
        }
        match get_tx(tx, &r.tenant, &r.request_id)? {
            Some(e) => validate::same_challenge_request(&e, r),
            None => Err(StoreError::Backend(
                "challenge request vanished while being written".into(),
            )),
        }
    })
}

pub(super) fn pending(
    store: &PostgresStore,
    node: &str,
    since: i64,
) -> Result<Vec<ChallengeRequest>> {
    validate::text("node", node)?;
    store.read(|tx| {
        let rows = tx.query(
            &format!(
                "SELECT {COLUMNS} FROM challenge_requests
                 WHERE node = $1 AND answered_at IS NULL AND requested_at >= $2
                 ORDER BY requested_at, tenant, request_id"
            ),
            &[&node, &since],
        )?;
        all(rows, row)
    })
}

pub(super) fn answer(
    store: &PostgresStore,
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
            "UPDATE challenge_requests SET answer_json = $3, answered_at = $4
             WHERE tenant = $1 AND request_id = $2 AND answered_at IS NULL",
            &[&tenant, &request_id, &answer_json, &answered_at],
        )?;
        if n == 0 && get_tx(tx, tenant, request_id)?.is_none() {
            return Err(StoreError::not_found("challenge request", request_id));
        }
        Ok(())
    })
}

pub(super) fn get(
    store: &PostgresStore,
    tenant: &str,
    request_id: &str,
) -> Result<ChallengeRequest> {
    validate::path_id("tenant", tenant)?;
    validate::text("request id", request_id)?;
    store.read(|tx| {
        get_tx(tx, tenant, request_id)?
            .ok_or_else(|| StoreError::not_found("challenge request", request_id))
    })
}
