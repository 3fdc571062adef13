//! Verdicts that do not flap. The live score of one recording differs a little from
//! transport to transport (H.264, WebM, JPEG frames), and an ordinary webcam dips for a
//! moment: a score at a threshold must not turn a segment `alert` on one and
//! `suspicious` on the other. So a stream enters a worse state on the live score only
//! when the score lies clearly beyond the threshold (by the hysteresis margin), and
//! keeps a state it is in while the score stays within the margin of it. Fed every
//! judged segment in order, after the fusion.
//!
//! In video, the live score alone does not alert: recorded footage (a film scene, a TV
//! clip) reads as low as a print. It alerts when the picture behaves like one (frozen,
//! looped, moving as a rigid plane) or the score is extreme (a screen); otherwise the
//! segment stays `suspicious`. A still has no motion to corroborate with, so there the
//! live score decides alone.

use crate::codes;
use crate::config::{LivenessThresholds, PresenceThresholds};
use crate::fusion::settle;
use crate::risk::{Assessment, RiskState};
use crate::rules::{LivenessRule, live_score_stands};
use crate::segment::Segment;
use crate::signal::names;

#[derive(Debug, Clone)]
pub struct Hysteresis {
    thresholds: LivenessThresholds,
    presence: PresenceThresholds,
    /// The state the live score put the previous segment in.
    previous: RiskState,
}

impl Hysteresis {
    pub fn new(thresholds: &LivenessThresholds, presence: &PresenceThresholds) -> Self {
        Self {
            thresholds: thresholds.clone(),
            presence: presence.clone(),
            previous: RiskState::Clear,
        }
    }

    /// The state the live score calls for, given the one it called for before: beyond
    /// a threshold by the margin to enter, within the margin of it to stay.
    fn state(&self, live: f32) -> RiskState {
        let t = &self.thresholds;
        let m = t.hysteresis;
        let holds = |level: RiskState, below: f32| {
            live < below - m || (self.previous >= level && live < below + m)
        };
        if holds(RiskState::Alert, t.alert_below) {
            RiskState::Alert
        } else if holds(RiskState::Suspicious, t.suspicious_below) {
            RiskState::Suspicious
        } else {
            RiskState::Clear
        }
    }

    pub fn apply(&mut self, segment: &Segment, a: &mut Assessment) {
        let Some(live) = segment.signal(names::LIVENESS) else {
            self.previous = RiskState::Clear;
            return;
        };
        if self.thresholds.hysteresis <= 0.0 {
            return;
        }
        let mut state = self.state(live.mean);
        let uncorroborated = state == RiskState::Alert
            && !live_score_stands(&self.thresholds, &self.presence, segment);
        if uncorroborated {
            state = RiskState::Suspicious;
        }
        self.previous = state;
        a.reasons
            .retain(|r| r.code != codes::LIVENESS_LOW && r.code != codes::LIVE_FACE);
        if state != RiskState::Clear {
            let m = self.thresholds.hysteresis;
            let mut how = format!(", entered {m:.2} beyond it and held within {m:.2} of it");
            if uncorroborated {
                how.push_str(&format!(
                    "; not alert: below {:.2} but above {:.2}, and the picture moves like a \
                     live one (not frozen, looped or rigid)",
                    self.thresholds.alert_below, self.thresholds.alert_alone_below
                ));
            }
            let rule = LivenessRule(self.thresholds.clone());
            a.reasons.push(rule.reason(live, state, &how));
        }
        a.state = settle(&mut a.reasons, segment);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AnalysisConfig;
    use crate::fusion::Fusion;
    use crate::testing;

    fn segment(live: f32) -> Segment {
        testing::segment(4, 4, 0, Some(live))
    }

    /// Live scores of consecutive segments -> their states.
    fn run(scores: &[f32]) -> Vec<RiskState> {
        let cfg = AnalysisConfig::default();
        let fusion = Fusion::from_config(&cfg);
        let mut h = Hysteresis::new(&cfg.liveness, &cfg.presence);
        scores
            .iter()
            .map(|&l| {
                let s = segment(l);
                let mut a = fusion.assess(&s);
                h.apply(&s, &mut a);
                a.state
            })
            .collect()
    }

    #[test]
    fn a_score_hovering_at_a_threshold_does_not_flap() {
        use RiskState::*;
        // Margin 0.08. At 0.43-0.49 (alert below 0.5) a stream never enters alert.
        assert_eq!(run(&[0.49, 0.43, 0.48, 0.45]), [Suspicious; 4]);
        // At 0.53-0.59 (suspicious below 0.6) it stays clear.
        assert_eq!(run(&[0.59, 0.53, 0.58]), [Clear; 3]);
        // Clearly below: alert at once, held while within the margin, and down one
        // level at a time as the score clears each line by the margin.
        assert_eq!(
            run(&[0.9, 0.2, 0.56, 0.59, 0.66, 0.69, 0.58]),
            [Clear, Alert, Alert, Suspicious, Suspicious, Clear, Clear]
        );
        // A print or a screen on its own (one segment, a still) alerts.
        assert_eq!(run(&[0.21]), [Alert]);
    }

    /// A video segment: the live score plus a measured frame change.
    fn video(live: f32, change: f32) -> Segment {
        let mut s = segment(live);
        s.signals
            .push(testing::stats(names::FRAME_CHANGE, change, change));
        s
    }

    #[test]
    fn in_video_a_low_live_score_alone_does_not_alert() {
        let cfg = AnalysisConfig::default();
        let fusion = Fusion::from_config(&cfg);
        let state = |s: Segment| {
            let mut h = Hysteresis::new(&cfg.liveness, &cfg.presence);
            let mut a = fusion.assess(&s);
            h.apply(&s, &mut a);
            (a.state, a.reasons[0].message.clone())
        };
        // Recorded footage: low, moving like a live picture: suspicious, and says why.
        let (st, why) = state(video(0.3, 4.0));
        assert_eq!(st, RiskState::Suspicious);
        assert!(why.contains("not alert"), "{why}");
        // A screen: extreme score.
        assert_eq!(state(video(0.1, 4.0)).0, RiskState::Alert);
        // A frozen picture corroborates.
        assert_eq!(state(video(0.3, 0.01)).0, RiskState::Alert);
        // A still (no frame change measured) decides on the live score alone.
        assert_eq!(state(segment(0.3)).0, RiskState::Alert);
    }

    #[test]
    fn no_margin_is_the_plain_rule() {
        let mut cfg = AnalysisConfig::default();
        cfg.liveness.hysteresis = 0.0;
        let fusion = Fusion::from_config(&cfg);
        let mut h = Hysteresis::new(&cfg.liveness, &cfg.presence);
        let s = segment(0.49);
        let mut a = fusion.assess(&s);
        h.apply(&s, &mut a);
        assert_eq!(a.state, RiskState::Alert);
    }
}
