//! Risk states, reasons, the rule trait and a segment's judgement: the vocabulary the
//! rules (`rules`) and their fusion (`fusion`) speak.

use serde::{Deserialize, Serialize};

use crate::quality::AbstainCode;
use crate::segment::Segment;

/// The badge a recruiter sees. Declared from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskState {
    /// Enough usable face evidence, and nothing wrong found.
    Clear,
    /// Not enough usable face evidence to judge (no face, too small, dark, blurred).
    Inconclusive,
    /// Something is off and worth a look; not strong enough for an alert.
    Suspicious,
    /// Strong evidence of an attack (presentation attack, synthetic face, other person).
    Alert,
}

impl RiskState {
    pub const ALL: [RiskState; 4] = [
        RiskState::Clear,
        RiskState::Inconclusive,
        RiskState::Suspicious,
        RiskState::Alert,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clear => "clear",
            Self::Inconclusive => "inconclusive",
            Self::Suspicious => "suspicious",
            Self::Alert => "alert",
        }
    }
}

impl std::fmt::Display for RiskState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a segment got its state, in words a recruiter can read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Stable machine-readable code, e.g. `liveness_low` or `no_face`.
    pub code: String,
    /// The state this reason calls for.
    pub state: RiskState,
    /// The signal that drove it, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    pub message: String,
}

impl Reason {
    pub fn new(code: &str, state: RiskState, signal: Option<&str>, message: String) -> Self {
        Self {
            code: code.to_owned(),
            state,
            signal: signal.map(str::to_owned),
            message,
        }
    }
}

/// One rule of the fusion. Rules are pure functions of the segment.
pub trait RiskRule: Send + Sync {
    fn name(&self) -> &'static str;
    fn evaluate(&self, segment: &Segment) -> Vec<Reason>;
    /// This rule's confidence, 0..1, that the face is synthetic (swapped or generated),
    /// for rules about synthetic faces.
    fn synthetic_face_confidence(&self, _segment: &Segment) -> Option<f32> {
        None
    }
}

/// A segment with its judgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub state: RiskState,
    /// Reasons behind the state, most severe first.
    pub reasons: Vec<Reason>,
    /// Why the segment could not be judged, or the main quality problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abstain: Option<AbstainCode>,
    /// Fused confidence, 0..1, that the face is not a genuine live person: the highest
    /// calibrated attack term at the operating prior (see `AttackConfig`). Absent when
    /// no attack signal was measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attack_score: Option<f32>,
    /// The synthetic-face rule's confidence alone, 0..1. Absent when the face-forgery
    /// signals it needs were not measured. Results written before it had this name
    /// call it `synthetic_confidence`.
    #[serde(
        default,
        alias = "synthetic_confidence",
        skip_serializing_if = "Option::is_none"
    )]
    pub synthetic_face_confidence: Option<f32>,
}
