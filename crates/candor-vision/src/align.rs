//! Geometric alignment shared by the face models: the least-squares similarity
//! transform (Umeyama, no reflection) that maps YuNet's 5 landmarks onto the ArcFace
//! 112x112 template, rotated square crops (MediaPipe's ROIs), and a bilinear affine warp
//! that reproduces OpenCV's `warpAffine(INTER_LINEAR)` arithmetic.
//!
//! Affine matrices are `[[a, b, c], [d, e, f]]`, mapping `(x, y)` to
//! `(a x + b y + c, d x + e y + f)`. Pixel centres sit at integer coordinates, as in
//! OpenCV.

use candor_core::{BgrImage, Point};

use crate::error::VisionError;
use crate::resize::check_image;

/// A 2x3 affine matrix, row major.
pub type Affine = [[f64; 3]; 2];

/// Side of the aligned crop SFace (and ArcFace-style models) take.
pub const ARCFACE_SIDE: u32 = 112;

/// The standard ArcFace 112x112 landmark template, in YuNet order: image-left eye,
/// image-right eye, nose tip, image-left mouth corner, image-right mouth corner.
pub const ARCFACE_TEMPLATE: [[f64; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// The identity transform.
pub const IDENTITY: Affine = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];

/// Applies `m` to the point `(x, y)`.
pub fn apply_affine(m: &Affine, x: f64, y: f64) -> (f64, f64) {
    (
        m[0][0] * x + m[0][1] * y + m[0][2],
        m[1][0] * x + m[1][1] * y + m[1][2],
    )
}

/// The inverse of `m`, computed as OpenCV's `invertAffineTransform` does; `None` when
/// `m` is singular (or not finite).
pub fn invert_affine(m: &Affine) -> Option<Affine> {
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    if det == 0.0 || !det.is_finite() {
        return None;
    }
    let d = 1.0 / det;
    let (a, b, e, f) = (m[1][1] * d, -m[0][1] * d, -m[1][0] * d, m[0][0] * d);
    let c = -a * m[0][2] - b * m[1][2];
    let g = -e * m[0][2] - f * m[1][2];
    let inv = [[a, b, c], [e, f, g]];
    inv.iter().flatten().all(|v| v.is_finite()).then_some(inv)
}

/// The least-squares similarity transform (rotation, uniform scale > 0, translation; no
/// reflection) that maps `src[i]` onto `dst[i]`: Umeyama's estimate restricted to proper
/// rotations.
///
/// In 2-D the scaled rotation is `[[a, -b], [b, a]]`, so the problem is linear in
/// `(a, b)` and its unique minimiser is, with points centred on their means and read as
/// complex numbers, `a + ib = sum(conj(p) q) / sum(|p|^2)`. This is exactly the solution
/// of Umeyama's SVD recipe with the sign correction `S = diag(1, det(U) det(V))`
/// (OpenCV's `FaceRecognizerSF::alignCrop`, scikit-image's `SimilarityTransform`).
///
/// `None` when the slices differ in length, hold fewer than 2 points, hold non-finite
/// values, or all source points coincide.
pub fn umeyama_similarity(src: &[[f64; 2]], dst: &[[f64; 2]]) -> Option<Affine> {
    let n = src.len();
    if n < 2 || dst.len() != n {
        return None;
    }
    let mean = |pts: &[[f64; 2]]| {
        let (sx, sy) = pts
            .iter()
            .fold((0.0, 0.0), |(sx, sy), p| (sx + p[0], sy + p[1]));
        [sx / n as f64, sy / n as f64]
    };
    let (ms, md) = (mean(src), mean(dst));
    let (mut num_re, mut num_im, mut den) = (0.0, 0.0, 0.0);
    for (p, q) in src.iter().zip(dst) {
        let (px, py) = (p[0] - ms[0], p[1] - ms[1]);
        let (qx, qy) = (q[0] - md[0], q[1] - md[1]);
        // conj(p) * q = (px - i py)(qx + i qy)
        num_re += px * qx + py * qy;
        num_im += px * qy - py * qx;
        den += px * px + py * py;
    }
    let valid = den > 0.0 && den.is_finite() && num_re.is_finite() && num_im.is_finite();
    if !valid {
        return None;
    }
    let (a, b) = (num_re / den, num_im / den);
    if a == 0.0 && b == 0.0 {
        return None;
    }
    let tx = md[0] - (a * ms[0] - b * ms[1]);
    let ty = md[1] - (b * ms[0] + a * ms[1]);
    Some([[a, -b, tx], [b, a, ty]])
}

/// The similarity transform from image pixels to the 112x112 ArcFace crop for YuNet's
/// 5 landmarks (image -> crop; invert it for [`warp_affine_bilinear`]).
pub fn arcface_transform(landmarks: &[Point; 5]) -> Option<Affine> {
    let src = landmarks.map(|p| [f64::from(p.x), f64::from(p.y)]);
    umeyama_similarity(&src, &ARCFACE_TEMPLATE)
}

/// MediaPipe's ROI rotation for the vector from `p0` to `p1` (radians, target angle 0):
/// `-atan2(-(y1 - y0), x1 - x0)`. Positive turns clockwise on screen (y points down),
/// so the crop's x axis runs along `p0 -> p1`.
pub fn roi_rotation(p0: (f64, f64), p1: (f64, f64)) -> f64 {
    normalize_radians(-(-(p1.1 - p0.1)).atan2(p1.0 - p0.0))
}

/// Wraps an angle into `[-pi, pi)`, as MediaPipe's `NormalizeRadians`.
pub fn normalize_radians(angle: f64) -> f64 {
    use std::f64::consts::PI;
    angle - 2.0 * PI * ((angle + PI) / (2.0 * PI)).floor()
}

/// A square region of the picture turned by `rotation` radians about its centre (image
/// pixels), as MediaPipe's normalised rects describe a crop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotatedSquare {
    pub cx: f64,
    pub cy: f64,
    pub side: f64,
    /// Clockwise on screen, radians; see [`roi_rotation`].
    pub rotation: f64,
}

impl RotatedSquare {
    /// The map from the pixels of an `out_side` x `out_side` crop of this square to the
    /// picture (crop -> image, what [`warp_affine_bilinear`] takes). The square's
    /// corners land on the crop's outer pixel corners (0 and `out_side`), as MediaPipe's
    /// `ImageToTensorCalculator` maps them; a landmark the model reports at `(x, y)` crop
    /// pixels therefore maps back through the same matrix.
    pub fn crop_to_image(&self, out_side: u32) -> Affine {
        let s = self.side / f64::from(out_side);
        let (sin, cos) = self.rotation.sin_cos();
        let half = f64::from(out_side) / 2.0;
        // p = c + R * s * (u - half, v - half)
        let (a, b, d, e) = (s * cos, -s * sin, s * sin, s * cos);
        [
            [a, b, self.cx - a * half - b * half],
            [d, e, self.cy - d * half - e * half],
        ]
    }

    /// [`RotatedSquare::crop_to_image`] for a horizontally mirrored crop: crop pixel
    /// `(u, v)` shows the square's point at `(out_side - u, v)`, an exact mirror about the
    /// crop's centre line. A landmark found at `(x, y)` in the mirrored crop maps back
    /// through this same matrix (MediaPipe's right-eye flag: flip, then `x -> side - x`).
    pub fn mirrored_crop_to_image(&self, out_side: u32) -> Affine {
        let m = self.crop_to_image(out_side);
        let side = f64::from(out_side);
        [
            [-m[0][0], m[0][1], m[0][0] * side + m[0][2]],
            [-m[1][0], m[1][1], m[1][0] * side + m[1][2]],
        ]
    }

    /// True when the square has a positive, finite size and a finite centre and angle.
    pub fn is_valid(&self) -> bool {
        [self.cx, self.cy, self.side, self.rotation]
            .iter()
            .all(|v| v.is_finite())
            && self.side > 0.0
    }
}

/// How [`warp_affine_bilinear`] reads pixels outside the source picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Border {
    /// Every channel reads this value (OpenCV `BORDER_CONSTANT`).
    Constant(u8),
    /// The nearest edge pixel (OpenCV `BORDER_REPLICATE`).
    Replicate,
    /// Mirrored without repeating the edge pixel, `…dcb|abcd…` (OpenCV
    /// `BORDER_REFLECT_101`): what the project's SBI training crops use.
    Reflect101,
}

/// OpenCV's `borderInterpolate` for `BORDER_REFLECT_101`: index `p` folded into `0..n`.
fn reflect_101(mut p: i64, n: i64) -> i64 {
    if n == 1 {
        return 0;
    }
    while p < 0 || p >= n {
        p = if p < 0 { -p } else { 2 * n - 2 - p };
    }
    p
}

/// Bits of sub-pixel precision OpenCV keeps for remapping (`INTER_BITS`).
const INTER_BITS: u32 = 5;
const INTER_TAB_SIZE: i64 = 1 << INTER_BITS;
/// Fixed-point scale of the coordinate computation (`AB_BITS` = 10).
const AB_SCALE: f64 = 1024.0;

/// `cvRound` on a double (round half to even) saturated to `i32`, as `saturate_cast<int>`.
fn cv_round(v: f64) -> i64 {
    if v.is_nan() {
        return 0;
    }
    v.round_ties_even()
        .clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i64
}

/// Warps `src` into `dst` (its width and height give the output size): output pixel
/// `(u, v)` takes the bilinear sample of `src` at `m * (u, v, 1)`.
///
/// **`m` maps destination to source** (crop -> image, OpenCV's `WARP_INVERSE_MAP`); for
/// an image -> crop matrix, pass [`invert_affine`] of it.
///
/// The arithmetic is OpenCV's `warpAffine(INTER_LINEAR)` for 8-bit pictures: source
/// coordinates in 1/32 pixel (computed through its 1/1024 fixed point), integer weights,
/// rounding to nearest; so the output matches `cv2.warpAffine` to the grey level in our
/// tests. `dst.data` is resized only if its length is wrong; the one allocation is a
/// row of column terms.
pub fn warp_affine_bilinear_into(
    src: &BgrImage,
    m: &Affine,
    border: Border,
    dst: &mut BgrImage,
) -> Result<(), VisionError> {
    check_image(src)?;
    if dst.width == 0 || dst.height == 0 {
        return Err(VisionError::BadInput("warp to an empty picture".into()));
    }
    if !m.iter().flatten().all(|v| v.is_finite()) {
        return Err(VisionError::BadInput(format!(
            "non-finite warp matrix {m:?}"
        )));
    }
    let needed = dst.width as usize * dst.height as usize * 3;
    dst.data.resize(needed, 0);
    let (sw, sh) = (i64::from(src.width), i64::from(src.height));
    let stride = src.width as usize * 3;
    let out_stride = dst.width as usize * 3;
    let round_delta = (AB_SCALE as i64) / INTER_TAB_SIZE / 2;
    let shift = 10 - INTER_BITS;
    let data = &src.data;
    // The column terms are the same on every row (OpenCV's `adelta`/`bdelta`).
    let column_deltas: Vec<(i64, i64)> = (0..dst.width)
        .map(|u| {
            let u = f64::from(u);
            (
                cv_round(m[0][0] * u * AB_SCALE),
                cv_round(m[1][0] * u * AB_SCALE),
            )
        })
        .collect();

    for (v, row) in dst.data.chunks_exact_mut(out_stride).enumerate() {
        let v = v as f64;
        let x0 = cv_round((m[0][1] * v + m[0][2]) * AB_SCALE) + round_delta;
        let y0 = cv_round((m[1][1] * v + m[1][2]) * AB_SCALE) + round_delta;
        for (px, &(dx, dy)) in row.chunks_exact_mut(3).zip(&column_deltas) {
            let xf = (x0 + dx) >> shift;
            let yf = (y0 + dy) >> shift;
            let (ix, iy) = (xf >> INTER_BITS, yf >> INTER_BITS);
            let (fx, fy) = (xf & (INTER_TAB_SIZE - 1), yf & (INTER_TAB_SIZE - 1));
            let wx = [INTER_TAB_SIZE - fx, fx];
            let wy = [INTER_TAB_SIZE - fy, fy];

            if ix >= 0 && iy >= 0 && ix + 1 < sw && iy + 1 < sh {
                // All four taps inside: the common case.
                let o = iy as usize * stride + ix as usize * 3;
                let (r0, r1) = (&data[o..o + 6], &data[o + stride..o + stride + 6]);
                for c in 0..3 {
                    let top = i64::from(r0[c]) * wx[0] + i64::from(r0[c + 3]) * wx[1];
                    let bottom = i64::from(r1[c]) * wx[0] + i64::from(r1[c + 3]) * wx[1];
                    px[c] = ((top * wy[0] + bottom * wy[1] + 512) >> 10) as u8;
                }
                continue;
            }
            if let Border::Constant(value) = border
                && (ix >= sw || iy >= sh || ix + 1 < 0 || iy + 1 < 0)
            {
                px.fill(value);
                continue;
            }
            let mut acc = [0i64; 3];
            for (dy, wyk) in wy.iter().enumerate() {
                for (dx, wxk) in wx.iter().enumerate() {
                    let (x, y) = (ix + dx as i64, iy + dy as i64);
                    let w = wyk * wxk;
                    let tap = match border {
                        Border::Replicate => {
                            let (x, y) = (x.clamp(0, sw - 1), y.clamp(0, sh - 1));
                            let o = y as usize * stride + x as usize * 3;
                            [data[o], data[o + 1], data[o + 2]]
                        }
                        Border::Reflect101 => {
                            let (x, y) = (reflect_101(x, sw), reflect_101(y, sh));
                            let o = y as usize * stride + x as usize * 3;
                            [data[o], data[o + 1], data[o + 2]]
                        }
                        Border::Constant(value) => {
                            if x < 0 || y < 0 || x >= sw || y >= sh {
                                [value; 3]
                            } else {
                                let o = y as usize * stride + x as usize * 3;
                                [data[o], data[o + 1], data[o + 2]]
                            }
                        }
                    };
                    for c in 0..3 {
                        acc[c] += i64::from(tap[c]) * w;
                    }
                }
            }
            for c in 0..3 {
                px[c] = ((acc[c] + 512) >> 10) as u8;
            }
        }
    }
    Ok(())
}

/// [`warp_affine_bilinear_into`] into a new `out_w` x `out_h` picture. `m` maps
/// destination pixels to source pixels.
pub fn warp_affine_bilinear(
    src: &BgrImage,
    m: &Affine,
    out_w: u32,
    out_h: u32,
    border: Border,
) -> Result<BgrImage, VisionError> {
    let mut dst = BgrImage {
        width: out_w,
        height: out_h,
        data: Vec::new(),
    };
    warp_affine_bilinear_into(src, m, border, &mut dst)?;
    Ok(dst)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn similarity(scale: f64, angle: f64, tx: f64, ty: f64) -> Affine {
        let (s, c) = angle.sin_cos();
        [[scale * c, -scale * s, tx], [scale * s, scale * c, ty]]
    }

    fn assert_affine_close(a: &Affine, b: &Affine, tol: f64) {
        for (ra, rb) in a.iter().zip(b) {
            for (x, y) in ra.iter().zip(rb) {
                assert!((x - y).abs() <= tol, "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn umeyama_recovers_a_known_similarity_exactly() {
        let src = [
            [12.5, 40.0],
            [80.25, 38.0],
            [47.0, 70.5],
            [20.0, 101.0],
            [77.0, 99.5],
            [300.0, -20.0],
        ];
        for (scale, angle, tx, ty) in [
            (0.37, 0.3, -15.0, 22.0),
            (2.5, -2.9, 100.0, -3.0),
            (1.0, 0.0, 0.0, 0.0),
            (0.01, 3.1, 5.0, 5.0),
        ] {
            let m = similarity(scale, angle, tx, ty);
            let dst = src.map(|p| {
                let (x, y) = apply_affine(&m, p[0], p[1]);
                [x, y]
            });
            let est = umeyama_similarity(&src, &dst).expect("estimate");
            assert_affine_close(&est, &m, 1e-9);
        }
    }

    #[test]
    fn umeyama_is_the_least_squares_optimum_on_noisy_points() {
        // YuNet's obama_2012 landmarks onto the ArcFace template (no exact fit exists).
        let src = [
            [298.939, 150.301],
            [381.184, 149.0],
            [343.882, 200.69],
            [301.955, 230.984],
            [382.654, 229.025],
        ];
        let m = umeyama_similarity(&src, &ARCFACE_TEMPLATE).unwrap();
        // Least-squares optimality: the residual gradient vanishes for a, b, tx, ty.
        let (mut ga, mut gb, mut gx, mut gy) = (0.0, 0.0, 0.0, 0.0);
        for (p, q) in src.iter().zip(ARCFACE_TEMPLATE) {
            let (x, y) = apply_affine(&m, p[0], p[1]);
            let (rx, ry) = (x - q[0], y - q[1]);
            ga += rx * p[0] + ry * p[1];
            gb += -rx * p[1] + ry * p[0];
            gx += rx;
            gy += ry;
        }
        for g in [ga, gb, gx, gy] {
            assert!(g.abs() < 1e-8, "gradient {g}");
        }
        // No reflection, positive scale.
        let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
        assert!(det > 0.0);
    }

    #[test]
    fn umeyama_never_reflects() {
        // dst is src mirrored: the best proper similarity is not a reflection.
        let src = [[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [3.0, 1.0]];
        let dst = src.map(|p| [-p[0], p[1]]);
        if let Some(m) = umeyama_similarity(&src, &dst) {
            assert!(m[0][0] * m[1][1] - m[0][1] * m[1][0] >= 0.0);
        }
    }

    #[test]
    fn umeyama_rejects_degenerate_input() {
        assert!(umeyama_similarity(&[[1.0, 1.0]], &[[2.0, 2.0]]).is_none());
        assert!(umeyama_similarity(&[[1.0, 1.0]; 3], &[[0.0, 0.0]; 3]).is_none());
        assert!(umeyama_similarity(&[[0.0, 0.0], [1.0, 1.0]], &[[0.0, 0.0]]).is_none());
        assert!(
            umeyama_similarity(&[[0.0, f64::NAN], [1.0, 1.0]], &[[0.0, 0.0], [1.0, 1.0]]).is_none()
        );
    }

    #[test]
    fn inverse_undoes_the_transform() {
        let m = [[0.3, -1.2, 40.0], [0.9, 0.25, -7.0]];
        let inv = invert_affine(&m).unwrap();
        for (x, y) in [(0.0, 0.0), (10.0, -3.0), (123.4, 56.7)] {
            let (u, v) = apply_affine(&m, x, y);
            let (bx, by) = apply_affine(&inv, u, v);
            assert!((bx - x).abs() < 1e-9 && (by - y).abs() < 1e-9);
        }
        assert!(invert_affine(&[[1.0, 2.0, 0.0], [2.0, 4.0, 0.0]]).is_none());
    }

    #[test]
    fn roi_rotation_follows_the_point_pair() {
        use std::f64::consts::FRAC_PI_4;
        assert_eq!(roi_rotation((0.0, 0.0), (10.0, 0.0)), 0.0);
        // Second point lower on screen: clockwise, positive.
        assert!((roi_rotation((0.0, 0.0), (10.0, 10.0)) - FRAC_PI_4).abs() < 1e-12);
        assert!((roi_rotation((0.0, 0.0), (10.0, -10.0)) + FRAC_PI_4).abs() < 1e-12);
        assert!(
            (normalize_radians(3.0 * std::f64::consts::PI) + std::f64::consts::PI).abs() < 1e-12
        );
    }

    #[test]
    fn rotated_square_maps_corners_and_axis() {
        let sq = RotatedSquare {
            cx: 100.0,
            cy: 50.0,
            side: 64.0,
            rotation: std::f64::consts::FRAC_PI_2,
        };
        let m = sq.crop_to_image(32);
        // Crop centre -> square centre.
        let (x, y) = apply_affine(&m, 16.0, 16.0);
        assert!((x - 100.0).abs() < 1e-12 && (y - 50.0).abs() < 1e-12);
        // Crop x axis (+u) runs along screen +y for a quarter turn clockwise.
        let (x, y) = apply_affine(&m, 32.0, 16.0);
        assert!(
            (x - 100.0).abs() < 1e-9 && (y - 82.0).abs() < 1e-9,
            "({x}, {y})"
        );
        // Top-left crop corner.
        let (x, y) = apply_affine(&m, 0.0, 0.0);
        assert!(
            (x - 132.0).abs() < 1e-9 && (y - 18.0).abs() < 1e-9,
            "({x}, {y})"
        );
    }

    #[test]
    fn mirrored_crop_is_the_crop_read_right_to_left() {
        let sq = RotatedSquare {
            cx: 40.0,
            cy: 30.0,
            side: 20.0,
            rotation: 0.4,
        };
        let (m, f) = (sq.crop_to_image(64), sq.mirrored_crop_to_image(64));
        for (u, v) in [(0.0, 0.0), (10.5, 3.0), (32.0, 32.0), (64.0, 17.0)] {
            let (a, b) = (apply_affine(&f, u, v), apply_affine(&m, 64.0 - u, v));
            assert!((a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12);
        }
        // The centre line stays put.
        let (x, y) = apply_affine(&f, 32.0, 32.0);
        assert!((x - 40.0).abs() < 1e-12 && (y - 30.0).abs() < 1e-12);
    }

    fn ramp(w: u32, h: u32) -> BgrImage {
        let data = (0..h)
            .flat_map(|y| (0..w).flat_map(move |x| [(x * 8) as u8, (y * 8) as u8, 200]))
            .collect();
        BgrImage::new(w, h, data).unwrap()
    }

    #[test]
    fn identity_warp_is_an_exact_copy() {
        let img = ramp(9, 7);
        let out = warp_affine_bilinear(&img, &IDENTITY, 9, 7, Border::Constant(0)).unwrap();
        assert_eq!(out, img);
    }

    #[test]
    fn integer_shift_is_an_exact_crop() {
        let img = ramp(9, 7);
        let m = [[1.0, 0.0, 2.0], [0.0, 1.0, 3.0]];
        let out = warp_affine_bilinear(&img, &m, 4, 3, Border::Replicate).unwrap();
        for y in 0..3 {
            for x in 0..4 {
                assert_eq!(out.pixel(x, y), img.pixel(x + 2, y + 3));
            }
        }
    }

    #[test]
    fn half_pixel_shift_averages_neighbours() {
        // Row [0, 100, 200] sampled at x + 0.5: 50, 150, then the edge.
        let img = BgrImage::new(3, 1, vec![0, 0, 0, 100, 100, 100, 200, 200, 200]).unwrap();
        let m = [[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]];
        let rep = warp_affine_bilinear(&img, &m, 3, 1, Border::Replicate).unwrap();
        assert_eq!(
            rep.data.chunks(3).map(|p| p[0]).collect::<Vec<_>>(),
            [50, 150, 200]
        );
        let zero = warp_affine_bilinear(&img, &m, 3, 1, Border::Constant(0)).unwrap();
        // Last pixel: half of 200 and half of the (black) border. Row 0 of a 1-row
        // picture also blends with the row below it, which is border too, at weight 0.
        assert_eq!(
            zero.data.chunks(3).map(|p| p[0]).collect::<Vec<_>>(),
            [50, 150, 100]
        );
    }

    #[test]
    fn reflect_101_mirrors_without_the_edge_pixel() {
        // Row [0, 100, 200] read at x = -1, -2, 3, 4: 100, 200, 100, 0 (…cb|abc|ba…).
        let img = BgrImage::new(3, 1, vec![0, 0, 0, 100, 100, 100, 200, 200, 200]).unwrap();
        let left = [[1.0, 0.0, -2.0], [0.0, 1.0, 0.0]];
        let out = warp_affine_bilinear(&img, &left, 2, 1, Border::Reflect101).unwrap();
        assert_eq!(
            out.data.chunks(3).map(|p| p[0]).collect::<Vec<_>>(),
            [200, 100]
        );
        let right = [[1.0, 0.0, 3.0], [0.0, 1.0, 0.0]];
        let out = warp_affine_bilinear(&img, &right, 2, 1, Border::Reflect101).unwrap();
        assert_eq!(
            out.data.chunks(3).map(|p| p[0]).collect::<Vec<_>>(),
            [100, 0]
        );
        assert_eq!(reflect_101(-7, 3), 1);
        assert_eq!(reflect_101(5, 1), 0);
    }

    #[test]
    fn sub_pixel_positions_are_quantised_to_a_32nd() {
        // x = 0.3 -> 10/32 (OpenCV rounds 0.3 * 32 = 9.6 to 10): 0 + 100 * 10/32 = 31.25.
        let img = BgrImage::new(2, 1, vec![0, 0, 0, 100, 100, 100]).unwrap();
        let m = [[1.0, 0.0, 0.3], [0.0, 1.0, 0.0]];
        let out = warp_affine_bilinear(&img, &m, 1, 1, Border::Replicate).unwrap();
        assert_eq!(out.data, [31, 31, 31]);
    }

    #[test]
    fn outside_pixels_take_the_border() {
        let img = BgrImage::filled(4, 4, [10, 20, 30]);
        let m = [[1.0, 0.0, 100.0], [0.0, 1.0, 0.0]];
        let c = warp_affine_bilinear(&img, &m, 2, 2, Border::Constant(7)).unwrap();
        assert!(c.data.iter().all(|&v| v == 7));
        let r = warp_affine_bilinear(&img, &m, 2, 2, Border::Replicate).unwrap();
        assert!(r.data.chunks(3).all(|p| p == [10, 20, 30]));
    }

    #[test]
    fn bad_warps_are_rejected() {
        let img = BgrImage::filled(4, 4, [0; 3]);
        let nan = [[f64::NAN, 0.0, 0.0], [0.0, 1.0, 0.0]];
        assert!(warp_affine_bilinear(&img, &nan, 2, 2, Border::Replicate).is_err());
        assert!(warp_affine_bilinear(&img, &IDENTITY, 0, 2, Border::Replicate).is_err());
    }

    #[test]
    fn arcface_transform_maps_the_template_onto_itself() {
        let pts = ARCFACE_TEMPLATE.map(|p| Point::new(p[0] as f32, p[1] as f32));
        let m = arcface_transform(&pts).unwrap();
        assert_affine_close(&m, &IDENTITY, 1e-5);
    }
}
