//! What the pipeline saw on one analysed frame.

use serde::{Deserialize, Serialize};

use crate::{FaceDetection, FrameInfo, Signal};

/// One face on an analysed frame, with the track it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceObservation {
    pub track_id: u32,
    pub detection: FaceDetection,
    /// Signals measured on this face. Analysers run on the main subject only, so other
    /// faces usually carry none.
    pub signals: Vec<Signal>,
}

/// One analysed (sampled) frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameObservation {
    pub info: FrameInfo,
    /// Every face found, in frame (source) coordinates.
    pub faces: Vec<FaceObservation>,
    /// Track id of the main subject when it is on this frame.
    pub main_track: Option<u32>,
    /// Mean luma (0-255) of the whole picture, when measured: tells a camera that is
    /// off (black) from an empty room.
    #[serde(default)]
    pub picture_luma: Option<f32>,
}

impl FrameObservation {
    pub fn main_face(&self) -> Option<&FaceObservation> {
        let id = self.main_track?;
        self.faces.iter().find(|f| f.track_id == id)
    }
}
