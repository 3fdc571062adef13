//! Fusion: a list of rules. Each rule looks at a segment's signals and may return
//! findings (a state with a reason). The segment's state is the most severe finding;
//! `inconclusive` findings rank below attacks, because an attack seen on usable frames
//! matters even when other frames were poor. A new analyser adds a rule; nothing here
//! changes.

use crate::codes;
use crate::config::{AnalysisConfig, AttackConfig, LivenessThresholds, PresenceThresholds};
use crate::quality::AbstainCode;
use crate::risk::{Assessment, Reason, RiskRule, RiskState};
use crate::rules;
use crate::segment::Segment;

pub struct Fusion {
    rules: Vec<Box<dyn RiskRule>>,
    attack: AttackConfig,
    liveness: LivenessThresholds,
    presence: PresenceThresholds,
}

impl Fusion {
    /// The built-in rules, configured from `cfg`.
    pub fn from_config(cfg: &AnalysisConfig) -> Self {
        Self {
            rules: rules::built_in(cfg),
            attack: cfg.attack.clone(),
            liveness: cfg.liveness.clone(),
            presence: cfg.presence.clone(),
        }
    }

    /// Adds a rule (e.g. for a newly registered analyser).
    pub fn push(&mut self, rule: Box<dyn RiskRule>) {
        self.rules.push(rule);
    }

    pub fn rule_names(&self) -> Vec<&'static str> {
        self.rules.iter().map(|r| r.name()).collect()
    }

    pub fn assess(&self, segment: &Segment) -> Assessment {
        let mut reasons: Vec<Reason> = self
            .rules
            .iter()
            .flat_map(|r| r.evaluate(segment))
            .collect();
        let state = settle(&mut reasons, segment);
        // The main quality problem: why frames were unusable, else other faces in view.
        let abstain = segment
            .main_abstain()
            .or((segment.counts.several_faces > 0).then_some(AbstainCode::SeveralFaces));
        let live_stands = rules::live_score_stands(&self.liveness, &self.presence, segment);
        let attack_score = self.attack.attack_score(segment, live_stands);
        let synthetic_face_confidence = self
            .rules
            .iter()
            .filter_map(|r| r.synthetic_face_confidence(segment))
            .reduce(f32::max);
        Assessment {
            state,
            reasons,
            abstain,
            attack_score,
            synthetic_face_confidence,
        }
    }
}

/// Orders reasons most severe first (stable, so rule order breaks ties) and returns
/// the state they call for; a segment with nothing wrong gets the `live_face` reason.
pub(crate) fn settle(reasons: &mut Vec<Reason>, segment: &Segment) -> RiskState {
    reasons.sort_by_key(|r| std::cmp::Reverse(r.state));
    let state = reasons.first().map_or(RiskState::Clear, |r| r.state);
    if state == RiskState::Clear {
        reasons.push(Reason::new(
            codes::LIVE_FACE,
            RiskState::Clear,
            None,
            format!(
                "one live face on {} of {} analysed frames",
                segment.counts.usable, segment.counts.analysed
            ),
        ));
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SyntheticConfig;
    use crate::rules::SyntheticRule;
    use crate::signal::names;
    use crate::testing::{segment, stats};

    /// (analysed, usable, several faces, mean liveness) -> expected state, reason code.
    #[test]
    fn fusion_table() {
        let fusion = Fusion::from_config(&AnalysisConfig::default());
        type Case = (u32, u32, u32, Option<f32>, RiskState, &'static str);
        let cases: &[Case] = &[
            (4, 4, 0, Some(0.95), RiskState::Clear, "live_face"),
            (4, 4, 0, Some(0.60), RiskState::Clear, "live_face"),
            (4, 4, 0, Some(0.59), RiskState::Suspicious, "liveness_low"),
            (4, 4, 0, Some(0.50), RiskState::Suspicious, "liveness_low"),
            (4, 4, 0, Some(0.49), RiskState::Alert, "liveness_low"),
            (4, 0, 0, None, RiskState::Inconclusive, "no_face"),
            (4, 1, 0, Some(0.95), RiskState::Inconclusive, "no_face"),
            (4, 2, 0, Some(0.95), RiskState::Clear, "live_face"),
            // an attack on the usable frames outranks missing evidence elsewhere
            (4, 1, 0, Some(0.05), RiskState::Alert, "liveness_low"),
            (4, 4, 2, Some(0.95), RiskState::Suspicious, "several_faces"),
            (4, 4, 1, Some(0.95), RiskState::Clear, "live_face"),
            (4, 4, 4, Some(0.05), RiskState::Alert, "liveness_low"),
            (0, 0, 0, None, RiskState::Inconclusive, "no_analysed_frames"),
        ];
        for &(analysed, usable, several, live, state, code) in cases {
            let a = fusion.assess(&segment(analysed, usable, several, live));
            assert_eq!(
                (a.state, a.reasons[0].code.as_str()),
                (state, code),
                "case analysed={analysed} usable={usable} several={several} live={live:?}: {:?}",
                a.reasons
            );
        }
    }

    #[test]
    fn attack_score_is_the_calibrated_fusion_of_the_config() {
        let cfg = AnalysisConfig::default();
        let fusion = Fusion::from_config(&cfg);
        let seg = segment(4, 4, 0, Some(0.8));
        assert_eq!(
            fusion.assess(&seg).attack_score,
            cfg.attack.attack_score(&seg, true)
        );
        assert!(fusion.assess(&seg).attack_score.is_some());
        // A live face reads low, a print high, at the shipped calibration.
        let live = fusion
            .assess(&segment(4, 4, 0, Some(0.99)))
            .attack_score
            .unwrap();
        let print = fusion
            .assess(&segment(4, 4, 0, Some(0.01)))
            .attack_score
            .unwrap();
        assert!(live < 0.1 && print > 0.5, "{live} {print}");
        assert_eq!(fusion.assess(&segment(4, 0, 0, None)).attack_score, None);
    }

    #[test]
    fn reasons_are_sorted_by_severity() {
        let fusion = Fusion::from_config(&AnalysisConfig::default());
        let a = fusion.assess(&segment(4, 4, 4, Some(0.05)));
        let states: Vec<_> = a.reasons.iter().map(|r| r.state).collect();
        assert_eq!(states, vec![RiskState::Alert, RiskState::Suspicious]);
        assert!(
            a.reasons[0].message.contains("0.05"),
            "{}",
            a.reasons[0].message
        );
    }

    #[test]
    fn added_rule_takes_part() {
        struct Always;
        impl RiskRule for Always {
            fn name(&self) -> &'static str {
                "always"
            }
            fn evaluate(&self, _: &Segment) -> Vec<Reason> {
                vec![Reason::new(
                    "x",
                    RiskState::Alert,
                    Some("face_swap"),
                    "x".into(),
                )]
            }
        }
        let mut fusion = Fusion::from_config(&AnalysisConfig::default());
        fusion.push(Box::new(Always));
        assert_eq!(
            fusion.assess(&segment(4, 4, 0, Some(0.95))).state,
            RiskState::Alert
        );
        assert_eq!(
            fusion.rule_names(),
            vec![
                "evidence",
                "liveness",
                "frozen",
                "looped",
                "rigid_motion",
                "looking_away",
                "several_faces",
                "synthetic",
                "identity",
                "candidate",
                "always"
            ]
        );
    }

    fn synthetic_cfg() -> SyntheticConfig {
        use crate::config::{FeatureTransform, SyntheticTerm};
        SyntheticConfig {
            terms: vec![
                SyntheticTerm {
                    signal: "a_fake".into(),
                    transform: FeatureTransform::Logit,
                    weight: 1.0,
                },
                SyntheticTerm {
                    signal: "b".into(),
                    transform: FeatureTransform::Identity,
                    weight: -2.0,
                },
            ],
            statistic: crate::config::Statistic::Median,
            bias: 0.5,
            min_frames: 2,
            suspicious_at: 0.6,
            alert_at: 0.9,
            provenance: "test".into(),
        }
    }

    fn with_signals(frames: u32, values: &[(&str, f32)]) -> Segment {
        let mut s = segment(4, 4, 0, Some(0.95));
        for (name, v) in values {
            let mut st = stats(name, *v, *v);
            st.frames = frames;
            s.signals.push(st);
        }
        s
    }

    #[test]
    fn synthetic_rule_table() {
        let rule = SyntheticRule(synthetic_cfg());
        // z = 0.5 + logit(p) - 2 b; sigmoid(z). Hand-computed cases:
        // p = 0.5, b = 0.25 -> z = 0.0 -> 0.5 (clear, below 0.6).
        // p = 0.9, b = 0.0  -> z = 0.5 + ln 9 = 2.6972 -> 0.93689 (alert).
        // p = 0.5, b = -0.1 -> z = 0.7 -> 0.66819 (suspicious).
        // The driver is the term adding most to z (logit(0.5) adds 0, b = -0.1 adds 0.2).
        type Case<'a> = (&'a [(&'a str, f32)], Option<f32>, RiskState, &'a str);
        let cases: [Case; 4] = [
            (
                &[("a_fake", 0.5), ("b", 0.25)],
                Some(0.5),
                RiskState::Clear,
                "",
            ),
            (
                &[("a_fake", 0.9), ("b", 0.0)],
                Some(0.93689),
                RiskState::Alert,
                "a_fake",
            ),
            (
                &[("a_fake", 0.5), ("b", -0.1)],
                Some(0.66819),
                RiskState::Suspicious,
                "b",
            ),
            // A missing term: no judgement, no confidence.
            (&[("a_fake", 0.99)], None, RiskState::Clear, ""),
        ];
        let cfg = AnalysisConfig {
            synthetic: synthetic_cfg(),
            ..AnalysisConfig::default()
        };
        let fusion = Fusion::from_config(&cfg);
        for (values, conf, state, driver) in cases {
            let seg = with_signals(4, values);
            let got = rule.confidence(&seg);
            match (got, conf) {
                (Some(g), Some(c)) => assert!((g - c).abs() < 1e-4, "{values:?}: {g} vs {c}"),
                (g, c) => assert_eq!(g, c, "{values:?}"),
            }
            let a = fusion.assess(&seg);
            assert_eq!(a.state, state, "{values:?}");
            assert_eq!(a.synthetic_face_confidence, got);
            if state != RiskState::Clear {
                assert_eq!(a.reasons[0].code, "synthetic_face");
                assert_eq!(a.reasons[0].signal.as_deref(), Some(driver));
            }
        }
    }

    #[test]
    fn synthetic_rule_reads_its_statistic() {
        // a_fake reads 0.9 at its median and 0.5 at its lowest frame; b 0.
        let mut seg = with_signals(4, &[("a_fake", 0.9), ("b", 0.0)]);
        seg.signals.last_mut().unwrap().min = 0.0;
        seg.signals
            .iter_mut()
            .find(|s| s.name == "a_fake")
            .unwrap()
            .min = 0.5;
        let rule = |statistic| {
            SyntheticRule(SyntheticConfig {
                statistic,
                ..synthetic_cfg()
            })
        };
        // z = 0.5 + ln 9 -> 0.93689; at the lowest frame z = 0.5 -> 0.62246.
        let median = rule(crate::config::Statistic::Median)
            .confidence(&seg)
            .unwrap();
        let min = rule(crate::config::Statistic::Min);
        assert!((median - 0.93689).abs() < 1e-4, "{median}");
        assert!((min.confidence(&seg).unwrap() - 0.62246).abs() < 1e-4);
        let reasons = min.evaluate(&seg);
        assert!(
            reasons[0].message.ends_with("strongest: a_fake min 0.50"),
            "{reasons:?}"
        );
    }

    #[test]
    fn synthetic_rule_needs_enough_frames_and_terms() {
        let seg = with_signals(1, &[("a_fake", 0.99), ("b", 0.0)]);
        assert_eq!(SyntheticRule(synthetic_cfg()).confidence(&seg), None);
        let off = SyntheticConfig {
            terms: Vec::new(),
            ..synthetic_cfg()
        };
        let seg = with_signals(4, &[("a_fake", 0.99), ("b", 0.0)]);
        assert_eq!(SyntheticRule(off).confidence(&seg), None);
    }

    #[test]
    fn identity_rule_table() {
        let fusion = Fusion::from_config(&AnalysisConfig::default());
        // (median, min) -> state, reason code
        let cases = [
            (0.8, 0.6, RiskState::Clear, "live_face"),
            (0.7, 0.2, RiskState::Suspicious, "identity_unstable"),
            (0.1, 0.05, RiskState::Alert, "identity_changed"),
            (0.363, 0.363, RiskState::Clear, "live_face"),
        ];
        for (median, min, state, code) in cases {
            let mut seg = segment(4, 4, 0, Some(0.95));
            let mut st = stats(names::IDENTITY_SIMILARITY, median, min);
            st.median = median;
            seg.signals.push(st);
            let a = fusion.assess(&seg);
            assert_eq!(
                (a.state, a.reasons[0].code.as_str()),
                (state, code),
                "{median} {min}"
            );
        }
        // Another face in view on one frame of four: the change is suspicious.
        let mut seg = segment(4, 4, 1, Some(0.95));
        seg.signals
            .push(stats(names::IDENTITY_SIMILARITY, 0.1, 0.05));
        let a = fusion.assess(&seg);
        let changed = a
            .reasons
            .iter()
            .find(|r| r.code == "identity_changed")
            .unwrap();
        assert_eq!(changed.state, RiskState::Suspicious);
        assert!(
            changed.message.contains("someone else in the room"),
            "{changed:?}"
        );
        assert_eq!(a.state, RiskState::Suspicious);
    }

    #[test]
    fn looking_away_is_suspicious() {
        let fusion = Fusion::from_config(&AnalysisConfig::default());
        for (yaw, away) in [(0.0, false), (-39.9, false), (40.0, true), (-55.0, true)] {
            let mut seg = segment(4, 4, 0, Some(0.95));
            seg.signals.push(stats(names::HEAD_YAW, yaw, yaw));
            let a = fusion.assess(&seg);
            assert_eq!(
                a.reasons.iter().any(|r| r.code == "looking_away"),
                away,
                "{yaw}"
            );
            assert_eq!(a.state == RiskState::Suspicious, away, "{yaw}");
        }
    }

    #[test]
    fn candidate_rule_table() {
        let fusion = Fusion::from_config(&AnalysisConfig::default());
        // (median similarity to the enrolment) -> state, reason code. None: the
        // session is not verified against an enrolment.
        let cases = [
            (None, RiskState::Clear, "live_face"),
            (Some(0.72), RiskState::Clear, "live_face"),
            (Some(0.363), RiskState::Clear, "live_face"),
            (Some(0.362), RiskState::Alert, "candidate_mismatch"),
            (Some(0.05), RiskState::Alert, "candidate_mismatch"),
            (Some(-0.2), RiskState::Alert, "candidate_mismatch"),
        ];
        for (median, state, code) in cases {
            let mut seg = segment(4, 4, 0, Some(0.95));
            if let Some(m) = median {
                seg.signals
                    .push(stats(names::CANDIDATE_SIMILARITY, m, m - 0.1));
            }
            let a = fusion.assess(&seg);
            assert_eq!(
                (a.state, a.reasons[0].code.as_str()),
                (state, code),
                "{median:?}"
            );
            if state == RiskState::Alert {
                assert_eq!(
                    a.reasons[0].signal.as_deref(),
                    Some(names::CANDIDATE_SIMILARITY)
                );
            }
        }
    }

    #[test]
    fn frozen_video_is_suspicious() {
        let fusion = Fusion::from_config(&AnalysisConfig::default());
        // (median change, frames) -> frozen?
        for (median, frames, frozen) in [
            (0.0, 4, true),
            (0.09, 2, true),
            (0.1, 4, false),
            (0.0, 1, false),
            (2.0, 4, false),
        ] {
            let mut seg = segment(4, 4, 0, Some(0.95));
            let mut st = stats(names::FRAME_CHANGE, median, median);
            st.frames = frames;
            seg.signals.push(st);
            let a = fusion.assess(&seg);
            let got = a.reasons.iter().any(|r| r.code == "frozen_video");
            assert_eq!(got, frozen, "{median} {frames}");
            if frozen {
                assert_eq!(a.state, RiskState::Suspicious);
            }
        }
    }

    #[test]
    fn looped_video_is_suspicious_from_a_quarter_of_the_frames() {
        let fusion = Fusion::from_config(&AnalysisConfig::default());
        // (mean looped share) -> looped?
        for (share, looped) in [(0.0, false), (0.2, false), (0.25, true), (1.0, true)] {
            let mut seg = segment(4, 4, 0, Some(0.95));
            seg.signals.push(stats(names::LOOPED, share, share));
            let a = fusion.assess(&seg);
            let got = a.reasons.iter().any(|r| r.code == "looped_video");
            assert_eq!(got, looped, "{share}");
            let want = if looped {
                RiskState::Suspicious
            } else {
                RiskState::Clear
            };
            assert_eq!(a.state, want, "{share}");
        }
    }

    #[test]
    fn a_face_moving_as_a_rigid_picture_is_suspicious() {
        let fusion = Fusion::from_config(&AnalysisConfig::default());
        // (median residual, frames with a move) -> rigid?
        for (median, frames, rigid) in [
            (0.1, 4, true),
            (0.31, 2, true),
            (0.32, 4, false),
            (0.1, 1, false),
            (0.9, 4, false),
        ] {
            let mut seg = segment(4, 4, 0, Some(0.95));
            let mut st = stats(names::RIGID_RESIDUAL, median, median);
            st.frames = frames;
            seg.signals.push(st);
            let a = fusion.assess(&seg);
            let got = a.reasons.iter().any(|r| r.code == "rigid_motion");
            assert_eq!(got, rigid, "{median} {frames}");
            let want = if rigid {
                RiskState::Suspicious
            } else {
                RiskState::Clear
            };
            assert_eq!(a.state, want, "{median} {frames}");
        }
    }

    #[test]
    fn severity_order() {
        assert!(RiskState::Alert > RiskState::Suspicious);
        assert!(RiskState::Suspicious > RiskState::Inconclusive);
        assert!(RiskState::Inconclusive > RiskState::Clear);
    }
}
