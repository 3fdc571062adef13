//! Risk states, reasons, and the rules that turn a segment into a state.
//!
//! Fusion is a list of rules. Each rule looks at a segment's signals and may return
//! findings (a state with a reason). The segment's state is the most severe finding;
//! `inconclusive` findings only count when no rule found an attack, because an attack
//! seen on usable frames matters even when other frames were poor. A new analyser adds
//! a rule; nothing here changes.

use serde::{Deserialize, Serialize};

use crate::config::{
    AnalysisConfig, IdentityConfig, LivenessThresholds, PresenceThresholds, QualityThresholds,
    SyntheticConfig,
};
use crate::quality::AbstainCode;
use crate::segment::Segment;
use crate::signal::names;

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
    /// This rule's confidence, 0..1, that the face is not a genuine live person, when
    /// the segment holds the signal it needs. Rules about presence or quality give none.
    fn attack_score(&self, _segment: &Segment) -> Option<f32> {
        None
    }
    /// This rule's confidence, 0..1, that the face is synthetic (swapped or generated),
    /// for rules about synthetic faces.
    fn synthetic_confidence(&self, _segment: &Segment) -> Option<f32> {
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
    /// score any attack rule gives. Absent when no attack signal was measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attack_score: Option<f32>,
    /// The synthetic-face rule's confidence alone, 0..1. Absent when the face-forgery
    /// signals it needs were not measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synthetic_confidence: Option<f32>,
}

pub struct Fusion {
    rules: Vec<Box<dyn RiskRule>>,
}

impl Fusion {
    /// The built-in rules, configured from `cfg`.
    pub fn from_config(cfg: &AnalysisConfig) -> Self {
        Self {
            rules: vec![
                Box::new(EvidenceRule(cfg.quality.clone())),
                Box::new(LivenessRule(cfg.liveness.clone())),
                Box::new(PresenceRule(cfg.presence.clone())),
                Box::new(SyntheticRule(cfg.synthetic.clone())),
                Box::new(IdentityRule(cfg.identity.clone())),
                Box::new(CandidateRule(cfg.identity.clone())),
            ],
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
        // Most severe first; stable, so rule order breaks ties.
        reasons.sort_by_key(|r| std::cmp::Reverse(r.state));
        let state = reasons.first().map_or(RiskState::Clear, |r| r.state);
        if state == RiskState::Clear {
            reasons.push(Reason::new(
                "live_face",
                RiskState::Clear,
                None,
                format!(
                    "one live face on {} of {} analysed frames",
                    segment.counts.usable, segment.counts.analysed
                ),
            ));
        }
        // The main quality problem: why frames were unusable, else other faces in view.
        let abstain = segment
            .main_abstain()
            .or((segment.counts.several_faces > 0).then_some(AbstainCode::SeveralFaces));
        let attack_score = self
            .rules
            .iter()
            .filter_map(|r| r.attack_score(segment))
            .reduce(f32::max);
        let synthetic_confidence = self
            .rules
            .iter()
            .filter_map(|r| r.synthetic_confidence(segment))
            .reduce(f32::max);
        Assessment {
            state,
            reasons,
            abstain,
            attack_score,
            synthetic_confidence,
        }
    }
}

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
                "no_analysed_frames",
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

/// Passive liveness: presentation attacks (printed photo, screen replay).
pub struct LivenessRule(pub LivenessThresholds);

impl RiskRule for LivenessRule {
    fn name(&self) -> &'static str {
        "liveness"
    }

    fn attack_score(&self, s: &Segment) -> Option<f32> {
        s.signal(names::LIVENESS)
            .map(|l| (1.0 - l.mean).clamp(0.0, 1.0))
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
            "liveness_low",
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

/// Synthetic faces (face swap, generated face): the logistic model of
/// [`SyntheticConfig`] over segment medians of the face-forgery signals.
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
            z += t.weight * t.transform.apply(stats.median);
        }
        Some(1.0 / (1.0 + (-z).exp()))
    }
}

impl RiskRule for SyntheticRule {
    fn name(&self) -> &'static str {
        "synthetic"
    }

    fn attack_score(&self, s: &Segment) -> Option<f32> {
        self.confidence(s)
    }

    fn synthetic_confidence(&self, s: &Segment) -> Option<f32> {
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
                let m = s.signal(&t.signal)?.median;
                Some((t, t.weight * t.transform.apply(m), m))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let detail = driver
            .map(|(t, _, m)| format!("; strongest: {} median {m:.2}", t.signal))
            .unwrap_or_default();
        vec![Reason::new(
            "synthetic_face",
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

/// Another person on camera than the one the session started with.
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
            vec![Reason::new(
                "identity_changed",
                RiskState::Alert,
                Some(names::IDENTITY_SIMILARITY),
                format!(
                    "a different person is on camera: similarity to the session's face {:.2} \
                     (median of {} checks; same person at {t:.2} or more)",
                    sim.median, sim.frames
                ),
            )]
        } else if sim.min < t {
            vec![Reason::new(
                "identity_unstable",
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
            "candidate_mismatch",
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

/// Other people in view.
pub struct PresenceRule(pub PresenceThresholds);

impl RiskRule for PresenceRule {
    fn name(&self) -> &'static str {
        "presence"
    }

    fn evaluate(&self, s: &Segment) -> Vec<Reason> {
        let mut out = Vec::new();
        if let Some(change) = s.signal(names::FRAME_CHANGE)
            && change.frames >= 2
            && change.median < self.0.frozen_change_below
        {
            out.push(Reason::new(
                "frozen_video",
                RiskState::Suspicious,
                Some(names::FRAME_CHANGE),
                format!(
                    "the picture did not change over {} analysed frames (median change {:.3} \
                     of 255, frozen below {}): a frozen feed or a still replayed as video",
                    change.frames, change.median, self.0.frozen_change_below
                ),
            ));
        }
        if let Some(looped) = s.signal(names::LOOPED)
            && looped.mean >= self.0.looped_share
        {
            out.push(Reason::new(
                "looped_video",
                RiskState::Suspicious,
                Some(names::LOOPED),
                format!(
                    "{:.0} % of the frames replay an earlier stretch of the video in order \
                     (looped from {:.0} %): a recording played in a loop instead of a camera",
                    looped.mean * 100.0,
                    self.0.looped_share * 100.0
                ),
            ));
        }
        if let Some(rigid) = s.signal(names::RIGID_RESIDUAL)
            && rigid.frames >= self.0.rigid_min_moves
            && rigid.median < self.0.rigid_residual_below
        {
            out.push(Reason::new(
                "rigid_motion",
                RiskState::Suspicious,
                Some(names::RIGID_RESIDUAL),
                format!(
                    "the face moved as a rigid picture: once the move is undone it did not \
                     change (median residual {:.2} over {} moves; live faces from {})",
                    rigid.median, rigid.frames, self.0.rigid_residual_below
                ),
            ));
        }
        if let Some(yaw) = s.signal(names::HEAD_YAW)
            && yaw.median.abs() >= self.0.looking_away_yaw_deg
        {
            out.push(Reason::new(
                "looking_away",
                RiskState::Suspicious,
                Some(names::HEAD_YAW),
                format!(
                    "the candidate looked away from the camera: median head yaw {:.0} degrees \
                     over {} frames (looking away from {:.0})",
                    yaw.median, yaw.frames, self.0.looking_away_yaw_deg
                ),
            ));
        }
        let share = s.several_faces_share();
        if s.counts.several_faces == 0 || share < self.0.several_faces_share {
            return out;
        }
        out.push(Reason::new(
            "several_faces",
            RiskState::Suspicious,
            None,
            format!(
                "several faces on {} of {} analysed frames ({} other face(s) seen)",
                s.counts.several_faces, s.counts.analysed, s.other_tracks
            ),
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::{FrameCounts, SignalStats};
    use crate::signal::Source;
    use std::collections::BTreeMap;

    fn stats(name: &str, mean: f32, min: f32) -> SignalStats {
        SignalStats {
            name: name.into(),
            source: Source::new("m", "1"),
            frames: 4,
            mean,
            median: mean,
            min,
            max: mean,
        }
    }

    fn segment(analysed: u32, usable: u32, several: u32, live: Option<f32>) -> Segment {
        let mut unusable = BTreeMap::new();
        if analysed > usable {
            unusable.insert(AbstainCode::NoFace, analysed - usable);
        }
        Segment {
            index: 0,
            start_us: 0,
            end_us: 2_000_000,
            counts: FrameCounts {
                decoded: 50,
                analysed,
                usable,
                several_faces: several,
                one_face: usable.saturating_sub(several),
                no_face: analysed - usable,
                dropped: 0,
            },
            main_track: Some(1),
            other_tracks: u32::from(several > 0),
            signals: live
                .map(|l| vec![stats(names::LIVENESS, l, l)])
                .unwrap_or_default(),
            quality: Vec::new(),
            unusable,
        }
    }

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
    fn attack_score_is_the_highest_rule_score() {
        let fusion = Fusion::from_config(&AnalysisConfig::default());
        let a = fusion.assess(&segment(4, 4, 0, Some(0.8)));
        assert!((a.attack_score.unwrap() - 0.2).abs() < 1e-6);
        assert_eq!(fusion.assess(&segment(4, 0, 0, None)).attack_score, None);
        struct Fixed(f32);
        impl RiskRule for Fixed {
            fn name(&self) -> &'static str {
                "fixed"
            }
            fn evaluate(&self, _: &Segment) -> Vec<Reason> {
                Vec::new()
            }
            fn attack_score(&self, _: &Segment) -> Option<f32> {
                Some(self.0)
            }
        }
        let mut fusion = Fusion::from_config(&AnalysisConfig::default());
        fusion.push(Box::new(Fixed(0.7)));
        assert_eq!(
            fusion.assess(&segment(4, 4, 0, Some(0.8))).attack_score,
            Some(0.7)
        );
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
                "presence",
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
            assert_eq!(a.synthetic_confidence, got);
            if state != RiskState::Clear {
                assert_eq!(a.reasons[0].code, "synthetic_face");
                assert_eq!(a.reasons[0].signal.as_deref(), Some(driver));
            }
        }
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
