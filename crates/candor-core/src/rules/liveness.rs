//! Passive liveness: printed photos, screens and replays held up to the camera.

use crate::codes;
use crate::config::{LivenessThresholds, PresenceThresholds};
use crate::risk::{Reason, RiskRule, RiskState};
use crate::rules::picture_like;
use crate::segment::{Segment, SignalStats};
use crate::signal::names;

/// Passive liveness: presentation attacks (printed photo, screen replay).
pub struct LivenessRule(pub LivenessThresholds);

impl RiskRule for LivenessRule {
    fn name(&self) -> &'static str {
        "liveness"
    }

    fn evaluate(&self, s: &Segment) -> Vec<Reason> {
        let Some(live) = s.signal(names::LIVENESS) else {
            return Vec::new();
        };
        let state = if live.mean < self.0.alert_below {
            RiskState::Alert
        } else if live.mean < self.0.suspicious_below {
            RiskState::Suspicious
        } else {
            return Vec::new();
        };
        vec![self.reason(live, state, "")]
    }
}

impl LivenessRule {
    /// The reason a live score gives for `state` (suspicious or alert); `how` tells,
    /// after the line, how it was applied.
    pub fn reason(&self, live: &SignalStats, state: RiskState, how: &str) -> Reason {
        let (what, line) = if state == RiskState::Alert {
            (
                "presentation attack likely (printed photo, screen or replayed video)",
                self.0.alert_below,
            )
        } else {
            ("liveness uncertain", self.0.suspicious_below)
        };
        Reason::new(
            codes::LIVENESS_LOW,
            state,
            Some(names::LIVENESS),
            format!(
                "{what}: mean live score {:.2} over {} frames (worst {:.2}; {state} below \
                 {line:.2}{how})",
                live.mean, live.frames, live.min
            ),
        )
    }
}

/// Whether the segment's low live score speaks for a presentation attack on its own
/// (false without a live score). In video, recorded film and TV footage reads as low on
/// the liveness model as a print; so it speaks when the score is extreme (a screen),
/// when the picture behaves like one (frozen, looped, moving as a rigid plane), or when
/// there is no motion to judge (a still). Both the live-score alert and the attack
/// score's liveness term follow it, so the number and the state tell the same story.
pub fn live_score_stands(
    liveness: &LivenessThresholds,
    presence: &PresenceThresholds,
    s: &Segment,
) -> bool {
    s.signal(names::LIVENESS).is_some_and(|live| {
        live.mean < liveness.alert_alone_below
            || s.signal(names::FRAME_CHANGE).is_none()
            || picture_like(presence, s)
    })
}
