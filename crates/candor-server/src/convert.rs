//! Conversions between the core's types and the protobuf messages, in one place.

use candor_core::challenge::{ChallengeKind, ChallengeOutcome, ChallengeResult};
use candor_core::{
    AbstainCode, FrameCounts, Reason, RiskState, SegmentReport, Source, StateChange, Summary,
};

use candor_core::identity_search::{IdentityMatch, MatchKind};
use candor_store::{BlocklistEntry, JobFileStatus, JobRecord};

use crate::proto;

pub fn risk_state(s: RiskState) -> proto::RiskState {
    match s {
        RiskState::Clear => proto::RiskState::Clear,
        RiskState::Inconclusive => proto::RiskState::Inconclusive,
        RiskState::Suspicious => proto::RiskState::Suspicious,
        RiskState::Alert => proto::RiskState::Alert,
    }
}

pub fn abstain(code: Option<AbstainCode>) -> proto::AbstainCode {
    match code {
        None => proto::AbstainCode::Unspecified,
        Some(AbstainCode::CameraOff) => proto::AbstainCode::CameraOff,
        Some(AbstainCode::NoFace) => proto::AbstainCode::NoFace,
        Some(AbstainCode::FaceTooSmall) => proto::AbstainCode::FaceTooSmall,
        Some(AbstainCode::TooDark) => proto::AbstainCode::TooDark,
        Some(AbstainCode::TooBright) => proto::AbstainCode::TooBright,
        Some(AbstainCode::TooBlurred) => proto::AbstainCode::TooBlurred,
        Some(AbstainCode::SeveralFaces) => proto::AbstainCode::SeveralFaces,
    }
}

pub fn model(s: &Source) -> proto::ModelInfo {
    proto::ModelInfo {
        name: s.name.clone(),
        version: s.version.clone(),
    }
}

pub fn identity_match(m: &IdentityMatch) -> proto::IdentityMatch {
    let kind = match m.kind {
        MatchKind::Duplicate => proto::IdentityMatchKind::Duplicate,
        MatchKind::Blocklisted => proto::IdentityMatchKind::Blocklisted,
    };
    proto::IdentityMatch {
        kind: kind as i32,
        reference: m.reference.clone(),
        label: m.label.clone(),
        similarity: m.similarity,
    }
}

pub fn blocklist_entry(e: &BlocklistEntry) -> proto::BlocklistEntry {
    proto::BlocklistEntry {
        entry_id: e.entry_id.clone(),
        label: e.label.clone(),
        reason: e.reason.clone(),
        candidate_ref: e.candidate_ref.clone(),
        source_session: e.source_session.clone(),
        added_at_ms: e.added_at,
        model: e.model_version.clone(),
    }
}

pub fn reason(r: &Reason) -> proto::Reason {
    proto::Reason {
        code: r.code.clone(),
        state: risk_state(r.state) as i32,
        signal: r.signal.clone().unwrap_or_default(),
        message: r.message.clone(),
    }
}

/// `received` is counted by the session (frames or chunks' frames sent by the client).
pub fn frames(c: &FrameCounts, received: u32) -> proto::FrameAccounting {
    proto::FrameAccounting {
        received,
        decoded: c.decoded,
        analysed: c.analysed,
        dropped: c.dropped,
        one_face: c.one_face,
        no_face: c.no_face,
        several_faces: c.several_faces,
        usable: c.usable,
        undecodable: c.undecodable,
    }
}

pub fn segment(
    session_id: &str,
    r: &SegmentReport,
    received: u32,
    timings: proto::StageTimings,
) -> proto::SegmentResult {
    let s = &r.segment;
    proto::SegmentResult {
        session_id: session_id.to_owned(),
        index: s.index,
        start_us: s.start_us,
        end_us: s.end_us,
        frames: Some(frames(&s.counts, received)),
        signals: s
            .signals
            .iter()
            .map(|x| proto::SignalScore {
                name: x.name.clone(),
                mean: x.mean,
                median: x.median,
                min: x.min,
                max: x.max,
                frames: x.frames,
                model: Some(model(&x.source)),
            })
            .collect(),
        abstain: abstain(r.assessment.abstain) as i32,
        attack_score: r.assessment.attack_score,
        synthetic_face_confidence: r.assessment.synthetic_face_confidence,
        // The old name of `attack_score`, filled for one more release.
        #[allow(deprecated)]
        synthetic_confidence: r.assessment.attack_score,
        state: risk_state(r.assessment.state) as i32,
        reasons: r.assessment.reasons.iter().map(reason).collect(),
        timings: Some(timings),
    }
}

pub fn summary(
    session_id: &str,
    s: &Summary,
    received: u32,
    complete: bool,
    ended_by: &str,
) -> proto::SessionSummary {
    proto::SessionSummary {
        session_id: session_id.to_owned(),
        worst_state: risk_state(s.worst_state) as i32,
        time_share: s
            .time_share
            .iter()
            .map(|(st, share)| proto::StateShare {
                state: risk_state(*st) as i32,
                share: *share,
            })
            .collect(),
        frames: Some(frames(&s.counts, received)),
        segments: s.segments,
        duration_us: s.duration_us,
        mean_liveness: s.mean_liveness,
        max_attack_score: s.max_attack_score,
        // The old name of `max_attack_score`, filled for one more release.
        #[allow(deprecated)]
        max_synthetic_confidence: s.max_attack_score,
        reasons: s
            .reasons
            .iter()
            .map(|t| proto::ReasonTally {
                code: t.code.clone(),
                state: risk_state(t.state) as i32,
                segments: t.segments,
                example: t.example.clone(),
                time_share: t.time_share,
            })
            .collect(),
        complete,
        ended_by: ended_by.to_owned(),
        candidate_similarity: s.candidate_similarity,
        blinks: s.blinks,
    }
}

/// The state change a judged segment made.
pub fn state_change(
    session_id: &str,
    r: &SegmentReport,
    change: StateChange,
) -> proto::StateChange {
    proto::StateChange {
        session_id: session_id.to_owned(),
        from: change
            .from
            .map_or(proto::RiskState::Unspecified, risk_state) as i32,
        to: risk_state(change.to) as i32,
        segment_index: r.segment.index,
        at_us: r.segment.start_us,
        reasons: r.assessment.reasons.iter().map(reason).collect(),
    }
}

pub fn job_file_status(s: JobFileStatus) -> proto::JobFileStatus {
    match s {
        JobFileStatus::Pending => proto::JobFileStatus::Pending,
        JobFileStatus::Done => proto::JobFileStatus::Done,
        JobFileStatus::Failed => proto::JobFileStatus::Failed,
    }
}

/// A stored job; each done file's summary is read from its result document.
pub fn job_status(r: &JobRecord, running: bool) -> proto::JobStatus {
    let p = r.info.progress;
    proto::JobStatus {
        job_id: r.info.job_id.clone(),
        total: p.total,
        pending: p.pending,
        done: p.done,
        failed: p.failed,
        complete: p.pending == 0,
        running,
        files: r
            .files
            .iter()
            .map(|f| {
                let summary: Option<Summary> = f
                    .result_json
                    .as_deref()
                    .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
                    .and_then(|v| serde_json::from_value(v["summary"].clone()).ok());
                proto::JobFile {
                    path: f.path.clone(),
                    status: job_file_status(f.status) as i32,
                    worst_state: summary
                        .as_ref()
                        .map_or(proto::RiskState::Unspecified, |s| risk_state(s.worst_state))
                        as i32,
                    segments: summary.as_ref().map_or(0, |s| s.segments),
                    mean_liveness: summary.as_ref().and_then(|s| s.mean_liveness),
                    error: f.error.clone().unwrap_or_default(),
                }
            })
            .collect(),
    }
}

/// A challenge's result as the API shows it.
pub fn challenge(session_id: &str, id: &str, r: &ChallengeResult) -> proto::ChallengeResult {
    proto::ChallengeResult {
        session_id: session_id.to_owned(),
        challenge_id: id.to_owned(),
        kind: challenge_kind(r.kind) as i32,
        outcome: match r.outcome {
            ChallengeOutcome::Pass => proto::ChallengeOutcome::Pass,
            ChallengeOutcome::Fail => proto::ChallengeOutcome::Fail,
            ChallengeOutcome::Inconclusive => proto::ChallengeOutcome::Inconclusive,
        } as i32,
        start_us: r.start_us,
        end_us: r.end_us,
        measurements: r
            .measurements
            .iter()
            .map(|(name, value)| proto::Measurement {
                name: name.clone(),
                value: *value,
            })
            .collect(),
        message: r.message.clone(),
    }
}

pub fn challenge_kind(k: ChallengeKind) -> proto::ChallengeKind {
    match k {
        ChallengeKind::TurnHead => proto::ChallengeKind::TurnHead,
        ChallengeKind::LookUp => proto::ChallengeKind::LookUp,
        ChallengeKind::CoverFace => proto::ChallengeKind::CoverFace,
        ChallengeKind::Blink => proto::ChallengeKind::Blink,
    }
}

/// The core kind of a requested challenge; `None` for UNSPECIFIED or unknown values.
pub fn challenge_kind_from(v: i32) -> Option<ChallengeKind> {
    match proto::ChallengeKind::try_from(v).ok()? {
        proto::ChallengeKind::TurnHead => Some(ChallengeKind::TurnHead),
        proto::ChallengeKind::LookUp => Some(ChallengeKind::LookUp),
        proto::ChallengeKind::CoverFace => Some(ChallengeKind::CoverFace),
        proto::ChallengeKind::Blink => Some(ChallengeKind::Blink),
        proto::ChallengeKind::Unspecified => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_maps_to_a_distinct_proto_state() {
        let mapped: std::collections::HashSet<i32> = RiskState::ALL
            .iter()
            .map(|s| risk_state(*s) as i32)
            .collect();
        assert_eq!(mapped.len(), 4);
        assert!(!mapped.contains(&(proto::RiskState::Unspecified as i32)));
    }

    #[test]
    fn no_abstain_is_unspecified() {
        assert_eq!(abstain(None), proto::AbstainCode::Unspecified);
        assert_eq!(
            abstain(Some(AbstainCode::TooDark)),
            proto::AbstainCode::TooDark
        );
    }
}
