//! Within-session change: some signals (face-versus-surroundings sharpness, noise,
//! contour edges) depend more on the camera and codec than on the face, so across
//! clips their raw values say little. Within one session they are stable for a real
//! face, and a face swap switching on, or breaking under a hand or a profile view,
//! moves them. This tracker compares each segment's median with the medians of the
//! session's earlier segments and adds the robust z-score as a `<name>_shift` signal.

use std::collections::BTreeMap;

use crate::segment::{Segment, SignalStats};
use crate::signal::Source;

/// Earlier segments needed before a shift is reported.
pub const MIN_HISTORY: usize = 3;
/// Floor of the robust scale, in signal units, so a perfectly steady baseline does not
/// turn a tiny change into a huge z-score.
pub const MIN_SCALE: f32 = 0.05;
/// Name suffix of the derived signals.
pub const SHIFT_SUFFIX: &str = "_shift";

pub struct SessionBaseline {
    names: Vec<String>,
    history: BTreeMap<String, Vec<f32>>,
    source: Source,
}

impl SessionBaseline {
    /// Tracks the signals `names`.
    pub fn new(names: &[&str]) -> Self {
        Self {
            names: names.iter().map(|n| (*n).to_owned()).collect(),
            history: BTreeMap::new(),
            source: Source::new("session_baseline", "1"),
        }
    }

    /// Adds `<name>_shift` = (segment median − median of earlier segment medians) /
    /// max(1.4826 × their MAD, MIN_SCALE) for each tracked signal the segment carries,
    /// once MIN_HISTORY earlier segments had it; then adds the segment to the history.
    pub fn annotate(&mut self, segment: &mut Segment) {
        let mut added = Vec::new();
        for name in &self.names {
            let Some(stats) = segment.signal(name) else {
                continue;
            };
            let value = stats.median;
            let frames = stats.frames;
            let history = self.history.entry(name.clone()).or_default();
            if history.len() >= MIN_HISTORY {
                let centre = median(history);
                let mut dev: Vec<f32> = history.iter().map(|v| (v - centre).abs()).collect();
                let scale = (1.4826 * median(&mut dev)).max(MIN_SCALE);
                let z = (value - centre) / scale;
                added.push(SignalStats {
                    name: format!("{name}{SHIFT_SUFFIX}"),
                    source: self.source.clone(),
                    frames,
                    mean: z,
                    median: z,
                    min: z,
                    max: z,
                });
            }
            history.push(value);
        }
        segment.signals.extend(added);
    }
}

fn median(v: &mut [f32]) -> f32 {
    v.sort_by(f32::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::FrameCounts;
    use std::collections::BTreeMap as Map;

    fn segment(index: u32, value: Option<f32>) -> Segment {
        Segment {
            index,
            start_us: i64::from(index) * 2_000_000,
            end_us: i64::from(index + 1) * 2_000_000,
            counts: FrameCounts::default(),
            main_track: None,
            other_tracks: 0,
            signals: value
                .map(|v| SignalStats {
                    name: "x".into(),
                    source: Source::new("m", "1"),
                    frames: 4,
                    mean: v,
                    median: v,
                    min: v,
                    max: v,
                })
                .into_iter()
                .collect(),
            quality: Vec::new(),
            unusable: Map::new(),
        }
    }

    fn shift(s: &Segment) -> Option<f32> {
        s.signal("x_shift").map(|st| st.median)
    }

    #[test]
    fn shift_is_a_robust_z_score_against_earlier_segments() {
        let mut b = SessionBaseline::new(&["x"]);
        let mut out = Vec::new();
        for (i, v) in [1.0, 1.2, 0.8, 1.0, 2.0].into_iter().enumerate() {
            let mut s = segment(i as u32, Some(v));
            b.annotate(&mut s);
            out.push(shift(&s));
        }
        // Too little history for the first three.
        assert_eq!(&out[..3], &[None, None, None]);
        // History [1.0, 1.2, 0.8]: median 1.0, MAD 0.2 -> scale 0.29652.
        assert_eq!(out[3], Some(0.0));
        // History [1.0, 1.2, 0.8, 1.0]: median 1.0, |dev| [0, 0.2, 0.2, 0] -> MAD 0.1,
        // scale 0.14826; (2.0 - 1.0) / 0.14826 = 6.7449.
        assert!((out[4].unwrap() - 6.7449).abs() < 1e-3, "{out:?}");
    }

    #[test]
    fn a_steady_baseline_uses_the_floor_and_gaps_are_skipped() {
        let mut b = SessionBaseline::new(&["x"]);
        for (i, v) in [Some(0.5), None, Some(0.5), Some(0.5)]
            .into_iter()
            .enumerate()
        {
            let mut s = segment(i as u32, v);
            b.annotate(&mut s);
            assert_eq!(shift(&s), None);
        }
        let mut s = segment(4, Some(0.6));
        b.annotate(&mut s);
        // MAD 0 -> floor 0.05: (0.6 - 0.5) / 0.05 = 2.
        assert!((shift(&s).unwrap() - 2.0).abs() < 1e-4);
        assert_eq!(s.signal("x_shift").unwrap().source.name, "session_baseline");
    }
}
