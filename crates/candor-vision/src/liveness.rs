//! Passive face anti-spoofing with the MiniFASNet pair from Silent-Face-Anti-Spoofing:
//! V2 on a 2.7x context crop and V1SE on a 4.0x crop, softmax-averaged.

use std::sync::Arc;

use candor_core::{BgrImage, FaceDetection, Point, Rect};
use ort::session::Session;
use ort::value::TensorRef;

use crate::crop::crop_scaled_into;
use crate::error::VisionError;
use crate::model::{Model, ModelSpec};
use crate::resize::check_image;
use crate::runtime::{RuntimeOptions, build_session, f32_output};
use crate::tensor::write_bgr_planes;

/// Context scale of the V2 crop.
pub const V2_SCALE: f64 = 2.7;
/// Context scale of the V1SE crop.
pub const V1SE_SCALE: f64 = 4.0;
/// Both models take 80x80 BGR crops.
pub const INPUT_SIDE: u32 = 80;
/// Class 1 is "live"; classes 0 and 2 are two kinds of spoof.
pub const LIVE_CLASS: usize = 1;
const CLASSES: usize = 3;

/// The fused (softmax-averaged) output of both models.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LivenessScore {
    /// Probability of the live class, `probs[1]`.
    pub live: f32,
    pub probs: [f32; 3],
}

impl LivenessScore {
    /// The most probable class (0 or 2 = spoof, 1 = live).
    pub fn label(&self) -> usize {
        (0..CLASSES).fold(0, |best, i| {
            if self.probs[i] > self.probs[best] {
                i
            } else {
                best
            }
        })
    }

    pub fn is_live(&self) -> bool {
        self.label() == LIVE_CLASS
    }
}

/// One of the two networks with the crop scale it was trained on.
struct Branch {
    session: Session,
    output: String,
    scale: f64,
}

impl Branch {
    fn load(spec: &ModelSpec, runtime: &RuntimeOptions, scale: f64) -> Result<Self, VisionError> {
        let session = build_session(&spec.path, runtime)?;
        let load_err = |msg: String| spec.load_error(msg);
        if session.inputs().len() != 1 || session.outputs().len() != 1 {
            return Err(load_err(format!(
                "expected 1 input and 1 output, found {} and {}",
                session.inputs().len(),
                session.outputs().len()
            )));
        }
        let output = session.outputs()[0].name().to_owned();
        Ok(Self {
            session,
            output,
            scale,
        })
    }

    /// Class probabilities for `input`, a [1, 3, 80, 80] tensor.
    fn probabilities(&mut self, model: &str, input: &[f32]) -> Result<[f32; CLASSES], VisionError> {
        let side = INPUT_SIDE as usize;
        let tensor = TensorRef::from_array_view(([1usize, 3, side, side], input))
            .map_err(|e| VisionError::inference(model, e))?;
        let outputs = self
            .session
            .run(ort::inputs![tensor])
            .map_err(|e| VisionError::inference(model, e))?;
        let logits = f32_output(&outputs, &self.output, model)?;
        let logits: [f32; CLASSES] = logits.try_into().map_err(|_| {
            VisionError::inference(
                model,
                format!("expected {CLASSES} logits, got {}", logits.len()),
            )
        })?;
        Ok(softmax(logits))
    }
}

fn softmax(logits: [f32; CLASSES]) -> [f32; CLASSES] {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp = logits.map(|l| (l - max).exp());
    let sum: f32 = exp.iter().sum();
    exp.map(|e| e / sum)
}

pub struct LivenessModel {
    v2: Branch,
    v1se: Branch,
    name: String,
    version: String,
    /// Scratch: the 80x80 crop and its tensor, reused for every call.
    crop: BgrImage,
    input: Vec<f32>,
}

impl LivenessModel {
    pub fn load(
        v2: &ModelSpec,
        v1se: &ModelSpec,
        runtime: &RuntimeOptions,
    ) -> Result<Self, VisionError> {
        let side = INPUT_SIDE as usize;
        Ok(Self {
            v2: Branch::load(v2, runtime, V2_SCALE)?,
            v1se: Branch::load(v1se, runtime, V1SE_SCALE)?,
            name: format!("{}+{}", v2.name, v1se.name),
            version: format!("{}+{}", v2.version, v1se.version),
            crop: BgrImage::filled(INPUT_SIDE, INPUT_SIDE, [0; 3]),
            input: vec![0.0; 3 * side * side],
        })
    }

    /// Scores the face `face` found in `image` (both in the same pixel coordinates).
    pub fn score(
        &mut self,
        image: &BgrImage,
        face: &FaceDetection,
    ) -> Result<LivenessScore, VisionError> {
        check_image(image)?;
        let side = INPUT_SIDE as usize;
        let mut fused = [0.0f32; CLASSES];
        for branch in [&mut self.v2, &mut self.v1se] {
            // As decoded: brightening dim crops made dim copies of real clips read
            // further from their clean clips (README), not nearer.
            crop_scaled_into(image, &face.bbox, branch.scale, &mut self.crop)?;
            write_bgr_planes(&self.crop, &mut self.input, side, side);
            let probs = branch.probabilities(&self.name, &self.input)?;
            for (f, p) in fused.iter_mut().zip(probs) {
                *f += p / 2.0;
            }
        }
        Ok(LivenessScore {
            live: fused[LIVE_CLASS],
            probs: fused,
        })
    }
}

impl Model for LivenessModel {
    /// The frame is shared, not copied, between the detector and this model.
    type Input = (Arc<BgrImage>, FaceDetection);
    type Output = LivenessScore;

    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> &str {
        &self.version
    }

    fn run(&mut self, (image, face): Self::Input) -> Result<Self::Output, VisionError> {
        self.score(&image, &face)
    }

    fn warm_up(&mut self) -> Result<(), VisionError> {
        let image = BgrImage::filled(320, 240, [128, 128, 128]);
        let face = FaceDetection {
            bbox: Rect::new(130.0, 80.0, 60.0, 80.0),
            landmarks: [Point::default(); 5],
            score: 1.0,
        };
        self.score(&image, &face).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_is_shift_invariant() {
        let p = softmax([1.0, 2.0, 3.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let q = softmax([1001.0, 1002.0, 1003.0]);
        for (a, b) in p.iter().zip(q) {
            assert!((a - b).abs() < 1e-6);
        }
        assert!((p[2] - 0.665_240_9).abs() < 1e-6);
    }

    #[test]
    fn label_is_the_argmax() {
        let s = LivenessScore {
            live: 0.3,
            probs: [0.2, 0.3, 0.5],
        };
        assert_eq!(s.label(), 2);
        assert!(!s.is_live());
        let s = LivenessScore {
            live: 0.6,
            probs: [0.2, 0.6, 0.2],
        };
        assert!(s.is_live());
    }
}
