//! Mapping between table rows and records: columns, risk states and embeddings.

use candor_core::RiskState;
use rusqlite::Row;
use rusqlite::types::Type;

use crate::codec::parse_state;
pub(super) use crate::codec::{blob_to_embedding, embedding_to_blob};
use crate::types::{EvidenceRecord, SessionRecord};

pub(super) fn state_col(row: &Row<'_>, idx: usize) -> rusqlite::Result<RiskState> {
    let s: String = row.get(idx)?;
    parse_state(&s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            Type::Text,
            format!("unknown risk state {s:?}").into(),
        )
    })
}

pub(super) fn opt_state_col(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<RiskState>> {
    match row.get::<_, Option<String>>(idx)? {
        None => Ok(None),
        Some(_) => state_col(row, idx).map(Some),
    }
}

pub(super) const SESSION_COLUMNS: &str = "s.tenant, s.session_id, s.participant_id, s.interview_ref, \
    s.candidate_ref, s.source, s.settings_json, s.models_json, s.started_at, s.ended_at, \
    s.summary_json, (SELECT COUNT(*) FROM segments g WHERE g.tenant = s.tenant AND g.session_id = s.session_id), \
    s.node";

pub(super) fn session_row(r: &Row<'_>) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        tenant: r.get(0)?,
        session_id: r.get(1)?,
        participant_id: r.get(2)?,
        interview_ref: r.get(3)?,
        candidate_ref: r.get(4)?,
        source: r.get(5)?,
        settings_json: r.get(6)?,
        models_json: r.get(7)?,
        started_at: r.get(8)?,
        ended_at: r.get(9)?,
        summary_json: r.get(10)?,
        segments: r.get(11)?,
        node: r.get(12)?,
    })
}

pub(super) const EVIDENCE_COLUMNS: &str =
    "id, session_id, segment_index, kind, size_bytes, sha256, location, created_at";

pub(super) fn evidence_row(r: &Row<'_>) -> rusqlite::Result<EvidenceRecord> {
    Ok(EvidenceRecord {
        id: r.get(0)?,
        session_id: r.get(1)?,
        segment_index: r.get(2)?,
        kind: r.get(3)?,
        size_bytes: r.get::<_, i64>(4)? as u64,
        sha256: r.get(5)?,
        location: r.get(6)?,
        created_at: r.get(7)?,
    })
}
