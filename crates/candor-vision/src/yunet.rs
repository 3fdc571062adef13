//! YuNet face detector (libfacedetection `yunet_*_dynamic.onnx`): pre-processing,
//! the per-stride decode (as OpenCV's `FaceDetectorYN` does it) and NMS.

use std::sync::Arc;

use candor_core::{BgrImage, FaceDetection, Point, Rect};
use ort::session::Session;
use ort::value::TensorRef;

use crate::error::VisionError;
use crate::model::{Model, ModelSpec};
use crate::nms::nms;
use crate::resize::{PixelRect, check_image, resize_bilinear_into};
use crate::runtime::{RuntimeOptions, build_session, check_io, f32_output};
use crate::tensor::write_bgr_planes;

/// The feature-map strides of YuNet's three heads.
pub const STRIDES: [u32; 3] = [8, 16, 32];
/// Input sides must be multiples of the coarsest stride.
const PAD_MULTIPLE: u32 = 32;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorOptions {
    /// Pictures whose longest side exceeds this are shrunk (never enlarged) before detection.
    pub max_side: u32,
    /// Minimum sqrt(cls * obj) for a face.
    pub score_threshold: f32,
    /// NMS drops a face whose box overlaps a better one by more than this IoU.
    pub nms_iou: f32,
    /// At most this many faces are returned, best first.
    pub top_k: usize,
}

impl Default for DetectorOptions {
    fn default() -> Self {
        Self {
            max_side: 640,
            score_threshold: 0.6,
            nms_iou: 0.3,
            top_k: 50,
        }
    }
}

/// The raw outputs of one stride for batch item 0: `cls` and `obj` hold one value per
/// cell, `bbox` four and `kps` ten, cells in row-major order.
#[derive(Debug, Clone, Copy)]
pub struct StrideOutputs<'a> {
    pub stride: u32,
    pub cls: &'a [f32],
    pub obj: &'a [f32],
    pub bbox: &'a [f32],
    pub kps: &'a [f32],
}

/// Turns the raw head outputs for a `padded_w` x `padded_h` input into detections (in
/// input pixels) with score >= `score_threshold`; no NMS. Errors if a head's length
/// does not match the input size.
pub fn decode(
    heads: &[StrideOutputs<'_>],
    padded_w: u32,
    padded_h: u32,
    score_threshold: f32,
) -> Result<Vec<FaceDetection>, String> {
    let mut faces = Vec::new();
    for head in heads {
        let s = head.stride;
        let (cols, rows) = ((padded_w / s) as usize, (padded_h / s) as usize);
        let cells = cols * rows;
        if head.cls.len() != cells
            || head.obj.len() != cells
            || head.bbox.len() != cells * 4
            || head.kps.len() != cells * 10
        {
            return Err(format!(
                "stride {s}: expected {cells} cells for {padded_w}x{padded_h}, got cls {} obj {} bbox {} kps {}",
                head.cls.len(),
                head.obj.len(),
                head.bbox.len(),
                head.kps.len()
            ));
        }
        let s = s as f32;
        for idx in 0..cells {
            // Both are sigmoid outputs already; clamp guards against rounding past 1.
            let cls = head.cls[idx].clamp(0.0, 1.0);
            let obj = head.obj[idx].clamp(0.0, 1.0);
            let score = (cls * obj).sqrt();
            if score.is_nan() || score < score_threshold {
                continue;
            }
            let (c, r) = ((idx % cols) as f32, (idx / cols) as f32);
            let b = &head.bbox[idx * 4..idx * 4 + 4];
            let (cx, cy) = ((c + b[0]) * s, (r + b[1]) * s);
            let (w, h) = (b[2].exp() * s, b[3].exp() * s);
            let k = &head.kps[idx * 10..idx * 10 + 10];
            let landmarks =
                std::array::from_fn(|n| Point::new((c + k[2 * n]) * s, (r + k[2 * n + 1]) * s));
            faces.push(FaceDetection {
                bbox: Rect::new(cx - w / 2.0, cy - h / 2.0, w, h),
                landmarks,
                score,
            });
        }
    }
    Ok(faces)
}

/// The working size for a `w` x `h` picture: the longest side shrunk to `max_side`.
fn working_size(w: u32, h: u32, max_side: u32) -> (u32, u32) {
    let longest = w.max(h);
    if longest <= max_side.max(1) {
        return (w, h);
    }
    let f = f64::from(max_side.max(1)) / f64::from(longest);
    let scale = |v: u32| ((f64::from(v) * f).round() as u32).max(1);
    (scale(w), scale(h))
}

fn round_up(v: u32, multiple: u32) -> u32 {
    v.div_ceil(multiple) * multiple
}

pub struct FaceDetector {
    session: Session,
    name: String,
    version: String,
    options: DetectorOptions,
    /// Output names in decode order: per stride, cls / obj / bbox / kps.
    output_names: Vec<[String; 4]>,
    /// Zero-padded NCHW input, reused while the working size stays the same.
    input: Vec<f32>,
    /// Working size the buffer currently holds (its padding is zero outside it).
    input_size: (u32, u32),
    resized: BgrImage,
}

impl FaceDetector {
    pub fn load(
        spec: &ModelSpec,
        runtime: &RuntimeOptions,
        options: DetectorOptions,
    ) -> Result<Self, VisionError> {
        let session = build_session(&spec.path, runtime)?;
        let output_names: Vec<[String; 4]> = STRIDES
            .iter()
            .map(|s| ["cls", "obj", "bbox", "kps"].map(|head| format!("{head}_{s}")))
            .collect();
        check_io(
            &session,
            spec,
            None,
            output_names.iter().flatten(),
            "a YuNet model",
        )?;
        Ok(Self {
            session,
            name: spec.name.clone(),
            version: spec.version.clone(),
            options,
            output_names,
            input: Vec::new(),
            input_size: (0, 0),
            resized: BgrImage {
                width: 0,
                height: 0,
                data: Vec::new(),
            },
        })
    }

    pub fn options(&self) -> &DetectorOptions {
        &self.options
    }

    /// Faces in `image` coordinates, best first.
    pub fn detect(&mut self, image: &BgrImage) -> Result<Vec<FaceDetection>, VisionError> {
        check_image(image)?;
        let (w, h) = working_size(image.width, image.height, self.options.max_side);
        let working = if (w, h) == (image.width, image.height) {
            image
        } else {
            self.resized.width = w;
            self.resized.height = h;
            resize_bilinear_into(image, PixelRect::full(image), &mut self.resized)?;
            &self.resized
        };
        let (pw, ph) = (round_up(w, PAD_MULTIPLE), round_up(h, PAD_MULTIPLE));
        if self.input_size != (w, h) {
            // New size: start from zeros so the bottom/right padding is black.
            self.input.clear();
            self.input.resize(3 * pw as usize * ph as usize, 0.0);
            self.input_size = (w, h);
        }
        write_bgr_planes(working, &mut self.input, pw as usize, ph as usize);

        let model = self.name.as_str();
        let tensor = TensorRef::from_array_view((
            [1usize, 3, ph as usize, pw as usize],
            self.input.as_slice(),
        ))
        .map_err(|e| VisionError::inference(model, e))?;
        let outputs = self
            .session
            .run(ort::inputs![tensor])
            .map_err(|e| VisionError::inference(model, e))?;

        let fetch = |name: &str| f32_output(&outputs, name, model);
        let mut heads = Vec::with_capacity(STRIDES.len());
        for (stride, [cls, obj, bbox, kps]) in STRIDES.iter().zip(&self.output_names) {
            heads.push(StrideOutputs {
                stride: *stride,
                cls: fetch(cls)?,
                obj: fetch(obj)?,
                bbox: fetch(bbox)?,
                kps: fetch(kps)?,
            });
        }
        let faces = decode(&heads, pw, ph, self.options.score_threshold)
            .map_err(|e| VisionError::inference(model, e))?;
        let faces = nms(faces, self.options.nms_iou, self.options.top_k);

        // Back to the caller's pixels; per axis, since rounding the working size can
        // change the aspect ratio slightly.
        let sx = image.width as f32 / w as f32;
        let sy = image.height as f32 / h as f32;
        Ok(if sx == 1.0 && sy == 1.0 {
            faces
        } else {
            faces
                .into_iter()
                .map(|f| scale_detection(&f, sx, sy))
                .collect()
        })
    }
}

fn scale_detection(f: &FaceDetection, sx: f32, sy: f32) -> FaceDetection {
    FaceDetection {
        bbox: Rect::new(f.bbox.x * sx, f.bbox.y * sy, f.bbox.w * sx, f.bbox.h * sy),
        landmarks: f.landmarks.map(|p| Point::new(p.x * sx, p.y * sy)),
        score: f.score,
    }
}

impl Model for FaceDetector {
    type Input = Arc<BgrImage>;
    type Output = Vec<FaceDetection>;

    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> &str {
        &self.version
    }

    fn run(&mut self, input: Self::Input) -> Result<Self::Output, VisionError> {
        self.detect(&input)
    }

    fn warm_up(&mut self) -> Result<(), VisionError> {
        // The usual working size (4:3 at max_side, at most 640) so the real frames
        // that follow reuse the allocations made here.
        let w = self.options.max_side.clamp(32, 640);
        let h = (w * 3 / 4).max(1);
        self.detect(&BgrImage::filled(w, h, [0, 0, 0])).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Heads for a 32x32 input: 16, 4 and 1 cells.
    struct Heads {
        data: Vec<[Vec<f32>; 4]>,
    }

    impl Heads {
        fn zeros(w: u32, h: u32) -> Self {
            let data = STRIDES
                .iter()
                .map(|s| {
                    let cells = ((w / s) * (h / s)) as usize;
                    [
                        vec![0.0; cells],
                        vec![0.0; cells],
                        vec![0.0; cells * 4],
                        vec![0.0; cells * 10],
                    ]
                })
                .collect();
            Self { data }
        }

        fn views(&self) -> Vec<StrideOutputs<'_>> {
            STRIDES
                .iter()
                .zip(&self.data)
                .map(|(s, [cls, obj, bbox, kps])| StrideOutputs {
                    stride: *s,
                    cls,
                    obj,
                    bbox,
                    kps,
                })
                .collect()
        }
    }

    #[test]
    fn one_cell_decodes_to_the_expected_box_and_landmarks() {
        // 64x32 input: stride 8 has 8 cols x 4 rows. Cell (row 2, col 5) = index 21.
        let mut heads = Heads::zeros(64, 32);
        let [cls, obj, bbox, kps] = &mut heads.data[0];
        let idx = 2 * 8 + 5;
        cls[idx] = 0.81;
        obj[idx] = 1.0;
        bbox[idx * 4..idx * 4 + 4].copy_from_slice(&[0.5, 0.25, 2f32.ln(), 3f32.ln()]);
        kps[idx * 10..idx * 10 + 10]
            .copy_from_slice(&[0.0, 0.0, 1.0, 0.0, 0.5, 0.5, -0.25, 1.0, 1.25, 1.0]);

        let faces = decode(&heads.views(), 64, 32, 0.6).unwrap();
        assert_eq!(faces.len(), 1);
        let f = faces[0];
        assert!((f.score - 0.9).abs() < 1e-6, "score {}", f.score);
        // centre = ((5 + 0.5) * 8, (2 + 0.25) * 8) = (44, 18); size = (16, 24)
        let close = |a: f32, b: f32| (a - b).abs() < 1e-4;
        assert!(
            close(f.bbox.x, 36.0) && close(f.bbox.y, 6.0),
            "{:?}",
            f.bbox
        );
        assert!(
            close(f.bbox.w, 16.0) && close(f.bbox.h, 24.0),
            "{:?}",
            f.bbox
        );
        let expected = [
            (40.0, 16.0),
            (48.0, 16.0),
            (44.0, 20.0),
            (38.0, 24.0),
            (50.0, 24.0),
        ];
        for (p, (x, y)) in f.landmarks.iter().zip(expected) {
            assert!(close(p.x, x) && close(p.y, y), "{p:?} vs ({x}, {y})");
        }
    }

    #[test]
    fn coarse_stride_cell_uses_its_stride() {
        let mut heads = Heads::zeros(64, 64);
        let [cls, obj, bbox, _] = &mut heads.data[2]; // stride 32: 2x2 cells
        cls[3] = 1.0;
        obj[3] = 1.0;
        bbox[12..16].copy_from_slice(&[0.5, 0.5, 0.0, 0.0]);
        let faces = decode(&heads.views(), 64, 64, 0.6).unwrap();
        assert_eq!(faces.len(), 1);
        // cell (1, 1): centre (48, 48), size 32
        assert_eq!(faces[0].bbox, Rect::new(32.0, 32.0, 32.0, 32.0));
    }

    #[test]
    fn scores_are_clamped_and_thresholded() {
        let mut heads = Heads::zeros(32, 32);
        let [cls, obj, _, _] = &mut heads.data[0];
        cls[0] = 1.2; // clamps to 1
        obj[0] = 0.64;
        cls[1] = 0.5;
        obj[1] = -0.1; // clamps to 0
        cls[2] = 0.35;
        obj[2] = 1.0; // sqrt(0.35) = 0.59 < 0.6
        cls[3] = f32::NAN;
        obj[3] = 1.0;
        let faces = decode(&heads.views(), 32, 32, 0.6).unwrap();
        assert_eq!(faces.len(), 1);
        assert!((faces[0].score - 0.8).abs() < 1e-6);
    }

    #[test]
    fn wrong_head_length_is_an_error() {
        let heads = Heads::zeros(64, 32);
        assert!(decode(&heads.views(), 32, 32, 0.6).is_err());
    }

    #[test]
    fn working_size_only_shrinks() {
        assert_eq!(working_size(640, 480, 640), (640, 480));
        assert_eq!(working_size(320, 240, 640), (320, 240));
        assert_eq!(working_size(1280, 720, 640), (640, 360));
        assert_eq!(working_size(1080, 1920, 640), (360, 640));
        assert_eq!(working_size(5, 3000, 640), (1, 640));
        assert_eq!(round_up(360, 32), 384);
        assert_eq!(round_up(640, 32), 640);
    }
}
