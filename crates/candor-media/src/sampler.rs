//! Which decoded frames are handed on for analysis: a pure policy over timestamps.
//!
//! Sampling follows a fixed grid of `1/fps` steps anchored at the first frame. A frame
//! is sampled when its timestamp reaches the next grid point; the grid then advances to
//! the first point *after* that frame. So after a gap in the timestamps (dropped
//! frames, a paused camera) one frame is sampled and the grid moves on: there is no
//! burst of catch-up samples, and without gaps the long-run rate is exactly `fps`
//! with no drift.

use crate::options::GlanceRate;

/// A timestamp this close before a grid point counts as reaching it, so that rounding
/// to microseconds (e.g. 499_999 µs for 0.5 s) does not push a sample one frame late.
const TOLERANCE_US: i64 = 1_000;

#[derive(Debug, Clone)]
pub struct Sampler {
    /// `None`: every frame is sampled.
    interval_us: Option<i64>,
    next_us: Option<i64>,
    last_sampled_us: i64,
}

impl Sampler {
    /// `fps <= 0` (or NaN) samples every frame.
    pub fn new(fps: f32) -> Self {
        let interval_us = (fps > 0.0 && fps.is_finite())
            .then(|| ((1_000_000.0 / f64::from(fps)).round() as i64).max(1));
        Self {
            interval_us,
            next_us: None,
            last_sampled_us: i64::MIN,
        }
    }

    /// Decides for the next frame in presentation order.
    pub fn should_sample(&mut self, pts_us: i64) -> bool {
        let Some(interval) = self.interval_us else {
            return true;
        };
        match self.next_us {
            // Timestamps going back more than a step before the last sample mean a
            // discontinuity (a restarted stream): re-anchor the grid there instead of
            // starving until the old grid point comes round again. Smaller steps back
            // are jitter and just wait for the grid.
            Some(_) if pts_us < self.last_sampled_us.saturating_sub(interval) => {
                self.anchor(pts_us, interval)
            }
            Some(next) if pts_us.saturating_add(TOLERANCE_US) < next => return false,
            Some(next) => {
                // First grid point strictly after this frame: skipped-over grid
                // points are dropped rather than sampled in a burst.
                let steps = (pts_us.saturating_add(TOLERANCE_US) - next) / interval + 1;
                self.next_us = Some(next.saturating_add(steps.saturating_mul(interval)));
                self.last_sampled_us = pts_us;
            }
            None => self.anchor(pts_us, interval),
        }
        true
    }

    fn anchor(&mut self, pts_us: i64, interval: i64) {
        self.next_us = Some(pts_us.saturating_add(interval));
        self.last_sampled_us = pts_us;
    }
}

/// The glance grid ([`GlanceRate`]), rebuilt whenever the shared rate changes.
pub struct GlanceSampler {
    rate: GlanceRate,
    fps: f32,
    sampler: Option<Sampler>,
}

impl GlanceSampler {
    pub fn new(rate: GlanceRate) -> Self {
        Self {
            rate,
            fps: 0.0,
            sampler: None,
        }
    }

    /// Decides for the next frame in presentation order, at the rate as it is now.
    pub fn should_glance(&mut self, pts_us: i64) -> bool {
        let fps = self.rate.get();
        if fps != self.fps {
            self.fps = fps;
            self.sampler = (fps > 0.0).then(|| Sampler::new(fps));
        }
        self.sampler
            .as_mut()
            .is_some_and(|s| s.should_sample(pts_us))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selected(fps: f32, pts: &[i64]) -> Vec<i64> {
        let mut s = Sampler::new(fps);
        pts.iter()
            .copied()
            .filter(|&p| s.should_sample(p))
            .collect()
    }

    fn every_40ms(n: i64) -> Vec<i64> {
        (0..n).map(|i| i * 40_000).collect()
    }

    #[test]
    fn two_fps_over_25fps_picks_first_frame_at_or_after_each_half_second() {
        assert_eq!(
            selected(2.0, &every_40ms(50)),
            vec![0, 520_000, 1_000_000, 1_520_000]
        );
    }

    #[test]
    fn grid_is_anchored_at_the_first_frame() {
        let pts: Vec<i64> = (0..10).map(|i| 3_000_000 + i * 250_000).collect();
        assert_eq!(selected(1.0, &pts), vec![3_000_000, 4_000_000, 5_000_000]);
    }

    #[test]
    fn non_positive_or_nan_fps_selects_every_frame() {
        let pts = every_40ms(7);
        assert_eq!(selected(0.0, &pts), pts);
        assert_eq!(selected(-1.0, &pts), pts);
        assert_eq!(selected(f32::NAN, &pts), pts);
    }

    #[test]
    fn fps_above_frame_rate_selects_every_frame() {
        let pts = every_40ms(10);
        assert_eq!(selected(100.0, &pts), pts);
    }

    #[test]
    fn rounding_just_below_a_grid_point_still_counts() {
        assert_eq!(
            selected(2.0, &[0, 250_000, 499_999, 750_000, 999_400]),
            vec![0, 499_999, 999_400]
        );
    }

    #[test]
    fn gap_does_not_cause_a_burst() {
        // 0..1 s at 25 fps, then nothing until 5 s, then 25 fps again.
        let mut pts = every_40ms(25);
        pts.extend((0..25).map(|i| 5_000_000 + i * 40_000));
        assert_eq!(selected(2.0, &pts), vec![0, 520_000, 5_000_000, 5_520_000]);
    }

    #[test]
    fn backwards_jump_re_anchors_the_grid() {
        let mut pts = every_40ms(25); // 0 .. 0.96 s
        pts.extend(every_40ms(25)); // restarts at 0
        assert_eq!(selected(2.0, &pts), vec![0, 520_000, 0, 520_000]);
    }

    #[test]
    fn non_monotonic_jitter_within_the_grid_does_not_resample() {
        assert_eq!(
            selected(2.0, &[0, 600_000, 560_000, 1_000_000]),
            vec![0, 600_000, 1_000_000]
        );
    }
}
