//! The audit log: who read or found what, per tenant.

use super::PostgresStore;
use super::rows::all;
use crate::error::Result;
use crate::types::{AuditRecord, NewAuditEntry};
use crate::{now_ms, validate};

pub(super) fn append(store: &PostgresStore, tenant: &str, entry: &NewAuditEntry) -> Result<()> {
    validate::path_id("tenant", tenant)?;
    validate::text("audit kind", &entry.kind)?;
    validate::json("audit detail", &entry.detail_json)?;
    if let Some(s) = &entry.session_id {
        validate::text("session id", s)?;
    }
    if let Some(c) = &entry.caller {
        validate::text("caller", c)?;
    }
    store.write(|tx| {
        tx.execute(
            "INSERT INTO audit_log (tenant, kind, session_id, caller, detail_json, at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &tenant,
                &entry.kind,
                &entry.session_id,
                &entry.caller,
                &entry.detail_json,
                &now_ms(),
            ],
        )?;
        Ok(())
    })
}

pub(super) fn list(store: &PostgresStore, tenant: &str, limit: u32) -> Result<Vec<AuditRecord>> {
    validate::path_id("tenant", tenant)?;
    store.read(|tx| {
        let rows = tx.query(
            "SELECT id, tenant, kind, session_id, caller, detail_json, at FROM audit_log
             WHERE tenant = $1 ORDER BY at DESC, id DESC LIMIT $2",
            &[&tenant, &i64::from(limit)],
        )?;
        all(rows, |r| {
            Ok(AuditRecord {
                id: r.try_get(0)?,
                tenant: r.try_get(1)?,
                kind: r.try_get(2)?,
                session_id: r.try_get(3)?,
                caller: r.try_get(4)?,
                detail_json: r.try_get(5)?,
                at: r.try_get(6)?,
            })
        })
    })
}
