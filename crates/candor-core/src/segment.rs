//! Fixed-length windows over a stream's frames, and what each window saw.
//!
//! Windows are aligned on presentation time: window k covers [k*L, (k+1)*L). A window
//! with no frame at all (a gap in the stream) produces no segment; its index is simply
//! skipped, so gaps stay visible to consumers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::FrameInfo;
use crate::config::{QualityThresholds, SegmentConfig, Statistic};
use crate::observation::FrameObservation;
use crate::quality::{AbstainCode, frame_usability};
use crate::signal::{Signal, Source, names};

/// Frame accounting for one segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameCounts {
    /// Every frame the decoder produced in the window.
    pub decoded: u32,
    /// Frames picked by the sampling policy and analysed.
    pub analysed: u32,
    /// Frames picked for analysis but dropped because analysis fell behind (or a
    /// model failed on that frame).
    pub dropped: u32,
    /// Frames, or packets of a stream, that failed to decode and were skipped: damage
    /// in the media, counted so that a segment says it saw less than was sent. Not
    /// part of `decoded`.
    #[serde(default)]
    pub undecodable: u32,
    pub one_face: u32,
    pub no_face: u32,
    pub several_faces: u32,
    /// Analysed frames whose main face was good enough to judge.
    pub usable: u32,
}

/// Summary statistics of one signal over a segment's frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalStats {
    pub name: String,
    pub source: Source,
    pub frames: u32,
    pub mean: f32,
    pub median: f32,
    pub min: f32,
    pub max: f32,
}

impl SignalStats {
    /// The reading a term of a fitted rule takes.
    pub fn get(&self, statistic: Statistic) -> f32 {
        match statistic {
            Statistic::Mean => self.mean,
            Statistic::Median => self.median,
            Statistic::Min => self.min,
        }
    }

    fn from_values(name: &str, source: &Source, values: &mut [f32]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f32::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        Some(Self {
            name: name.to_owned(),
            source: source.clone(),
            frames: n as u32,
            mean: values.iter().sum::<f32>() / n as f32,
            median,
            min: values[0],
            max: values[n - 1],
        })
    }
}

/// What one window of the stream showed, before any judgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub index: u32,
    pub start_us: i64,
    pub end_us: i64,
    pub counts: FrameCounts,
    /// Track id of the main subject, when seen in this segment.
    pub main_track: Option<u32>,
    /// Distinct other faces (tracks) seen in this segment.
    pub other_tracks: u32,
    /// Signals of the main face over usable frames only: what the rules decide on.
    pub signals: Vec<SignalStats>,
    /// Quality measures of the main face over every frame where it was seen, usable or
    /// not: what explains an `inconclusive` segment.
    pub quality: Vec<SignalStats>,
    /// Why analysed frames were not usable, with counts.
    pub unusable: BTreeMap<AbstainCode, u32>,
}

impl Segment {
    pub fn signal(&self, name: &str) -> Option<&SignalStats> {
        self.signals.iter().find(|s| s.name == name)
    }

    pub fn quality_measure(&self, name: &str) -> Option<&SignalStats> {
        self.quality.iter().find(|s| s.name == name)
    }

    pub fn usable_share(&self) -> f32 {
        share(self.counts.usable, self.counts.analysed)
    }

    pub fn several_faces_share(&self) -> f32 {
        share(self.counts.several_faces, self.counts.analysed)
    }

    /// The most frequent reason frames were unusable (ties: the first in code order).
    pub fn main_abstain(&self) -> Option<AbstainCode> {
        self.unusable
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(code, _)| *code)
    }

    pub fn duration_us(&self) -> i64 {
        (self.end_us - self.start_us).max(0)
    }
}

fn share(part: u32, whole: u32) -> f32 {
    if whole == 0 {
        0.0
    } else {
        part as f32 / whole as f32
    }
}

const QUALITY_NAMES: [&str; 4] = [
    names::FACE_WIDTH_PX,
    names::BRIGHTNESS,
    names::SHARPNESS,
    names::CLIPPED_SHARE,
];

/// Collects values per signal name, keeping the first source seen for each.
#[derive(Default)]
struct SignalAccumulator {
    values: BTreeMap<String, (Source, Vec<f32>)>,
}

impl SignalAccumulator {
    fn push(&mut self, s: &Signal) {
        if !s.value.is_finite() {
            return;
        }
        self.values
            .entry(s.name.clone())
            .or_insert_with(|| (s.source.clone(), Vec::new()))
            .1
            .push(s.value);
    }

    fn finish(self) -> Vec<SignalStats> {
        self.values
            .into_iter()
            .filter_map(|(name, (src, mut v))| SignalStats::from_values(&name, &src, &mut v))
            .collect()
    }
}

struct Window {
    index: i64,
    first_pts: i64,
    last_pts: i64,
    counts: FrameCounts,
    main_tracks: BTreeMap<u32, u32>,
    other_tracks: std::collections::BTreeSet<u32>,
    signals: SignalAccumulator,
    quality: SignalAccumulator,
    unusable: BTreeMap<AbstainCode, u32>,
}

/// One input to the segmenter: every decoded frame is reported exactly once.
#[derive(Debug, Clone)]
pub enum FrameEvent {
    /// Decoded but not picked for analysis.
    Skipped(FrameInfo),
    /// Picked for analysis but dropped because analysis fell behind.
    Dropped(FrameInfo),
    /// Picked and analysed.
    Analysed(FrameObservation),
    /// Damaged media skipped just before the frame at this time: a picture that did
    /// not decode, or the given number of stream packets.
    Undecodable(FrameInfo, u32),
}

impl FrameEvent {
    pub fn info(&self) -> &FrameInfo {
        match self {
            Self::Skipped(i) | Self::Dropped(i) | Self::Undecodable(i, _) => i,
            Self::Analysed(o) => &o.info,
        }
    }
}

/// Turns a stream of frame events into segments, in order.
pub struct Segmenter {
    length_us: i64,
    quality: QualityThresholds,
    window: Option<Window>,
    /// Typical spacing of decoded frames, to give the last segment a sensible end.
    frame_step_us: i64,
}

impl Segmenter {
    pub fn new(cfg: &SegmentConfig, quality: &QualityThresholds) -> Self {
        Self {
            length_us: cfg.length_us(),
            quality: quality.clone(),
            window: None,
            frame_step_us: 0,
        }
    }

    /// Adds one frame; returns the previous segment when this frame opens a new window.
    pub fn push(&mut self, event: FrameEvent) -> Option<Segment> {
        let pts = event.info().pts_us.max(0);
        let index = pts / self.length_us;
        let mut finished = None;
        match &mut self.window {
            // Late frames (pts before the open window) stay in the open window so that
            // nothing is lost and segments remain in order.
            Some(w) if index <= w.index => {}
            _ => {
                finished = self.window.take().map(|w| self.close(w, false));
                self.window = Some(Window {
                    index,
                    first_pts: pts,
                    last_pts: pts,
                    counts: FrameCounts::default(),
                    main_tracks: BTreeMap::new(),
                    other_tracks: Default::default(),
                    signals: SignalAccumulator::default(),
                    quality: SignalAccumulator::default(),
                    unusable: BTreeMap::new(),
                });
            }
        }
        let Some(w) = self.window.as_mut() else {
            return finished;
        };
        if pts > w.last_pts {
            let step = pts - w.last_pts;
            // A running minimum would be fooled by B-frame jitter; keep the latest step.
            self.frame_step_us = step;
            w.last_pts = pts;
        }
        w.first_pts = w.first_pts.min(pts);
        match event {
            FrameEvent::Undecodable(_, n) => {
                w.counts.undecodable = w.counts.undecodable.saturating_add(n);
                return finished;
            }
            FrameEvent::Skipped(_) => {}
            FrameEvent::Dropped(_) => w.counts.dropped += 1,
            FrameEvent::Analysed(obs) => Self::add_observation(w, &obs, &self.quality),
        }
        w.counts.decoded += 1;
        finished
    }

    /// Closes the open window, if any, at the end of the stream.
    pub fn finish(&mut self) -> Option<Segment> {
        self.window.take().map(|w| self.close(w, true))
    }

    fn add_observation(w: &mut Window, obs: &FrameObservation, t: &QualityThresholds) {
        w.counts.analysed += 1;
        match obs.faces.len() {
            0 => w.counts.no_face += 1,
            1 => w.counts.one_face += 1,
            _ => w.counts.several_faces += 1,
        }
        for f in &obs.faces {
            if Some(f.track_id) != obs.main_track {
                w.other_tracks.insert(f.track_id);
            }
        }
        if let Some(face) = obs.main_face() {
            *w.main_tracks.entry(face.track_id).or_default() += 1;
            for s in face
                .signals
                .iter()
                .filter(|s| QUALITY_NAMES.contains(&s.name.as_str()))
            {
                w.quality.push(s);
            }
        }
        match frame_usability(obs, t) {
            Ok(()) => {
                w.counts.usable += 1;
                if let Some(face) = obs.main_face() {
                    face.signals.iter().for_each(|s| w.signals.push(s));
                }
            }
            Err(code) => *w.unusable.entry(code).or_default() += 1,
        }
    }

    fn close(&self, w: Window, at_end: bool) -> Segment {
        let start_us = w.index * self.length_us;
        let window_end = start_us + self.length_us;
        // The last segment ends one frame after its last frame, not at the window edge.
        let end_us = if at_end {
            (w.last_pts + self.frame_step_us)
                .min(window_end)
                .max(start_us)
        } else {
            window_end
        };
        let main_track = w
            .main_tracks
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(id, _)| *id);
        let other_tracks = w
            .other_tracks
            .iter()
            .filter(|id| !w.main_tracks.contains_key(id))
            .count() as u32;
        Segment {
            index: w.index as u32,
            start_us,
            end_us,
            counts: w.counts,
            main_track,
            other_tracks,
            signals: w.signals.finish(),
            quality: w.quality.finish(),
            unusable: w.unusable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::FaceObservation;
    use crate::{FaceDetection, Point, Rect};

    fn info(pts_us: i64, i: u64) -> FrameInfo {
        FrameInfo {
            pts_us,
            decoded_index: i,
            source_width: 640,
            source_height: 480,
            fingerprint: None,
        }
    }

    fn face(track: u32, liveness: f32, width: f32) -> FaceObservation {
        let src = Source::new("m", "1");
        FaceObservation {
            track_id: track,
            detection: FaceDetection {
                bbox: Rect::new(0.0, 0.0, width, width),
                landmarks: [Point::default(); 5],
                score: 0.9,
            },
            signals: vec![
                Signal::new(names::LIVENESS, liveness, &src),
                Signal::new(names::FACE_WIDTH_PX, width, &src),
            ],
        }
    }

    fn analysed(pts: i64, i: u64, faces: Vec<FaceObservation>) -> FrameEvent {
        let main_track = faces.first().map(|f| f.track_id);
        FrameEvent::Analysed(FrameObservation {
            info: info(pts, i),
            faces,
            main_track,
            picture_luma: None,
        })
    }

    /// 25 fps for 5 s, every 12th frame analysed (about 2 fps), segments of 2 s.
    #[test]
    fn windows_count_frames_exactly() {
        let mut seg = Segmenter::new(&SegmentConfig::default(), &QualityThresholds::default());
        let mut out = Vec::new();
        for i in 0..125u64 {
            let pts = i as i64 * 40_000;
            let ev = if i % 12 == 0 {
                analysed(pts, i, vec![face(1, 0.9, 100.0)])
            } else {
                FrameEvent::Skipped(info(pts, i))
            };
            out.extend(seg.push(ev));
        }
        out.extend(seg.finish());
        assert_eq!(out.len(), 3);
        assert_eq!(
            out.iter().map(|s| s.counts.decoded).collect::<Vec<_>>(),
            vec![50, 50, 25]
        );
        // analysed frame indices: 0,12,24,36,48 | 60,72,84,96 | 108,120
        assert_eq!(
            out.iter().map(|s| s.counts.analysed).collect::<Vec<_>>(),
            vec![5, 4, 2]
        );
        assert_eq!((out[0].start_us, out[0].end_us), (0, 2_000_000));
        // last frame at 4.96 s, one frame step later: 5.0 s
        assert_eq!((out[2].start_us, out[2].end_us), (4_000_000, 5_000_000));
        let l = out[0].signal(names::LIVENESS).unwrap();
        assert_eq!((l.frames, l.mean, l.min), (5, 0.9, 0.9));
        assert!(out.iter().all(|s| s.counts.one_face == s.counts.analysed));
        assert!(out.iter().all(|s| s.main_track == Some(1)));
    }

    #[test]
    fn statistics_are_exact() {
        let mut seg = Segmenter::new(&SegmentConfig::default(), &QualityThresholds::default());
        for (i, live) in [0.2f32, 0.8, 0.4, 1.0].into_iter().enumerate() {
            seg.push(analysed(
                i as i64 * 500_000,
                i as u64,
                vec![face(1, live, 100.0)],
            ));
        }
        let s = seg.finish().unwrap();
        let l = s.signal(names::LIVENESS).unwrap();
        assert_eq!(l.frames, 4);
        assert!((l.mean - 0.6).abs() < 1e-6);
        assert!((l.median - 0.6).abs() < 1e-6);
        assert_eq!((l.min, l.max), (0.2, 1.0));
    }

    #[test]
    fn unusable_frames_are_counted_not_judged() {
        let mut seg = Segmenter::new(&SegmentConfig::default(), &QualityThresholds::default());
        seg.push(analysed(0, 0, vec![face(1, 0.1, 20.0)]));
        seg.push(analysed(500_000, 1, vec![]));
        seg.push(analysed(1_000_000, 2, vec![face(1, 0.9, 100.0)]));
        let s = seg.finish().unwrap();
        assert_eq!(s.counts.usable, 1);
        assert_eq!(s.counts.no_face, 1);
        assert_eq!(s.unusable.get(&AbstainCode::FaceTooSmall), Some(&1));
        assert_eq!(s.unusable.get(&AbstainCode::NoFace), Some(&1));
        // only the usable frame's liveness counts
        assert_eq!(s.signal(names::LIVENESS).unwrap().mean, 0.9);
        // quality covers every frame with a face
        assert_eq!(s.quality_measure(names::FACE_WIDTH_PX).unwrap().frames, 2);
    }

    #[test]
    fn gaps_skip_indices_and_late_frames_stay_in_window() {
        let mut seg = Segmenter::new(&SegmentConfig::default(), &QualityThresholds::default());
        assert!(seg.push(FrameEvent::Skipped(info(100, 0))).is_none());
        let first = seg.push(FrameEvent::Dropped(info(6_100_000, 1))).unwrap();
        assert_eq!(first.index, 0);
        assert!(seg.push(FrameEvent::Skipped(info(5_000_000, 2))).is_none());
        let last = seg.finish().unwrap();
        assert_eq!(last.index, 3);
        assert_eq!((last.counts.decoded, last.counts.dropped), (2, 1));
    }

    #[test]
    fn damaged_media_is_counted_in_its_window_and_not_as_decoded() {
        let mut seg = Segmenter::new(&SegmentConfig::default(), &QualityThresholds::default());
        assert!(seg.push(FrameEvent::Skipped(info(0, 0))).is_none());
        // 12 stream packets lost just before the frame at 1 s, and one bad picture.
        assert!(
            seg.push(FrameEvent::Undecodable(info(1_000_000, 1), 12))
                .is_none()
        );
        assert!(seg.push(FrameEvent::Skipped(info(1_000_000, 1))).is_none());
        assert!(
            seg.push(FrameEvent::Undecodable(info(1_040_000, 2), 1))
                .is_none()
        );
        let first = seg.push(FrameEvent::Skipped(info(2_000_000, 3))).unwrap();
        assert_eq!(
            (
                first.counts.decoded,
                first.counts.undecodable,
                first.counts.dropped
            ),
            (2, 13, 0)
        );
        let last = seg.finish().unwrap();
        assert_eq!((last.counts.decoded, last.counts.undecodable), (1, 0));
    }

    #[test]
    fn other_faces_are_counted_by_track() {
        let mut seg = Segmenter::new(&SegmentConfig::default(), &QualityThresholds::default());
        seg.push(analysed(
            0,
            0,
            vec![face(1, 0.9, 100.0), face(2, 0.9, 60.0)],
        ));
        seg.push(analysed(
            500_000,
            1,
            vec![face(1, 0.9, 100.0), face(3, 0.9, 60.0)],
        ));
        let s = seg.finish().unwrap();
        assert_eq!(s.counts.several_faces, 2);
        assert_eq!(s.other_tracks, 2);
        assert_eq!(s.several_faces_share(), 1.0);
    }

    #[test]
    fn main_abstain_picks_most_frequent() {
        let mut seg = Segmenter::new(&SegmentConfig::default(), &QualityThresholds::default());
        seg.push(analysed(0, 0, vec![]));
        seg.push(analysed(1, 1, vec![face(1, 0.9, 10.0)]));
        seg.push(analysed(2, 2, vec![face(1, 0.9, 10.0)]));
        assert_eq!(
            seg.finish().unwrap().main_abstain(),
            Some(AbstainCode::FaceTooSmall)
        );
    }
}
