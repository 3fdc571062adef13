//! A session's challenge results, each challenge id recorded once.

use super::PostgresStore;
use super::rows::all;
use super::sessions::require_session;
use crate::error::{Result, StoreError};
use crate::now_ms;
use crate::types::ChallengeRecord;
use crate::validate;

pub(super) fn append(
    store: &PostgresStore,
    tenant: &str,
    session_id: &str,
    challenge_id: &str,
    kind: &str,
    result_json: &str,
) -> Result<()> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    validate::text("challenge id", challenge_id)?;
    validate::text("challenge kind", kind)?;
    validate::json("challenge result", result_json)?;
    store.write(|tx| {
        require_session(tx, tenant, session_id)?;
        let inserted = tx.execute(
            "INSERT INTO challenges (tenant, session_id, challenge_id, kind, result_json, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (tenant, session_id, challenge_id) DO NOTHING",
            &[&tenant, &session_id, &challenge_id, &kind, &result_json, &now_ms()],
        )?;
        if inserted == 1 {
            return Ok(());
        }
        let r = tx.query_one(
            "SELECT kind, result_json FROM challenges
             WHERE tenant = $1 AND session_id = $2 AND challenge_id = $3",
            &[&tenant, &session_id, &challenge_id],
        )?;
        if r.try_get::<_, &str>(0)? == kind && r.try_get::<_, &str>(1)? == result_json {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!(
                "challenge {challenge_id:?} already recorded with a different result"
            )))
        }
    })
}

pub(super) fn list(
    store: &PostgresStore,
    tenant: &str,
    session_id: &str,
) -> Result<Vec<ChallengeRecord>> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    store.read(|tx| {
        require_session(tx, tenant, session_id)?;
        let rows = tx.query(
            "SELECT challenge_id, kind, result_json, recorded_at FROM challenges
             WHERE tenant = $1 AND session_id = $2 ORDER BY seq",
            &[&tenant, &session_id],
        )?;
        all(rows, |r| {
            Ok(ChallengeRecord {
                challenge_id: r.try_get(0)?,
                kind: r.try_get(1)?,
                result_json: r.try_get(2)?,
                recorded_at: r.try_get(3)?,
            })
        })
    })
}
