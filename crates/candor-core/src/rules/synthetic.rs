//! Synthetic faces: face swaps and generated faces, from the face-forgery signals.

use crate::codes;
use crate::config::SyntheticConfig;
use crate::risk::{Reason, RiskRule, RiskState};
use crate::segment::Segment;

/// Synthetic faces (face swap, generated face): the logistic model of
/// [`SyntheticConfig`] over one statistic of each face-forgery signal in the segment.
pub struct SyntheticRule(pub SyntheticConfig);

impl SyntheticRule {
    /// The confidence, when every term's signal was measured on enough frames.
    pub fn confidence(&self, s: &Segment) -> Option<f32> {
        let cfg = &self.0;
        if cfg.terms.is_empty() {
            return None;
        }
        let mut z = cfg.bias;
        for t in &cfg.terms {
            let stats = s.signal(&t.signal)?;
            if stats.frames < cfg.min_frames.max(1) {
                return None;
            }
            z += t.weight * t.transform.apply(stats.get(cfg.statistic));
        }
        Some(1.0 / (1.0 + (-z).exp()))
    }
}

impl RiskRule for SyntheticRule {
    fn name(&self) -> &'static str {
        "synthetic"
    }

    fn synthetic_face_confidence(&self, s: &Segment) -> Option<f32> {
        self.confidence(s)
    }

    fn evaluate(&self, s: &Segment) -> Vec<Reason> {
        let Some(conf) = self.confidence(s) else {
            return Vec::new();
        };
        let cfg = &self.0;
        let (state, threshold) = if conf >= cfg.alert_at {
            (RiskState::Alert, cfg.alert_at)
        } else if conf >= cfg.suspicious_at {
            (RiskState::Suspicious, cfg.suspicious_at)
        } else {
            return Vec::new();
        };
        // The term that pushed hardest names the driving signal.
        let driver = cfg
            .terms
            .iter()
            .filter_map(|t| {
                let m = s.signal(&t.signal)?.get(cfg.statistic);
                Some((t, t.weight * t.transform.apply(m), m))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let detail = driver
            .map(|(t, _, m)| {
                format!(
                    "; strongest: {} {} {m:.2}",
                    t.signal,
                    cfg.statistic.as_str()
                )
            })
            .unwrap_or_default();
        vec![Reason::new(
            codes::SYNTHETIC_FACE,
            state,
            driver.map(|(t, _, _)| t.signal.as_str()),
            format!(
                "{}: synthetic-face confidence {conf:.2} ({state} at {threshold:.2}){detail}",
                if state == RiskState::Alert {
                    "face swap or generated face likely"
                } else {
                    "face may be swapped or generated"
                }
            ),
        )]
    }
}
