//! Mapping between PostgreSQL rows and records: columns, numbers, risk states.

use candor_core::RiskState;
use postgres::Row;

use crate::codec::parse_state;
use crate::error::{Result, StoreError};
use crate::types::{EvidenceRecord, SessionRecord};

/// A `BIGINT` column that holds a `u32` (indexes, counts, dimensions).
pub(super) fn u32_col(r: &Row, idx: usize) -> Result<u32> {
    let v: i64 = r.try_get(idx)?;
    u32::try_from(v).map_err(|_| StoreError::Backend(format!("corrupt row: {v} out of range")))
}

pub(super) fn state_col(r: &Row, idx: usize) -> Result<RiskState> {
    let s: String = r.try_get(idx)?;
    parse_state(&s).ok_or_else(|| StoreError::Backend(format!("corrupt row: risk state {s:?}")))
}

pub(super) fn opt_state_col(r: &Row, idx: usize) -> Result<Option<RiskState>> {
    match r.try_get::<_, Option<String>>(idx)? {
        None => Ok(None),
        Some(_) => state_col(r, idx).map(Some),
    }
}

pub(super) const SESSION_COLUMNS: &str = "s.tenant, s.session_id, s.participant_id, s.interview_ref, \
    s.candidate_ref, s.source, s.settings_json, s.models_json, s.started_at, s.ended_at, \
    s.summary_json, (SELECT COUNT(*) FROM segments g WHERE g.tenant = s.tenant AND g.session_id = s.session_id), \
    s.node";

pub(super) fn session_row(r: &Row) -> Result<SessionRecord> {
    Ok(SessionRecord {
        tenant: r.try_get(0)?,
        session_id: r.try_get(1)?,
        participant_id: r.try_get(2)?,
        interview_ref: r.try_get(3)?,
        candidate_ref: r.try_get(4)?,
        source: r.try_get(5)?,
        settings_json: r.try_get(6)?,
        models_json: r.try_get(7)?,
        started_at: r.try_get(8)?,
        ended_at: r.try_get(9)?,
        summary_json: r.try_get(10)?,
        segments: u32_col(r, 11)?,
        node: r.try_get(12)?,
    })
}

pub(super) const EVIDENCE_COLUMNS: &str =
    "id, session_id, segment_index, kind, size_bytes, sha256, location, created_at";

pub(super) fn evidence_row(r: &Row) -> Result<EvidenceRecord> {
    Ok(EvidenceRecord {
        id: r.try_get(0)?,
        session_id: r.try_get(1)?,
        segment_index: u32_col(r, 2)?,
        kind: r.try_get(3)?,
        size_bytes: r.try_get::<_, i64>(4)? as u64,
        sha256: r.try_get(5)?,
        location: r.try_get(6)?,
        created_at: r.try_get(7)?,
    })
}

/// Maps every row with `f`.
pub(super) fn all<T>(rows: Vec<Row>, f: impl Fn(&Row) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(f).collect()
}
