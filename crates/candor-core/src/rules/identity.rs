//! Who is on camera: the same person all session, and the enrolled candidate.

use crate::codes;
use crate::config::IdentityConfig;
use crate::risk::{Reason, RiskRule, RiskState};
use crate::segment::Segment;
use crate::signal::names;

/// Another person on camera than the one the session started with. While another face
/// is in view the main face may be someone else in the room rather than a new person in
/// the seat, so the change is `suspicious` there (the presence rule names the faces).
pub struct IdentityRule(pub IdentityConfig);

impl RiskRule for IdentityRule {
    fn name(&self) -> &'static str {
        "identity"
    }

    fn evaluate(&self, s: &Segment) -> Vec<Reason> {
        let Some(sim) = s.signal(names::IDENTITY_SIMILARITY) else {
            return Vec::new();
        };
        let t = self.0.different_below;
        if sim.median < t {
            let (state, others) = if s.counts.several_faces > 0 {
                (
                    RiskState::Suspicious,
                    "; another face is in view, so it may be someone else in the room",
                )
            } else {
                (RiskState::Alert, "")
            };
            vec![Reason::new(
                codes::IDENTITY_CHANGED,
                state,
                Some(names::IDENTITY_SIMILARITY),
                format!(
                    "a different person is on camera: similarity to the session's face {:.2} \
                     (median of {} checks; same person at {t:.2} or more){others}",
                    sim.median, sim.frames
                ),
            )]
        } else if sim.min < t {
            vec![Reason::new(
                codes::IDENTITY_UNSTABLE,
                RiskState::Suspicious,
                Some(names::IDENTITY_SIMILARITY),
                format!(
                    "the face did not match the session's face in some checks (lowest \
                     similarity {:.2}, median {:.2}; same person at {t:.2} or more)",
                    sim.min, sim.median
                ),
            )]
        } else {
            Vec::new()
        }
    }
}

/// Someone other than the enrolled candidate (of an earlier round, or a reference
/// photo) on camera. Judged on the segment's median, so one poor check does not alert.
pub struct CandidateRule(pub IdentityConfig);

impl RiskRule for CandidateRule {
    fn name(&self) -> &'static str {
        "candidate"
    }

    fn evaluate(&self, s: &Segment) -> Vec<Reason> {
        let Some(sim) = s.signal(names::CANDIDATE_SIMILARITY) else {
            return Vec::new();
        };
        let t = self.0.candidate_mismatch_below;
        if sim.median >= t {
            return Vec::new();
        }
        vec![Reason::new(
            codes::CANDIDATE_MISMATCH,
            RiskState::Alert,
            Some(names::CANDIDATE_SIMILARITY),
            format!(
                "the person on camera is not the enrolled candidate: similarity {:.2} \
                 (median of {} checks; same person at {t:.2} or more)",
                sim.median, sim.frames
            ),
        )]
    }
}
