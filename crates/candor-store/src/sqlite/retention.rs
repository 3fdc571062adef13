//! Privacy: purging a session or a candidate, and the retention sweep.

use std::fs;

use rusqlite::{Transaction, params};

use super::SqliteStore;
use super::files::remove_dir_counting;
use super::sessions::{require_session, session_exists};
use crate::error::Result;
use crate::types::{DEFAULT_RETENTION_DAYS, PurgeReport, SweepReport};
use crate::validate;

const DAY_MS: i64 = 86_400_000;

/// Deletes one session's rows (in `tx`) and then its evidence directory. The
/// session must exist. Files go before the commit: if removing them fails the rows
/// stay and the purge can be retried.
pub(super) fn purge_session_tx(
    store: &SqliteStore,
    tx: &Transaction<'_>,
    tenant: &str,
    session_id: &str,
) -> Result<PurgeReport> {
    let del = |table: &str| -> Result<u64> {
        let n = tx.execute(
            &format!("DELETE FROM {table} WHERE tenant = ?1 AND session_id = ?2"),
            params![tenant, session_id],
        )?;
        Ok(n as u64)
    };
    let mut r = PurgeReport {
        segments: del("segments")?,
        state_changes: del("state_changes")?,
        challenges: del("challenges")?,
        evidence: del("evidence")?,
        ..PurgeReport::default()
    };
    tx.execute(
        "UPDATE enrolments SET source_session = NULL WHERE tenant = ?1 AND source_session = ?2",
        params![tenant, session_id],
    )?;
    r.session_identities = del("session_identities")?;
    r.sessions = del("sessions")?;
    if let Some(blobs) = &store.blobs {
        r.evidence_files += blobs.delete_all(&format!("{tenant}/{session_id}"))?;
    }
    if let Some(dir) = store.session_dir(tenant, session_id) {
        r.evidence_files += remove_dir_counting(&dir)?;
        // Tidy the tenant folder if that was its last session (fails if not empty).
        if let Some(parent) = dir.parent() {
            let _ = fs::remove_dir(parent);
        }
    }
    Ok(r)
}

pub(super) fn purge_session(
    store: &SqliteStore,
    tenant: &str,
    session_id: &str,
) -> Result<PurgeReport> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("session id", session_id)?;
    store.write(|tx| {
        require_session(tx, tenant, session_id)?;
        purge_session_tx(store, tx, tenant, session_id)
    })
}

pub(super) fn purge_candidate(
    store: &SqliteStore,
    tenant: &str,
    candidate_ref: &str,
) -> Result<PurgeReport> {
    validate::path_id("tenant", tenant)?;
    validate::text("candidate ref", candidate_ref)?;
    store.write(|tx| {
        let ids: Vec<String> = tx
            .prepare("SELECT session_id FROM sessions WHERE tenant = ?1 AND candidate_ref = ?2")?
            .query_map(params![tenant, candidate_ref], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut report = PurgeReport::default();
        for id in ids {
            report.add(&purge_session_tx(store, tx, tenant, &id)?);
        }
        report.enrolments = tx.execute(
            "DELETE FROM enrolments WHERE tenant = ?1 AND candidate_ref = ?2",
            params![tenant, candidate_ref],
        )? as u64;
        // The candidate's identity on the blocklist goes too: erasure is everywhere.
        report.blocklist = tx.execute(
            "DELETE FROM blocklist WHERE tenant = ?1 AND candidate_ref = ?2",
            params![tenant, candidate_ref],
        )? as u64;
        Ok(report)
    })
}

pub(super) fn sweep_expired(store: &SqliteStore, now_ms: i64) -> Result<SweepReport> {
    // Expired: older than the retention period, i.e. now - started_at > retention.
    let expired: Vec<(String, String)> = store.read(|tx| {
        let mut stmt = tx.prepare(
            "SELECT s.tenant, s.session_id FROM sessions s
             LEFT JOIN tenants t ON t.tenant = s.tenant
             WHERE s.started_at < ?1 - COALESCE(t.retention_days, ?2) * ?3",
        )?;
        let rows = stmt.query_map(params![now_ms, DEFAULT_RETENTION_DAYS, DAY_MS], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    })?;
    let mut report = SweepReport::default();
    // One transaction per session, so a long sweep never holds the write lock for
    // long; a session purged meanwhile is skipped.
    for (tenant, session_id) in expired {
        let r = store.write(|tx| {
            if session_exists(tx, &tenant, &session_id)? {
                purge_session_tx(store, tx, &tenant, &session_id)
            } else {
                Ok(PurgeReport::default())
            }
        })?;
        report.add(&r);
    }
    let (job_files, jobs) = store.write(|tx| {
        const EXPIRED_JOBS: &str = "SELECT j.tenant, j.job_id FROM jobs j
             LEFT JOIN tenants t ON t.tenant = j.tenant
             WHERE j.created_at < ?1 - COALESCE(t.retention_days, ?2) * ?3";
        let p = params![now_ms, DEFAULT_RETENTION_DAYS, DAY_MS];
        let files = tx.execute(
            &format!("DELETE FROM job_files WHERE (tenant, job_id) IN ({EXPIRED_JOBS})"),
            p,
        )?;
        let jobs = tx.execute(
            &format!("DELETE FROM jobs WHERE (tenant, job_id) IN ({EXPIRED_JOBS})"),
            p,
        )?;
        Ok((files as u64, jobs as u64))
    })?;
    report.job_files = job_files;
    report.jobs = jobs;
    (report.blocklist, report.audit_log) = store.write(|tx| {
        const EXPIRED_ENTRIES: &str = "SELECT b.tenant, b.entry_id FROM blocklist b
             LEFT JOIN tenants t ON t.tenant = b.tenant
             WHERE b.added_at < ?1 - COALESCE(t.retention_days, ?2) * ?3";
        const EXPIRED_LINES: &str = "SELECT a.id FROM audit_log a
             LEFT JOIN tenants t ON t.tenant = a.tenant
             WHERE a.at < ?1 - COALESCE(t.retention_days, ?2) * ?3";
        let p = params![now_ms, DEFAULT_RETENTION_DAYS, DAY_MS];
        let entries = tx.execute(
            &format!("DELETE FROM blocklist WHERE (tenant, entry_id) IN ({EXPIRED_ENTRIES})"),
            p,
        )?;
        let lines = tx.execute(
            &format!("DELETE FROM audit_log WHERE id IN ({EXPIRED_LINES})"),
            p,
        )?;
        Ok((entries as u64, lines as u64))
    })?;
    Ok(report)
}
