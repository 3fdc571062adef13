//! Active challenges: the recruiter asks the candidate for an action and the next
//! seconds of video are checked for it. Real-time face-swap tools tend to break under
//! profile views and occlusion, and a replayed photo or frozen frame cannot act at
//! all, so a challenge also reports what the other signals did meanwhile.
//!
//! Pure logic: the stream analyser feeds one [`ChallengeSample`] per analysed frame.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeKind {
    /// Turn the head to one side and back (either side passes: cameras may mirror).
    TurnHead,
    /// Look up, then back at the camera.
    LookUp,
    /// Pass a hand across the face.
    CoverFace,
    /// Blink twice. Needs frequent eye readings: the stream glances at the eyes between
    /// analysed frames while the challenge runs.
    Blink,
}

impl ChallengeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TurnHead => "turn_head",
            Self::LookUp => "look_up",
            Self::CoverFace => "cover_face",
            Self::Blink => "blink",
        }
    }

    /// What the platform shows the candidate.
    pub fn instruction(self) -> &'static str {
        match self {
            Self::TurnHead => "Please turn your head slowly to one side, then back to the camera.",
            Self::LookUp => "Please look up at the ceiling for a moment, then back at the camera.",
            Self::CoverFace => "Please pass your hand slowly across your face, then lower it.",
            Self::Blink => "Please look at the camera and blink twice, slowly.",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeOutcome {
    Pass,
    Fail,
    /// Too little usable video in the window to tell.
    Inconclusive,
}

/// What one analysed frame showed, for challenges.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ChallengeSample {
    pub pts_us: i64,
    /// The main face was found by the detector.
    pub face: bool,
    pub yaw: Option<f32>,
    pub pitch: Option<f32>,
    pub identity_similarity: Option<f32>,
    pub liveness: Option<f32>,
    /// The eyes were read (face mesh) on this frame.
    pub eyes_read: bool,
    /// A blink ended on this frame (see [`crate::blink`]).
    pub blink: bool,
}

/// Thresholds of the checks (degrees of head turn, frames needed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChallengeRules {
    pub turn_deg: f32,
    pub look_up_deg: f32,
    /// Frames with a measured pose needed before a missing movement is a failure.
    pub min_frames: usize,
    pub blinks_needed: usize,
    /// Eye readings needed before missing blinks are a failure (15: one second of
    /// glances at 15 a second).
    pub min_eye_readings: usize,
    /// ...and at least this many a second over the window: sparser readings (2 analysed
    /// frames a second, on inputs that cannot be glanced at) miss most blinks.
    pub min_eye_readings_per_s: f32,
}

impl Default for ChallengeRules {
    fn default() -> Self {
        // A deliberate turn reaches 25-45 degrees; the mesh's yaw wobbles by a few
        // degrees on a still face (a frozen frame: under 0.1), so 20 is a clear act.
        Self {
            turn_deg: 20.0,
            look_up_deg: 12.0,
            min_frames: 3,
            blinks_needed: 2,
            min_eye_readings: 15,
            min_eye_readings_per_s: 8.0,
        }
    }
}

/// Stored with the session as JSON, and read back by nodes that follow it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChallengeResult {
    pub kind: ChallengeKind,
    pub outcome: ChallengeOutcome,
    pub start_us: i64,
    pub end_us: i64,
    /// The measurements behind the outcome and what other signals did meanwhile, by
    /// name (e.g. `yaw_change_deg`, `frames_without_face`, `identity_similarity_min`).
    pub measurements: Vec<(String, f32)>,
    pub message: String,
}

/// One challenge in progress: it starts at the first frame fed to it and ends once a
/// frame lies `window_us` past that.
#[derive(Debug, Clone)]
pub struct ChallengeTracker {
    kind: ChallengeKind,
    window_us: i64,
    rules: ChallengeRules,
    samples: Vec<ChallengeSample>,
}

impl ChallengeTracker {
    pub fn new(kind: ChallengeKind, window_us: i64, rules: ChallengeRules) -> Self {
        Self {
            kind,
            window_us: window_us.max(1),
            rules,
            samples: Vec::new(),
        }
    }

    /// Adds a frame; returns the result once the window has passed.
    pub fn push(&mut self, sample: ChallengeSample) -> Option<ChallengeResult> {
        let start = self.samples.first().map_or(sample.pts_us, |s| s.pts_us);
        if sample.pts_us - start >= self.window_us {
            return Some(self.finish());
        }
        self.samples.push(sample);
        None
    }

    /// The result with what was seen so far (e.g. when the stream ends early).
    pub fn finish(&self) -> ChallengeResult {
        let s = &self.samples;
        let start_us = s.first().map_or(0, |x| x.pts_us);
        let end_us = s.last().map_or(start_us, |x| x.pts_us);
        let mut m: Vec<(String, f32)> = Vec::new();
        let faces = s.iter().filter(|x| x.face).count();
        m.push(("frames".into(), s.len() as f32));
        m.push(("frames_without_face".into(), (s.len() - faces) as f32));
        let min_of =
            |f: fn(&ChallengeSample) -> Option<f32>| s.iter().filter_map(f).reduce(f32::min);
        if let Some(v) = min_of(|x| x.identity_similarity) {
            m.push(("identity_similarity_min".into(), v));
        }
        if let Some(v) = min_of(|x| x.liveness) {
            m.push(("liveness_min".into(), v));
        }
        let (outcome, message) = match self.kind {
            ChallengeKind::TurnHead => self.movement(&mut m, |x| x.yaw, "yaw", self.rules.turn_deg),
            ChallengeKind::LookUp => {
                self.movement(&mut m, |x| x.pitch, "pitch", self.rules.look_up_deg)
            }
            ChallengeKind::CoverFace => self.cover(faces),
            ChallengeKind::Blink => self.blinks(&mut m),
        };
        ChallengeResult {
            kind: self.kind,
            outcome,
            start_us,
            end_us,
            measurements: m,
            message,
        }
    }

    /// Largest change of an angle from its first value in the window.
    fn movement(
        &self,
        m: &mut Vec<(String, f32)>,
        angle: fn(&ChallengeSample) -> Option<f32>,
        name: &str,
        needed: f32,
    ) -> (ChallengeOutcome, String) {
        let values: Vec<f32> = self.samples.iter().filter_map(angle).collect();
        let Some(&first) = values.first() else {
            return (
                ChallengeOutcome::Inconclusive,
                format!("no head pose measured during the challenge ({name})"),
            );
        };
        let reached = values
            .iter()
            .map(|v| (v - first).abs())
            .fold(0.0f32, f32::max);
        m.push((format!("{name}_change_deg"), reached));
        if reached >= needed {
            (
                ChallengeOutcome::Pass,
                format!("{name} changed by {reached:.0} degrees (needed {needed:.0})"),
            )
        } else if values.len() >= self.rules.min_frames {
            (
                ChallengeOutcome::Fail,
                format!(
                    "{name} changed by only {reached:.0} degrees over {} frames (needed {needed:.0})",
                    values.len()
                ),
            )
        } else {
            (
                ChallengeOutcome::Inconclusive,
                format!("only {} frames with a head pose", values.len()),
            )
        }
    }

    /// Blinks counted from the eye readings of the window.
    fn blinks(&self, m: &mut Vec<(String, f32)>) -> (ChallengeOutcome, String) {
        let blinks = self.samples.iter().filter(|x| x.blink).count();
        let readings = self.samples.iter().filter(|x| x.eyes_read).count();
        m.push(("blinks".into(), blinks as f32));
        m.push(("eye_readings".into(), readings as f32));
        let span_s = match (self.samples.first(), self.samples.last()) {
            (Some(a), Some(b)) => ((b.pts_us - a.pts_us) as f32 / 1e6).max(1e-3),
            _ => 1.0,
        };
        let dense = readings as f32 / span_s >= self.rules.min_eye_readings_per_s;
        let needed = self.rules.blinks_needed;
        if blinks >= needed {
            (
                ChallengeOutcome::Pass,
                format!("{blinks} blinks seen (needed {needed})"),
            )
        } else if !dense && readings > 0 {
            (
                ChallengeOutcome::Inconclusive,
                format!(
                    "{readings} eye readings in {span_s:.1} s are too sparse to count blinks \
                     ({} a second needed)",
                    self.rules.min_eye_readings_per_s
                ),
            )
        } else if readings >= self.rules.min_eye_readings {
            (
                ChallengeOutcome::Fail,
                format!("{blinks} blinks in {readings} eye readings (needed {needed})"),
            )
        } else {
            (
                ChallengeOutcome::Inconclusive,
                format!("only {readings} eye readings: too little of the face was seen"),
            )
        }
    }

    /// A hand across the face hides it from the detector for a moment, with the face
    /// seen before and after.
    fn cover(&self, faces: usize) -> (ChallengeOutcome, String) {
        let s = &self.samples;
        if s.len() < self.rules.min_frames {
            return (
                ChallengeOutcome::Inconclusive,
                format!("only {} frames during the challenge", s.len()),
            );
        }
        let first_face = s.iter().position(|x| x.face);
        let last_face = s.iter().rposition(|x| x.face);
        let hidden_between = match (first_face, last_face) {
            (Some(a), Some(b)) => s[a..=b].iter().any(|x| !x.face),
            _ => false,
        };
        if hidden_between {
            (
                ChallengeOutcome::Pass,
                "the face was covered, then seen again".into(),
            )
        } else if faces == 0 {
            (
                ChallengeOutcome::Inconclusive,
                "no face seen during the challenge".into(),
            )
        } else {
            (
                ChallengeOutcome::Fail,
                "the face was never covered during the challenge".into(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(i: i64, face: bool, yaw: Option<f32>) -> ChallengeSample {
        ChallengeSample {
            pts_us: i * 500_000,
            face,
            yaw,
            pitch: yaw.map(|_| 0.0),
            identity_similarity: face.then_some(0.8),
            liveness: None,
            ..Default::default()
        }
    }

    fn run(kind: ChallengeKind, samples: &[ChallengeSample]) -> ChallengeResult {
        let mut t = ChallengeTracker::new(kind, 3_000_000, ChallengeRules::default());
        for s in samples {
            if let Some(r) = t.push(*s) {
                return r;
            }
        }
        t.finish()
    }

    fn measure(r: &ChallengeResult, name: &str) -> Option<f32> {
        r.measurements
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    #[test]
    fn a_head_turn_passes_and_a_still_head_fails() {
        let turn: Vec<_> = [0.0, -8.0, -22.0, -30.0, -10.0, 0.0, 0.0]
            .iter()
            .enumerate()
            .map(|(i, y)| sample(i as i64, true, Some(*y)))
            .collect();
        let r = run(ChallengeKind::TurnHead, &turn);
        assert_eq!(r.outcome, ChallengeOutcome::Pass);
        assert_eq!(measure(&r, "yaw_change_deg"), Some(30.0));
        // The window is 3 s: the frame at 3.0 s closes it, unused.
        assert_eq!((r.start_us, r.end_us), (0, 2_500_000));
        assert_eq!(measure(&r, "identity_similarity_min"), Some(0.8));

        let still: Vec<_> = (0..7).map(|i| sample(i, true, Some(3.0))).collect();
        let r = run(ChallengeKind::TurnHead, &still);
        assert_eq!(r.outcome, ChallengeOutcome::Fail);
        assert_eq!(measure(&r, "yaw_change_deg"), Some(0.0));
    }

    /// Eye readings every 66 ms for 3 s, with blinks ending at the given readings.
    fn eyes(blinks_at: &[i64], read: bool) -> Vec<ChallengeSample> {
        (0..45)
            .map(|i| ChallengeSample {
                pts_us: i * 66_000,
                face: true,
                eyes_read: read,
                blink: blinks_at.contains(&i),
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn two_blinks_pass_one_fails_and_no_eye_readings_are_inconclusive() {
        let r = run(ChallengeKind::Blink, &eyes(&[10, 30], true));
        assert_eq!(r.outcome, ChallengeOutcome::Pass, "{r:?}");
        assert_eq!(measure(&r, "blinks"), Some(2.0));
        let r = run(ChallengeKind::Blink, &eyes(&[10], true));
        assert_eq!(r.outcome, ChallengeOutcome::Fail, "{r:?}");
        let r = run(ChallengeKind::Blink, &eyes(&[], false));
        assert_eq!(r.outcome, ChallengeOutcome::Inconclusive, "{r:?}");
        assert_eq!(measure(&r, "eye_readings"), Some(0.0));
        // Only 2 readings a second (no glances): missing blinks prove nothing.
        let sparse: Vec<_> = (0..6)
            .map(|i| sample(i, true, Some(0.0)))
            .map(|s| ChallengeSample {
                eyes_read: true,
                ..s
            })
            .collect();
        let r = run(ChallengeKind::Blink, &sparse);
        assert_eq!(r.outcome, ChallengeOutcome::Inconclusive, "{r:?}");
    }

    #[test]
    fn too_few_frames_or_no_face_is_inconclusive() {
        let r = run(
            ChallengeKind::TurnHead,
            &[sample(0, true, Some(0.0)), sample(1, true, Some(5.0))],
        );
        assert_eq!(r.outcome, ChallengeOutcome::Inconclusive);
        let r = run(
            ChallengeKind::LookUp,
            &[sample(0, false, None), sample(1, false, None)],
        );
        assert_eq!(r.outcome, ChallengeOutcome::Inconclusive);
        assert_eq!(measure(&r, "frames_without_face"), Some(2.0));
    }

    #[test]
    fn covering_the_face_needs_it_hidden_between_sightings() {
        let covered: Vec<_> = [true, true, false, false, true]
            .iter()
            .enumerate()
            .map(|(i, f)| sample(i as i64, *f, None))
            .collect();
        assert_eq!(
            run(ChallengeKind::CoverFace, &covered).outcome,
            ChallengeOutcome::Pass
        );
        let never: Vec<_> = (0..5).map(|i| sample(i, true, None)).collect();
        assert_eq!(
            run(ChallengeKind::CoverFace, &never).outcome,
            ChallengeOutcome::Fail
        );
        // Face gone and never back: not a pass (the candidate may have left).
        let gone: Vec<_> = [true, false, false, false, false]
            .iter()
            .enumerate()
            .map(|(i, f)| sample(i as i64, *f, None))
            .collect();
        assert_eq!(
            run(ChallengeKind::CoverFace, &gone).outcome,
            ChallengeOutcome::Fail
        );
    }
}
