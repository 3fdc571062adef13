//! What duplicate search reads and keeps: session identities (for blocklisting), the
//! blocklist, and a tenant's whole search gallery with its generation.

use postgres::{Row, Transaction};

use super::PostgresStore;
use super::rows::{all, u32_col};
use super::sessions::require_session;
use super::tenants::settings_tx;
use crate::codec::{blob_to_embedding, embedding_to_blob};
use crate::error::{Result, StoreError};
use crate::types::{BlocklistEntry, IdentityGallery, NewBlocklistEntry};
use crate::validate;

fn require_search(tx: &mut Transaction<'_>, tenant: &str) -> Result<()> {
    if settings_tx(tx, tenant)?.duplicate_search {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "duplicate search is not enabled for this tenant".into(),
        ))
    }
}

pub(super) fn save_session_identity(
    store: &PostgresStore,
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
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant, session_id, model_version) DO UPDATE SET
                dims = excluded.dims, embedding = excluded.embedding",
            &[
                &tenant,
                &session_id,
                &model_version,
                &(embedding.len() as i64),
                &embedding_to_blob(embedding),
            ],
        )?;
        Ok(())
    })
}

pub(super) fn session_identity(
    store: &PostgresStore,
    tenant: &str,
    session_id: &str,
    model_version: &str,
) -> Result<Vec<f32>> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    validate::text("model version", model_version)?;
    let row = store.read(|tx| {
        Ok(tx.query_opt(
            "SELECT dims, embedding FROM session_identities
             WHERE tenant = $1 AND session_id = $2 AND model_version = $3",
            &[&tenant, &session_id, &model_version],
        )?)
    })?;
    let r = row.ok_or_else(|| StoreError::not_found("identity of session", session_id))?;
    blob_to_embedding(r.try_get(1)?, u32_col(&r, 0)?)
}

pub(super) fn add_to_blocklist(
    store: &PostgresStore,
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &tenant,
                &added.entry_id,
                &added.model_version,
                &(entry.embedding.len() as i64),
                &embedding_to_blob(&entry.embedding),
                &added.label,
                &added.reason,
                &added.candidate_ref,
                &added.source_session,
                &added.added_at,
            ],
        )?;
        Ok(())
    })?;
    Ok(added)
}

const ENTRY_COLUMNS: &str =
    "entry_id, model_version, label, reason, candidate_ref, source_session, added_at";

fn entry_row(r: &Row) -> Result<BlocklistEntry> {
    Ok(BlocklistEntry {
        entry_id: r.try_get(0)?,
        model_version: r.try_get(1)?,
        label: r.try_get(2)?,
        reason: r.try_get(3)?,
        candidate_ref: r.try_get(4)?,
        source_session: r.try_get(5)?,
        added_at: r.try_get(6)?,
    })
}

pub(super) fn blocklist(store: &PostgresStore, tenant: &str) -> Result<Vec<BlocklistEntry>> {
    validate::path_id("tenant", tenant)?;
    store.read(|tx| {
        let rows = tx.query(
            &format!(
                "SELECT {ENTRY_COLUMNS} FROM blocklist WHERE tenant = $1 ORDER BY added_at, entry_id"
            ),
            &[&tenant],
        )?;
        all(rows, entry_row)
    })
}

pub(super) fn remove_from_blocklist(
    store: &PostgresStore,
    tenant: &str,
    entry_id: &str,
) -> Result<()> {
    validate::path_id("tenant", tenant)?;
    validate::text("entry id", entry_id)?;
    store.write(|tx| {
        let n = tx.execute(
            "DELETE FROM blocklist WHERE tenant = $1 AND entry_id = $2",
            &[&tenant, &entry_id],
        )?;
        if n == 0 {
            return Err(StoreError::not_found("blocklist entry", entry_id));
        }
        Ok(())
    })
}

fn generation_tx(tx: &mut Transaction<'_>, tenant: &str) -> Result<i64> {
    Ok(tx
        .query_opt(
            "SELECT generation FROM identity_generations WHERE tenant = $1",
            &[&tenant],
        )?
        .map(|r| r.try_get(0))
        .transpose()?
        .unwrap_or(0))
}

pub(super) fn generation(store: &PostgresStore, tenant: &str) -> Result<i64> {
    validate::path_id("tenant", tenant)?;
    store.read(|tx| generation_tx(tx, tenant))
}

pub(super) fn gallery(
    store: &PostgresStore,
    tenant: &str,
    model_version: &str,
) -> Result<IdentityGallery> {
    validate::path_id("tenant", tenant)?;
    validate::text("model version", model_version)?;
    // One snapshot: the generation matches the rows read with it.
    store.read(|tx| {
        let generation = generation_tx(tx, tenant)?;
        let rows = tx.query(
            "SELECT candidate_ref, dims, embedding FROM enrolments
             WHERE tenant = $1 AND model_version = $2 ORDER BY candidate_ref",
            &[&tenant, &model_version],
        )?;
        let enrolled = all(rows, |r| {
            Ok((
                r.try_get::<_, String>(0)?,
                blob_to_embedding(r.try_get(2)?, u32_col(r, 1)?)?,
            ))
        })?;
        let rows = tx.query(
            &format!(
                "SELECT {ENTRY_COLUMNS}, dims, embedding FROM blocklist
                 WHERE tenant = $1 AND model_version = $2 ORDER BY added_at, entry_id"
            ),
            &[&tenant, &model_version],
        )?;
        let blocked = all(rows, |r| {
            Ok((
                entry_row(r)?,
                blob_to_embedding(r.try_get(8)?, u32_col(r, 7)?)?,
            ))
        })?;
        Ok(IdentityGallery {
            generation,
            enrolled,
            blocked,
        })
    })
}
