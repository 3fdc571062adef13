//! Turns decoder timestamps into microseconds from the start of the stream, and
//! invents them for frames that carry none (raw H.264 usually has no timestamps).

#[derive(Debug, Clone)]
pub struct Timeline {
    /// Stream time base as (numerator, denominator); `None` if unusable.
    time_base: Option<(i64, i64)>,
    /// Timestamp (in time-base units) that maps to 0 µs.
    origin: Option<i64>,
    /// Frame duration used to synthesise missing timestamps.
    frame_us: f64,
    /// The last frame with a real timestamp: (decoded index, µs). Synthesised
    /// timestamps continue from it so that mixed streams stay monotonic.
    anchor: Option<(u64, i64)>,
}

impl Timeline {
    /// `start_time`: the stream's declared start (time-base units); when unknown the
    /// first real timestamp becomes the origin. `fps`: rate for synthesis.
    pub fn new(time_base: (i32, i32), start_time: Option<i64>, fps: f64) -> Self {
        let (num, den) = time_base;
        let fps = if fps.is_finite() && fps > 0.0 {
            fps
        } else {
            25.0
        };
        Self {
            time_base: (num > 0 && den > 0).then_some((i64::from(num), i64::from(den))),
            origin: start_time,
            frame_us: 1_000_000.0 / fps,
            anchor: None,
        }
    }

    /// Presentation time of the frame with decoded index `index` and best-effort
    /// timestamp `ts`.
    pub fn pts_us(&mut self, ts: Option<i64>, index: u64) -> i64 {
        if let (Some(ts), Some((num, den))) = (ts, self.time_base) {
            let origin = *self.origin.get_or_insert(ts);
            let us = rescale_to_us(ts.saturating_sub(origin), num, den);
            self.anchor = Some((index, us));
            return us;
        }
        let (anchor_index, anchor_us) = self.anchor.unwrap_or((0, 0));
        let frames = index.saturating_sub(anchor_index) as f64;
        anchor_us.saturating_add((frames * self.frame_us).round() as i64)
    }
}

/// `ticks * num / den` seconds in microseconds, rounded to nearest.
fn rescale_to_us(ticks: i64, num: i64, den: i64) -> i64 {
    let n = i128::from(ticks) * i128::from(num) * 1_000_000;
    let d = i128::from(den);
    let rounded = (2 * n + d).div_euclid(2 * d);
    rounded.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescales_from_the_declared_start() {
        let mut t = Timeline::new((1, 12_800), Some(0), 25.0);
        assert_eq!(t.pts_us(Some(0), 0), 0);
        assert_eq!(t.pts_us(Some(512), 1), 40_000);
        assert_eq!(t.pts_us(Some(1024), 2), 80_000);
    }

    #[test]
    fn first_timestamp_is_the_origin_when_start_is_unknown() {
        let mut t = Timeline::new((1, 90_000), None, 25.0);
        assert_eq!(t.pts_us(Some(126_000), 0), 0);
        assert_eq!(t.pts_us(Some(129_600), 1), 40_000);
    }

    #[test]
    fn rounds_to_the_nearest_microsecond() {
        // 1/30000 s per tick: 1001 ticks = 33366.67 µs.
        let mut t = Timeline::new((1, 30_000), Some(0), 0.0);
        assert_eq!(t.pts_us(Some(1001), 0), 33_367);
        assert_eq!(t.pts_us(Some(3003), 1), 100_100);
    }

    #[test]
    fn synthesises_from_the_index_when_no_frame_has_timestamps() {
        let mut t = Timeline::new((1, 1_200_000), None, 25.0);
        let got: Vec<i64> = (0..4).map(|i| t.pts_us(None, i)).collect();
        assert_eq!(got, vec![0, 40_000, 80_000, 120_000]);

        let mut t = Timeline::new((1, 1_200_000), None, 30_000.0 / 1001.0);
        assert_eq!(t.pts_us(None, 300), 10_010_000);
    }

    #[test]
    fn unusable_rate_falls_back_to_25_fps() {
        let mut t = Timeline::new((1, 1000), None, 0.0);
        assert_eq!(t.pts_us(None, 2), 80_000);
        let mut t = Timeline::new((1, 1000), None, f64::NAN);
        assert_eq!(t.pts_us(None, 2), 80_000);
    }

    #[test]
    fn missing_timestamps_continue_from_the_last_real_one() {
        let mut t = Timeline::new((1, 1000), Some(0), 25.0);
        assert_eq!(t.pts_us(Some(1000), 0), 1_000_000);
        assert_eq!(t.pts_us(None, 1), 1_040_000);
        assert_eq!(t.pts_us(None, 2), 1_080_000);
        assert_eq!(t.pts_us(Some(1120), 3), 1_120_000);
    }

    #[test]
    fn invalid_time_base_is_treated_as_no_timestamps() {
        let mut t = Timeline::new((0, 0), None, 25.0);
        assert_eq!(t.pts_us(Some(12345), 1), 40_000);
    }
}
