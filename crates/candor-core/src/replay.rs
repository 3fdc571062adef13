//! Looped video: the same stretch of earlier frames coming back in order. Every decoded
//! frame (not only the analysed ones: at 2 fps a replayed frame is rarely sampled at
//! the same phase twice) is reduced to a coarse luma [`Fingerprint`] by the decoder,
//! and a [`LoopDetector`] looks for an earlier frame that matches it far better than
//! that frame's own neighbours in time do, at the same delay for a run of frames.
//!
//! Why these tests: a live picture never returns to an earlier frame within codec
//! noise while it moves, and even a gesture repeated on purpose drifts in delay. A
//! still picture (nothing moves) matches every earlier frame equally, so the match is
//! not sharper than its neighbours and nothing is reported: that is the frozen-video
//! check's case.
//!
//! Measured on the development clips (every decoded frame, 16x16 grid): 33 real and
//! fake clips match at one delay for at most 5 frames in a row; 10 loops made from 5 of
//! them (2.4 s and 3.7 s cuts played three times, re-encoded) for 57-178 frames.

use std::collections::VecDeque;

/// Cells per side of the fingerprint grid.
pub const FINGERPRINT_SIDE: usize = 16;
const CELLS: usize = FINGERPRINT_SIDE * FINGERPRINT_SIDE;
/// Fingerprint cells hold mean luma times this (fixed point, keeps the codec-noise
/// level of a replayed frame, about 0.2 of a grey level, above rounding).
const SCALE: f32 = 16.0;

/// Every second pixel of every second row on pictures at least 64 pixels each way.
fn sampling_step(width: usize, height: usize) -> usize {
    if width >= 64 && height >= 64 { 2 } else { 1 }
}

/// Mean luma of a whole frame on a 16x16 grid: small enough to ignore sensor noise
/// and codec detail, fine enough to see a talking face move.
#[derive(Clone, PartialEq, Eq)]
pub struct Fingerprint(std::sync::Arc<[u16; CELLS]>);

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fingerprint(mean luma {:.1})", self.mean_luma())
    }
}

impl Fingerprint {
    /// From an 8-bit luma plane (`stride` bytes per row). Reads every second pixel of
    /// every second row on pictures at least 64 pixels each way: the cells average
    /// hundreds of pixels either way. `None` for an empty or short plane.
    pub fn from_luma(plane: &[u8], width: usize, height: usize, stride: usize) -> Option<Self> {
        // Every decoded frame of every stream passes here: sum whole runs of a row per
        // cell in integers instead of dividing for each pixel (the same cells as
        // `from_pixels`, whose float sums of whole grey levels are exact).
        let needed = stride
            .checked_mul(height.checked_sub(1)?)?
            .checked_add(width)?;
        if width == 0 || stride < width || plane.len() < needed {
            return None;
        }
        let step = sampling_step(width, height);
        // First sampled column of each cell column, and one past the last.
        let mut starts = [width; FINGERPRINT_SIDE + 1];
        for x in (0..width).step_by(step).rev() {
            starts[x * FINGERPRINT_SIDE / width] = x;
        }
        for c in (0..FINGERPRINT_SIDE).rev() {
            starts[c] = starts[c].min(starts[c + 1]);
        }
        let mut sum = [0u32; CELLS];
        let mut rows = [0u32; FINGERPRINT_SIDE];
        for y in (0..height).step_by(step) {
            let row = &plane[y * stride..y * stride + width];
            let cell_row = y * FINGERPRINT_SIDE / height;
            rows[cell_row] += 1;
            let sums = &mut sum[cell_row * FINGERPRINT_SIDE..][..FINGERPRINT_SIDE];
            for (c, s) in sums.iter_mut().enumerate() {
                let run = &row[starts[c]..starts[c + 1]];
                *s += if step == 2 {
                    run.chunks(2).map(|p| u32::from(p[0])).sum::<u32>()
                } else {
                    run.iter().map(|&p| u32::from(p)).sum::<u32>()
                };
            }
        }
        let mut cells = [0u16; CELLS];
        for (i, c) in cells.iter_mut().enumerate() {
            let (r, col) = (i / FINGERPRINT_SIDE, i % FINGERPRINT_SIDE);
            let cols = (starts[col + 1] - starts[col]).div_ceil(step) as u32;
            let n = rows[r] * cols;
            *c = (sum[i] as f32 / n.max(1) as f32 * SCALE).round() as u16;
        }
        Some(Self(std::sync::Arc::new(cells)))
    }

    /// From packed 3-byte pixels in R, G, B order (BT.601 luma).
    pub fn from_rgb(data: &[u8], width: usize, height: usize, stride: usize) -> Option<Self> {
        Self::from_pixels(width, height, stride, 3, data, |p| {
            0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
        })
    }

    fn from_pixels(
        width: usize,
        height: usize,
        stride: usize,
        bytes_per_pixel: usize,
        data: &[u8],
        luma: impl Fn(&[u8]) -> f32,
    ) -> Option<Self> {
        let row_len = width.checked_mul(bytes_per_pixel)?;
        let needed = stride
            .checked_mul(height.checked_sub(1)?)?
            .checked_add(row_len)?;
        if width == 0 || stride < row_len || data.len() < needed {
            return None;
        }
        let step = sampling_step(width, height);
        let mut sum = [0.0f32; CELLS];
        let mut count = [0u32; CELLS];
        for y in (0..height).step_by(step) {
            let row = &data[y * stride..y * stride + row_len];
            let cell_row = y * FINGERPRINT_SIDE / height * FINGERPRINT_SIDE;
            for x in (0..width).step_by(step) {
                let i = cell_row + x * FINGERPRINT_SIDE / width;
                let at = x * bytes_per_pixel;
                sum[i] += luma(&row[at..at + bytes_per_pixel]);
                count[i] += 1;
            }
        }
        let mut cells = [0u16; CELLS];
        for ((c, s), n) in cells.iter_mut().zip(sum).zip(count) {
            // Cells with no pixel (pictures under 16 pixels a side) stay 0 in every
            // frame alike.
            *c = (s / n.max(1) as f32 * SCALE).round() as u16;
        }
        Some(Self(std::sync::Arc::new(cells)))
    }

    /// Mean absolute difference to `other`, in grey levels (0-255).
    pub fn distance(&self, other: &Self) -> f32 {
        let sum: u32 = self
            .0
            .iter()
            .zip(other.0.iter())
            .map(|(&a, &b)| u32::from(a.abs_diff(b)))
            .sum();
        sum as f32 / (CELLS as f32 * SCALE)
    }

    /// Mean luma of the frame, 0-255.
    pub fn mean_luma(&self) -> f32 {
        self.0.iter().map(|&c| f32::from(c)).sum::<f32>() / (CELLS as f32 * SCALE)
    }
}

/// How a loop is told from a live picture (see the module notes for the figures).
#[derive(Debug, Clone, PartialEq)]
pub struct LoopRules {
    /// A replayed frame is at least this old: younger matches are ordinary slow motion.
    pub min_delay_us: i64,
    /// Frames kept for matching: a loop longer than this is not seen.
    pub max_delay_us: i64,
    /// The match is compared with the frames this long before and after it.
    pub neighbour_us: i64,
    /// A match counts when its distance is under this share of the neighbours'.
    pub sharpness: f32,
    /// Neighbours must differ from the frame by at least this many grey levels: the
    /// picture moves, so a match means something.
    pub min_motion: f32,
    /// A loop is reported once matches at one delay ran for this long...
    pub min_run_us: i64,
    /// ...and over at least this many frames.
    pub min_run_frames: u32,
    /// Kept frames at most (memory bound at high frame rates).
    pub max_history: usize,
}

impl Default for LoopRules {
    fn default() -> Self {
        Self {
            min_delay_us: 1_000_000,
            max_delay_us: 30_000_000,
            neighbour_us: 200_000,
            sharpness: 0.3,
            min_motion: 0.5,
            min_run_us: 400_000,
            min_run_frames: 8,
            max_history: 1_800,
        }
    }
}

/// Matches at one delay, frame after frame.
#[derive(Debug, Clone, Copy)]
struct Run {
    delay_us: i64,
    start_us: i64,
    last_us: i64,
    frames: u32,
}

/// Finds replayed stretches of earlier frames; fed every decoded frame in order.
#[derive(Debug, Default)]
pub struct LoopDetector {
    rules: LoopRules,
    history: VecDeque<(i64, Fingerprint)>,
    run: Option<Run>,
}

/// What [`LoopDetector::push`] found for one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoopMatch {
    /// How long ago the matching frame was shown.
    pub delay_us: i64,
    /// Distance to it over the distance to its neighbours in time (0 = identical).
    pub sharpness: f32,
    /// The frame belongs to a run long enough to be a loop.
    pub looped: bool,
}

impl LoopDetector {
    pub fn new(rules: LoopRules) -> Self {
        Self {
            rules,
            ..Self::default()
        }
    }

    /// Adds the next frame; `Some` when an earlier frame matches it sharply.
    pub fn push(&mut self, pts_us: i64, print: Fingerprint) -> Option<LoopMatch> {
        if self.history.back().is_some_and(|&(t, _)| pts_us <= t) {
            // Time went back or stood still (a restarted stream): start over.
            self.history.clear();
            self.run = None;
        }
        let previous = self.history.back().map(|&(t, _)| t);
        // The same delay as the last frame's match, within one frame interval.
        let tolerance = previous.map_or(0, |t| (pts_us - t) * 3 / 2).max(10_000);
        let running = self.run.filter(|r| Some(r.last_us) == previous);
        // A frame of a loop played three times matches both earlier plays: keep to the
        // running delay while it still matches, so the run does not break.
        let found = running
            .and_then(|r| {
                let i = self.nearest(pts_us - r.delay_us)?;
                let off = (self.history[i].0 - (pts_us - r.delay_us)).abs();
                (off <= tolerance).then_some(i)
            })
            .and_then(|i| self.sharp_match(i, pts_us, &print))
            .or_else(|| {
                let best = self.closest(pts_us, &print)?;
                self.sharp_match(best, pts_us, &print)
            });
        self.remember(pts_us, print);
        let Some((delay_us, sharpness)) = found else {
            self.run = None;
            return None;
        };
        let run = match running {
            Some(r) if (r.delay_us - delay_us).abs() <= tolerance => Run {
                delay_us,
                last_us: pts_us,
                frames: r.frames + 1,
                ..r
            },
            _ => Run {
                delay_us,
                start_us: pts_us,
                last_us: pts_us,
                frames: 1,
            },
        };
        self.run = Some(run);
        Some(LoopMatch {
            delay_us,
            sharpness,
            looped: run.frames >= self.rules.min_run_frames
                && run.last_us - run.start_us >= self.rules.min_run_us,
        })
    }

    /// Index of the kept frame closest to `print` among those old enough.
    fn closest(&self, pts_us: i64, print: &Fingerprint) -> Option<usize> {
        let r = &self.rules;
        self.history
            .iter()
            .enumerate()
            .filter(|(_, (t, _))| pts_us - t <= r.max_delay_us && pts_us - t >= r.min_delay_us)
            .map(|(i, (_, p))| (i, p.distance(print)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    }

    /// (delay, sharpness) when kept frame `i` is old enough and matches `print` far
    /// better than its own neighbours in time do.
    fn sharp_match(&self, i: usize, pts_us: i64, print: &Fingerprint) -> Option<(i64, f32)> {
        let r = &self.rules;
        let (at, kept) = &self.history[i];
        if pts_us - at < r.min_delay_us {
            return None;
        }
        let neighbours: Vec<f32> = [at - r.neighbour_us, at + r.neighbour_us]
            .into_iter()
            .filter_map(|t| self.nearest(t))
            .filter(|&n| n != i)
            .map(|n| self.history[n].1.distance(print))
            .collect();
        if neighbours.is_empty() {
            return None;
        }
        let around = neighbours.iter().sum::<f32>() / neighbours.len() as f32;
        let sharpness = kept.distance(print) / around.max(1e-3);
        (around >= r.min_motion && sharpness < r.sharpness).then_some((pts_us - at, sharpness))
    }

    /// Index of the kept frame nearest in time to `t`.
    fn nearest(&self, t: i64) -> Option<usize> {
        let after = self.history.partition_point(|&(pt, _)| pt < t);
        [after.checked_sub(1), Some(after)]
            .into_iter()
            .flatten()
            .filter(|&i| i < self.history.len())
            .min_by_key(|&i| (self.history[i].0 - t).abs())
    }

    fn remember(&mut self, pts_us: i64, print: Fingerprint) {
        while self.history.len() >= self.rules.max_history
            || self.history.front().is_some_and(|&(t, _)| {
                pts_us - t > self.rules.max_delay_us + self.rules.neighbour_us
            })
        {
            self.history.pop_front();
        }
        self.history.push_back((pts_us, print));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64x64 picture: a bright square of side 16 at a position along a path, over
    /// a gradient, plus a little frame-specific noise.
    fn picture(pos: f32, noise_seed: u32) -> Fingerprint {
        let (w, h) = (64usize, 64usize);
        let (cx, cy) = (8.0 + pos * 40.0, 24.0 + (pos * 6.0).sin() * 10.0);
        let mut seed = noise_seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        let plane: Vec<u8> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32, (i / w) as f32);
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let inside = (x - cx).abs() < 8.0 && (y - cy).abs() < 8.0;
                let base = if inside { 220.0 } else { 40.0 + x };
                (base + (seed % 3) as f32).min(255.0) as u8
            })
            .collect();
        Fingerprint::from_luma(&plane, w, h, w).unwrap()
    }

    /// Feeds 25 fps frames; `path(t)` gives the square's position at t seconds.
    fn longest_loop_run(seconds: f32, path: impl Fn(f32) -> f32) -> u32 {
        let mut d = LoopDetector::default();
        let (mut run, mut best) = (0, 0);
        for i in 0..(seconds * 25.0) as u32 {
            let t = i as f32 / 25.0;
            let m = d.push(i64::from(i) * 40_000, picture(path(t), i));
            run = if m.is_some_and(|m| m.looped) {
                run + 1
            } else {
                0
            };
            best = best.max(run);
        }
        best
    }

    #[test]
    fn distance_is_in_grey_levels() {
        let a = Fingerprint::from_luma(&[10; 32 * 32], 32, 32, 32).unwrap();
        let b = Fingerprint::from_luma(&[13; 32 * 32], 32, 32, 32).unwrap();
        assert!((a.distance(&b) - 3.0).abs() < 1e-6);
        assert!((a.mean_luma() - 10.0).abs() < 1e-6);
        let rgb = Fingerprint::from_rgb(&[10; 32 * 32 * 3], 32, 32, 96).unwrap();
        assert!(rgb.distance(&a) < 0.1);
    }

    #[test]
    fn the_luma_path_gives_the_cells_of_the_general_path() {
        let mut seed = 7u32;
        for (w, h, stride) in [
            (1280, 720, 1280),
            (641, 361, 704),
            (63, 40, 63),
            (15, 9, 16),
            (64, 64, 64),
        ] {
            let plane: Vec<u8> = (0..stride * h)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed as u8
                })
                .collect();
            let fast = Fingerprint::from_luma(&plane, w, h, stride).unwrap();
            let general =
                Fingerprint::from_pixels(w, h, stride, 1, &plane, |p| f32::from(p[0])).unwrap();
            assert_eq!(fast, general, "{w}x{h}");
        }
    }

    #[test]
    fn short_or_empty_planes_have_no_fingerprint() {
        assert!(Fingerprint::from_luma(&[], 0, 0, 0).is_none());
        assert!(Fingerprint::from_luma(&[0; 10], 4, 4, 4).is_none());
        assert!(Fingerprint::from_luma(&[0; 16], 4, 4, 3).is_none());
        assert!(Fingerprint::from_luma(&[0; 16], 4, 4, 4).is_some());
    }

    #[test]
    fn a_replayed_stretch_is_a_loop() {
        // A 2.4 s movement played three times.
        let run = longest_loop_run(7.2, |t| (t % 2.4) / 2.4);
        assert!(run >= 25, "{run}");
    }

    #[test]
    fn continuous_motion_is_not_a_loop() {
        // Never returns to a position it held: a live picture's case.
        assert_eq!(longest_loop_run(10.0, |t| (t / 10.0).min(1.0)), 0);
    }

    #[test]
    fn a_still_picture_is_not_a_loop() {
        // Every old frame matches equally well: nothing is sharper than its neighbours.
        assert_eq!(longest_loop_run(6.0, |_| 0.3), 0);
    }

    #[test]
    fn time_going_back_starts_over() {
        let mut d = LoopDetector::default();
        for i in 0..100 {
            d.push(i * 40_000, picture((i % 40) as f32 / 40.0, i as u32));
        }
        assert!(d.push(0, picture(0.0, 7)).is_none());
        assert_eq!(d.history.len(), 1);
    }
}
