//! What duplicate search reads and keeps: session identities (for blocklisting), the
//! blocklist, and a tenant's whole search gallery with its generation.

use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::SqliteStore;
use super::rows::{blob_to_embedding, embedding_to_blob};
use super::sessions::require_session;
use super::tenants::settings_tx;
use crate::error::{Result, StoreError};
use crate::types::{BlocklistEntry, IdentityGallery, NewBlocklistEntry};
use crate::validate;

fn require_search(tx: &Transaction<'_>, tenant: &str) -> Result<()> {
    if settings_tx(tx, tenant)?.duplicate_search {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "duplicate search is not enabled for this tenant".into(),
        ))
    }
}

pub(super) fn save_session_identity(
    store: &SqliteStore,
    tenant: &str,
    session_id: &str,
    embedding: &[f32],
    model_version: &str,
) -> Result<()> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    validate::text("model version", model_version)?;
    validate::embedding(embedding)?;
    store.write(|tx| {
        require_search(tx, tenant)?;
        require_session(tx, tenant, session_id)?;
        tx.execute(
            "INSERT INTO session_identities (tenant, session_id, model_version, dims, embedding)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (tenant, session_id, model_version) DO UPDATE SET
                dims = excluded.dims, embedding = excluded.embedding",
            params![
                tenant,
                session_id,
                model_version,
                embedding.len() as u32,
                embedding_to_blob(embedding)
            ],
        )?;
        Ok(())
    })
}

pub(super) fn session_identity(
    store: &SqliteStore,
    tenant: &str,
    session_id: &str,
    model_version: &str,
) -> Result<Vec<f32>> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    validate::text("model version", model_version)?;
    let row = store.read(|tx| {
        Ok(tx
            .query_row(
                "SELECT dims, embedding FROM session_identities
                 WHERE tenant = ?1 AND session_id = ?2 AND model_version = ?3",
                params![tenant, session_id, model_version],
                |r| Ok((r.get::<_, u32>(0)?, r.get::<_, Vec<u8>>(1)?)),
            )
            .optional()?)
    })?;
    let (dims, blob) =
        row.ok_or_else(|| StoreError::not_found("identity of session", session_id))?;
    blob_to_embedding(&blob, dims)
}

pub(super) fn add_to_blocklist(
    store: &SqliteStore,
    tenant: &str,
    entry: &NewBlocklistEntry,
) -> Result<BlocklistEntry> {
    validate::path_id("tenant", tenant)?;
    let added = validate::blocklist_entry(entry)?;
    store.write(|tx| {
        require_search(tx, tenant)?;
        tx.execute(
            "INSERT INTO blocklist (tenant, entry_id, model_version, dims, embedding, label,
                reason, candidate_ref, source_session, added_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                tenant,
                added.entry_id,
                added.model_version,
                entry.embedding.len() as u32,
                embedding_to_blob(&entry.embedding),
                added.label,
                added.reason,
                added.candidate_ref,
                added.source_session,
                added.added_at
            ],
        )?;
        Ok(())
    })?;
    Ok(added)
}

const ENTRY_COLUMNS: &str =
    "entry_id, model_version, label, reason, candidate_ref, source_session, added_at";

fn entry_row(r: &Row<'_>) -> rusqlite::Result<BlocklistEntry> {
    Ok(BlocklistEntry {
        entry_id: r.get(0)?,
        model_version: r.get(1)?,
        label: r.get(2)?,
        reason: r.get(3)?,
        candidate_ref: r.get(4)?,
        source_session: r.get(5)?,
        added_at: r.get(6)?,
    })
}

pub(super) fn blocklist(store: &SqliteStore, tenant: &str) -> Result<Vec<BlocklistEntry>> {
    validate::path_id("tenant", tenant)?;
    store.read(|tx| {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM blocklist WHERE tenant = ?1 ORDER BY added_at, entry_id"
        ))?;
        let rows = stmt.query_map(params![tenant], entry_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    })
}

pub(super) fn remove_from_blocklist(
    store: &SqliteStore,
    tenant: &str,
    entry_id: &str,
) -> Result<()> {
    validate::path_id("tenant", tenant)?;
    validate::text("entry id", entry_id)?;
    store.write(|tx| {
        let n = tx.execute(
            "DELETE FROM blocklist WHERE tenant = ?1 AND entry_id = ?2",
            params![tenant, entry_id],
        )?;
        if n == 0 {
            return Err(StoreError::not_found("blocklist entry", entry_id));
        }
        Ok(())
    })
}

fn generation_tx(tx: &Transaction<'_>, tenant: &str) -> Result<i64> {
    Ok(tx
        .query_row(
            "SELECT generation FROM identity_generations WHERE tenant = ?1",
            params![tenant],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

pub(super) fn generation(store: &SqliteStore, tenant: &str) -> Result<i64> {
    validate::path_id("tenant", tenant)?;
    store.read(|tx| generation_tx(tx, tenant))
}

pub(super) fn gallery(
    store: &SqliteStore,
    tenant: &str,
    model_version: &str,
) -> Result<IdentityGallery> {
    validate::path_id("tenant", tenant)?;
    validate::text("model version", model_version)?;
    store.read(|tx| {
        let generation = generation_tx(tx, tenant)?;
        let mut stmt = tx.prepare_cached(
            "SELECT candidate_ref, dims, embedding FROM enrolments
             WHERE tenant = ?1 AND model_version = ?2 ORDER BY candidate_ref",
        )?;
        let rows = stmt.query_map(params![tenant, model_version], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        let mut enrolled = Vec::new();
        for row in rows {
            let (candidate, dims, blob) = row?;
            enrolled.push((candidate, blob_to_embedding(&blob, dims)?));
        }
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS}, dims, embedding FROM blocklist
             WHERE tenant = ?1 AND model_version = ?2 ORDER BY added_at, entry_id"
        ))?;
        let rows = stmt.query_map(params![tenant, model_version], |r| {
            Ok((entry_row(r)?, r.get::<_, u32>(7)?, r.get::<_, Vec<u8>>(8)?))
        })?;
        let mut blocked = Vec::new();
        for row in rows {
            let (entry, dims, blob) = row?;
            blocked.push((entry, blob_to_embedding(&blob, dims)?));
        }
        Ok(IdentityGallery {
            generation,
            enrolled,
            blocked,
        })
    })
}
