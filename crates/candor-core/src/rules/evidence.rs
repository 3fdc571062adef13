//! Whether a segment has enough usable face evidence to be judged at all.

use crate::codes;
use crate::config::QualityThresholds;
use crate::quality::AbstainCode;
use crate::risk::{Reason, RiskRule, RiskState};
use crate::segment::Segment;
use crate::signal::names;

/// `inconclusive` when too few analysed frames carry a usable face.
pub struct EvidenceRule(pub QualityThresholds);

impl RiskRule for EvidenceRule {
    fn name(&self) -> &'static str {
        "evidence"
    }

    fn evaluate(&self, s: &Segment) -> Vec<Reason> {
        if s.counts.analysed == 0 {
            let why = if s.counts.dropped > 0 {
                "every sampled frame was dropped (analysis fell behind)"
            } else {
                "no frame was analysed in this segment"
            };
            return vec![Reason::new(
                codes::NO_ANALYSED_FRAMES,
                RiskState::Inconclusive,
                None,
                why.into(),
            )];
        }
        if s.counts.usable > 0 && s.usable_share() >= self.0.min_usable_share {
            return Vec::new();
        }
        let code = s.main_abstain().unwrap_or(AbstainCode::NoFace);
        let detail = match code {
            AbstainCode::FaceTooSmall => s.quality_measure(names::FACE_WIDTH_PX).map(|m| {
                format!(
                    " (median width {:.0} px, need {:.0})",
                    m.median, self.0.min_face_width_px
                )
            }),
            AbstainCode::TooDark | AbstainCode::TooBright => s
                .quality_measure(names::BRIGHTNESS)
                .map(|m| format!(" (median brightness {:.0} of 255)", m.median)),
            AbstainCode::TooBlurred => s.quality_measure(names::SHARPNESS).map(|m| {
                format!(
                    " (median sharpness {:.1}, need {:.1})",
                    m.median, self.0.min_sharpness
                )
            }),
            _ => None,
        }
        .unwrap_or_default();
        vec![Reason::new(
            code.as_str(),
            RiskState::Inconclusive,
            None,
            format!(
                "{}{detail}: {} of {} analysed frames usable",
                code.describe(),
                s.counts.usable,
                s.counts.analysed
            ),
        )]
    }
}
