//! Face identity embeddings with SFace (opencv_zoo `face_recognition_sface_2021dec`):
//! the 5-landmark similarity alignment to the ArcFace 112x112 template, RGB raw 0-255
//! input, and the 128-d `fc1` output, L2-normalised for cosine comparison.

use std::sync::Arc;

use candor_core::{BgrImage, FaceDetection, Point, Rect};
use ort::session::Session;
use ort::value::TensorRef;

use crate::align::{
    ARCFACE_SIDE, ARCFACE_TEMPLATE, Border, arcface_transform, invert_affine,
    warp_affine_bilinear_into,
};
use crate::error::VisionError;
use crate::model::{Model, ModelSpec};
use crate::resize::check_image;
use crate::runtime::{RuntimeOptions, build_session, check_io, f32_output};
use crate::tensor::write_rgb_planes;

/// Length of an SFace embedding.
pub const EMBEDDING_DIM: usize = 128;
/// OpenCV's published SFace threshold: cosine >= this means the same person (tuned on
/// LFW; on our stills anything from 0.30 to 0.45 separates same from different).
pub const SAME_PERSON_COSINE: f32 = 0.363;
const INPUT_NAME: &str = "data";
const OUTPUT_NAME: &str = "fc1";

/// A unit-length (L2-normalised) identity embedding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Embedding(pub [f32; EMBEDDING_DIM]);

impl Embedding {
    /// Normalises `raw` to unit length; `None` when its norm is zero or not finite.
    /// Returns the embedding and the raw norm.
    pub fn from_raw(raw: &[f32; EMBEDDING_DIM]) -> Option<(Self, f32)> {
        let norm = raw
            .iter()
            .map(|v| f64::from(*v).powi(2))
            .sum::<f64>()
            .sqrt();
        if norm.is_nan() || norm <= 0.0 || norm.is_infinite() {
            return None;
        }
        Some((Self(raw.map(|v| (f64::from(v) / norm) as f32)), norm as f32))
    }

    /// The mean direction of several embeddings (renormalised), e.g. several frames of
    /// one round; `None` for an empty slice or embeddings that cancel out.
    pub fn mean(embeddings: &[Embedding]) -> Option<Self> {
        let mut sum = [0.0f32; EMBEDDING_DIM];
        for e in embeddings {
            for (s, v) in sum.iter_mut().zip(e.0) {
                *s += v;
            }
        }
        Self::from_raw(&sum).map(|(e, _)| e)
    }

    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }
}

/// SFace's answer for one face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceEmbedding {
    pub embedding: Embedding,
    /// L2 norm of the raw `fc1` vector (10-14 on good faces); `embedding * raw_norm`
    /// gives the raw output back.
    pub raw_norm: f32,
}

impl FaceEmbedding {
    /// The raw `fc1` output.
    pub fn raw(&self) -> [f32; EMBEDDING_DIM] {
        self.embedding.0.map(|v| v * self.raw_norm)
    }
}

/// Cosine similarity of `a` and `b` (computed in full, so it is right even for vectors
/// that are not unit length); 0 when either is zero.
pub fn cosine(a: &Embedding, b: &Embedding) -> f32 {
    let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.0.iter().zip(&b.0) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    let den = (na * nb).sqrt();
    if den > 0.0 { (dot / den) as f32 } else { 0.0 }
}

/// Crops the ArcFace-aligned 112x112 face for `landmarks` (YuNet order) from `image`
/// into `dst`, as `cv2.FaceRecognizerSF::alignCrop` does (similarity transform,
/// bilinear, black border).
pub fn align_face_into(
    image: &BgrImage,
    landmarks: &[Point; 5],
    dst: &mut BgrImage,
) -> Result<(), VisionError> {
    let to_crop = arcface_transform(landmarks)
        .ok_or_else(|| VisionError::BadInput(format!("degenerate landmarks {landmarks:?}")))?;
    let to_image = invert_affine(&to_crop)
        .ok_or_else(|| VisionError::BadInput(format!("degenerate landmarks {landmarks:?}")))?;
    dst.width = ARCFACE_SIDE;
    dst.height = ARCFACE_SIDE;
    warp_affine_bilinear_into(image, &to_image, Border::Constant(0), dst)
}

/// SFace on ONNX Runtime. The session's batch dimension is dynamic, so
/// [`FaceEmbedder::embed_batch`] runs several faces in one call.
pub struct FaceEmbedder {
    session: Session,
    name: String,
    version: String,
    /// Scratch: one aligned crop, and the NCHW input for up to `input.len() / PLANE` faces.
    crop: BgrImage,
    input: Vec<f32>,
}

const PLANE: usize = 3 * (ARCFACE_SIDE as usize) * (ARCFACE_SIDE as usize);

impl FaceEmbedder {
    pub fn load(spec: &ModelSpec, runtime: &RuntimeOptions) -> Result<Self, VisionError> {
        let session = build_session(&spec.path, runtime)?;
        check_io(
            &session,
            spec,
            Some(INPUT_NAME),
            [OUTPUT_NAME],
            "an SFace model",
        )?;
        Ok(Self {
            session,
            name: spec.name.clone(),
            version: spec.version.clone(),
            crop: BgrImage::filled(ARCFACE_SIDE, ARCFACE_SIDE, [0; 3]),
            input: vec![0.0; PLANE],
        })
    }

    /// The embedding of the face with `landmarks` (YuNet order, image pixels) in `image`.
    pub fn embed(
        &mut self,
        image: &BgrImage,
        landmarks: &[Point; 5],
    ) -> Result<FaceEmbedding, VisionError> {
        check_image(image)?;
        align_face_into(image, landmarks, &mut self.crop)?;
        write_rgb_planes(&self.crop, &mut self.input[..PLANE], 1.0);
        let mut out = self.infer(1)?;
        Ok(out.remove(0))
    }

    /// The embedding of a face already aligned to the 112x112 ArcFace template.
    pub fn embed_aligned(&mut self, crop: &BgrImage) -> Result<FaceEmbedding, VisionError> {
        check_image(crop)?;
        if (crop.width, crop.height) != (ARCFACE_SIDE, ARCFACE_SIDE) {
            return Err(VisionError::BadInput(format!(
                "aligned crop must be {ARCFACE_SIDE}x{ARCFACE_SIDE}, got {}x{}",
                crop.width, crop.height
            )));
        }
        write_rgb_planes(crop, &mut self.input[..PLANE], 1.0);
        let mut out = self.infer(1)?;
        Ok(out.remove(0))
    }

    /// Embeddings of several faces in one inference, in order. Each item is a picture
    /// and the landmarks of one face in it.
    pub fn embed_batch(
        &mut self,
        faces: &[(&BgrImage, &[Point; 5])],
    ) -> Result<Vec<FaceEmbedding>, VisionError> {
        if faces.is_empty() {
            return Ok(Vec::new());
        }
        if self.input.len() < faces.len() * PLANE {
            self.input.resize(faces.len() * PLANE, 0.0);
        }
        for (i, (image, landmarks)) in faces.iter().enumerate() {
            check_image(image)?;
            align_face_into(image, landmarks, &mut self.crop)?;
            write_rgb_planes(&self.crop, &mut self.input[i * PLANE..(i + 1) * PLANE], 1.0);
        }
        self.infer(faces.len())
    }

    /// Runs the first `n` crops of the input buffer.
    fn infer(&mut self, n: usize) -> Result<Vec<FaceEmbedding>, VisionError> {
        let model = self.name.as_str();
        let side = ARCFACE_SIDE as usize;
        let tensor = TensorRef::from_array_view(([n, 3, side, side], &self.input[..n * PLANE]))
            .map_err(|e| VisionError::inference(model, e))?;
        let outputs = self
            .session
            .run(ort::inputs![INPUT_NAME => tensor])
            .map_err(|e| VisionError::inference(model, e))?;
        let data = f32_output(&outputs, OUTPUT_NAME, model)?;
        if data.len() != n * EMBEDDING_DIM {
            return Err(VisionError::inference(
                model,
                format!(
                    "expected {} values from `{OUTPUT_NAME}`, got {}",
                    n * EMBEDDING_DIM,
                    data.len()
                ),
            ));
        }
        data.chunks_exact(EMBEDDING_DIM)
            .map(|raw| {
                let raw: &[f32; EMBEDDING_DIM] = raw.try_into().expect("chunk length");
                Embedding::from_raw(raw)
                    .map(|(embedding, raw_norm)| FaceEmbedding {
                        embedding,
                        raw_norm,
                    })
                    .ok_or_else(|| VisionError::inference(model, "zero or non-finite embedding"))
            })
            .collect()
    }
}

impl Model for FaceEmbedder {
    /// The frame is shared, not copied, with the detector; the detection's landmarks
    /// place the face.
    type Input = (Arc<BgrImage>, FaceDetection);
    type Output = FaceEmbedding;

    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> &str {
        &self.version
    }

    fn run(&mut self, (image, face): Self::Input) -> Result<Self::Output, VisionError> {
        self.embed(&image, &face.landmarks)
    }

    fn warm_up(&mut self) -> Result<(), VisionError> {
        // A mid-grey picture with the template's own landmarks: a valid alignment.
        let image = BgrImage::filled(ARCFACE_SIDE, ARCFACE_SIDE, [128, 128, 128]);
        let landmarks = ARCFACE_TEMPLATE.map(|p| Point::new(p[0] as f32, p[1] as f32));
        let face = FaceDetection {
            bbox: Rect::new(0.0, 0.0, 112.0, 112.0),
            landmarks,
            score: 1.0,
        };
        self.embed(&image, &face.landmarks).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(i: usize) -> Embedding {
        let mut v = [0.0; EMBEDDING_DIM];
        v[i] = 1.0;
        Embedding(v)
    }

    #[test]
    fn from_raw_normalises_and_keeps_the_norm() {
        let mut raw = [0.0; EMBEDDING_DIM];
        raw[0] = 3.0;
        raw[5] = -4.0;
        let (e, norm) = Embedding::from_raw(&raw).unwrap();
        assert_eq!(norm, 5.0);
        assert_eq!((e.0[0], e.0[5]), (0.6, -0.8));
        let fe = FaceEmbedding {
            embedding: e,
            raw_norm: norm,
        };
        assert_eq!((fe.raw()[0], fe.raw()[5]), (3.0, -4.0));
        assert!(Embedding::from_raw(&[0.0; EMBEDDING_DIM]).is_none());
        let mut nan = [0.0; EMBEDDING_DIM];
        nan[3] = f32::NAN;
        assert!(Embedding::from_raw(&nan).is_none());
    }

    #[test]
    fn cosine_of_known_vectors() {
        assert_eq!(cosine(&unit(0), &unit(0)), 1.0);
        assert_eq!(cosine(&unit(0), &unit(1)), 0.0);
        let mut v = [0.0; EMBEDDING_DIM];
        v[0] = 1.0;
        v[1] = 1.0;
        // Not unit length: cosine still 1/sqrt(2).
        let c = cosine(&Embedding(v), &unit(1));
        assert!((c - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-7);
        let mut neg = [0.0; EMBEDDING_DIM];
        neg[0] = -2.0;
        assert_eq!(cosine(&Embedding(neg), &unit(0)), -1.0);
        assert_eq!(cosine(&Embedding([0.0; EMBEDDING_DIM]), &unit(0)), 0.0);
    }

    #[test]
    fn mean_renormalises() {
        let m = Embedding::mean(&[unit(0), unit(1)]).unwrap();
        assert!((m.0[0] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-7);
        assert!((m.0[1] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-7);
        assert!(Embedding::mean(&[]).is_none());
    }

    #[test]
    fn alignment_of_template_landmarks_is_the_identity_crop() {
        let data = (0..112u32)
            .flat_map(|y| (0..112u32).flat_map(move |x| [x as u8, y as u8, 9]))
            .collect();
        let img = BgrImage::new(112, 112, data).unwrap();
        let lm = ARCFACE_TEMPLATE.map(|p| Point::new(p[0] as f32, p[1] as f32));
        let mut crop = BgrImage::filled(1, 1, [0; 3]);
        align_face_into(&img, &lm, &mut crop).unwrap();
        assert_eq!((crop.width, crop.height), (112, 112));
        // The f32 landmarks make the transform identity only to ~1e-6, so allow 1 level.
        for (a, b) in crop.data.iter().zip(&img.data) {
            assert!(a.abs_diff(*b) <= 1, "{a} vs {b}");
        }
    }

    #[test]
    fn doubled_picture_aligns_to_the_same_crop() {
        // The face drawn twice as large, landmarks doubled: same 112x112 crop.
        let small: Vec<u8> = (0..112u32)
            .flat_map(|y| (0..112u32).flat_map(move |x| [(x * 2) as u8, (y * 2) as u8, 50]))
            .collect();
        let big: Vec<u8> = (0..224u32)
            .flat_map(|y| (0..224u32).flat_map(move |x| [x as u8, y as u8, 50]))
            .collect();
        let (small, big) = (
            BgrImage::new(112, 112, small).unwrap(),
            BgrImage::new(224, 224, big).unwrap(),
        );
        let lm = ARCFACE_TEMPLATE.map(|p| Point::new(p[0] as f32, p[1] as f32));
        // Both pictures are linear ramps with big(2x) = small(x).
        let lm2 = lm.map(|p| Point::new(p.x * 2.0, p.y * 2.0));
        let (mut a, mut b) = (
            BgrImage::filled(1, 1, [0; 3]),
            BgrImage::filled(1, 1, [0; 3]),
        );
        align_face_into(&small, &lm, &mut a).unwrap();
        align_face_into(&big, &lm2, &mut b).unwrap();
        // Interior only: the outermost crop pixels may touch the small picture's border.
        let mut worst = 0;
        for y in 1..111 {
            for x in 1..111 {
                for (p, q) in a.pixel(x, y).iter().zip(b.pixel(x, y)) {
                    worst = worst.max(p.abs_diff(q));
                }
            }
        }
        assert!(worst <= 1, "max diff {worst}");
    }

    #[test]
    fn degenerate_landmarks_are_bad_input() {
        let img = BgrImage::filled(50, 50, [0; 3]);
        let mut crop = BgrImage::filled(1, 1, [0; 3]);
        let same = [Point::new(10.0, 10.0); 5];
        assert!(matches!(
            align_face_into(&img, &same, &mut crop),
            Err(VisionError::BadInput(_))
        ));
    }
}
