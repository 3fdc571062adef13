//! A session's challenge results, each challenge id recorded once.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use super::sessions::require_session;
use crate::error::{Result, StoreError};
use crate::now_ms;
use crate::types::ChallengeRecord;
use crate::validate;

pub(super) fn append(
    store: &SqliteStore,
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
        let existing = tx
            .query_row(
                "SELECT kind, result_json FROM challenges
                 WHERE tenant = ?1 AND session_id = ?2 AND challenge_id = ?3",
                params![tenant, session_id, challenge_id],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()?;
        if let Some((k, res)) = existing {
            return if k == kind && res == result_json {
                Ok(())
            } else {
                Err(StoreError::Conflict(format!(
                    "challenge {challenge_id:?} already recorded with a different result"
                )))
            };
        }
        tx.execute(
            "INSERT INTO challenges (tenant, session_id, challenge_id, kind, result_json, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![tenant, session_id, challenge_id, kind, result_json, now_ms()],
        )?;
        Ok(())
    })
}

pub(super) fn list(
    store: &SqliteStore,
    tenant: &str,
    session_id: &str,
) -> Result<Vec<ChallengeRecord>> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    store.read(|tx| {
        require_session(tx, tenant, session_id)?;
        let mut stmt = tx.prepare_cached(
            "SELECT challenge_id, kind, result_json, recorded_at FROM challenges
             WHERE tenant = ?1 AND session_id = ?2 ORDER BY rowid",
        )?;
        let rows = stmt.query_map(params![tenant, session_id], |r| {
            Ok(ChallengeRecord {
                challenge_id: r.get(0)?,
                kind: r.get(1)?,
                result_json: r.get(2)?,
                recorded_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    })
}
