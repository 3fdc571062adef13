//! Identity enrolments: a candidate's embedding per model version.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use super::rows::{blob_to_embedding, embedding_to_blob};
use super::sessions::require_session;
use super::tenants::settings_tx;
use crate::error::{Result, StoreError};
use crate::now_ms;
use crate::types::{Enrolment, EnrolmentInfo};
use crate::validate;

pub(super) fn enrol(
    store: &SqliteStore,
    tenant: &str,
    candidate_ref: &str,
    embedding: &[f32],
    model_version: &str,
    source_session: Option<&str>,
) -> Result<()> {
    validate::path_id("tenant", tenant)?;
    validate::text("candidate ref", candidate_ref)?;
    validate::text("model version", model_version)?;
    validate::embedding(embedding)?;
    if let Some(s) = source_session {
        validate::path_id("source session", s)?;
    }
    store.write(|tx| {
        if !settings_tx(tx, tenant)?.enrolment_enabled {
            return Err(StoreError::Invalid(
                "enrolment is not enabled for this tenant".into(),
            ));
        }
        if let Some(s) = source_session {
            require_session(tx, tenant, s)?;
        }
        tx.execute(
            "INSERT INTO enrolments (tenant, candidate_ref, model_version, dims, embedding,
                source_session, enrolled_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (tenant, candidate_ref, model_version) DO UPDATE SET
                dims = excluded.dims,
                embedding = excluded.embedding,
                source_session = excluded.source_session,
                enrolled_at = excluded.enrolled_at",
            params![
                tenant,
                candidate_ref,
                model_version,
                embedding.len() as u32,
                embedding_to_blob(embedding),
                source_session,
                now_ms()
            ],
        )?;
        Ok(())
    })
}

pub(super) fn get(
    store: &SqliteStore,
    tenant: &str,
    candidate_ref: &str,
    model_version: &str,
) -> Result<Enrolment> {
    validate::path_id("tenant", tenant)?;
    validate::text("candidate ref", candidate_ref)?;
    validate::text("model version", model_version)?;
    let row = store.read(|tx| {
        Ok(tx
            .query_row(
                "SELECT dims, embedding, source_session, enrolled_at FROM enrolments
                 WHERE tenant = ?1 AND candidate_ref = ?2 AND model_version = ?3",
                params![tenant, candidate_ref, model_version],
                |r| {
                    Ok((
                        r.get::<_, u32>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
            .optional()?)
    })?;
    let (dims, blob, source_session, enrolled_at) =
        row.ok_or_else(|| StoreError::not_found("enrolment of candidate", candidate_ref))?;
    Ok(Enrolment {
        candidate_ref: candidate_ref.to_owned(),
        model_version: model_version.to_owned(),
        embedding: blob_to_embedding(&blob, dims)?,
        source_session,
        enrolled_at,
    })
}

pub(super) fn list(
    store: &SqliteStore,
    tenant: &str,
    candidate_ref: &str,
) -> Result<Vec<EnrolmentInfo>> {
    validate::path_id("tenant", tenant)?;
    validate::text("candidate ref", candidate_ref)?;
    store.read(|tx| {
        let mut stmt = tx.prepare_cached(
            "SELECT candidate_ref, model_version, dims, source_session, enrolled_at
             FROM enrolments WHERE tenant = ?1 AND candidate_ref = ?2 ORDER BY model_version",
        )?;
        let rows = stmt.query_map(params![tenant, candidate_ref], |r| {
            Ok(EnrolmentInfo {
                candidate_ref: r.get(0)?,
                model_version: r.get(1)?,
                dims: r.get(2)?,
                source_session: r.get(3)?,
                enrolled_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    })
}
