//! Tenants: their settings (retention, evidence capture, enrolment, duplicate search).

use rusqlite::{OptionalExtension, Transaction, params};

use super::SqliteStore;
use crate::error::Result;
use crate::types::TenantSettings;
use crate::validate;

pub(super) fn settings_tx(tx: &Transaction<'_>, tenant: &str) -> Result<TenantSettings> {
    let row = tx
        .query_row(
            "SELECT retention_days, evidence_capture, enrolment_enabled, duplicate_search
             FROM tenants WHERE tenant = ?1",
            params![tenant],
            |r| {
                Ok(TenantSettings {
                    tenant: tenant.to_owned(),
                    retention_days: r.get(0)?,
                    evidence_capture: r.get(1)?,
                    enrolment_enabled: r.get(2)?,
                    duplicate_search: r.get(3)?,
                })
            },
        )
        .optional()?;
    Ok(match row {
        Some(settings) => settings,
        None => TenantSettings::new(tenant),
    })
}

pub(super) fn upsert(store: &SqliteStore, s: &TenantSettings) -> Result<()> {
    validate::path_id("tenant", &s.tenant)?;
    validate::retention_days(s.retention_days)?;
    store.write(|tx| {
        tx.execute(
            "INSERT INTO tenants (tenant, retention_days, evidence_capture, enrolment_enabled,
                duplicate_search)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (tenant) DO UPDATE SET
                retention_days = excluded.retention_days,
                evidence_capture = excluded.evidence_capture,
                enrolment_enabled = excluded.enrolment_enabled,
                duplicate_search = excluded.duplicate_search",
            params![
                s.tenant,
                s.retention_days,
                s.evidence_capture,
                s.enrolment_enabled,
                s.duplicate_search
            ],
        )?;
        Ok(())
    })
}

pub(super) fn settings(store: &SqliteStore, tenant: &str) -> Result<TenantSettings> {
    validate::path_id("tenant", tenant)?;
    store.read(|tx| settings_tx(tx, tenant))
}
