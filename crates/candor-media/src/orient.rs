//! Display orientation of video: phone recordings store the picture as the sensor
//! saw it and carry a display matrix (container side data, or per frame from an
//! H.264/HEVC display orientation SEI) saying how to turn it for display. Sampled
//! images are turned after scaling, which is cheap at the working size.
//!
//! A display matrix `[a b u; c d v; x y w]` (FFmpeg's layout, 16.16 fixed point)
//! maps a source pixel `(p, q)` to `(a·p + c·q + x, b·p + d·q + y)` in the usual
//! y-down image coordinates. Only its 2×2 part matters here; it is snapped to the
//! nearest of the eight quarter-turn / mirror transforms (other angles round to the
//! nearest multiple of 90°, as FFmpeg's own `-autorotate` does for 90° multiples).

use candor_core::BgrImage;

/// How a decoded picture is turned for display: mirrored left-right first (if
/// `mirrored`), then rotated clockwise by `quarter_turns` × 90°.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Orientation {
    mirrored: bool,
    /// Clockwise quarter turns, 0..=3.
    quarter_turns: u8,
}

impl Orientation {
    #[cfg(test)]
    pub fn new(mirrored: bool, clockwise_degrees: i32) -> Self {
        Self {
            mirrored,
            quarter_turns: (clockwise_degrees.rem_euclid(360) / 90) as u8,
        }
    }

    /// The orientation a display matrix (side data bytes: nine native-endian
    /// `int32_t`) asks for; `None` when the data is too short or degenerate.
    pub fn from_display_matrix(bytes: &[u8]) -> Option<Self> {
        let entry = |i: usize| -> Option<f64> {
            let raw = bytes.get(i * 4..i * 4 + 4)?.try_into().ok()?;
            Some(f64::from(i32::from_ne_bytes(raw)))
        };
        let (a, b, c, d) = (entry(0)?, entry(1)?, entry(3)?, entry(4)?);
        // Snap to a signed permutation: keep the diagonal or the anti-diagonal,
        // whichever dominates (this rounds a rotation to the nearest quarter turn).
        let sign = |v: f64| if v < 0.0 { -1 } else { 1 };
        let (a, b, c, d) = if a.abs() + d.abs() >= b.abs() + c.abs() {
            if a == 0.0 || d == 0.0 {
                return None;
            }
            (sign(a), 0, 0, sign(d))
        } else {
            if b == 0.0 || c == 0.0 {
                return None;
            }
            (0, sign(b), sign(c), 0)
        };
        // The transform is T = R·M (M: optional mirror x → -x, R: clockwise
        // rotation [[cos, -sin], [sin, cos]] in y-down coordinates), with
        // T = [[a, c], [b, d]]. A mirror shows as a negative determinant; then
        // R = T·M = [[-a, c], [-b, d]].
        let mirrored = a * d - b * c < 0;
        let (cos, sin) = if mirrored { (-a, -b) } else { (a, b) };
        let quarter_turns = match (cos, sin) {
            (1, 0) => 0,
            (0, 1) => 1,
            (-1, 0) => 2,
            _ => 3,
        };
        Some(Self {
            mirrored,
            quarter_turns,
        })
    }

    /// Clockwise rotation in degrees: 0, 90, 180 or 270.
    pub fn clockwise_degrees(self) -> i32 {
        i32::from(self.quarter_turns) * 90
    }

    pub fn mirrored(self) -> bool {
        self.mirrored
    }

    pub fn is_identity(self) -> bool {
        self == Self::default()
    }

    /// Size of a `width`×`height` picture once turned for display.
    pub fn display_size(self, width: u32, height: u32) -> (u32, u32) {
        if self.quarter_turns % 2 == 1 {
            (height, width)
        } else {
            (width, height)
        }
    }

    /// Turns `image` for display.
    pub fn apply(self, image: BgrImage) -> BgrImage {
        if self.is_identity() {
            return image;
        }
        let (w, h) = (image.width as usize, image.height as usize);
        let (out_w, out_h) = self.display_size(image.width, image.height);
        let (out_w, out_h) = (out_w as usize, out_h as usize);
        let mut data = Vec::with_capacity(image.data.len());
        for y in 0..out_h {
            for x in 0..out_w {
                // The source pixel shown at (x, y): undo the rotation, then the mirror.
                let (sx, sy) = match self.quarter_turns {
                    0 => (x, y),
                    1 => (y, h - 1 - x),
                    2 => (w - 1 - x, h - 1 - y),
                    _ => (w - 1 - y, x),
                };
                let sx = if self.mirrored { w - 1 - sx } else { sx };
                let at = (sy * w + sx) * 3;
                data.extend_from_slice(&image.data[at..at + 3]);
            }
        }
        BgrImage {
            width: out_w as u32,
            height: out_h as u32,
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ffmpeg_next::ffi;

    fn matrix(entries: [i32; 9]) -> Vec<u8> {
        entries.iter().flat_map(|e| e.to_ne_bytes()).collect()
    }

    const ONE: i32 = 1 << 16;

    /// FFmpeg's matrix for a counter-clockwise rotation of `ccw` degrees.
    fn ffmpeg_rotation(ccw: f64) -> [i32; 9] {
        let mut m = [0i32; 9];
        // SAFETY: `m` is the nine-entry matrix the function writes.
        unsafe { ffi::av_display_rotation_set(m.as_mut_ptr(), ccw) };
        m
    }

    #[test]
    fn follows_ffmpegs_rotation_convention() {
        // av_display_rotation_get gives counter-clockwise degrees; the rotation to
        // apply is its negation rounded to a quarter turn.
        for ccw in (-360..=360).step_by(5) {
            let m = ffmpeg_rotation(f64::from(ccw));
            // SAFETY: `m` holds nine entries.
            let got = unsafe { ffi::av_display_rotation_get(m.as_ptr()) };
            let expected = ((-got / 90.0).round() as i32 * 90).rem_euclid(360);
            if ((-got / 90.0).fract().abs() - 0.5).abs() < 0.01 {
                continue; // halfway between two quarter turns
            }
            let o = Orientation::from_display_matrix(&matrix(m)).unwrap();
            assert_eq!(o.clockwise_degrees(), expected, "ccw {ccw}");
            assert!(!o.mirrored(), "ccw {ccw}");
        }
    }

    #[test]
    fn reads_the_matrices_ffmpeg_reports() {
        // As ffprobe shows them for an MP4 with rotation=-90 (turn clockwise).
        let cw = Orientation::from_display_matrix(&matrix([0, ONE, 0, -ONE, 0, 0, 0, 0, 1 << 30]));
        assert_eq!(cw, Some(Orientation::new(false, 90)));
        let hflip = matrix([-ONE, 0, 0, 0, ONE, 0, 0, 0, 1 << 30]);
        assert_eq!(
            Orientation::from_display_matrix(&hflip),
            Some(Orientation::new(true, 0))
        );
        let vflip = matrix([ONE, 0, 0, 0, -ONE, 0, 0, 0, 1 << 30]);
        assert_eq!(
            Orientation::from_display_matrix(&vflip),
            Some(Orientation::new(true, 180))
        );
        assert_eq!(Orientation::from_display_matrix(&[0; 8]), None);
        assert_eq!(Orientation::from_display_matrix(&matrix([0; 9])), None);
    }

    fn image(width: u32, height: u32) -> BgrImage {
        // Each pixel's blue channel is its index, so positions can be traced.
        let data = (0..width * height).flat_map(|i| [i as u8, 0, 0]).collect();
        BgrImage {
            width,
            height,
            data,
        }
    }

    fn blues(image: &BgrImage) -> Vec<u8> {
        image.data.chunks_exact(3).map(|p| p[0]).collect()
    }

    #[test]
    fn turns_pixels() {
        // 3x2 source:  0 1 2
        //              3 4 5
        let src = image(3, 2);
        let turned = |mirrored, degrees| {
            let out = Orientation::new(mirrored, degrees).apply(src.clone());
            ((out.width, out.height), blues(&out))
        };
        assert_eq!(turned(false, 0), ((3, 2), vec![0, 1, 2, 3, 4, 5]));
        assert_eq!(turned(false, 90), ((2, 3), vec![3, 0, 4, 1, 5, 2]));
        assert_eq!(turned(false, 180), ((3, 2), vec![5, 4, 3, 2, 1, 0]));
        assert_eq!(turned(false, 270), ((2, 3), vec![2, 5, 1, 4, 0, 3]));
        assert_eq!(turned(true, 0), ((3, 2), vec![2, 1, 0, 5, 4, 3]));
        assert_eq!(turned(true, 180), ((3, 2), vec![3, 4, 5, 0, 1, 2]));
        // Mirror then a clockwise quarter turn is a transpose.
        assert_eq!(turned(true, 90), ((2, 3), vec![5, 2, 4, 1, 3, 0]));
        assert_eq!(turned(true, 270), ((2, 3), vec![0, 3, 1, 4, 2, 5]));
    }
}
