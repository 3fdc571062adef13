//! Every threshold the decision logic uses, in one place, with documented defaults.
//! Loadable from a TOML file; any field left out keeps its default.

use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct AnalysisConfig {
    pub segment: SegmentConfig,
    pub quality: QualityThresholds,
    pub liveness: LivenessThresholds,
    pub presence: PresenceThresholds,
    pub synthetic: SyntheticConfig,
    pub attack: AttackConfig,
    pub identity: IdentityConfig,
    pub confirm: ConfirmConfig,
}

impl AnalysisConfig {
    /// The model signals the synthetic-face and attack fusions read, in order, once
    /// each: models whose signal is not among them change no decision.
    pub fn fused_signals(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let named = self.synthetic.terms.iter().map(|t| &t.signal);
        for signal in named.chain(self.attack.signals()) {
            if !out.contains(signal) {
                out.push(signal.clone());
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SegmentConfig {
    /// Segment length in milliseconds. Default 2000: long enough to hold several
    /// analysed frames at 2 fps, short enough for a live badge to react within seconds.
    pub length_ms: u32,
}

impl Default for SegmentConfig {
    fn default() -> Self {
        Self { length_ms: 2000 }
    }
}

impl SegmentConfig {
    pub fn length_us(&self) -> i64 {
        i64::from(self.length_ms.max(1)) * 1000
    }
}

/// When a frame's main face is good enough to judge. Frames that fail are counted
/// with the reason (an abstain code) and left out of the decision signals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityThresholds {
    /// Minimum face width in source pixels. Default 48: the anti-spoofing crops (80x80
    /// from 2.7x and 4x the face box) and the identity model degrade below this.
    pub min_face_width_px: f32,
    /// Minimum mean face luma (0-255). Default 40: below it faces are too dark to judge.
    pub min_brightness: f32,
    /// Maximum mean face luma (0-255). Default 225: washed-out faces lose texture cues.
    pub max_brightness: f32,
    /// Minimum face sharpness (variance of the Laplacian at 128x128). Default 15.
    pub min_sharpness: f32,
    /// Share of analysed frames that must be usable for the segment to be judged.
    /// Default 0.5; below it the segment is `inconclusive`.
    pub min_usable_share: f32,
    /// Mean picture luma (0-255) below which a frame without a face counts as camera
    /// off rather than no face. Default 12: a black feed reads about 0-2 after video
    /// coding (limited range), a dim room well above.
    pub camera_off_luma_below: f32,
}

impl Default for QualityThresholds {
    fn default() -> Self {
        Self {
            min_face_width_px: 48.0,
            min_brightness: 40.0,
            max_brightness: 225.0,
            min_sharpness: 15.0,
            min_usable_share: 0.5,
            camera_off_luma_below: 12.0,
        }
    }
}

/// Passive liveness rule, on the segment's mean live score over usable frames.
/// Means, not single frames: a real webcam clip can dip on a single frame.
///
/// Measured on the labelled development clips (88 segments of 31 real clips, 2 fps,
/// 2 s segments): the lowest real segment mean is 0.57 and 3 real segments (3.4 %, one
/// clip) fall below 0.6; the printed-photo and screen stills score 0.21-0.33 and 0.00.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LivenessThresholds {
    /// Mean live score below this is `suspicious`. Default 0.6.
    pub suspicious_below: f32,
    /// Mean live score below this is `alert` (presentation attack). Default 0.5: the
    /// model's own decision point, where spoof classes outweigh the live class.
    pub alert_below: f32,
    /// Hysteresis: a stream enters a worse state on the live score only when it lies
    /// this far beyond the threshold, and stays there while it is within this much of
    /// it. Default 0.08: the same segment's live score differs by up to 0.05 between
    /// transports (H.264, VP8, JPEG frames, raw frames of one real clip), so a score
    /// hovering at a threshold does not flap with the transport, and a brief dip of an
    /// ordinary webcam does not alert.
    pub hysteresis: f32,
    /// In video, a live score under `alert_below` alerts only when the picture behaves
    /// like one (frozen, looped, moving as a rigid plane) or the score is below this
    /// line; otherwise it stays `suspicious`. Recorded film and TV footage reads 0.25 to
    /// 0.45 on the liveness model, as a print does, while screens read near 0. A
    /// still has no motion to corroborate with, so its live score decides alone.
    /// Default 0.15.
    pub alert_alone_below: f32,
}

impl Default for LivenessThresholds {
    fn default() -> Self {
        Self {
            suspicious_below: 0.6,
            alert_below: 0.5,
            hysteresis: 0.08,
            alert_alone_below: 0.15,
        }
    }
}

/// Findings that must hold (see `confirm.rs`): in video, a face-forgery alert or a
/// live-score alert stands once its reason has reached `alert` in several segments in a
/// row, a face-forgery finding is `suspicious` at all only once it has held as long,
/// and an identity alert stands once `min_frames` checks in a row saw another person.
/// Measured on the real clips and their call-quality copies (`with-dev.tsv`, 619 real
/// segments): single-segment crossings of the synthetic-face line on blurred copies,
/// and of the live-score line on dim copies and on segments with one usable frame,
/// were 10 of the 24 real alerts; fake files reaching `alert` fell from 6 to 3
/// of 108 with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfirmConfig {
    /// Segments in a row the alert (and a face-forgery finding) must hold. Default 2
    /// (2 s more before a badge shows it); 1 turns the confirmation off. The
    /// synthetic-face lines are fitted for this many: refit after changing it.
    pub segments: u32,
    /// Frames the alerting signal must be read on for a segment to count toward the
    /// run, and identity checks in a row an identity alert needs. Default 2: one frame
    /// of a segment is a glimpse, not evidence.
    pub min_frames: u32,
}

impl Default for ConfirmConfig {
    fn default() -> Self {
        Self {
            segments: 2,
            min_frames: 2,
        }
    }
}

/// Who is on camera.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PresenceThresholds {
    /// Share of analysed frames showing several faces that makes a segment
    /// `suspicious` (someone else in view, e.g. a helper). Default 0.5.
    pub several_faces_share: f32,
    /// Median whole-picture change between analysed frames (0-255, `frame_change`)
    /// below which the video is frozen. Default 0.1: a repeated frame reads under 0.01,
    /// the stillest real clip of the development data 0.63.
    pub frozen_change_below: f32,
    /// Median |head yaw| in degrees (face mesh) at or above which the candidate is
    /// looking away. Default 40: the real clips of the development data stay within
    /// 31 degrees.
    pub looking_away_yaw_deg: f32,
    /// Mean share of frames replaying an earlier stretch (`looped`) at or above which
    /// the video is a loop. Default 0.25: no frame of the development clips is in a
    /// replay run; in loops made from them, 0.7-1.0 of the frames after the first play.
    pub looped_share: f32,
    /// Median `rigid_residual` below which the face moves as a rigid picture (a photo
    /// or screen moved in front of the camera). Default 0.32: segments of the real and
    /// fake clips of `deepfake-samples` and `talking-heads` read 0.34 and up (real only
    /// 0.42), panned, zoomed and turned stills of 11 people 0.04-0.31. The stills
    /// overlap a real webcam streamer who barely moves (0.17-0.22, `realtime-swaps`):
    /// no line separates a face at rest from a photo moved (`scripts/eval-presence`).
    pub rigid_residual_below: f32,
    /// Frames with a `rigid_residual` (the face moved) a segment needs before it is
    /// judged rigid. Default 2.
    pub rigid_min_moves: u32,
    /// Segments in a row with `looped_video` or `rigid_motion` that make an `alert`
    /// (`<code>_sustained`): a recording or a photo, not a slip of the measure.
    /// Default 3 (6 s at the default segment length); 0 never escalates.
    pub sustained_segments: u32,
}

impl Default for PresenceThresholds {
    fn default() -> Self {
        Self {
            several_faces_share: 0.5,
            frozen_change_below: 0.1,
            looking_away_yaw_deg: 40.0,
            looped_share: 0.25,
            rigid_residual_below: 0.32,
            rigid_min_moves: 2,
            sustained_segments: 3,
        }
    }
}

/// Who is on camera within a session (SFace embeddings of the main face).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityConfig {
    /// Cosine similarity to the session identity below which the face is another
    /// person. SFace's published same-person threshold (LFW).
    pub different_below: f32,
    /// Embeddings of consistent faces that form the session identity.
    pub enrol_embeddings: u32,
    /// At most one embedding per this many milliseconds (plus one whenever the main
    /// face's track changes, so a new face is checked at once).
    pub interval_ms: u32,
    /// Faces narrower than this (working-size pixels) are not embedded: similarity
    /// degrades below it.
    pub min_face_width_px: f32,
    /// Median cosine similarity of a segment's checks to the candidate's enrolled
    /// identity (an earlier round, or a reference photo) below which the face is not
    /// the enrolled candidate (`candidate_mismatch`). Default 0.363: SFace's
    /// same-person threshold, as within a session.
    pub candidate_mismatch_below: f32,
    /// Cosine similarity of a session identity to another enrolled candidate (or a
    /// blocklist entry) at or above which it is the same person (`duplicate_identity`,
    /// `blocklisted_identity`). Far stricter than the 1:1 threshold: a search compares
    /// with every enrolled person, so the false-match rate per comparison must be
    /// about 1e-7. Default 0.62, from `scripts/identity-threshold` (README, "Duplicate
    /// search across candidates"): SFace's impostor tail fitted on 1.18 million pairs
    /// of different people, extrapolated to 1e-7.
    pub duplicate_search_above: f32,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            different_below: 0.363,
            enrol_embeddings: 3,
            interval_ms: 1000,
            min_face_width_px: 64.0,
            candidate_mismatch_below: 0.363,
            duplicate_search_above: 0.62,
        }
    }
}

/// How a feature enters the synthetic-face model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureTransform {
    /// The value as it is.
    Identity,
    /// `ln(p / (1 - p))` of a probability, clamped to [1e-4, 1 - 1e-4] first, so that
    /// classifier outputs add up as evidence.
    Logit,
    /// The logit of `1 - p`: for a probability that is high for genuine faces (the
    /// live score), so that the feature grows with the attack.
    ComplementLogit,
}

impl FeatureTransform {
    pub fn apply(self, v: f32) -> f32 {
        match self {
            Self::Identity => v,
            Self::Logit => {
                let p = v.clamp(1e-4, 1.0 - 1e-4);
                (p / (1.0 - p)).ln()
            }
            Self::ComplementLogit => Self::Logit.apply(1.0 - v),
        }
    }
}

/// One term of the synthetic-face model: `weight × transform(statistic of signal)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntheticTerm {
    pub signal: String,
    pub transform: FeatureTransform,
    pub weight: f32,
}

/// The synthetic-face (face swap, generated face) fusion: a logistic model over one
/// statistic of each face-forgery signal in the segment, `confidence = sigmoid(bias +
/// Σ terms)`. Decided on windows (segment statistics), never single frames. `candor
/// eval --fit-out` fits `terms` and `bias` on labelled real and fake clips and sets the
/// thresholds from the real segments' scores as they stand once held (`[confirm]
/// segments` in a row, the lowest of the run) for a target false-alert rate.
///
/// Defaults: `models/fusion_fit.toml` (see README "Synthetic-media confidence"): the
/// SBI and Meso4 DF detectors at the segment minimum, fitted on the development clips
/// and their call-quality copies; held two segments, 2 % of their real segments stand
/// at `suspicious`, none at `alert`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyntheticConfig {
    /// Empty: the rule is off.
    pub terms: Vec<SyntheticTerm>,
    /// Which statistic of each signal's readings in the segment the terms read.
    pub statistic: Statistic,
    pub bias: f32,
    /// Usable frames a segment needs before the rule judges it.
    pub min_frames: u32,
    /// Confidence at or above which a segment is `suspicious` (in video once held).
    pub suspicious_at: f32,
    /// Confidence at or above which a segment is `alert` (in video once held).
    pub alert_at: f32,
    /// Where the parameters came from, for people reading results.
    pub provenance: String,
}

/// Which statistic of a segment's signal a term reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    Mean,
    Median,
    /// The lowest reading: high only when every analysed frame of the segment reads
    /// high. It depends on how many frames a segment holds, so a fit on it holds for
    /// the sampling it was fitted at (2 a second, 2 s segments by default).
    Min,
}

impl Statistic {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mean => "mean",
            Self::Median => "median",
            Self::Min => "min",
        }
    }
}

impl std::str::FromStr for Statistic {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        [Self::Mean, Self::Median, Self::Min]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown statistic {s:?} (mean, median or min)"))
    }
}

/// One calibrated attack term: `sigmoid(a × transform(statistic of signal) + Σ also
/// + b)` is the probability, at even odds, that the segment shows an attack of the kind
/// the term sees (Platt scaling, or a logistic model over several face-forgery signals,
/// fitted by `candor eval --fit-out`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttackTerm {
    pub signal: String,
    pub statistic: Statistic,
    pub transform: FeatureTransform,
    pub a: f32,
    pub b: f32,
    /// Frames of the signal a segment needs for the term to count.
    pub min_frames: u32,
    /// The attacks the term was calibrated on (`spoof`, `fake`), for people reading it.
    pub calibrated_on: String,
    /// Further signals read the same way, each with its own weight: one term over
    /// several detectors of one kind of attack, so that they add up rather than the
    /// noisiest of them setting the score. Each must be measured for the term to count.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<AttackInput>,
}

/// A further signal of an [`AttackTerm`] and its weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttackInput {
    pub signal: String,
    pub a: f32,
}

/// The fused attack confidence a segment reports (`attack_score`): each term's
/// calibrated probability moved from even odds to the operating prior, and the highest
/// of them. Calibrated, so a real face reads low and the number means "how likely is
/// this an attack, if attacks are `prior` of sessions". Empty terms: no attack score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttackConfig {
    /// Share of sessions that are attacks, under which the score is stated. Default
    /// 0.05 (one interview in twenty).
    pub prior: f32,
    pub terms: Vec<AttackTerm>,
    /// Where the calibration came from.
    pub provenance: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("invalid config: {0}")]
    Invalid(String),
}

impl AnalysisConfig {
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let cfg: Self = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: "<string>".into(),
            message: e.to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn from_toml_file(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        let cfg: Self = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: shown,
            message: e.to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Rejects settings that would make the rules meaningless.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let l = &self.liveness;
        if !(0.0..=1.0).contains(&l.alert_below)
            || !(0.0..=1.0).contains(&l.suspicious_below)
            || !(0.0..=0.5).contains(&l.hysteresis)
        {
            return Err(ConfigError::Invalid(
                "liveness thresholds must lie in [0, 1] and the hysteresis in [0, 0.5]".into(),
            ));
        }
        if !(0.0..=1.0).contains(&l.alert_alone_below) || l.alert_alone_below > l.alert_below {
            return Err(ConfigError::Invalid(
                "liveness.alert_alone_below must lie in 0..=alert_below".into(),
            ));
        }
        if l.alert_below > l.suspicious_below {
            return Err(ConfigError::Invalid(
                "liveness.alert_below must not exceed liveness.suspicious_below".into(),
            ));
        }
        let q = &self.quality;
        if q.min_brightness >= q.max_brightness {
            return Err(ConfigError::Invalid(
                "quality.min_brightness must be below quality.max_brightness".into(),
            ));
        }
        if !(0.0..=1.0).contains(&q.min_usable_share)
            || !(0.0..=1.0).contains(&self.presence.several_faces_share)
        {
            return Err(ConfigError::Invalid("shares must lie in [0, 1]".into()));
        }
        let k = &self.attack;
        if !(k.prior > 0.0 && k.prior < 1.0)
            || k.terms
                .iter()
                .any(|t| !(t.a.is_finite() && t.b.is_finite()))
        {
            return Err(ConfigError::Invalid(
                "attack.prior must lie strictly between 0 and 1, and every term's a and b \
                 must be finite"
                    .into(),
            ));
        }
        let y = &self.synthetic;
        if !(0.0..=1.0).contains(&y.suspicious_at)
            || !(0.0..=1.0).contains(&y.alert_at)
            || y.suspicious_at > y.alert_at
        {
            return Err(ConfigError::Invalid(
                "synthetic thresholds must lie in [0, 1] with suspicious_at <= alert_at".into(),
            ));
        }
        if y.terms.iter().any(|t| !t.weight.is_finite()) || !y.bias.is_finite() {
            return Err(ConfigError::Invalid(
                "synthetic weights must be finite".into(),
            ));
        }
        if !(-1.0..=1.0).contains(&self.identity.different_below)
            || !(-1.0..=1.0).contains(&self.identity.candidate_mismatch_below)
            || !(-1.0..=1.0).contains(&self.identity.duplicate_search_above)
        {
            return Err(ConfigError::Invalid(
                "identity.different_below, identity.candidate_mismatch_below and \
                 identity.duplicate_search_above must lie in [-1, 1]"
                    .into(),
            ));
        }
        if self.segment.length_ms == 0 {
            return Err(ConfigError::Invalid("segment.length_ms must be > 0".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_file_keeps_other_defaults() {
        let cfg = AnalysisConfig::from_toml_str("[liveness]\nalert_below = 0.2\n").unwrap();
        assert_eq!(cfg.liveness.alert_below, 0.2);
        assert_eq!(cfg.liveness.suspicious_below, 0.6);
        assert_eq!(cfg.segment.length_ms, 2000);
    }

    #[test]
    fn unknown_field_is_rejected() {
        let err = AnalysisConfig::from_toml_str("[liveness]\nalert = 0.2\n").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn inverted_thresholds_are_rejected() {
        let err = AnalysisConfig::from_toml_str(
            "[liveness]\nalert_below = 0.7\nsuspicious_below = 0.5\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("alert_below"), "{err}");
    }

    #[test]
    fn defaults_round_trip_through_toml() {
        let text = toml::to_string(&AnalysisConfig::default()).unwrap();
        assert_eq!(
            AnalysisConfig::from_toml_str(&text).unwrap(),
            AnalysisConfig::default()
        );
    }
}
