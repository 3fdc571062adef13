//! A detected face as the detector reports it, in frame coordinates.

use serde::{Deserialize, Serialize};

use crate::geometry::{Point, Rect};

/// One face from the detector. Landmarks follow YuNet's order: image-left eye,
/// image-right eye, nose tip, image-left mouth corner, image-right mouth corner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceDetection {
    pub bbox: Rect,
    pub landmarks: [Point; 5],
    /// Detector confidence in [0, 1].
    pub score: f32,
}

impl FaceDetection {
    /// The same detection with every coordinate multiplied by `factor`.
    pub fn scaled(&self, factor: f32) -> Self {
        Self {
            bbox: self.bbox.scaled(factor),
            landmarks: self
                .landmarks
                .map(|p| Point::new(p.x * factor, p.y * factor)),
            score: self.score,
        }
    }

    /// Distance between the eyes, a pose-robust measure of face scale.
    pub fn inter_ocular(&self) -> f32 {
        self.landmarks[0].distance(self.landmarks[1])
    }
}
