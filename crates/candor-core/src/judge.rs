//! A stream's verdicts, segment after segment: the fusion's rules on each segment, then
//! the rules that look across segments (hysteresis of the live score, alerts that must
//! hold, reasons that last). One per stream, fed every segment in order. Pure, so a recorded evaluation
//! can be judged again under other thresholds without running the models.

use crate::config::AnalysisConfig;
use crate::confirm::Confirmation;
use crate::fusion::Fusion;
use crate::hysteresis::Hysteresis;
use crate::risk::{Assessment, RiskRule};
use crate::segment::Segment;
use crate::sustained::Sustained;

pub struct Judge {
    fusion: Fusion,
    hysteresis: Hysteresis,
    confirmation: Confirmation,
    sustained: Sustained,
}

impl Judge {
    pub fn new(cfg: &AnalysisConfig) -> Self {
        Self {
            fusion: Fusion::from_config(cfg),
            hysteresis: Hysteresis::new(&cfg.liveness, &cfg.presence),
            confirmation: Confirmation::new(&cfg.confirm, &cfg.presence),
            sustained: Sustained::new(cfg.presence.sustained_segments),
        }
    }

    /// Adds a rule to the fusion (e.g. session context one stream alone knows).
    pub fn push(&mut self, rule: Box<dyn RiskRule>) {
        self.fusion.push(rule);
    }

    /// The verdict on the stream's next segment.
    pub fn judge(&mut self, segment: &Segment) -> Assessment {
        let mut assessment = self.fusion.assess(segment);
        self.hysteresis.apply(segment, &mut assessment);
        self.confirmation.apply(segment, &mut assessment);
        self.sustained.apply(&mut assessment);
        assessment
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::RiskState;
    use crate::signal::names;
    use crate::testing;

    /// A video segment: live score on `frames` frames, and a picture that changes.
    fn video(live: f32, frames: u32) -> Segment {
        let mut s = testing::segment(4, 4, 0, Some(live));
        s.signals[0].frames = frames;
        s.signals
            .push(testing::stats(names::FRAME_CHANGE, 4.0, 4.0));
        s
    }

    fn states(segments: &[Segment]) -> Vec<RiskState> {
        let mut judge = Judge::new(&AnalysisConfig::default());
        segments.iter().map(|s| judge.judge(s).state).collect()
    }

    #[test]
    fn in_video_an_alert_stands_once_it_holds_two_segments() {
        use RiskState::*;
        // A screen (live 0.02) in video: suspicious first, alert from the second on.
        let screen = video(0.02, 4);
        assert_eq!(
            states(&[screen.clone(), screen.clone(), screen.clone()]),
            [Suspicious, Alert, Alert]
        );
        // One segment across the line, then back: never alert.
        let live = video(0.95, 4);
        assert_eq!(
            states(&[live.clone(), screen.clone(), live.clone()]),
            [Clear, Suspicious, Clear]
        );
        // A segment read on one frame does not count toward the run.
        let glimpse = video(0.02, 1);
        assert_eq!(
            states(&[glimpse.clone(), glimpse.clone(), screen.clone()]),
            [Suspicious, Suspicious, Suspicious]
        );
    }

    #[test]
    fn a_still_alerts_at_once_and_the_wait_says_why() {
        // A still: no frame change, one segment.
        let still = testing::segment(1, 1, 0, Some(0.02));
        assert_eq!(states(&[still]), [RiskState::Alert]);
        let mut judge = Judge::new(&AnalysisConfig::default());
        let a = judge.judge(&video(0.02, 4));
        assert!(
            a.reasons[0]
                .message
                .contains("alert once it holds 2 segments"),
            "{:?}",
            a.reasons
        );
    }

    #[test]
    fn a_frozen_picture_backs_a_live_score_alert_at_once() {
        let mut frozen = video(0.02, 4);
        frozen.signals.pop();
        frozen
            .signals
            .push(testing::stats(names::FRAME_CHANGE, 0.01, 0.01));
        assert_eq!(states(&[frozen]), [RiskState::Alert]);
    }

    /// A live face (0.95) whose identity checks read `similarity` on `checks` frames.
    fn checked(similarity: f32, checks: u32) -> Segment {
        let mut s = video(0.95, 4);
        let mut id = testing::stats(names::IDENTITY_SIMILARITY, similarity, similarity);
        id.frames = checks;
        s.signals.push(id);
        s
    }

    #[test]
    fn an_identity_alert_stands_once_two_checks_in_a_row_see_another_person() {
        use RiskState::*;
        let (same, other) = (0.8, 0.1);
        // Two checks in one segment: at once.
        assert_eq!(
            states(&[checked(same, 2), checked(other, 2)]),
            [Clear, Alert]
        );
        // One check a segment: the second segment in a row makes two.
        assert_eq!(
            states(&[checked(other, 1), checked(other, 1), checked(other, 1)]),
            [Suspicious, Alert, Alert]
        );
        // A glimpse between matching checks never alerts.
        assert_eq!(
            states(&[checked(other, 1), checked(same, 2), checked(other, 1)]),
            [Suspicious, Clear, Suspicious]
        );
        let mut judge = Judge::new(&AnalysisConfig::default());
        let a = judge.judge(&checked(other, 1));
        assert!(
            a.reasons[0]
                .message
                .contains("alert once 2 checks in a row agree (1 so far)"),
            "{:?}",
            a.reasons
        );
    }

    /// Judges segments whose one forgery signal reads `p` (on `frames` frames), under a
    /// synthetic-face rule that reads it straight: suspicious from 0.6, alert from 0.8.
    fn synthetic_states(readings: &[(f32, u32)], in_video: bool) -> Vec<RiskState> {
        use crate::config::{FeatureTransform, Statistic, SyntheticConfig, SyntheticTerm};
        let cfg = AnalysisConfig {
            synthetic: SyntheticConfig {
                terms: vec![SyntheticTerm {
                    signal: "x_fake".into(),
                    transform: FeatureTransform::Logit,
                    weight: 1.0,
                }],
                statistic: Statistic::Median,
                bias: 0.0,
                min_frames: 1,
                suspicious_at: 0.6,
                alert_at: 0.8,
                provenance: String::new(),
            },
            ..AnalysisConfig::default()
        };
        let mut judge = Judge::new(&cfg);
        readings
            .iter()
            .map(|&(p, frames)| {
                let mut s = if in_video {
                    video(0.95, 4)
                } else {
                    testing::segment(1, 1, 0, Some(0.95))
                };
                let mut x = testing::stats("x_fake", p, p);
                x.frames = frames;
                s.signals.push(x);
                judge.judge(&s).state
            })
            .collect()
    }

    #[test]
    fn a_synthetic_face_finding_stands_once_it_holds_two_segments() {
        use RiskState::*;
        let run =
            |ps: &[f32]| synthetic_states(&ps.iter().map(|&p| (p, 4)).collect::<Vec<_>>(), true);
        // Single segments above the line, as an honest webcam reads now and then: none.
        assert_eq!(run(&[0.7, 0.5, 0.7, 0.2, 0.9]), [Clear; 5]);
        // A forged face keeps reading high: suspicious from the second segment.
        assert_eq!(run(&[0.7, 0.7, 0.7]), [Clear, Suspicious, Suspicious]);
        assert_eq!(run(&[0.9, 0.9, 0.9]), [Clear, Alert, Alert]);
        // Suspicious held, alert not yet: suspicious, then alert once that holds too.
        assert_eq!(run(&[0.7, 0.9, 0.9]), [Clear, Suspicious, Alert]);
        // A segment read on one frame breaks the run.
        assert_eq!(
            synthetic_states(&[(0.7, 4), (0.7, 1), (0.7, 4), (0.7, 4)], true),
            [Clear, Clear, Clear, Suspicious]
        );
        // A still is one picture: nothing to wait for.
        assert_eq!(synthetic_states(&[(0.9, 1)], false), [Alert]);
    }

    #[test]
    fn one_segment_turns_it_off() {
        let mut cfg = AnalysisConfig::default();
        cfg.confirm.segments = 1;
        let mut judge = Judge::new(&cfg);
        assert_eq!(judge.judge(&video(0.02, 4)).state, RiskState::Alert);
        let mut judge = Judge::new(&cfg);
        assert_eq!(judge.judge(&checked(0.1, 1)).state, RiskState::Alert);
    }
}
