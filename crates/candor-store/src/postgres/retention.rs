//! Privacy: purging a session or a candidate, and the retention sweep (one node at a
//! time, under an advisory lock).

use postgres::Transaction;

use super::PostgresStore;
use super::sessions::{require_session, session_exists};
use crate::error::Result;
use crate::types::{DEFAULT_RETENTION_DAYS, PurgeReport, SweepReport};
use crate::validate;

const DAY_MS: i64 = 86_400_000;

/// Advisory lock key of the retention sweep ("candor" + 2).
pub const SWEEP_LOCK: i64 = 0x63_61_6e_64_6f_72_02;

/// Deletes one session's rows, evidence bytes included (the session must exist), and
/// its objects in the evidence store first, as a data directory's files go before the
/// commit: if that fails the rows stay and the purge can be retried.
fn purge_session_tx(
    store: &PostgresStore,
    tx: &mut Transaction<'_>,
    tenant: &str,
    session_id: &str,
) -> Result<PurgeReport> {
    let mut del = |table: &str| -> Result<u64> {
        Ok(tx.execute(
            &format!("DELETE FROM {table} WHERE tenant = $1 AND session_id = $2"),
            &[&tenant, &session_id],
        )?)
    };
    let mut r = PurgeReport {
        segments: del("segments")?,
        state_changes: del("state_changes")?,
        challenges: del("challenges")?,
        evidence: del("evidence")?,
        session_identities: del("session_identities")?,
        ..PurgeReport::default()
    };
    tx.execute(
        "UPDATE enrolments SET source_session = NULL WHERE tenant = $1 AND source_session = $2",
        &[&tenant, &session_id],
    )?;
    r.sessions = tx.execute(
        "DELETE FROM sessions WHERE tenant = $1 AND session_id = $2",
        &[&tenant, &session_id],
    )?;
    if let Some(blobs) = &store.blobs {
        r.evidence_files = blobs.delete_all(&format!("{tenant}/{session_id}"))?;
    }
    Ok(r)
}

pub(super) fn purge_session(
    store: &PostgresStore,
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
    store: &PostgresStore,
    tenant: &str,
    candidate_ref: &str,
) -> Result<PurgeReport> {
    validate::path_id("tenant", tenant)?;
    validate::text("candidate ref", candidate_ref)?;
    store.write(|tx| {
        let ids: Vec<String> = tx
            .query(
                "SELECT session_id FROM sessions WHERE tenant = $1 AND candidate_ref = $2",
                &[&tenant, &candidate_ref],
            )?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        let mut report = PurgeReport::default();
        for id in ids {
            report.add(&purge_session_tx(store, tx, tenant, &id)?);
        }
        report.enrolments = tx.execute(
            "DELETE FROM enrolments WHERE tenant = $1 AND candidate_ref = $2",
            &[&tenant, &candidate_ref],
        )?;
        // The candidate's identity on the blocklist goes too: erasure is everywhere.
        report.blocklist = tx.execute(
            "DELETE FROM blocklist WHERE tenant = $1 AND candidate_ref = $2",
            &[&tenant, &candidate_ref],
        )?;
        Ok(report)
    })
}

/// Sweeps, unless another node is sweeping now: then it returns at once, having
/// deleted nothing (that node deletes the same rows).
pub(super) fn sweep_expired(store: &PostgresStore, now_ms: i64) -> Result<SweepReport> {
    // A session-level lock on a connection of its own, closed at the end: a node that
    // dies mid-sweep releases it with its connection.
    let mut lock = store.pool.connect()?;
    let got: bool = lock
        .query_one("SELECT pg_try_advisory_lock($1)", &[&SWEEP_LOCK])?
        .try_get(0)?;
    if !got {
        return Ok(SweepReport::default());
    }
    let report = sweep_locked(store, now_ms);
    // Closing the connection releases the lock; unlock first all the same, so a
    // slow close does not hold it.
    let _ = lock.execute("SELECT pg_advisory_unlock($1)", &[&SWEEP_LOCK]);
    report
}

fn sweep_locked(store: &PostgresStore, now_ms: i64) -> Result<SweepReport> {
    let retention = i64::from(DEFAULT_RETENTION_DAYS);
    // Expired: older than the retention period, i.e. now - started_at > retention.
    let expired: Vec<(String, String)> = store.read(|tx| {
        tx.query(
            "SELECT s.tenant, s.session_id FROM sessions s
             LEFT JOIN tenants t ON t.tenant = s.tenant
             WHERE s.started_at < $1 - COALESCE(t.retention_days, $2) * $3",
            &[&now_ms, &retention, &DAY_MS],
        )?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
    })?;
    let mut report = SweepReport::default();
    // One transaction per session, so a long sweep never holds locks for long; a
    // session purged meanwhile is skipped.
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
    (report.job_files, report.jobs) = store.write(|tx| {
        const EXPIRED_JOBS: &str = "SELECT j.tenant, j.job_id FROM jobs j
             LEFT JOIN tenants t ON t.tenant = j.tenant
             WHERE j.created_at < $1 - COALESCE(t.retention_days, $2) * $3";
        let files = tx.execute(
            &format!("DELETE FROM job_files WHERE (tenant, job_id) IN ({EXPIRED_JOBS})"),
            &[&now_ms, &retention, &DAY_MS],
        )?;
        let jobs = tx.execute(
            &format!("DELETE FROM jobs WHERE (tenant, job_id) IN ({EXPIRED_JOBS})"),
            &[&now_ms, &retention, &DAY_MS],
        )?;
        Ok((files, jobs))
    })?;
    (report.blocklist, report.audit_log) = store.write(|tx| {
        let entries = tx.execute(
            "DELETE FROM blocklist b USING blocklist x LEFT JOIN tenants t ON t.tenant = x.tenant
             WHERE b.tenant = x.tenant AND b.entry_id = x.entry_id
               AND x.added_at < $1 - COALESCE(t.retention_days, $2) * $3",
            &[&now_ms, &retention, &DAY_MS],
        )?;
        let lines = tx.execute(
            "DELETE FROM audit_log a USING audit_log x LEFT JOIN tenants t ON t.tenant = x.tenant
             WHERE a.id = x.id AND x.at < $1 - COALESCE(t.retention_days, $2) * $3",
            &[&now_ms, &retention, &DAY_MS],
        )?;
        Ok((entries, lines))
    })?;
    Ok(report)
}
