//! Passive liveness: printed photos, screens and replays held up to the camera.

use crate::codes;
use crate::config::LivenessThresholds;
use crate::risk::{Reason, RiskRule, RiskState};
use crate::segment::Segment;
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
        let what = if state == RiskState::Alert {
            "presentation attack likely (printed photo, screen or replayed video)"
        } else {
            "liveness uncertain"
        };
        vec![Reason::new(
            codes::LIVENESS_LOW,
            state,
            Some(names::LIVENESS),
            format!(
                "{what}: mean live score {:.2} over {} frames (worst {:.2}; {} below {:.2})",
                live.mean,
                live.frames,
                live.min,
                state,
                if state == RiskState::Alert {
                    self.0.alert_below
                } else {
                    self.0.suspicious_below
                },
            ),
        )]
    }
}
