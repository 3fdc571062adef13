//! Tenants: their settings (retention, evidence capture, enrolment, duplicate search).

use postgres::Transaction;

use super::PostgresStore;
use crate::error::{Result, StoreError};
use crate::types::TenantSettings;
use crate::validate;

pub(super) fn settings_tx(tx: &mut Transaction<'_>, tenant: &str) -> Result<TenantSettings> {
    let row = tx.query_opt(
        "SELECT retention_days, evidence_capture, enrolment_enabled, duplicate_search
         FROM tenants WHERE tenant = $1",
        &[&tenant],
    )?;
    let Some(r) = row else {
        return Ok(TenantSettings::new(tenant));
    };
    let days: i64 = r.try_get(0)?;
    Ok(TenantSettings {
        tenant: tenant.to_owned(),
        retention_days: u32::try_from(days)
            .map_err(|_| StoreError::Backend(format!("corrupt row: retention {days}")))?,
        evidence_capture: r.try_get(1)?,
        enrolment_enabled: r.try_get(2)?,
        duplicate_search: r.try_get(3)?,
    })
}

pub(super) fn upsert(store: &PostgresStore, s: &TenantSettings) -> Result<()> {
    validate::path_id("tenant", &s.tenant)?;
    validate::retention_days(s.retention_days)?;
    store.write(|tx| {
        tx.execute(
            "INSERT INTO tenants (tenant, retention_days, evidence_capture, enrolment_enabled,
                duplicate_search)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant) DO UPDATE SET
                retention_days = excluded.retention_days,
                evidence_capture = excluded.evidence_capture,
                enrolment_enabled = excluded.enrolment_enabled,
                duplicate_search = excluded.duplicate_search",
            &[
                &s.tenant,
                &i64::from(s.retention_days),
                &s.evidence_capture,
                &s.enrolment_enabled,
                &s.duplicate_search,
            ],
        )?;
        Ok(())
    })
}

pub(super) fn settings(store: &PostgresStore, tenant: &str) -> Result<TenantSettings> {
    validate::path_id("tenant", tenant)?;
    store.read(|tx| settings_tx(tx, tenant))
}
