//! Face image quality from pixels alone (no model): size, exposure and sharpness of
//! the face box, for gating which frames the other checks may trust.

use candor_core::{BgrImage, Rect};

use crate::error::VisionError;

/// Side of the square the face is resampled to before measuring sharpness, so the
/// measure does not grow or shrink with the face's size in pixels.
pub const SHARPNESS_SIDE: usize = 128;
/// Luma below this counts as crushed black.
pub const DARK_LUMA: f32 = 16.0;
/// Luma above this counts as blown-out white.
pub const BRIGHT_LUMA: f32 = 239.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceQuality {
    /// Width of the face box in picture pixels.
    pub face_width_px: f32,
    /// Mean BT.601 luma over the box, 0-255.
    pub brightness: f32,
    /// Share of box pixels with luma < 16.
    pub dark_share: f32,
    /// Share of box pixels with luma > 239.
    pub bright_share: f32,
    /// Variance of the 4-neighbour Laplacian of luma on the box resampled to 128x128.
    pub sharpness: f32,
}

/// Measures the part of `bbox` that lies inside `image`.
pub fn face_quality(image: &BgrImage, bbox: &Rect) -> Result<FaceQuality, VisionError> {
    let (x0, y0, w, h) = pixel_box(image, bbox)?;
    let luma = luma_plane(image, x0, y0, w, h);

    let n = luma.len() as f32;
    let sum: f64 = luma.iter().map(|&v| f64::from(v)).sum();
    let dark = luma.iter().filter(|&&v| v < DARK_LUMA).count() as f32;
    let bright = luma.iter().filter(|&&v| v > BRIGHT_LUMA).count() as f32;

    let resized = resample(&luma, w, h, SHARPNESS_SIDE, SHARPNESS_SIDE);
    Ok(FaceQuality {
        face_width_px: bbox.w,
        brightness: (sum / f64::from(n)) as f32,
        dark_share: dark / n,
        bright_share: bright / n,
        sharpness: laplacian_variance(&resized, SHARPNESS_SIDE, SHARPNESS_SIDE),
    })
}

/// The whole pixels covered by `bbox`, clipped to the picture: (x, y, w, h).
pub(crate) fn pixel_box(
    image: &BgrImage,
    bbox: &Rect,
) -> Result<(usize, usize, usize, usize), VisionError> {
    let finite = [bbox.x, bbox.y, bbox.w, bbox.h]
        .iter()
        .all(|v| v.is_finite());
    if image.data.len() != image.width as usize * image.height as usize * 3 {
        return Err(VisionError::BadInput(
            "picture size and data length disagree".into(),
        ));
    }
    let x0 = bbox.x.floor().max(0.0);
    let y0 = bbox.y.floor().max(0.0);
    let x1 = bbox.right().ceil().min(image.width as f32);
    let y1 = bbox.bottom().ceil().min(image.height as f32);
    if !finite || x1 <= x0 || y1 <= y0 {
        return Err(VisionError::BadInput(format!(
            "face box {bbox:?} has no pixels in a {}x{} picture",
            image.width, image.height
        )));
    }
    Ok((
        x0 as usize,
        y0 as usize,
        (x1 - x0) as usize,
        (y1 - y0) as usize,
    ))
}

/// BT.601 luma (the same weights as `BgrImage::luma`) of a `w` x `h` region, row-major.
pub(crate) fn luma_plane(image: &BgrImage, x0: usize, y0: usize, w: usize, h: usize) -> Vec<f32> {
    let stride = image.width as usize * 3;
    let mut out = Vec::with_capacity(w * h);
    for y in y0..y0 + h {
        let row = &image.data[y * stride + x0 * 3..y * stride + (x0 + w) * 3];
        out.extend(
            row.chunks_exact(3).map(|p| {
                0.114 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.299 * f32::from(p[2])
            }),
        );
    }
    out
}

/// Per output sample: first source index and its weights (normalised to sum 1).
struct AxisWeights {
    spans: Vec<(usize, usize)>,
    weights: Vec<f32>,
}

/// Triangle-filter weights whose support widens with the shrink factor (PIL's
/// antialiased bilinear). Plain bilinear sampling would alias fine texture when a big
/// face is shrunk, and the sharpness of big faces would read too high.
fn axis_weights(src: usize, dst: usize) -> AxisWeights {
    let scale = src as f64 / dst as f64;
    let widen = scale.max(1.0);
    let support = widen;
    let mut spans = Vec::with_capacity(dst);
    let mut weights = Vec::new();
    for i in 0..dst {
        let centre = (i as f64 + 0.5) * scale;
        let lo = ((centre - support + 0.5).floor().max(0.0)) as usize;
        let hi = ((centre + support + 0.5).floor() as usize).min(src);
        let start = weights.len();
        let mut total = 0.0;
        for x in lo..hi {
            let w = (1.0 - ((x as f64 + 0.5 - centre) / widen).abs()).max(0.0);
            weights.push(w);
            total += w;
        }
        if total > 0.0 {
            for w in &mut weights[start..] {
                *w /= total;
            }
        }
        spans.push((lo, weights.len() - start));
    }
    AxisWeights {
        spans,
        weights: weights.into_iter().map(|w| w as f32).collect(),
    }
}

/// Separable resampling of a `w` x `h` plane to `out_w` x `out_h`.
fn resample(plane: &[f32], w: usize, h: usize, out_w: usize, out_h: usize) -> Vec<f32> {
    let xw = axis_weights(w, out_w);
    let yw = axis_weights(h, out_h);
    // Rows first: h x out_w.
    let mut tmp = Vec::with_capacity(h * out_w);
    for row in plane.chunks_exact(w) {
        let mut offset = 0;
        for &(start, len) in &xw.spans {
            let ws = &xw.weights[offset..offset + len];
            tmp.push(
                row[start..start + len]
                    .iter()
                    .zip(ws)
                    .map(|(v, k)| v * k)
                    .sum::<f32>(),
            );
            offset += len;
        }
    }
    // Then columns: out_h x out_w.
    let mut out = vec![0.0; out_w * out_h];
    let mut offset = 0;
    for (out_row, &(start, len)) in out.chunks_exact_mut(out_w).zip(&yw.spans) {
        for (k, &wk) in yw.weights[offset..offset + len].iter().enumerate() {
            let src_row = &tmp[(start + k) * out_w..(start + k + 1) * out_w];
            for (o, s) in out_row.iter_mut().zip(src_row) {
                *o += wk * s;
            }
        }
        offset += len;
    }
    out
}

/// Population variance of `up + down + left + right - 4 * centre` over interior pixels.
fn laplacian_variance(plane: &[f32], w: usize, h: usize) -> f32 {
    if w < 3 || h < 3 {
        return 0.0;
    }
    let (mut sum, mut sum_sq) = (0.0f64, 0.0f64);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let c = plane[y * w + x];
            let lap = plane[(y - 1) * w + x]
                + plane[(y + 1) * w + x]
                + plane[y * w + x - 1]
                + plane[y * w + x + 1]
                - 4.0 * c;
            sum += f64::from(lap);
            sum_sq += f64::from(lap) * f64::from(lap);
        }
    }
    let n = ((w - 2) * (h - 2)) as f64;
    let mean = sum / n;
    ((sum_sq / n - mean * mean).max(0.0)) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkerboard(side: u32) -> BgrImage {
        let data = (0..side)
            .flat_map(|y| {
                (0..side).flat_map(move |x| {
                    if (x + y) % 2 == 0 {
                        [255u8; 3]
                    } else {
                        [0u8; 3]
                    }
                })
            })
            .collect();
        BgrImage::new(side, side, data).unwrap()
    }

    /// Deterministic texture: a coarse pattern plus pseudo-random noise.
    fn textured(w: u32, h: u32) -> BgrImage {
        let mut state = 12345u32;
        let mut data = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (state >> 24) as i32 - 128;
                let base = if (x / 8 + y / 8) % 2 == 0 { 160 } else { 90 };
                let v = (base + noise / 2).clamp(0, 255) as u8;
                data.extend([v, v, v]);
            }
        }
        BgrImage::new(w, h, data).unwrap()
    }

    fn box_blur(img: &BgrImage) -> BgrImage {
        let (w, h) = (img.width as i64, img.height as i64);
        let mut out = img.clone();
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    let mut sum = 0u32;
                    for dy in -1..=1 {
                        for dx in -1..=1 {
                            let (sx, sy) = ((x + dx).clamp(0, w - 1), (y + dy).clamp(0, h - 1));
                            sum += u32::from(img.data[((sy * w + sx) * 3 + c) as usize]);
                        }
                    }
                    out.data[((y * w + x) * 3 + c) as usize] = ((sum + 4) / 9) as u8;
                }
            }
        }
        out
    }

    #[test]
    fn constant_picture_has_zero_sharpness_and_its_luma_as_brightness() {
        let img = BgrImage::filled(300, 200, [40, 100, 200]);
        let q = face_quality(&img, &Rect::new(50.5, 20.0, 150.0, 170.0)).unwrap();
        let luma = 0.114 * 40.0 + 0.587 * 100.0 + 0.299 * 200.0;
        assert!((q.brightness - luma).abs() < 1e-3, "{q:?}");
        assert!(q.sharpness < 1e-6, "{q:?}");
        assert_eq!((q.dark_share, q.bright_share), (0.0, 0.0));
        assert_eq!(q.face_width_px, 150.0);
    }

    #[test]
    fn checkerboard_has_the_hand_computed_sharpness() {
        // At 128x128 no resampling happens. Every interior Laplacian is +-4 * 255
        // (all four neighbours differ from the centre by 255), half of each sign:
        // mean 0, variance 1020^2 = 1_040_400. Half the pixels are black, half white.
        let img = checkerboard(128);
        let q = face_quality(&img, &Rect::new(0.0, 0.0, 128.0, 128.0)).unwrap();
        assert!(
            (q.sharpness - 1_040_400.0).abs() / 1_040_400.0 < 1e-4,
            "{q:?}"
        );
        assert!((q.brightness - 127.5).abs() < 1e-3);
        assert!((q.dark_share - 0.5).abs() < 1e-6 && (q.bright_share - 0.5).abs() < 1e-6);
    }

    #[test]
    fn blurred_copy_is_less_sharp_at_any_face_size() {
        for side in [64, 128, 256] {
            let img = textured(side + 20, side + 20);
            let bbox = Rect::new(10.0, 10.0, side as f32, side as f32);
            let sharp = face_quality(&img, &bbox).unwrap().sharpness;
            let blurred = face_quality(&box_blur(&img), &bbox).unwrap().sharpness;
            assert!(
                blurred < 0.5 * sharp,
                "side {side}: blurred {blurred} vs {sharp}"
            );
        }
    }

    #[test]
    fn box_is_clipped_to_the_picture_and_empty_boxes_rejected() {
        let img = BgrImage::filled(10, 10, [255; 3]);
        let q = face_quality(&img, &Rect::new(-5.0, -5.0, 10.0, 10.0)).unwrap();
        assert_eq!(q.bright_share, 1.0);
        assert!(face_quality(&img, &Rect::new(20.0, 0.0, 5.0, 5.0)).is_err());
        assert!(face_quality(&img, &Rect::new(f32::NAN, 0.0, 5.0, 5.0)).is_err());
    }

    #[test]
    fn resample_weights_are_identity_at_equal_size() {
        let plane: Vec<f32> = (0..20).map(|v| v as f32).collect();
        assert_eq!(resample(&plane, 5, 4, 5, 4), plane);
    }
}
