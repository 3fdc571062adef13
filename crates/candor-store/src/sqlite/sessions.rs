//! Sessions: creating, finishing, reading and listing them, and the check that one
//! exists, which every per-session record relies on.

use rusqlite::{OptionalExtension, Transaction, params, params_from_iter};

use super::SqliteStore;
use super::rows::{SESSION_COLUMNS, session_row};
use crate::error::{Result, StoreError};
use crate::types::{NewSession, SessionFilter, SessionRecord};
use crate::validate::{self, opt_text};

pub(super) fn session_exists(tx: &Transaction<'_>, tenant: &str, session_id: &str) -> Result<bool> {
    Ok(tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sessions WHERE tenant = ?1 AND session_id = ?2)",
        params![tenant, session_id],
        |r| r.get(0),
    )?)
}

pub(super) fn require_session(tx: &Transaction<'_>, tenant: &str, session_id: &str) -> Result<()> {
    if session_exists(tx, tenant, session_id)? {
        Ok(())
    } else {
        Err(StoreError::not_found("session", session_id))
    }
}

pub(super) fn create(store: &SqliteStore, s: &NewSession) -> Result<()> {
    validate::path_id("tenant", &s.tenant)?;
    validate::path_id("session id", &s.session_id)?;
    validate::text("participant id", &s.participant_id)?;
    opt_text("interview ref", s.interview_ref.as_deref())?;
    opt_text("candidate ref", s.candidate_ref.as_deref())?;
    validate::text("source", &s.source)?;
    validate::json("settings", &s.settings_json)?;
    validate::json("models", &s.models_json)?;
    opt_text("node", s.node.as_deref())?;
    store.write(|tx| {
        let existing = tx
            .query_row(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.tenant = ?1 AND s.session_id = ?2"
                ),
                params![s.tenant, s.session_id],
                session_row,
            )
            .optional()?;
        if let Some(e) = existing {
            let same = e.participant_id == s.participant_id
                && e.interview_ref == s.interview_ref
                && e.candidate_ref == s.candidate_ref
                && e.source == s.source
                && e.settings_json == s.settings_json
                && e.models_json == s.models_json
                && e.started_at == s.started_at;
            return if same {
                Ok(())
            } else {
                Err(StoreError::Conflict(format!(
                    "session {:?} already exists",
                    s.session_id
                )))
            };
        }
        tx.execute(
            "INSERT INTO sessions (tenant, session_id, participant_id, interview_ref,
                candidate_ref, source, settings_json, models_json, started_at, node)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                s.tenant,
                s.session_id,
                s.participant_id,
                s.interview_ref,
                s.candidate_ref,
                s.source,
                s.settings_json,
                s.models_json,
                s.started_at,
                s.node
            ],
        )?;
        Ok(())
    })
}

pub(super) fn finish(
    store: &SqliteStore,
    tenant: &str,
    session_id: &str,
    summary_json: &str,
    ended_at: i64,
) -> Result<()> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    validate::json("summary", summary_json)?;
    store.write(|tx| {
        let n = tx.execute(
            "UPDATE sessions SET summary_json = ?3, ended_at = ?4
             WHERE tenant = ?1 AND session_id = ?2",
            params![tenant, session_id, summary_json, ended_at],
        )?;
        if n == 0 {
            return Err(StoreError::not_found("session", session_id));
        }
        Ok(())
    })
}

pub(super) fn get(store: &SqliteStore, tenant: &str, session_id: &str) -> Result<SessionRecord> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    store.read(|tx| {
        tx.query_row(
            &format!(
                "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.tenant = ?1 AND s.session_id = ?2"
            ),
            params![tenant, session_id],
            session_row,
        )
        .optional()?
        .ok_or_else(|| StoreError::not_found("session", session_id))
    })
}

pub(super) fn unfinished(store: &SqliteStore) -> Result<Vec<SessionRecord>> {
    store.read(|tx| {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.ended_at IS NULL
             ORDER BY s.started_at, s.tenant, s.session_id"
        ))?;
        let rows = stmt.query_map([], session_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    })
}

pub(super) fn list(
    store: &SqliteStore,
    tenant: &str,
    filter: &SessionFilter,
    limit: u32,
) -> Result<Vec<SessionRecord>> {
    validate::path_id("tenant", tenant)?;
    opt_text("candidate ref", filter.candidate_ref.as_deref())?;
    opt_text("interview ref", filter.interview_ref.as_deref())?;
    let mut sql = format!("SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.tenant = ?");
    let mut args: Vec<&str> = vec![tenant];
    if let Some(c) = &filter.candidate_ref {
        sql.push_str(" AND s.candidate_ref = ?");
        args.push(c);
    }
    if let Some(i) = &filter.interview_ref {
        sql.push_str(" AND s.interview_ref = ?");
        args.push(i);
    }
    sql.push_str(&format!(
        " ORDER BY s.started_at DESC, s.session_id LIMIT {limit}"
    ));
    store.read(|tx| {
        let mut stmt = tx.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), session_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    })
}
