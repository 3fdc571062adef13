//! Identity enrolments: a candidate's embedding per model version.

use super::PostgresStore;
use super::rows::{all, u32_col};
use super::sessions::require_session;
use super::tenants::settings_tx;
use crate::codec::{blob_to_embedding, embedding_to_blob};
use crate::error::{Result, StoreError};
use crate::now_ms;
use crate::types::{Enrolment, EnrolmentInfo};
use crate::validate;

pub(super) fn enrol(
    store: &PostgresStore,
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
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (tenant, candidate_ref, model_version) DO UPDATE SET
                dims = excluded.dims,
                embedding = excluded.embedding,
                source_session = excluded.source_session,
                enrolled_at = excluded.enrolled_at",
            &[
                &tenant,
                &candidate_ref,
                &model_version,
                &(embedding.len() as i64),
                &embedding_to_blob(embedding),
                &source_session,
                &now_ms(),
            ],
        )?;
        Ok(())
    })
}

pub(super) fn get(
    store: &PostgresStore,
    tenant: &str,
    candidate_ref: &str,
    model_version: &str,
) -> Result<Enrolment> {
    validate::path_id("tenant", tenant)?;
    validate::text("candidate ref", candidate_ref)?;
    validate::text("model version", model_version)?;
    let row = store.read(|tx| {
        Ok(tx.query_opt(
            "SELECT dims, embedding, source_session, enrolled_at FROM enrolments
             WHERE tenant = $1 AND candidate_ref = $2 AND model_version = $3",
            &[&tenant, &candidate_ref, &model_version],
        )?)
    })?;
    let r = row.ok_or_else(|| StoreError::not_found("enrolment of candidate", candidate_ref))?;
    Ok(Enrolment {
        candidate_ref: candidate_ref.to_owned(),
        model_version: model_version.to_owned(),
        embedding: blob_to_embedding(r.try_get(1)?, u32_col(&r, 0)?)?,
        source_session: r.try_get(2)?,
        enrolled_at: r.try_get(3)?,
    })
}

pub(super) fn list(
    store: &PostgresStore,
    tenant: &str,
    candidate_ref: &str,
) -> Result<Vec<EnrolmentInfo>> {
    validate::path_id("tenant", tenant)?;
    validate::text("candidate ref", candidate_ref)?;
    store.read(|tx| {
        let rows = tx.query(
            "SELECT candidate_ref, model_version, dims, source_session, enrolled_at
             FROM enrolments WHERE tenant = $1 AND candidate_ref = $2 ORDER BY model_version",
            &[&tenant, &candidate_ref],
        )?;
        all(rows, |r| {
            Ok(EnrolmentInfo {
                candidate_ref: r.try_get(0)?,
                model_version: r.try_get(1)?,
                dims: u32_col(r, 2)?,
                source_session: r.try_get(3)?,
                enrolled_at: r.try_get(4)?,
            })
        })
    })
}
