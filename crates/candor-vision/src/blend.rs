//! Pixel measurements aimed at live face-swap tools, which paste a generated face into
//! the real frame: the pasted face tends to differ from its surroundings in sharpness
//! and noise, and to leave a seam along the face contour. Camera and codec swamp the
//! raw values across clips, so callers compare them with the session's own baseline.
//!
//! Regions (all on BT.601 luma, on the picture face crops are cut from: the analysed
//! frame at up to full resolution), from the face box:
//! - inner face: the central 60 % of the box (skin, eyes, nose; no hair or background);
//! - surroundings: the band between 1.15x and 1.6x the box (hair, neck, background);
//! - contour: pixels whose normalised distance to the box's inscribed ellipse lies
//!   within ±8 % of its radius, where a swap's blend mask usually ends.

use candor_core::{BgrImage, Rect};

use crate::error::VisionError;
use crate::quality::{luma_plane, pixel_box};

const INNER_SCALE: f32 = 0.6;
const RING_INNER_SCALE: f32 = 1.15;
const RING_OUTER_SCALE: f32 = 1.6;
const CONTOUR_BAND: f32 = 0.08;
/// Fewer pixels than this in a region: no measurement (face at the frame's edge, or tiny).
const MIN_REGION_PIXELS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlendMeasures {
    /// log2 of (Laplacian variance of the inner face + 1) over (that of the
    /// surroundings + 1): below 0 the face is blurrier than its surroundings.
    pub face_context_sharpness: f32,
    /// log2 of (median |Laplacian| of the inner face + 0.5) over (that of the
    /// surroundings + 0.5): a noise-level mismatch.
    pub face_context_noise: f32,
    /// log2 of (mean gradient magnitude on the contour band + 1) over (that of the
    /// inner face + 1): a seam along the face contour raises it.
    pub contour_edge: f32,
}

/// Measures `face` in `image`; `None` when the face or its surroundings have too few
/// pixels inside the picture.
pub fn blend_measures(image: &BgrImage, face: &Rect) -> Result<Option<BlendMeasures>, VisionError> {
    if image.data.len() != image.width as usize * image.height as usize * 3 {
        return Err(VisionError::BadInput(
            "picture size and data length disagree".into(),
        ));
    }
    if ![face.x, face.y, face.w, face.h]
        .iter()
        .all(|v| v.is_finite())
        || face.w < 4.0
        || face.h < 4.0
    {
        return Ok(None);
    }
    // The face grown to its surroundings, clipped to the picture.
    let Ok((x0, y0, w, h)) = pixel_box(image, &about_centre(face, RING_OUTER_SCALE)) else {
        return Ok(None);
    };
    if w < 3 || h < 3 {
        return Ok(None);
    }
    let luma = luma_plane(image, x0, y0, w, h);

    let c = face.center();
    let (ax, ay) = (face.w / 2.0, face.h / 2.0);
    let inner = about_centre(face, INNER_SCALE);
    let ring_in = about_centre(face, RING_INNER_SCALE);
    let mut inner_lap = Vec::new();
    let mut ring_lap = Vec::new();
    let mut inner_grad = Vec::new();
    let mut contour_grad = Vec::new();
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            let lap = luma[i - 1] + luma[i + 1] + luma[i - w] + luma[i + w] - 4.0 * luma[i];
            let grad = (luma[i + 1] - luma[i - 1]).hypot(luma[i + w] - luma[i - w]) / 2.0;
            let (px, py) = ((x0 + x) as f32 + 0.5, (y0 + y) as f32 + 0.5);
            if contains(&inner, px, py) {
                inner_lap.push(lap);
                inner_grad.push(grad);
            } else if !contains(&ring_in, px, py) {
                ring_lap.push(lap);
            }
            let r = (((px - c.x) / ax).powi(2) + ((py - c.y) / ay).powi(2)).sqrt();
            if (r - 1.0).abs() <= CONTOUR_BAND {
                contour_grad.push(grad);
            }
        }
    }
    if [&inner_lap, &ring_lap, &contour_grad]
        .iter()
        .any(|v| v.len() < MIN_REGION_PIXELS)
    {
        return Ok(None);
    }
    Ok(Some(BlendMeasures {
        face_context_sharpness: log2_ratio(variance(&inner_lap), variance(&ring_lap), 1.0),
        face_context_noise: log2_ratio(median_abs(&mut inner_lap), median_abs(&mut ring_lap), 0.5),
        contour_edge: log2_ratio(mean(&contour_grad), mean(&inner_grad), 1.0),
    }))
}

/// `r` grown (or shrunk) by `factor` about its centre.
fn about_centre(r: &Rect, factor: f32) -> Rect {
    let c = r.center();
    let (w, h) = (r.w * factor, r.h * factor);
    Rect::new(c.x - w / 2.0, c.y - h / 2.0, w, h)
}

fn contains(r: &Rect, x: f32, y: f32) -> bool {
    x >= r.x && x < r.right() && y >= r.y && y < r.bottom()
}

fn log2_ratio(a: f64, b: f64, eps: f64) -> f32 {
    ((a + eps) / (b + eps)).log2() as f32
}

fn mean(v: &[f32]) -> f64 {
    v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len().max(1) as f64
}

fn variance(v: &[f32]) -> f64 {
    let m = mean(v);
    v.iter().map(|&x| (f64::from(x) - m).powi(2)).sum::<f64>() / v.len().max(1) as f64
}

fn median_abs(v: &mut [f32]) -> f64 {
    v.iter_mut().for_each(|x| *x = x.abs());
    v.sort_by(f32::total_cmp);
    f64::from(v[v.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A picture with a checkerboard of `period` px everywhere, then `face_period`
    /// inside `face`'s inner region, so sharpness differs between face and context.
    fn picture(face: &Rect, period: u32, face_region_flat: bool) -> BgrImage {
        let (w, h) = (200u32, 200u32);
        let mut data = Vec::with_capacity((w * h * 3) as usize);
        let inner = about_centre(face, 0.9);
        for y in 0..h {
            for x in 0..w {
                let in_face = contains(&inner, x as f32 + 0.5, y as f32 + 0.5);
                let v = if in_face && face_region_flat {
                    128
                } else if ((x / period) + (y / period)).is_multiple_of(2) {
                    60
                } else {
                    190
                };
                data.extend([v, v, v]);
            }
        }
        BgrImage::new(w, h, data).unwrap()
    }

    #[test]
    fn a_flat_pasted_face_is_blurrier_than_a_textured_background() {
        let face = Rect::new(70.0, 60.0, 60.0, 80.0);
        let m = blend_measures(&picture(&face, 2, true), &face)
            .unwrap()
            .unwrap();
        // Inner face: zero Laplacian -> log2(1 / (var + 1)), strongly negative.
        assert!(m.face_context_sharpness < -10.0, "{m:?}");
        assert!(m.face_context_noise < -5.0, "{m:?}");
        // The flat face's edge cuts the texture: the contour is far busier than the
        // flat inner face.
        assert!(m.contour_edge > 3.0, "{m:?}");
    }

    #[test]
    fn uniform_texture_reads_as_no_mismatch() {
        let face = Rect::new(70.0, 60.0, 60.0, 80.0);
        let m = blend_measures(&picture(&face, 3, false), &face)
            .unwrap()
            .unwrap();
        assert!(m.face_context_sharpness.abs() < 0.3, "{m:?}");
        assert!(m.face_context_noise.abs() < 0.3, "{m:?}");
        assert!(m.contour_edge.abs() < 0.3, "{m:?}");
    }

    #[test]
    fn a_face_without_surroundings_is_not_measured() {
        let img = BgrImage::filled(64, 64, [100, 100, 100]);
        // The face fills the picture: no ring of surroundings is left.
        let face = Rect::new(0.0, 0.0, 64.0, 64.0);
        assert_eq!(blend_measures(&img, &face).unwrap(), None);
        assert_eq!(
            blend_measures(&img, &Rect::new(f32::NAN, 0.0, 10.0, 10.0)).unwrap(),
            None
        );
    }
}
