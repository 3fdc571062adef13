//! What the badge page receives: each session event as a named JSON message for its
//! Server-Sent Events stream. Only what the page shows leaves the server (states,
//! scores, reasons, identity checks, challenge outcomes, the summary), with enum names
//! in words rather than numbers.

use serde_json::{Value, json};

use crate::proto::{self, analyze_response::Event};

/// The name the page listens for and the message, or `None` for events the page does
/// not show (the session's acceptance).
pub fn message(event: &proto::AnalyzeResponse) -> Option<(&'static str, Value)> {
    Some(match event.event.as_ref()? {
        Event::Segment(s) => ("segment", segment(s)),
        Event::StateChange(c) => ("state_change", state_change(c)),
        Event::Challenge(c) => ("challenge", challenge(c)),
        Event::Summary(s) => ("summary", summary(s)),
        Event::Accepted(_) => return None,
    })
}

/// The session the page follows, before its events.
pub fn session(meta: &SessionView) -> Value {
    json!({
        "session_id": meta.session_id,
        "participant_id": meta.participant_id,
        "interview_ref": meta.interview_ref,
        "candidate_ref": meta.candidate_ref,
    })
}

/// Who the session is about, as the page shows it.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub session_id: String,
    pub participant_id: String,
    pub interview_ref: Option<String>,
    pub candidate_ref: Option<String>,
}

fn state(v: i32) -> &'static str {
    match proto::RiskState::try_from(v).unwrap_or_default() {
        proto::RiskState::Clear => "clear",
        proto::RiskState::Inconclusive => "inconclusive",
        proto::RiskState::Suspicious => "suspicious",
        proto::RiskState::Alert => "alert",
        proto::RiskState::Unspecified => "unknown",
    }
}

fn reasons(rs: &[proto::Reason]) -> Vec<Value> {
    rs.iter()
        .map(|r| json!({"code": r.code, "state": state(r.state), "message": r.message}))
        .collect()
}

fn seconds(us: i64) -> f64 {
    us as f64 / 1e6
}

fn signal_mean(s: &proto::SegmentResult, name: &str) -> Option<f32> {
    s.signals.iter().find(|x| x.name == name).map(|x| x.mean)
}

fn segment(s: &proto::SegmentResult) -> Value {
    let abstain = proto::AbstainCode::try_from(s.abstain)
        .ok()
        .filter(|a| *a != proto::AbstainCode::Unspecified)
        .map(|a| {
            a.as_str_name()
                .trim_start_matches("ABSTAIN_CODE_")
                .to_ascii_lowercase()
        });
    let frames = s.frames.unwrap_or_default();
    json!({
        "index": s.index,
        "start_s": seconds(s.start_us),
        "end_s": seconds(s.end_us),
        "state": state(s.state),
        "attack_score": s.attack_score,
        "synthetic_face_confidence": s.synthetic_face_confidence,
        "liveness": signal_mean(s, candor_core::signal::names::LIVENESS),
        "identity_similarity": signal_mean(s, candor_core::signal::names::IDENTITY_SIMILARITY),
        "candidate_similarity": signal_mean(s, candor_core::signal::names::CANDIDATE_SIMILARITY),
        "abstain": abstain,
        "reasons": reasons(&s.reasons),
        "frames": {"analysed": frames.analysed, "usable": frames.usable},
    })
}

fn state_change(c: &proto::StateChange) -> Value {
    json!({
        "from": state(c.from),
        "to": state(c.to),
        "segment_index": c.segment_index,
        "at_s": seconds(c.at_us),
        "reasons": reasons(&c.reasons),
    })
}

/// The challenge kind as the page names it (`turn_head`), and back.
pub fn challenge_kind_name(kind: i32) -> &'static str {
    match proto::ChallengeKind::try_from(kind).unwrap_or_default() {
        proto::ChallengeKind::TurnHead => "turn_head",
        proto::ChallengeKind::LookUp => "look_up",
        proto::ChallengeKind::CoverFace => "cover_face",
        proto::ChallengeKind::Blink => "blink",
        proto::ChallengeKind::Unspecified => "unknown",
    }
}

pub fn challenge_kind_from_name(name: &str) -> Option<proto::ChallengeKind> {
    Some(match name {
        "turn_head" => proto::ChallengeKind::TurnHead,
        "look_up" => proto::ChallengeKind::LookUp,
        "cover_face" => proto::ChallengeKind::CoverFace,
        "blink" => proto::ChallengeKind::Blink,
        _ => return None,
    })
}

fn challenge(c: &proto::ChallengeResult) -> Value {
    let outcome = match proto::ChallengeOutcome::try_from(c.outcome).unwrap_or_default() {
        proto::ChallengeOutcome::Pass => "pass",
        proto::ChallengeOutcome::Fail => "fail",
        proto::ChallengeOutcome::Inconclusive => "inconclusive",
        proto::ChallengeOutcome::Unspecified => "unknown",
    };
    let measurements: Vec<Value> = c
        .measurements
        .iter()
        .map(|m| json!({"name": m.name, "value": m.value}))
        .collect();
    json!({
        "challenge_id": c.challenge_id,
        "kind": challenge_kind_name(c.kind),
        "outcome": outcome,
        "message": c.message,
        "start_s": seconds(c.start_us),
        "end_s": seconds(c.end_us),
        "measurements": measurements,
    })
}

fn summary(s: &proto::SessionSummary) -> Value {
    let shares: Vec<Value> = s
        .time_share
        .iter()
        .map(|t| json!({"state": state(t.state), "share": t.share}))
        .collect();
    let tallies: Vec<Value> = s
        .reasons
        .iter()
        .map(|r| {
            json!({
                "code": r.code,
                "state": state(r.state),
                "segments": r.segments,
                "example": r.example,
                "time_share": r.time_share,
            })
        })
        .collect();
    json!({
        "complete": s.complete,
        "worst_state": state(s.worst_state),
        "segments": s.segments,
        "duration_s": seconds(s.duration_us),
        "mean_liveness": s.mean_liveness,
        "max_attack_score": s.max_attack_score,
        "candidate_similarity": s.candidate_similarity,
        "blinks": s.blinks,
        "ended_by": s.ended_by,
        "time_share": shares,
        "reasons": tallies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_read_in_words() {
        let seg = proto::SegmentResult {
            index: 3,
            start_us: 6_000_000,
            end_us: 8_000_000,
            state: proto::RiskState::Alert as i32,
            abstain: proto::AbstainCode::NoFace as i32,
            attack_score: Some(0.9),
            reasons: vec![proto::Reason {
                code: "liveness_low".into(),
                state: proto::RiskState::Alert as i32,
                signal: "liveness".into(),
                message: "looks like a replay".into(),
            }],
            ..Default::default()
        };
        let (name, v) = message(&proto::AnalyzeResponse {
            event: Some(Event::Segment(seg)),
        })
        .unwrap();
        assert_eq!(name, "segment");
        assert_eq!(v["state"], "alert");
        assert_eq!(v["abstain"], "no_face");
        assert_eq!(v["start_s"], 6.0);
        assert_eq!(v["reasons"][0]["code"], "liveness_low");
        assert_eq!(v["reasons"][0]["state"], "alert");
    }

    #[test]
    fn challenge_kinds_round_trip() {
        for name in ["turn_head", "look_up", "cover_face", "blink"] {
            let k = challenge_kind_from_name(name).unwrap();
            assert_eq!(challenge_kind_name(k as i32), name);
        }
        assert!(challenge_kind_from_name("dance").is_none());
    }
}
