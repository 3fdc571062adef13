//! Evidence media of a session's segments: the file in the session's evidence
//! directory (or the object in the evidence store), and its row.

use std::fs;

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::files::write_file_durably;
use super::rows::{EVIDENCE_COLUMNS, evidence_row};
use super::sessions::require_session;
use super::tenants::settings_tx;
use super::{EVIDENCE_DIR, SqliteStore};
use crate::blobs::{EvidenceBlobs, evidence_name, not_configured};
use crate::digest::sha256_hex;
use crate::error::{Result, StoreError};
use crate::now_ms;
use crate::types::EvidenceRecord;
use crate::validate;

/// Where a piece of evidence's bytes were written: its `location` (and file).
enum Written {
    File(String, std::path::PathBuf),
    Object(String),
}

pub(super) fn add(
    store: &SqliteStore,
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
    let mut conn = store.lock_writer();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !settings_tx(&tx, tenant)?.evidence_capture {
        return Err(StoreError::Invalid(
            "evidence capture is not enabled for this tenant".into(),
        ));
    }
    require_session(&tx, tenant, session_id)?;
    let id = uuid::Uuid::new_v4().to_string();
    let name = evidence_name(tenant, session_id, segment_index, kind, &id);
    let mut record = EvidenceRecord {
        id,
        session_id: session_id.to_owned(),
        segment_index,
        kind: kind.to_owned(),
        size_bytes: bytes.len() as u64,
        sha256: sha256_hex(bytes),
        location: String::new(),
        created_at: now_ms(),
    };
    // The bytes first (a file, or an object), then the row: a crash between leaves
    // bytes no row names, never a row without its bytes.
    let written = match &store.blobs {
        Some(blobs) => Written::Object(blobs.put(&name, bytes)?),
        None => {
            let Some(data_dir) = &store.data_dir else {
                return Err(StoreError::Invalid(
                    "an in-memory store keeps no evidence".into(),
                ));
            };
            let location = format!("{EVIDENCE_DIR}/{name}");
            let path = data_dir.join(&location);
            write_file_durably(&path, bytes).map_err(|e| {
                StoreError::Backend(format!("cannot write {}: {e}", path.display()))
            })?;
            Written::File(location, path)
        }
    };
    record.location = match &written {
        Written::Object(location) | Written::File(location, _) => location.clone(),
    };
    let committed = tx
        .execute(
            &format!(
                "INSERT INTO evidence ({EVIDENCE_COLUMNS}, tenant) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ),
            params![
                record.id,
                record.session_id,
                record.segment_index,
                record.kind,
                record.size_bytes as i64,
                record.sha256,
                record.location,
                record.created_at,
                tenant
            ],
        )
        .and_then(|_| tx.commit());
    if let Err(e) = committed {
        match (&written, &store.blobs) {
            (Written::File(_, path), _) => {
                let _ = fs::remove_file(path);
            }
            (Written::Object(location), Some(blobs)) => {
                let _ = blobs.delete(location);
            }
            (Written::Object(_), None) => {}
        }
        return Err(e.into());
    }
    Ok(record)
}

pub(super) fn list(
    store: &SqliteStore,
    tenant: &str,
    session_id: &str,
) -> Result<Vec<EvidenceRecord>> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    store.read(|tx| {
        require_session(tx, tenant, session_id)?;
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE tenant = ?1 AND session_id = ?2
             ORDER BY segment_index, created_at, rowid"
        ))?;
        let rows = stmt.query_map(params![tenant, session_id], evidence_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    })
}

pub(super) fn read(store: &SqliteStore, tenant: &str, evidence_id: &str) -> Result<Vec<u8>> {
    validate::path_id("tenant", tenant)?;
    validate::text("evidence id", evidence_id)?;
    let location: String = store
        .read(|tx| {
            Ok(tx
                .query_row(
                    "SELECT location FROM evidence WHERE tenant = ?1 AND id = ?2",
                    params![tenant, evidence_id],
                    |r| r.get(0),
                )
                .optional()?)
        })?
        .ok_or_else(|| StoreError::not_found("evidence", evidence_id))?;
    if EvidenceBlobs::holds(&location) {
        return match &store.blobs {
            Some(blobs) => blobs.get(&location),
            None => Err(not_configured(&location)),
        };
    }
    let data_dir = store
        .data_dir
        .as_ref()
        .ok_or_else(|| StoreError::not_found("evidence", evidence_id))?;
    let path = data_dir.join(location);
    fs::read(&path)
        .map_err(|e| StoreError::Backend(format!("cannot read evidence {}: {e}", path.display())))
}
