//! Blinks from a series of eye-openness readings (the face mesh's eye aspect ratio):
//! a short dip well below the face's own recent open level, and back.
//!
//! Relative, not absolute: the mesh's ratio for open eyes differs by person, pose and
//! camera (0.2-0.4), and it never reaches 0 on a closed eye (the dips of blinks seen
//! on the development clips at 30 readings a second bottom at 0.49-0.65 of the open
//! level). A blink lasts 100-400 ms, so readings must come far more often than the 2
//! analysed frames a second: the stream analyser glances at the eyes in between.

use std::collections::VecDeque;

#[derive(Debug, Clone, PartialEq)]
pub struct BlinkRules {
    /// The open level is the median reading over this much recent time.
    pub baseline_us: i64,
    /// Readings needed in that time before blinks are counted.
    pub min_baseline_readings: usize,
    /// A reading under this share of the open level closes the eyes.
    pub closed_below: f32,
    /// A reading at or above this share opens them again.
    pub open_from: f32,
    /// Closed for longer than this is not a blink (eyes shut, looking down).
    pub max_closed_us: i64,
}

impl Default for BlinkRules {
    fn default() -> Self {
        Self {
            baseline_us: 3_000_000,
            min_baseline_readings: 5,
            closed_below: 0.7,
            open_from: 0.85,
            max_closed_us: 600_000,
        }
    }
}

/// One blink, reported when the eyes open again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Blink {
    /// When the eyes closed and opened again (first readings across the lines).
    pub closed_us: i64,
    pub opened_us: i64,
    /// Lowest reading over the open level (0-1).
    pub depth: f32,
}

#[derive(Debug, Default)]
pub struct BlinkDetector {
    rules: BlinkRules,
    readings: VecDeque<(i64, f32)>,
    /// (closed at, lowest share so far) while the eyes are closed.
    closed: Option<(i64, f32)>,
}

impl BlinkDetector {
    pub fn new(rules: BlinkRules) -> Self {
        Self {
            rules,
            ..Self::default()
        }
    }

    /// Adds a reading (in time order); returns a blink when this reading ends one.
    pub fn push(&mut self, pts_us: i64, openness: f32) -> Option<Blink> {
        if !openness.is_finite() {
            return None;
        }
        if self.readings.back().is_some_and(|&(t, _)| pts_us <= t) {
            // Time went back (a restarted stream): start over.
            self.readings.clear();
            self.closed = None;
        }
        let share = self.open_level().map(|level| openness / level);
        self.readings.push_back((pts_us, openness));
        while self
            .readings
            .front()
            .is_some_and(|&(t, _)| pts_us - t > self.rules.baseline_us)
        {
            self.readings.pop_front();
        }
        let share = share?;
        match self.closed {
            None if share < self.rules.closed_below => {
                self.closed = Some((pts_us, share));
                None
            }
            None => None,
            Some((since, depth)) if share >= self.rules.open_from => {
                self.closed = None;
                (pts_us - since <= self.rules.max_closed_us).then_some(Blink {
                    closed_us: since,
                    opened_us: pts_us,
                    depth,
                })
            }
            Some((since, depth)) => {
                self.closed = Some((since, depth.min(share)));
                None
            }
        }
    }

    /// Median of the recent readings, once there are enough.
    fn open_level(&self) -> Option<f32> {
        if self.readings.len() < self.rules.min_baseline_readings {
            return None;
        }
        let mut v: Vec<f32> = self.readings.iter().map(|&(_, e)| e).collect();
        v.sort_by(f32::total_cmp);
        let level = v[v.len() / 2];
        (level > 1e-3).then_some(level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Readings every `step_us` from `openness(t in seconds)`; the blinks found.
    fn blinks(seconds: f32, step_us: i64, openness: impl Fn(f32) -> f32) -> Vec<Blink> {
        let mut d = BlinkDetector::default();
        (0..(seconds * 1e6) as i64 / step_us)
            .filter_map(|i| {
                let t = i * step_us;
                d.push(t, openness(t as f32 / 1e6))
            })
            .collect()
    }

    /// Open at 0.3 with a little wobble; closed to `floor` between the given times.
    fn eyes(closures: &'static [(f32, f32)], floor: f32) -> impl Fn(f32) -> f32 {
        move |t| {
            if closures.iter().any(|&(a, b)| t >= a && t < b) {
                floor
            } else {
                0.3 + 0.01 * (t * 7.0).sin()
            }
        }
    }

    #[test]
    fn short_dips_are_blinks_at_ten_readings_a_second() {
        let found = blinks(8.0, 100_000, eyes(&[(2.0, 2.2), (5.0, 5.3)], 0.17));
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].closed_us, 2_000_000);
        assert!(found[0].depth < 0.6, "{found:?}");
    }

    #[test]
    fn open_eyes_and_their_wobble_are_no_blinks() {
        assert!(blinks(10.0, 66_000, eyes(&[], 0.0)).is_empty());
        // A shallow narrowing (a smile) stays above the closing line.
        assert!(blinks(10.0, 66_000, eyes(&[(3.0, 3.5)], 0.23)).is_empty());
    }

    #[test]
    fn eyes_closed_for_a_second_are_not_a_blink() {
        assert!(blinks(8.0, 100_000, eyes(&[(3.0, 4.0)], 0.1)).is_empty());
    }

    #[test]
    fn nothing_is_counted_before_the_open_level_is_known() {
        // Closed on the very first readings.
        assert!(blinks(3.0, 100_000, eyes(&[(0.0, 0.2)], 0.1)).is_empty());
    }
}
