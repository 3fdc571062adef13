//! Evidence media of a session's segments, bytes and all, in the `evidence` table (or
//! the bytes in the evidence store, and an empty `bytes`).

use super::PostgresStore;
use super::rows::{EVIDENCE_COLUMNS, all, evidence_row};
use super::sessions::require_session;
use super::tenants::settings_tx;
use crate::blobs::{EvidenceBlobs, evidence_name, not_configured};
use crate::digest::sha256_hex;
use crate::error::{Result, StoreError};
use crate::now_ms;
use crate::types::EvidenceRecord;
use crate::validate;

pub(super) fn add(
    store: &PostgresStore,
    tenant: &str,
    session_id: &str,
    segment_index: u32,
    kind: &str,
    bytes: &[u8],
) -> Result<EvidenceRecord> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    validate::path_id("evidence kind", kind)?;
    if bytes.is_empty() {
        return Err(StoreError::Invalid("evidence is empty".into()));
    }
    let id = crate::new_id();
    let mut record = EvidenceRecord {
        location: format!("postgres:evidence/{id}"),
        id,
        session_id: session_id.to_owned(),
        segment_index,
        kind: kind.to_owned(),
        size_bytes: bytes.len() as u64,
        sha256: sha256_hex(bytes),
        created_at: now_ms(),
    };
    store.write(|tx| {
        if !settings_tx(tx, tenant)?.evidence_capture {
            return Err(StoreError::Invalid(
                "evidence capture is not enabled for this tenant".into(),
            ));
        }
        require_session(tx, tenant, session_id)?;
        // With an evidence store the object goes first, and the row keeps no bytes.
        let kept: &[u8] = match &store.blobs {
            Some(blobs) => {
                let name = evidence_name(tenant, session_id, segment_index, kind, &record.id);
                record.location = blobs.put(&name, bytes)?;
                &[]
            }
            None => bytes,
        };
        tx.execute(
            &format!(
                "INSERT INTO evidence ({EVIDENCE_COLUMNS}, tenant, bytes)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ),
            &[
                &record.id,
                &record.session_id,
                &i64::from(record.segment_index),
                &record.kind,
                &(record.size_bytes as i64),
                &record.sha256,
                &record.location,
                &record.created_at,
                &tenant,
                &kept,
            ],
        )?;
        Ok(())
    })?;
    Ok(record)
}

pub(super) fn list(
    store: &PostgresStore,
    tenant: &str,
    session_id: &str,
) -> Result<Vec<EvidenceRecord>> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    store.read(|tx| {
        require_session(tx, tenant, session_id)?;
        let rows = tx.query(
            &format!(
                "SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE tenant = $1 AND session_id = $2
                 ORDER BY segment_index, created_at, seq"
            ),
            &[&tenant, &session_id],
        )?;
        all(rows, evidence_row)
    })
}

pub(super) fn read(store: &PostgresStore, tenant: &str, evidence_id: &str) -> Result<Vec<u8>> {
    validate::path_id("tenant", tenant)?;
    validate::text("evidence id", evidence_id)?;
    let (location, bytes): (String, Vec<u8>) = store
        .read(|tx| {
            Ok(tx.query_opt(
                "SELECT location, bytes FROM evidence WHERE tenant = $1 AND id = $2",
                &[&tenant, &evidence_id],
            )?)
        })?
        .map(|r| Ok::<_, StoreError>((r.try_get(0)?, r.try_get(1)?)))
        .transpose()?
        .ok_or_else(|| StoreError::not_found("evidence", evidence_id))?;
    if !EvidenceBlobs::holds(&location) {
        return Ok(bytes);
    }
    match &store.blobs {
        Some(blobs) => blobs.get(&location),
        None => Err(not_configured(&location)),
    }
}
