//! Presence measurements across analysed frames: is the picture frozen, and does the
//! face move only as a rigid whole (a photo moved in front of the camera)? Each frame
//! is compared with the previous analysed frame. Loops are found on every decoded
//! frame instead (`candor_core::replay`).

use std::sync::Arc;

use candor_core::{BgrImage, FaceDetection};
use candor_vision::rigid_residual;

/// Side of the luma thumbnail frames are compared on: small enough to ignore sensor
/// noise and codec detail, large enough to see a talking face.
pub const THUMB_SIDE: usize = 48;

/// Per-frame measurements of one analysed frame against the ones before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameMotion {
    /// Mean absolute luma difference (0-255) to the previous analysed frame.
    pub frame_change: f32,
    /// Main face: movement of the box centre since the previous frame, in face widths.
    pub face_motion: Option<f32>,
    /// Main face: change of its landmark shape (nose and mouth corners in the frame of
    /// the eyes) since the previous frame, in inter-ocular distances.
    pub shape_change: Option<f32>,
    /// Main face: |change of the face's mean luma − change of the background's| since
    /// the previous frame (0-255). A pasted face re-rendered every frame tends to
    /// flicker against a steady background; lighting changes move both together.
    pub face_flicker: Option<f32>,
    /// Main face: what is left of its change once the move of the picture is undone
    /// (see `candor_vision::rigid`); only when it moved enough to judge.
    pub rigid_residual: Option<f32>,
}

#[derive(Default)]
pub struct MotionTracker {
    /// The previous analysed frame's thumbnail.
    last_thumb: Option<Vec<f32>>,
    /// The previous analysed frame and its main face.
    last_image: Option<Arc<BgrImage>>,
    last_face: Option<FaceDetection>,
    /// Mean luma of the face and of the background on the previous frame.
    last_levels: Option<(f32, f32)>,
}

impl MotionTracker {
    /// Measures `image` with its main face, if any, and remembers it. `None` for the
    /// first frame.
    pub fn observe(
        &mut self,
        image: &Arc<BgrImage>,
        face: Option<&FaceDetection>,
    ) -> Option<FrameMotion> {
        let thumb = thumbnail(image);
        let result = self.last_thumb.as_ref().map(|prev| {
            let frame_change = mean_abs_diff(prev, &thumb);
            let (face_motion, shape_change, rigid_residual) = match (face, &self.last_face) {
                (Some(now), Some(before)) => (
                    Some(now.bbox.center().distance(before.bbox.center()) / now.bbox.w.max(1.0)),
                    shape(now).zip(shape(before)).map(|(a, b)| {
                        a.iter()
                            .zip(&b)
                            .map(|(p, q)| (p.0 - q.0).hypot(p.1 - q.1))
                            .fold(0.0f32, f32::max)
                    }),
                    self.last_image
                        .as_ref()
                        .and_then(|prev| rigid_residual(prev, before, image, now)),
                ),
                _ => (None, None, None),
            };
            FrameMotion {
                frame_change,
                face_motion,
                shape_change,
                face_flicker: None,
                rigid_residual,
            }
        });
        let levels = face.and_then(|f| face_and_background(&thumb, image, f));
        let result = result.map(|mut r| {
            r.face_flicker = levels
                .zip(self.last_levels)
                .map(|((f, b), (pf, pb))| ((f - pf) - (b - pb)).abs());
            r
        });
        self.last_levels = levels;
        self.last_thumb = Some(thumb);
        self.last_image = Some(image.clone());
        self.last_face = face.copied();
        result
    }

    /// The main face of the last observed picture, if it had one.
    pub fn last_face(&self) -> Option<&FaceDetection> {
        self.last_face.as_ref()
    }

    /// Mean luma (0-255) of the last observed picture.
    pub fn picture_luma(&self) -> Option<f32> {
        let thumb = self.last_thumb.as_ref()?;
        Some(thumb.iter().sum::<f32>() / thumb.len().max(1) as f32)
    }
}

/// Nose and mouth corners in the frame of the eyes: origin at the image-left eye, x
/// along the eye line, unit = inter-ocular distance. Invariant to moving, turning in
/// the picture plane and scaling the face: only a change of expression or a turn of
/// the head moves them.
fn shape(face: &FaceDetection) -> Option<[(f32, f32); 3]> {
    let l = face.landmarks;
    let (ex, ey) = (l[1].x - l[0].x, l[1].y - l[0].y);
    let d2 = ex * ex + ey * ey;
    if !d2.is_finite() || d2 < 1.0 {
        return None;
    }
    let to_eye_frame = |i: usize| {
        let (px, py) = (l[i].x - l[0].x, l[i].y - l[0].y);
        ((px * ex + py * ey) / d2, (py * ex - px * ey) / d2)
    };
    Some([to_eye_frame(2), to_eye_frame(3), to_eye_frame(4)])
}

/// Mean thumbnail luma inside the face box and outside 1.6x the box (about its
/// centre); `None` when either has no cell.
fn face_and_background(
    thumb: &[f32],
    image: &BgrImage,
    face: &FaceDetection,
) -> Option<(f32, f32)> {
    let (sx, sy) = (
        THUMB_SIDE as f32 / image.width.max(1) as f32,
        THUMB_SIDE as f32 / image.height.max(1) as f32,
    );
    let c = face.bbox.center();
    let (hw, hh) = (face.bbox.w / 2.0, face.bbox.h / 2.0);
    let (mut fs, mut fn_, mut bs, mut bn) = (0.0, 0u32, 0.0, 0u32);
    for ty in 0..THUMB_SIDE {
        for tx in 0..THUMB_SIDE {
            // Cell centre in picture pixels, relative to the face centre in half-sizes.
            let dx = (((tx as f32 + 0.5) / sx) - c.x).abs() / hw;
            let dy = (((ty as f32 + 0.5) / sy) - c.y).abs() / hh;
            let v = thumb[ty * THUMB_SIDE + tx];
            if dx <= 1.0 && dy <= 1.0 {
                (fs, fn_) = (fs + v, fn_ + 1);
            } else if dx > 1.6 || dy > 1.6 {
                (bs, bn) = (bs + v, bn + 1);
            }
        }
    }
    (fn_ > 0 && bn > 0).then(|| (fs / fn_ as f32, bs / bn as f32))
}

/// Area-averaged BT.601 luma on a THUMB_SIDE x THUMB_SIDE grid.
fn thumbnail(image: &BgrImage) -> Vec<f32> {
    let (w, h) = (image.width as usize, image.height as usize);
    let mut sum = vec![0.0f32; THUMB_SIDE * THUMB_SIDE];
    let mut count = vec![0u32; THUMB_SIDE * THUMB_SIDE];
    if w == 0 || h == 0 {
        return sum;
    }
    for (y, row) in image.data.chunks_exact(w * 3).take(h).enumerate() {
        let ty = y * THUMB_SIDE / h;
        for (x, p) in row.chunks_exact(3).enumerate() {
            let i = ty * THUMB_SIDE + x * THUMB_SIDE / w;
            sum[i] += 0.114 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.299 * f32::from(p[2]);
            count[i] += 1;
        }
    }
    sum.iter_mut()
        .zip(&count)
        .for_each(|(s, &c)| *s /= c.max(1) as f32);
    sum
}

fn mean_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len().max(1) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use candor_core::{Point, Rect};

    fn gradient(shift: u32) -> BgrImage {
        let (w, h) = (96u32, 96u32);
        let data = (0..h)
            .flat_map(|y| {
                (0..w).flat_map(move |x| [((x + shift) * 2 % 256) as u8, (y * 2) as u8, 90])
            })
            .collect();
        BgrImage::new(w, h, data).unwrap()
    }

    fn face(dx: f32, mouth_drop: f32) -> FaceDetection {
        FaceDetection {
            bbox: Rect::new(20.0 + dx, 20.0, 40.0, 50.0),
            landmarks: [
                Point::new(30.0 + dx, 35.0),
                Point::new(50.0 + dx, 35.0),
                Point::new(40.0 + dx, 45.0),
                Point::new(32.0 + dx, 55.0 + mouth_drop),
                Point::new(48.0 + dx, 55.0 + mouth_drop),
            ],
            score: 1.0,
        }
    }

    #[test]
    fn repeated_frames_read_as_no_change_and_moves_as_change() {
        let mut m = MotionTracker::default();
        assert_eq!(m.observe(&Arc::new(gradient(0)), None), None);
        let same = m.observe(&Arc::new(gradient(0)), None).unwrap();
        assert_eq!(same.frame_change, 0.0);
        let moved = m.observe(&Arc::new(gradient(8)), None).unwrap();
        // Blue moved by 16 levels almost everywhere: luma by about 0.114 x 16 = 1.8.
        assert!(moved.frame_change > 1.5, "{moved:?}");
    }

    #[test]
    fn face_flicker_is_face_change_against_background_change() {
        // Face box covers the middle; brighten only the face region on the second frame.
        let f = face(0.0, 0.0);
        let plain = BgrImage::filled(96, 96, [100, 100, 100]);
        let mut lit = plain.clone();
        for y in 20..70usize {
            for x in 20..60usize {
                let i = (y * 96 + x) * 3;
                lit.data[i..i + 3].copy_from_slice(&[120, 120, 120]);
            }
        }
        let mut m = MotionTracker::default();
        m.observe(&Arc::new(plain.clone()), Some(&f));
        let r = m.observe(&Arc::new(lit), Some(&f)).unwrap();
        assert!((r.face_flicker.unwrap() - 20.0).abs() < 1.0, "{r:?}");
        // The whole picture brightening moves both: no flicker.
        let mut m = MotionTracker::default();
        m.observe(&Arc::new(plain.clone()), Some(&f));
        let r = m
            .observe(
                &Arc::new(BgrImage::filled(96, 96, [130, 130, 130])),
                Some(&f),
            )
            .unwrap();
        assert!(r.face_flicker.unwrap() < 1e-3, "{r:?}");
    }

    #[test]
    fn a_moved_photo_keeps_its_shape_and_a_talking_face_does_not() {
        let mut m = MotionTracker::default();
        let img = gradient(0);
        m.observe(&Arc::new(img.clone()), Some(&face(0.0, 0.0)));
        let panned = m
            .observe(&Arc::new(img.clone()), Some(&face(10.0, 0.0)))
            .unwrap();
        assert!((panned.face_motion.unwrap() - 0.25).abs() < 1e-6);
        assert!(panned.shape_change.unwrap() < 1e-6);
        let talking = m
            .observe(&Arc::new(img.clone()), Some(&face(10.0, 4.0)))
            .unwrap();
        // The mouth corners dropped 4 px with 20 px between the eyes: 0.2.
        assert!(
            (talking.shape_change.unwrap() - 0.2).abs() < 1e-5,
            "{talking:?}"
        );
    }
}

/// How much a face changed shape between two meshes, with moving, turning in the
/// picture plane and scaling taken out (2-D Procrustes on x, y): the RMS distance of
/// the aligned points in units of the face's RMS radius. A photo moved in front of the
/// camera stays near the mesh's own noise; speech, blinks and expressions move it.
/// `None` for meshes of different sizes or with no extent.
pub fn mesh_deformation(a: &[[f32; 3]], b: &[[f32; 3]]) -> Option<f32> {
    if a.len() != b.len() || a.is_empty() {
        return None;
    }
    let normalise = |pts: &[[f32; 3]]| -> Option<Vec<(f64, f64)>> {
        let n = pts.len() as f64;
        let (cx, cy) = pts.iter().fold((0.0, 0.0), |(x, y), p| {
            (x + f64::from(p[0]) / n, y + f64::from(p[1]) / n)
        });
        let centred: Vec<(f64, f64)> = pts
            .iter()
            .map(|p| (f64::from(p[0]) - cx, f64::from(p[1]) - cy))
            .collect();
        let rms = (centred.iter().map(|(x, y)| x * x + y * y).sum::<f64>() / n).sqrt();
        (rms > 1e-9 && rms.is_finite())
            .then(|| centred.iter().map(|(x, y)| (x / rms, y / rms)).collect())
    };
    let (p, q) = (normalise(a)?, normalise(b)?);
    // The rotation that best maps p onto q.
    let (dot, cross) = p.iter().zip(&q).fold((0.0, 0.0), |(d, c), (u, v)| {
        (d + u.0 * v.0 + u.1 * v.1, c + u.0 * v.1 - u.1 * v.0)
    });
    let (sin, cos) = cross.atan2(dot).sin_cos();
    let sq: f64 = p
        .iter()
        .zip(&q)
        .map(|(u, v)| {
            let (rx, ry) = (cos * u.0 - sin * u.1, sin * u.0 + cos * u.1);
            (rx - v.0).powi(2) + (ry - v.1).powi(2)
        })
        .sum();
    Some((sq / p.len() as f64).sqrt() as f32)
}

#[cfg(test)]
mod deformation_tests {
    use super::*;

    fn shape() -> Vec<[f32; 3]> {
        vec![
            [0.0, 0.0, 0.0],
            [4.0, 0.0, 0.0],
            [2.0, 3.0, 0.0],
            [1.0, 5.0, 0.0],
            [3.0, 5.0, 0.0],
        ]
    }

    #[test]
    fn moving_turning_and_scaling_is_no_deformation() {
        let (s, c) = 0.3f32.sin_cos();
        let moved: Vec<[f32; 3]> = shape()
            .iter()
            .map(|p| {
                [
                    2.0 * (c * p[0] - s * p[1]) + 50.0,
                    2.0 * (s * p[0] + c * p[1]) - 7.0,
                    0.0,
                ]
            })
            .collect();
        assert!(mesh_deformation(&shape(), &moved).unwrap() < 1e-5);
    }

    #[test]
    fn a_moving_mouth_is_deformation() {
        let mut open = shape();
        open[3][1] += 1.0;
        open[4][1] += 1.0;
        let d = mesh_deformation(&shape(), &open).unwrap();
        assert!(d > 0.1, "{d}");
        assert_eq!(mesh_deformation(&shape(), &shape()[..2]), None);
    }
}
