//! MediaPipe face mesh (`face_landmark.tflite` converted to ONNX): 468 3-D landmarks
//! from a rotated square crop of the face, as MediaPipe's face landmark graph does it.

use std::sync::Arc;

use candor_core::{BgrImage, FaceDetection, Point};
use ort::session::Session;
use ort::value::TensorRef;

use crate::align::{
    Affine, Border, RotatedSquare, apply_affine, roi_rotation, warp_affine_bilinear_into,
};
use crate::error::VisionError;
use crate::model::{Model, ModelSpec};
use crate::resize::check_image;
use crate::runtime::{RuntimeOptions, build_session, check_io, f32_output};
use crate::tensor::write_rgb_planes;

/// Number of mesh landmarks.
pub const MESH_POINTS: usize = 468;
/// The model's input side (192x192 RGB, 0-1).
pub const MESH_INPUT_SIDE: u32 = 192;
/// ROI side as a multiple of the face box's longer side (MediaPipe's `scale_x/y`).
pub const ROI_SCALE: f32 = 1.5;
/// The mesh points whose line sets the tracking ROI's rotation, as the MANIFEST and the
/// reference outputs use them: from point 33 (the image-left eye's outer corner) to
/// point 133 (its inner corner).
pub const TRACKING_ROTATION_POINTS: (usize, usize) = (33, 133);
/// Upstream MediaPipe's pair (`face_landmark_landmarks_to_roi.pbtxt`): outer corner of
/// one eye (33) to the outer corner of the other (263), a longer and steadier baseline.
/// The reference meshes were not made with it (see [`MeshRoi::from_mesh_with`]).
pub const MEDIAPIPE_TRACKING_ROTATION_POINTS: (usize, usize) = (33, 263);
const INPUT_NAME: &str = "input_1";
const LANDMARKS_OUTPUT: &str = "conv2d_21";
const PRESENCE_OUTPUT: &str = "conv2d_31";

/// The rotated square of the picture the mesh model looks at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeshRoi {
    /// Centre, image pixels.
    pub centre: Point,
    /// Side of the square, image pixels.
    pub side: f32,
    /// Radians, clockwise on screen (see [`crate::align::roi_rotation`]).
    pub rotation: f32,
}

impl MeshRoi {
    /// The ROI for a YuNet face (MediaPipe's `face_detection_front_detection_to_roi`):
    /// centre = box centre, rotation along the eye line (landmark 0 -> 1), side =
    /// 1.5 x the box's longer side.
    pub fn from_detection(face: &FaceDetection) -> Self {
        let [p0, p1, ..] = face.landmarks;
        let rotation = roi_rotation(
            (f64::from(p0.x), f64::from(p0.y)),
            (f64::from(p1.x), f64::from(p1.y)),
        );
        Self {
            centre: face.bbox.center(),
            side: ROI_SCALE * face.bbox.w.max(face.bbox.h),
            rotation: rotation as f32,
        }
    }

    /// The tracking ROI from a previous mesh (MediaPipe's
    /// `face_landmark_landmarks_to_roi`): centre and size from the box around all points,
    /// rotation along [`TRACKING_ROTATION_POINTS`], side = 1.5 x the box's longer side.
    /// `None` when there are fewer than 468 points or they are not finite.
    pub fn from_mesh(points: &[[f32; 3]]) -> Option<Self> {
        Self::from_mesh_with(points, TRACKING_ROTATION_POINTS)
    }

    /// [`MeshRoi::from_mesh`] with the rotation taken along the mesh points
    /// `rotation_points` (e.g. [`MEDIAPIPE_TRACKING_ROTATION_POINTS`]). On the reference
    /// stills, the second pass lands 0.0003-0.0009 inter-ocular distances (mean) from the
    /// reference mesh with (33, 133) and 0.001-0.019 with (33, 263).
    pub fn from_mesh_with(points: &[[f32; 3]], rotation_points: (usize, usize)) -> Option<Self> {
        let (a, b) = rotation_points;
        if points.len() < MESH_POINTS || a >= MESH_POINTS || b >= MESH_POINTS {
            return None;
        }
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for p in &points[..MESH_POINTS] {
            if !p[0].is_finite() || !p[1].is_finite() {
                return None;
            }
            x0 = x0.min(p[0]);
            x1 = x1.max(p[0]);
            y0 = y0.min(p[1]);
            y1 = y1.max(p[1]);
        }
        let (pa, pb) = (points[a], points[b]);
        let rotation = roi_rotation(
            (f64::from(pa[0]), f64::from(pa[1])),
            (f64::from(pb[0]), f64::from(pb[1])),
        );
        let side = ROI_SCALE * (x1 - x0).max(y1 - y0);
        (side > 0.0).then_some(Self {
            centre: Point::new((x0 + x1) / 2.0, (y0 + y1) / 2.0),
            side,
            rotation: rotation as f32,
        })
    }

    pub fn square(&self) -> RotatedSquare {
        RotatedSquare {
            cx: f64::from(self.centre.x),
            cy: f64::from(self.centre.y),
            side: f64::from(self.side),
            rotation: f64::from(self.rotation),
        }
    }
}

/// The mesh for one face.
#[derive(Debug, Clone, PartialEq)]
pub struct MeshResult {
    /// 468 points: x, y in image pixels; z relative depth (negative = toward the camera)
    /// in pixels on x's scale (the model's z x side / 192).
    pub points: Vec<[f32; 3]>,
    /// Face presence probability, sigmoid of the model's logit (>= 0.5: a face).
    pub presence: f32,
    /// The ROI the mesh was computed in.
    pub roi: MeshRoi,
}

/// Maps model outputs in crop pixels (`[x, y, z]` triples) to image pixels through
/// `crop_to_image` (the matrix the crop was warped with), appending to `out`; z is
/// multiplied by `z_scale` (ROI side / crop side).
pub(crate) fn project_to_image(
    raw: &[f32],
    crop_to_image: &Affine,
    z_scale: f64,
    out: &mut Vec<[f32; 3]>,
) {
    out.extend(raw.chunks_exact(3).map(|p| {
        let (ix, iy) = apply_affine(crop_to_image, f64::from(p[0]), f64::from(p[1]));
        [ix as f32, iy as f32, (f64::from(p[2]) * z_scale) as f32]
    }));
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

pub struct FaceMesh {
    session: Session,
    name: String,
    version: String,
    /// Scratch: the 192x192 crop and its tensor.
    crop: BgrImage,
    input: Vec<f32>,
}

impl FaceMesh {
    pub fn load(spec: &ModelSpec, runtime: &RuntimeOptions) -> Result<Self, VisionError> {
        let session = build_session(&spec.path, runtime)?;
        check_io(
            &session,
            spec,
            Some(INPUT_NAME),
            [LANDMARKS_OUTPUT, PRESENCE_OUTPUT],
            "the face mesh model",
        )?;
        let side = MESH_INPUT_SIDE as usize;
        Ok(Self {
            session,
            name: spec.name.clone(),
            version: spec.version.clone(),
            crop: BgrImage::filled(MESH_INPUT_SIDE, MESH_INPUT_SIDE, [0; 3]),
            input: vec![0.0; 3 * side * side],
        })
    }

    /// One pass of the model over `roi` of `image`.
    pub fn landmarks(
        &mut self,
        image: &BgrImage,
        roi: &MeshRoi,
    ) -> Result<MeshResult, VisionError> {
        check_image(image)?;
        let square = roi.square();
        if !square.is_valid() {
            return Err(VisionError::BadInput(format!("bad mesh ROI {roi:?}")));
        }
        let to_image = square.crop_to_image(MESH_INPUT_SIDE);
        self.crop.width = MESH_INPUT_SIDE;
        self.crop.height = MESH_INPUT_SIDE;
        warp_affine_bilinear_into(image, &to_image, Border::Replicate, &mut self.crop)?;
        write_rgb_planes(&self.crop, &mut self.input, 1.0 / 255.0);

        let model = self.name.as_str();
        let side = MESH_INPUT_SIDE as usize;
        let tensor = TensorRef::from_array_view(([1usize, 3, side, side], self.input.as_slice()))
            .map_err(|e| VisionError::inference(model, e))?;
        let outputs = self
            .session
            .run(ort::inputs![INPUT_NAME => tensor])
            .map_err(|e| VisionError::inference(model, e))?;
        let raw = f32_output(&outputs, LANDMARKS_OUTPUT, model)?;
        let logit = f32_output(&outputs, PRESENCE_OUTPUT, model)?;
        if raw.len() != 3 * MESH_POINTS || logit.len() != 1 {
            return Err(VisionError::inference(
                model,
                format!(
                    "expected {} landmark values and 1 logit, got {} and {}",
                    3 * MESH_POINTS,
                    raw.len(),
                    logit.len()
                ),
            ));
        }
        let mut points = Vec::with_capacity(MESH_POINTS);
        let z_scale = square.side / f64::from(MESH_INPUT_SIDE);
        project_to_image(raw, &to_image, z_scale, &mut points);
        Ok(MeshResult {
            points,
            presence: sigmoid(logit[0]),
            roi: *roi,
        })
    }

    /// The mesh for a detected face as the reference computes it: one pass from the
    /// detection's ROI, then a second from the ROI of that first mesh (what tracking
    /// does on the next frame).
    pub fn landmarks_refined(
        &mut self,
        image: &BgrImage,
        face: &FaceDetection,
    ) -> Result<MeshResult, VisionError> {
        let first = self.landmarks(image, &MeshRoi::from_detection(face))?;
        match MeshRoi::from_mesh(&first.points) {
            Some(roi) => self.landmarks(image, &roi),
            None => Ok(first),
        }
    }
}

impl Model for FaceMesh {
    type Input = (Arc<BgrImage>, MeshRoi);
    type Output = MeshResult;

    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> &str {
        &self.version
    }

    fn run(&mut self, (image, roi): Self::Input) -> Result<Self::Output, VisionError> {
        self.landmarks(&image, &roi)
    }

    fn warm_up(&mut self) -> Result<(), VisionError> {
        let image = BgrImage::filled(320, 240, [128, 128, 128]);
        let roi = MeshRoi {
            centre: Point::new(160.0, 120.0),
            side: 150.0,
            rotation: 0.1,
        };
        self.landmarks(&image, &roi).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use candor_core::Rect;

    use super::*;

    #[test]
    fn roi_from_a_level_detection() {
        let face = FaceDetection {
            bbox: Rect::new(100.0, 50.0, 80.0, 120.0),
            landmarks: [
                Point::new(120.0, 90.0),
                Point::new(160.0, 90.0),
                Point::new(140.0, 110.0),
                Point::new(125.0, 130.0),
                Point::new(155.0, 130.0),
            ],
            score: 0.9,
        };
        let roi = MeshRoi::from_detection(&face);
        assert_eq!(roi.centre, Point::new(140.0, 110.0));
        assert_eq!(roi.side, 180.0);
        assert_eq!(roi.rotation, 0.0);
    }

    #[test]
    fn roi_from_a_tilted_detection_turns_with_the_eyes() {
        // Image-right eye lower by as much as it is to the right: 45 degrees clockwise.
        let mut lm = [Point::default(); 5];
        lm[0] = Point::new(0.0, 0.0);
        lm[1] = Point::new(30.0, 30.0);
        let face = FaceDetection {
            bbox: Rect::new(-10.0, -10.0, 60.0, 50.0),
            landmarks: lm,
            score: 0.9,
        };
        let roi = MeshRoi::from_detection(&face);
        assert!((roi.rotation - std::f32::consts::FRAC_PI_4).abs() < 1e-6);
        assert_eq!(roi.side, 90.0);
        assert_eq!(roi.centre, Point::new(20.0, 15.0));
    }

    #[test]
    fn roi_from_a_mesh_uses_the_point_box_and_eye_corner_line() {
        let mut pts = vec![[50.0f32, 60.0, 0.0]; MESH_POINTS];
        pts[0] = [10.0, 20.0, 0.0];
        pts[1] = [110.0, 180.0, 5.0];
        let (a, b) = TRACKING_ROTATION_POINTS;
        pts[a] = [30.0, 70.0, 0.0];
        pts[b] = [60.0, 70.0, 0.0];
        let roi = MeshRoi::from_mesh(&pts).unwrap();
        assert_eq!(roi.centre, Point::new(60.0, 100.0));
        assert_eq!(roi.side, 240.0); // 1.5 x max(100, 160)
        assert_eq!(roi.rotation, 0.0);
        pts[b] = [30.0, 40.0, 0.0]; // straight up from point a: -90 degrees
        let roi = MeshRoi::from_mesh(&pts).unwrap();
        assert!((roi.rotation + std::f32::consts::FRAC_PI_2).abs() < 1e-6);
        assert!(MeshRoi::from_mesh(&pts[..100]).is_none());
        // Upstream's pair: 33 -> 263.
        pts[263] = [90.0, 100.0, 0.0];
        let up = MeshRoi::from_mesh_with(&pts, MEDIAPIPE_TRACKING_ROTATION_POINTS).unwrap();
        assert!((up.rotation - (30f32).atan2(60.0)).abs() < 1e-6);
        assert!(MeshRoi::from_mesh_with(&pts, (33, 468)).is_none());
        pts[7] = [f32::NAN, 0.0, 0.0];
        assert!(MeshRoi::from_mesh(&pts).is_none());
    }

    #[test]
    fn projection_maps_crop_pixels_back_to_the_picture() {
        let square = RotatedSquare {
            cx: 200.0,
            cy: 100.0,
            side: 384.0,
            rotation: 0.0,
        };
        let raw = [96.0, 96.0, 10.0, 0.0, 0.0, -4.0, 192.0, 48.0, 0.0];
        let mut out = Vec::new();
        project_to_image(&raw, &square.crop_to_image(192), 2.0, &mut out);
        assert_eq!(out[0], [200.0, 100.0, 20.0]);
        assert_eq!(out[1], [8.0, -92.0, -8.0]);
        assert_eq!(out[2], [392.0, 4.0, 0.0]);
        // Mirrored crop: x read as 192 - x.
        out.clear();
        project_to_image(
            &raw[3..6],
            &square.mirrored_crop_to_image(192),
            2.0,
            &mut out,
        );
        assert_eq!(out[0], [392.0, -92.0, -8.0]);
    }

    #[test]
    fn projection_follows_the_rotation() {
        let square = RotatedSquare {
            cx: 0.0,
            cy: 0.0,
            side: 192.0,
            rotation: std::f64::consts::FRAC_PI_2,
        };
        let mut out = Vec::new();
        // One crop pixel right of centre lands one pixel below the centre on screen.
        project_to_image(
            &[97.0, 96.0, 0.0],
            &square.crop_to_image(192),
            1.0,
            &mut out,
        );
        assert!(
            out[0][0].abs() < 1e-5 && (out[0][1] - 1.0).abs() < 1e-5,
            "{out:?}"
        );
    }

    #[test]
    fn sigmoid_is_the_logistic() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert!((sigmoid(2.0) - 0.880_797_1).abs() < 1e-6);
    }
}
