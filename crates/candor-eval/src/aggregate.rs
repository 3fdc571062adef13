//! Per-file aggregates of judged segments, and the per-file scores that are evaluated.
//!
//! A file's segments are summed up per signal (every signal name present, so new
//! signals are picked up without code changes): the mean over segments of the segment
//! mean, the min and max over segments of the segment mean, and the median of the
//! segment means; plus the share of segments in each state and the worst state.
//!
//! Each signal has an orientation: liveness is low for attacks; fused attack scores
//! (`synthetic_face_confidence`, `attack_score`, `fused_*`) are high for attacks; anything
//! else is evaluated as-is (higher = attack) and marked `unknown`. The worst state is
//! evaluated as an ordinal score too (clear 0, inconclusive 1, suspicious 2, alert 3).

use std::collections::BTreeMap;

use candor_core::signal::names;
use candor_core::{RiskState, SegmentReport};
use serde::{Deserialize, Serialize};

/// Which way a signal points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    /// Higher values mean attack.
    HigherIsAttack,
    /// Lower values mean attack.
    LowerIsAttack,
    /// Not known: evaluated as-is (higher = attack), so an AUC well below 0.5 means the
    /// signal separates the other way round.
    Unknown,
}

impl Orientation {
    /// The orientation of a signal, by name.
    pub fn of(signal: &str) -> Self {
        if is_fused(signal) {
            Self::HigherIsAttack
        } else if signal == names::LIVENESS
            || signal == names::PULSE_SNR
            || signal == names::PULSE_COHERENCE
        {
            // A live face's score, and a pulse, are weaker on attacks.
            Self::LowerIsAttack
        } else if signal.ends_with("_fake") {
            // Face-forgery classifiers report P(fake).
            Self::HigherIsAttack
        } else {
            Self::Unknown
        }
    }

    /// Turns a raw value into an attack-oriented one (higher = attack).
    pub fn orient(self, value: f64) -> f64 {
        match self {
            Self::LowerIsAttack => -value,
            Self::HigherIsAttack | Self::Unknown => value,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::HigherIsAttack => "higher",
            Self::LowerIsAttack => "lower",
            Self::Unknown => "unknown",
        }
    }
}

/// True for fused attack scores: `synthetic_face_confidence`, `attack_score` and any signal
/// whose name starts with `fused_`. They are evaluated with higher = attack.
pub fn is_fused(signal: &str) -> bool {
    signal == "synthetic_face_confidence"
        || signal == "attack_score"
        || signal.starts_with("fused_")
}

/// The ordinal score of a state: clear 0, inconclusive 1, suspicious 2, alert 3.
pub fn state_ordinal(s: RiskState) -> u8 {
    match s {
        RiskState::Clear => 0,
        RiskState::Inconclusive => 1,
        RiskState::Suspicious => 2,
        RiskState::Alert => 3,
    }
}

/// Fused scores the fusion puts on a segment's assessment itself (e.g. `attack_score`):
/// every numeric field of the serialised assessment with a fused name. They are
/// aggregated like signals of the same name; found by name, so that new ones need no
/// code change here.
pub fn assessment_scores(assessment: &impl Serialize) -> Vec<(String, f64)> {
    match serde_json::to_value(assessment) {
        Ok(serde_json::Value::Object(fields)) => fields
            .into_iter()
            .filter(|(k, _)| is_fused(k))
            .filter_map(|(k, v)| v.as_f64().filter(|x| x.is_finite()).map(|x| (k, x)))
            .collect(),
        _ => Vec::new(),
    }
}

/// One signal over a file's segments (segments without the signal are left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalAggregate {
    /// Segments that carried the signal.
    pub segments: u32,
    /// Frames behind those segment statistics.
    pub frames: u64,
    /// Mean over segments of the segment mean.
    pub mean: f64,
    /// Min over segments of the segment mean.
    pub min: f64,
    /// Max over segments of the segment mean.
    pub max: f64,
    /// Median of the segment means.
    pub median: f64,
}

impl SignalAggregate {
    fn from_means(mut means: Vec<f64>, frames: u64) -> Self {
        means.sort_by(f64::total_cmp);
        let n = means.len();
        let median = if n % 2 == 1 {
            means[n / 2]
        } else {
            (means[n / 2 - 1] + means[n / 2]) / 2.0
        };
        Self {
            segments: n as u32,
            frames,
            mean: means.iter().sum::<f64>() / n as f64,
            min: means[0],
            max: means[n - 1],
            median,
        }
    }

    pub fn get(&self, a: Aggregate) -> Option<f64> {
        match a {
            Aggregate::Mean => Some(self.mean),
            Aggregate::Min => Some(self.min),
            Aggregate::Max => Some(self.max),
            Aggregate::Median => Some(self.median),
            Aggregate::WorstState => None,
        }
    }
}

/// What one file's segments add up to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileAggregate {
    pub segments: u32,
    /// Segments per state; every state is present.
    pub state_segments: BTreeMap<RiskState, u32>,
    /// Share of segments per state, 0..1; every state is present.
    pub state_share: BTreeMap<RiskState, f64>,
    /// `None` when the file had no segment.
    pub worst_state: Option<RiskState>,
    /// Every signal seen in any segment.
    pub signals: BTreeMap<String, SignalAggregate>,
}

impl FileAggregate {
    pub fn from_reports(reports: &[SegmentReport]) -> Self {
        let mut state_segments: BTreeMap<RiskState, u32> =
            RiskState::ALL.into_iter().map(|s| (s, 0)).collect();
        let mut per_signal: BTreeMap<String, (Vec<f64>, u64)> = BTreeMap::new();
        for r in reports {
            *state_segments.entry(r.assessment.state).or_default() += 1;
            for s in &r.segment.signals {
                if !s.mean.is_finite() {
                    continue;
                }
                let slot = per_signal.entry(s.name.clone()).or_default();
                slot.0.push(f64::from(s.mean));
                slot.1 += u64::from(s.frames);
            }
            for (name, value) in assessment_scores(&r.assessment) {
                if r.segment.signal(&name).is_none() {
                    let slot = per_signal.entry(name).or_default();
                    slot.0.push(value);
                    slot.1 += u64::from(r.segment.counts.usable);
                }
            }
        }
        let n = reports.len() as u32;
        let state_share = state_segments
            .iter()
            .map(|(s, c)| {
                (
                    *s,
                    if n > 0 {
                        f64::from(*c) / f64::from(n)
                    } else {
                        0.0
                    },
                )
            })
            .collect();
        Self {
            segments: n,
            state_segments,
            state_share,
            worst_state: reports.iter().map(|r| r.assessment.state).max(),
            signals: per_signal
                .into_iter()
                .map(|(k, (means, frames))| (k, SignalAggregate::from_means(means, frames)))
                .collect(),
        }
    }

    /// Segments in `state` or a more severe one.
    pub fn segments_at_least(&self, state: RiskState) -> u32 {
        self.state_segments
            .iter()
            .filter(|(s, _)| **s >= state)
            .map(|(_, c)| *c)
            .sum()
    }
}

/// How a per-file score is taken from a file's aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    Mean,
    Min,
    Max,
    Median,
    /// The worst segment state as an ordinal (clear 0 .. alert 3).
    WorstState,
}

impl Aggregate {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mean => "mean",
            Self::Min => "min",
            Self::Max => "max",
            Self::Median => "median",
            Self::WorstState => "worst_state",
        }
    }
}

/// A per-file score under evaluation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScoreSpec {
    /// `signal.aggregate` (e.g. `liveness.mean`), or `worst_state`.
    pub name: String,
    /// The signal, `None` for `worst_state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    pub aggregate: Aggregate,
    pub orientation: Orientation,
    /// A fused attack score (or the worst state, the fusion's own verdict).
    pub fused: bool,
}

impl ScoreSpec {
    pub fn worst_state() -> Self {
        Self {
            name: "worst_state".into(),
            signal: None,
            aggregate: Aggregate::WorstState,
            orientation: Orientation::HigherIsAttack,
            fused: true,
        }
    }

    pub fn signal(signal: &str, aggregate: Aggregate) -> Self {
        Self {
            name: format!("{signal}.{}", aggregate.as_str()),
            signal: Some(signal.to_owned()),
            aggregate,
            orientation: Orientation::of(signal),
            fused: is_fused(signal),
        }
    }

    /// The raw value for a file, `None` when the file lacks it.
    pub fn value(&self, f: &FileAggregate) -> Option<f64> {
        match (&self.signal, self.aggregate) {
            (_, Aggregate::WorstState) => f.worst_state.map(|s| f64::from(state_ordinal(s))),
            (Some(sig), a) => f.signals.get(sig).and_then(|s| s.get(a)),
            (None, _) => None,
        }
    }

    /// The attack-oriented value (higher = attack).
    pub fn attack_score(&self, f: &FileAggregate) -> Option<f64> {
        self.value(f)
            .filter(|v| v.is_finite())
            .map(|v| self.orientation.orient(v))
    }
}

/// The scores to evaluate for a set of files: the worst state, then for each signal
/// seen in any file (fused scores first, then signals of known orientation, then the
/// rest) its mean, plus its worst-case aggregate when the orientation is known (min for
/// lower = attack, max for higher = attack).
pub fn score_specs<'a>(files: impl IntoIterator<Item = &'a FileAggregate>) -> Vec<ScoreSpec> {
    let mut signals: Vec<String> = files
        .into_iter()
        .flat_map(|f| f.signals.keys().cloned())
        .collect();
    signals.sort();
    signals.dedup();
    signals.sort_by_key(|s| {
        (
            !is_fused(s),
            Orientation::of(s) == Orientation::Unknown,
            s.clone(),
        )
    });
    let mut specs = vec![ScoreSpec::worst_state()];
    for s in &signals {
        specs.push(ScoreSpec::signal(s, Aggregate::Mean));
        match Orientation::of(s) {
            Orientation::LowerIsAttack => specs.push(ScoreSpec::signal(s, Aggregate::Min)),
            Orientation::HigherIsAttack => specs.push(ScoreSpec::signal(s, Aggregate::Max)),
            Orientation::Unknown => {}
        }
    }
    specs
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use candor_core::{FrameCounts, Segment, SignalStats, Source};

    /// A judged segment with the given state and (name, mean) signals.
    pub(crate) fn seg(index: u32, state: RiskState, signals: &[(&str, f32)]) -> SegmentReport {
        SegmentReport {
            segment: Segment {
                index,
                start_us: i64::from(index) * 2_000_000,
                end_us: i64::from(index + 1) * 2_000_000,
                counts: FrameCounts {
                    decoded: 50,
                    analysed: 4,
                    usable: 4,
                    one_face: 4,
                    ..Default::default()
                },
                main_track: Some(1),
                other_tracks: 0,
                signals: signals
                    .iter()
                    .map(|(n, v)| SignalStats {
                        name: (*n).into(),
                        source: Source::new("test", "1"),
                        frames: 4,
                        mean: *v,
                        median: *v,
                        min: *v,
                        max: *v,
                    })
                    .collect(),
                quality: vec![],
                unusable: Default::default(),
            },
            // Through serde, so that new optional assessment fields need no change here.
            assessment: serde_json::from_value(serde_json::json!({
                "state": state,
                "reasons": [],
            }))
            .unwrap(),
        }
    }

    #[test]
    fn aggregates_over_segment_means() {
        let reports = [
            seg(
                0,
                RiskState::Clear,
                &[("liveness", 0.9), ("sharpness", 50.0)],
            ),
            seg(1, RiskState::Suspicious, &[("liveness", 0.55)]),
            seg(2, RiskState::Clear, &[("liveness", 0.8)]),
            seg(3, RiskState::Inconclusive, &[]),
        ];
        let a = FileAggregate::from_reports(&reports);
        assert_eq!(a.segments, 4);
        assert_eq!(a.worst_state, Some(RiskState::Suspicious));
        assert_eq!(a.state_segments[&RiskState::Clear], 2);
        assert_eq!(a.state_segments[&RiskState::Alert], 0);
        assert_eq!(a.state_share[&RiskState::Clear], 0.5);
        assert_eq!(a.state_share[&RiskState::Inconclusive], 0.25);
        assert_eq!(a.segments_at_least(RiskState::Suspicious), 1);
        assert_eq!(a.segments_at_least(RiskState::Inconclusive), 2);
        let l = &a.signals["liveness"];
        assert_eq!(l.segments, 3);
        assert_eq!(l.frames, 12);
        let mean = (0.9f32 as f64 + 0.55f32 as f64 + 0.8f32 as f64) / 3.0;
        assert!((l.mean - mean).abs() < 1e-12);
        assert_eq!(l.min, 0.55f32 as f64);
        assert_eq!(l.max, 0.9f32 as f64);
        assert_eq!(l.median, 0.8f32 as f64);
        assert_eq!(a.signals["sharpness"].segments, 1);
        assert_eq!(a.signals["sharpness"].median, 50.0);
    }

    #[test]
    fn even_count_median_and_empty_file() {
        let a = FileAggregate::from_reports(&[
            seg(0, RiskState::Clear, &[("x", 1.0)]),
            seg(1, RiskState::Clear, &[("x", 2.0)]),
        ]);
        assert_eq!(a.signals["x"].median, 1.5);
        let e = FileAggregate::from_reports(&[]);
        assert_eq!(e.worst_state, None);
        assert_eq!(e.state_share[&RiskState::Clear], 0.0);
        assert!(ScoreSpec::worst_state().value(&e).is_none());
    }

    #[test]
    fn orientation_table() {
        assert_eq!(Orientation::of("liveness"), Orientation::LowerIsAttack);
        assert_eq!(
            Orientation::of("synthetic_face_confidence"),
            Orientation::HigherIsAttack
        );
        assert_eq!(Orientation::of("attack_score"), Orientation::HigherIsAttack);
        assert_eq!(
            Orientation::of("fused_anything"),
            Orientation::HigherIsAttack
        );
        assert_eq!(Orientation::of("sharpness"), Orientation::Unknown);
        assert!(is_fused("fused_x") && !is_fused("liveness") && !is_fused("unfused_x"));
        assert_eq!(Orientation::LowerIsAttack.orient(0.2), -0.2);
        assert_eq!(Orientation::Unknown.orient(0.2), 0.2);
    }

    #[test]
    fn scores_pick_up_new_signals_without_code_changes() {
        let a = FileAggregate::from_reports(&[seg(
            0,
            RiskState::Alert,
            &[
                ("liveness", 0.2),
                ("brightness", 120.0),
                ("fused_pad", 0.7),
                ("synthetic_face_confidence", 0.9),
            ],
        )]);
        let specs = score_specs([&a]);
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "worst_state",
                "fused_pad.mean",
                "fused_pad.max",
                "synthetic_face_confidence.mean",
                "synthetic_face_confidence.max",
                "liveness.mean",
                "liveness.min",
                "brightness.mean"
            ]
        );
        assert!(specs[1].fused && specs[0].fused && !specs[5].fused);
        assert_eq!(specs[0].attack_score(&a), Some(3.0));
        assert_eq!(specs[5].value(&a), Some(0.2f32 as f64));
        assert_eq!(specs[5].attack_score(&a), Some(-(0.2f32 as f64)));
        assert_eq!(specs[7].orientation, Orientation::Unknown);
        assert_eq!(specs[7].attack_score(&a), Some(120.0));
        // A file without the signal has no value for it.
        let b = FileAggregate::from_reports(&[seg(0, RiskState::Clear, &[])]);
        assert_eq!(specs[5].value(&b), None);
        assert_eq!(specs[0].value(&b), Some(0.0));
    }

    #[test]
    fn fused_fields_of_the_assessment_count_as_signals() {
        let v = serde_json::json!({
            "state": "alert",
            "attack_score": 0.7,
            "fused_replay": 0.4,
            "abstain": "no_face",
            "liveness": 0.1,
            "synthetic_face_confidence": null,
        });
        let mut got = assessment_scores(&v);
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            [
                ("attack_score".to_string(), 0.7),
                ("fused_replay".to_string(), 0.4)
            ]
        );
        assert!(assessment_scores(&1.0).is_empty());
    }

    #[test]
    fn ordinal_follows_severity() {
        let o: Vec<u8> = RiskState::ALL.into_iter().map(state_ordinal).collect();
        assert_eq!(o, [0, 1, 2, 3]);
    }
}
