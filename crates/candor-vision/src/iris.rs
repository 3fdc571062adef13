//! MediaPipe iris landmarks (`iris_landmark.tflite` converted to ONNX): per eye, 71
//! eye-contour and brow points and 5 iris points, from a 64x64 crop placed by the face
//! mesh's eye corners (MediaPipe's `iris_landmark_landmarks_to_roi`).

use std::sync::Arc;

use candor_core::{BgrImage, Point};
use ort::session::Session;
use ort::value::TensorRef;

use crate::align::{Border, RotatedSquare, roi_rotation, warp_affine_bilinear_into};
use crate::error::VisionError;
use crate::mesh::{MESH_POINTS, project_to_image};
use crate::model::{Model, ModelSpec};
use crate::resize::check_image;
use crate::runtime::{RuntimeOptions, build_session, check_io, f32_output};
use crate::tensor::write_rgb_planes;

/// The model's input side (64x64 RGB, 0-1).
pub const IRIS_INPUT_SIDE: u32 = 64;
/// Eye contour and brow points per eye.
pub const CONTOUR_POINTS: usize = 71;
/// Iris points per eye: the centre, then 4 points on the iris edge.
pub const IRIS_POINTS: usize = 5;
/// ROI side as a multiple of the eye-corner span.
pub const EYE_ROI_SCALE: f32 = 2.3;
/// Mesh corner pairs (first -> second sets the rotation): image-left eye, image-right eye.
pub const EYE_CORNERS: [(usize, usize); 2] = [(33, 133), (362, 263)];
const INPUT_NAME: &str = "input_1";
const CONTOUR_OUTPUT: &str = "output_eyes_contours_and_brows";
const IRIS_OUTPUT: &str = "output_iris";

/// The rotated square crop of one eye.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EyeRoi {
    pub centre: Point,
    pub side: f32,
    /// Radians, clockwise on screen.
    pub rotation: f32,
    /// The crop is mirrored before inference (the image-right eye, so that it looks like
    /// the image-left eye the model was trained on), and x mirrored back after.
    pub flip: bool,
}

impl EyeRoi {
    /// The ROI between two eye corners: centre = midpoint, rotation along `p0 -> p1`,
    /// side = 2.3 x max(|dx|, |dy|).
    pub fn from_corners(p0: Point, p1: Point, flip: bool) -> Self {
        let rotation = roi_rotation(
            (f64::from(p0.x), f64::from(p0.y)),
            (f64::from(p1.x), f64::from(p1.y)),
        );
        Self {
            centre: Point::new((p0.x + p1.x) / 2.0, (p0.y + p1.y) / 2.0),
            side: EYE_ROI_SCALE * (p1.x - p0.x).abs().max((p1.y - p0.y).abs()),
            rotation: rotation as f32,
            flip,
        }
    }

    /// Both eyes' ROIs from a 468-point mesh: `[image-left eye, image-right eye]`;
    /// `None` if the mesh is short or its corners are not finite.
    pub fn from_mesh(points: &[[f32; 3]]) -> Option<[Self; 2]> {
        if points.len() < MESH_POINTS {
            return None;
        }
        let pt = |i: usize| Point::new(points[i][0], points[i][1]);
        let rois = [0, 1].map(|k| {
            let (a, b) = EYE_CORNERS[k];
            Self::from_corners(pt(a), pt(b), k == 1)
        });
        rois.iter().all(|r| r.square().is_valid()).then_some(rois)
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

/// The landmarks of one eye, image pixels (z on x's scale, relative depth).
#[derive(Debug, Clone, PartialEq)]
pub struct EyeLandmarks {
    /// 71 eye-contour and brow points.
    pub contour: Vec<[f32; 3]>,
    /// Iris centre, then 4 points on the iris edge.
    pub iris: [[f32; 3]; IRIS_POINTS],
    pub roi: EyeRoi,
}

impl EyeLandmarks {
    pub fn iris_centre(&self) -> Point {
        Point::new(self.iris[0][0], self.iris[0][1])
    }

    /// Mean distance from the iris centre to its 4 edge points (image pixels).
    pub fn iris_radius(&self) -> f32 {
        let c = self.iris[0];
        self.iris[1..]
            .iter()
            .map(|p| (p[0] - c[0]).hypot(p[1] - c[1]))
            .sum::<f32>()
            / 4.0
    }
}

/// Iris model output: `[image-left eye, image-right eye]`, in the order of the input ROIs.
#[derive(Debug, Clone, PartialEq)]
pub struct IrisResult {
    pub eyes: [EyeLandmarks; 2],
}

pub struct IrisModel {
    session: Session,
    name: String,
    version: String,
    /// Scratch: the 64x64 crop and its tensor.
    crop: BgrImage,
    input: Vec<f32>,
    scratch: Vec<[f32; 3]>,
}

impl IrisModel {
    pub fn load(spec: &ModelSpec, runtime: &RuntimeOptions) -> Result<Self, VisionError> {
        let session = build_session(&spec.path, runtime)?;
        check_io(
            &session,
            spec,
            Some(INPUT_NAME),
            [CONTOUR_OUTPUT, IRIS_OUTPUT],
            "the iris model",
        )?;
        let side = IRIS_INPUT_SIDE as usize;
        Ok(Self {
            session,
            name: spec.name.clone(),
            version: spec.version.clone(),
            crop: BgrImage::filled(IRIS_INPUT_SIDE, IRIS_INPUT_SIDE, [0; 3]),
            input: vec![0.0; 3 * side * side],
            scratch: Vec::with_capacity(CONTOUR_POINTS + IRIS_POINTS),
        })
    }

    /// Landmarks of the eye in `roi` of `image`.
    pub fn eye(&mut self, image: &BgrImage, roi: &EyeRoi) -> Result<EyeLandmarks, VisionError> {
        check_image(image)?;
        let square = roi.square();
        if !square.is_valid() {
            return Err(VisionError::BadInput(format!("bad eye ROI {roi:?}")));
        }
        // The right eye is mirrored so that it looks like the left eye the model was
        // trained on: an exact mirror about the crop's centre line, so the same matrix
        // maps the landmarks back (x -> 64 - x, then the ROI transform).
        let to_image = if roi.flip {
            square.mirrored_crop_to_image(IRIS_INPUT_SIDE)
        } else {
            square.crop_to_image(IRIS_INPUT_SIDE)
        };
        self.crop.width = IRIS_INPUT_SIDE;
        self.crop.height = IRIS_INPUT_SIDE;
        warp_affine_bilinear_into(image, &to_image, Border::Replicate, &mut self.crop)?;
        write_rgb_planes(&self.crop, &mut self.input, 1.0 / 255.0);

        let model = self.name.as_str();
        let side = IRIS_INPUT_SIDE as usize;
        let tensor = TensorRef::from_array_view(([1usize, 3, side, side], self.input.as_slice()))
            .map_err(|e| VisionError::inference(model, e))?;
        let outputs = self
            .session
            .run(ort::inputs![INPUT_NAME => tensor])
            .map_err(|e| VisionError::inference(model, e))?;
        let fetch = |name: &str, len: usize| -> Result<&[f32], VisionError> {
            let data = f32_output(&outputs, name, model)?;
            if data.len() != len {
                return Err(VisionError::inference(
                    model,
                    format!("`{name}`: expected {len} values, got {}", data.len()),
                ));
            }
            Ok(data)
        };
        let contour = fetch(CONTOUR_OUTPUT, 3 * CONTOUR_POINTS)?;
        let iris = fetch(IRIS_OUTPUT, 3 * IRIS_POINTS)?;
        let z_scale = square.side / f64::from(IRIS_INPUT_SIDE);
        self.scratch.clear();
        project_to_image(iris, &to_image, z_scale, &mut self.scratch);
        let iris: [[f32; 3]; IRIS_POINTS] = std::array::from_fn(|i| self.scratch[i]);
        let mut contour_pts = Vec::with_capacity(CONTOUR_POINTS);
        project_to_image(contour, &to_image, z_scale, &mut contour_pts);
        Ok(EyeLandmarks {
            contour: contour_pts,
            iris,
            roi: *roi,
        })
    }

    /// Both eyes.
    pub fn eyes(
        &mut self,
        image: &BgrImage,
        rois: &[EyeRoi; 2],
    ) -> Result<IrisResult, VisionError> {
        let left = self.eye(image, &rois[0])?;
        let right = self.eye(image, &rois[1])?;
        Ok(IrisResult {
            eyes: [left, right],
        })
    }
}

impl Model for IrisModel {
    /// The frame and both eyes' ROIs (see [`EyeRoi::from_mesh`]).
    type Input = (Arc<BgrImage>, [EyeRoi; 2]);
    type Output = IrisResult;

    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> &str {
        &self.version
    }

    fn run(&mut self, (image, rois): Self::Input) -> Result<Self::Output, VisionError> {
        self.eyes(&image, &rois)
    }

    fn warm_up(&mut self) -> Result<(), VisionError> {
        let image = BgrImage::filled(160, 120, [128, 128, 128]);
        let rois = [
            EyeRoi::from_corners(Point::new(40.0, 60.0), Point::new(70.0, 60.0), false),
            EyeRoi::from_corners(Point::new(90.0, 60.0), Point::new(120.0, 60.0), true),
        ];
        self.eyes(&image, &rois).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roi_between_level_corners() {
        let roi = EyeRoi::from_corners(Point::new(100.0, 50.0), Point::new(140.0, 50.0), false);
        assert_eq!(roi.centre, Point::new(120.0, 50.0));
        assert_eq!(roi.side, 92.0);
        assert_eq!(roi.rotation, 0.0);
    }

    #[test]
    fn roi_side_uses_the_larger_span() {
        // Steep pair: |dy| = 20 > |dx| = 10 -> side 46, rotation atan2(20, 10).
        let roi = EyeRoi::from_corners(Point::new(0.0, 0.0), Point::new(10.0, 20.0), true);
        assert_eq!(roi.side, 46.0);
        assert!((roi.rotation - 2f32.atan2(1.0)).abs() < 1e-6);
        assert!(roi.flip);
    }

    #[test]
    fn rois_from_a_mesh_use_the_documented_corners() {
        let mut pts = vec![[0.0f32; 3]; MESH_POINTS];
        pts[33] = [100.0, 80.0, 0.0];
        pts[133] = [130.0, 82.0, 0.0];
        pts[362] = [160.0, 82.0, 0.0];
        pts[263] = [190.0, 80.0, 0.0];
        let [l, r] = EyeRoi::from_mesh(&pts).unwrap();
        assert_eq!(l.centre, Point::new(115.0, 81.0));
        assert_eq!(r.centre, Point::new(175.0, 81.0));
        assert!((l.side - 69.0).abs() < 1e-4 && (r.side - 69.0).abs() < 1e-4);
        assert!(l.rotation > 0.0 && r.rotation < 0.0);
        assert!(!l.flip && r.flip);
        assert!(EyeRoi::from_mesh(&pts[..10]).is_none());
        // Coincident corners: no size.
        pts[133] = pts[33];
        assert!(EyeRoi::from_mesh(&pts).is_none());
    }

    #[test]
    fn iris_radius_is_the_mean_edge_distance() {
        let eye = EyeLandmarks {
            contour: Vec::new(),
            iris: [
                [10.0, 10.0, 0.0],
                [13.0, 10.0, 0.0],
                [10.0, 15.0, 0.0],
                [6.0, 10.0, 0.0],
                [10.0, 7.0, 0.0],
            ],
            roi: EyeRoi::from_corners(Point::new(0.0, 0.0), Point::new(1.0, 0.0), false),
        };
        assert_eq!(eye.iris_radius(), 3.75);
        assert_eq!(eye.iris_centre(), Point::new(10.0, 10.0));
    }
}
