//! Follows faces across sampled frames by box overlap, and picks the main subject.
//!
//! At 2 analysed frames per second a face can move a fair way between frames, so a
//! detection joins a track when the boxes overlap enough (IoU) or, failing that, when
//! the centres are close relative to the face size. Matching is greedy, best pair first.

use candor_core::{FaceDetection, Rect};

#[derive(Debug, Clone, PartialEq)]
pub struct TrackerConfig {
    /// Minimum IoU for a detection to continue a track.
    pub min_iou: f32,
    /// Fallback: centre distance below this fraction of the track's box width.
    pub max_centre_shift: f32,
    /// Sampled frames a track survives without a match.
    pub max_missed: u32,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            min_iou: 0.3,
            max_centre_shift: 0.5,
            max_missed: 4,
        }
    }
}

#[derive(Debug, Clone)]
struct Track {
    id: u32,
    bbox: Rect,
    hits: u32,
    missed: u32,
}

#[derive(Debug, Default)]
pub struct Tracker {
    cfg: TrackerConfig,
    tracks: Vec<Track>,
    next_id: u32,
}

/// The tracker's answer for one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedFrame {
    /// Track id of each detection, in the detections' order.
    pub track_ids: Vec<u32>,
    /// Index (into the detections) of the main subject on this frame.
    pub main: Option<usize>,
}

impl Tracker {
    pub fn new(cfg: TrackerConfig) -> Self {
        Self {
            cfg,
            tracks: Vec::new(),
            next_id: 1,
        }
    }

    /// Assigns each detection to a track, opening new tracks for unmatched ones.
    /// The main subject is the face whose track has been seen most often so far (the
    /// dominant track); ties go to the larger face.
    pub fn update(&mut self, detections: &[FaceDetection]) -> TrackedFrame {
        let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
        for (ti, t) in self.tracks.iter().enumerate() {
            for (di, d) in detections.iter().enumerate() {
                if let Some(score) = self.affinity(&t.bbox, &d.bbox) {
                    pairs.push((score, ti, di));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut track_for: Vec<Option<usize>> = vec![None; detections.len()];
        let mut track_taken = vec![false; self.tracks.len()];
        for (_, ti, di) in pairs {
            if track_for[di].is_none() && !track_taken[ti] {
                track_for[di] = Some(ti);
                track_taken[ti] = true;
            }
        }
        for (ti, taken) in track_taken.iter().enumerate() {
            if !taken {
                self.tracks[ti].missed += 1;
            }
        }
        let mut ids = Vec::with_capacity(detections.len());
        for (di, d) in detections.iter().enumerate() {
            let ti = match track_for[di] {
                Some(ti) => ti,
                None => {
                    self.tracks.push(Track {
                        id: self.next_id,
                        bbox: d.bbox,
                        hits: 0,
                        missed: 0,
                    });
                    self.next_id += 1;
                    self.tracks.len() - 1
                }
            };
            let t = &mut self.tracks[ti];
            t.bbox = d.bbox;
            t.hits += 1;
            t.missed = 0;
            ids.push(t.id);
        }
        let max_missed = self.cfg.max_missed;
        self.tracks.retain(|t| t.missed <= max_missed);
        let main = (0..detections.len()).max_by(|&a, &b| {
            let hits = |i: usize| self.hits(ids[i]);
            hits(a).cmp(&hits(b)).then(
                detections[a]
                    .bbox
                    .area()
                    .total_cmp(&detections[b].bbox.area()),
            )
        });
        TrackedFrame {
            track_ids: ids,
            main,
        }
    }

    fn hits(&self, id: u32) -> u32 {
        self.tracks
            .iter()
            .find(|t| t.id == id)
            .map_or(0, |t| t.hits)
    }

    /// Higher is a better match; `None` when the pair cannot match. IoU matches rank
    /// above centre-distance matches.
    fn affinity(&self, track: &Rect, det: &Rect) -> Option<f32> {
        let iou = track.iou(det);
        if iou >= self.cfg.min_iou {
            return Some(1.0 + iou);
        }
        let shift = track.center().distance(det.center()) / track.w.max(1.0);
        (shift <= self.cfg.max_centre_shift).then_some(1.0 - shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candor_core::Point;

    fn det(x: f32, y: f32, w: f32) -> FaceDetection {
        FaceDetection {
            bbox: Rect::new(x, y, w, w),
            landmarks: [Point::default(); 5],
            score: 0.9,
        }
    }

    #[test]
    fn a_steady_face_keeps_its_id() {
        let mut t = Tracker::new(TrackerConfig::default());
        for i in 0..10 {
            let f = t.update(&[det(100.0 + i as f32 * 5.0, 100.0, 80.0)]);
            assert_eq!(f.track_ids, vec![1]);
            assert_eq!(f.main, Some(0));
        }
    }

    #[test]
    fn a_fast_move_is_followed_by_centre_distance() {
        let mut t = Tracker::new(TrackerConfig::default());
        t.update(&[det(100.0, 100.0, 80.0)]);
        // IoU of these boxes is 0.14, centre shift 35 px = 0.44 of the width
        let f = t.update(&[det(135.0, 100.0, 80.0)]);
        assert_eq!(f.track_ids, vec![1]);
    }

    #[test]
    fn dominant_track_is_main_even_when_smaller() {
        let mut t = Tracker::new(TrackerConfig::default());
        for _ in 0..3 {
            t.update(&[det(100.0, 100.0, 80.0)]);
        }
        // a bigger face appears far away: new track, but the candidate stays main
        let f = t.update(&[det(400.0, 100.0, 150.0), det(100.0, 100.0, 80.0)]);
        assert_eq!(f.track_ids, vec![2, 1]);
        assert_eq!(f.main, Some(1));
    }

    #[test]
    fn ties_go_to_the_larger_face() {
        let mut t = Tracker::new(TrackerConfig::default());
        let f = t.update(&[det(0.0, 0.0, 40.0), det(300.0, 0.0, 90.0)]);
        assert_eq!(f.main, Some(1));
    }

    #[test]
    fn lost_tracks_expire_and_new_ids_follow() {
        let mut t = Tracker::new(TrackerConfig {
            max_missed: 1,
            ..Default::default()
        });
        t.update(&[det(100.0, 100.0, 80.0)]);
        t.update(&[]);
        t.update(&[]);
        let f = t.update(&[det(100.0, 100.0, 80.0)]);
        assert_eq!(f.track_ids, vec![2]);
        assert_eq!(t.update(&[]).main, None);
    }

    #[test]
    fn one_track_takes_one_detection() {
        let mut t = Tracker::new(TrackerConfig::default());
        t.update(&[det(100.0, 100.0, 80.0)]);
        let f = t.update(&[det(102.0, 100.0, 80.0), det(98.0, 100.0, 80.0)]);
        assert_eq!(f.track_ids.len(), 2);
        assert_ne!(f.track_ids[0], f.track_ids[1]);
        assert!(f.track_ids.contains(&1));
    }
}
