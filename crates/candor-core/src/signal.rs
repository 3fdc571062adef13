//! Named per-face measurements: the plug-in point between analysers and the decision
//! logic. An analyser emits `Signal`s; segments aggregate whatever signals are present,
//! and fusion rules look signals up by name. A new model adds names and a rule, never a
//! new core type.

use serde::{Deserialize, Serialize};

/// Well-known signal names. Values are documented where the analyser computes them.
pub mod names {
    /// Passive liveness: probability that the face is a live person, 0..1 (MiniFASNet pair).
    pub const LIVENESS: &str = "liveness";
    /// Face box width in source-frame pixels.
    pub const FACE_WIDTH_PX: &str = "face_width_px";
    /// Variance of the Laplacian of the face's luma at a fixed 128x128 size.
    pub const SHARPNESS: &str = "sharpness";
    /// Mean luma of the face box, 0..255.
    pub const BRIGHTNESS: &str = "brightness";
    /// Share of face pixels that are clipped dark or bright, 0..1.
    pub const CLIPPED_SHARE: &str = "clipped_share";
    /// Face detector confidence, 0..1.
    pub const DETECTION_SCORE: &str = "detection_score";
    /// log2 ratio of the inner face's Laplacian variance to its surroundings'.
    pub const FACE_CONTEXT_SHARPNESS: &str = "face_context_sharpness";
    /// log2 ratio of the inner face's noise level (median |Laplacian|) to its
    /// surroundings'.
    pub const FACE_CONTEXT_NOISE: &str = "face_context_noise";
    /// log2 ratio of gradient strength on the face contour to that inside the face.
    pub const CONTOUR_EDGE: &str = "contour_edge";
    /// Cosine similarity of the main face to the session's identity (SFace), -1..1;
    /// below 0.363 it is another person.
    pub const IDENTITY_SIMILARITY: &str = "identity_similarity";
    /// Cosine similarity of the main face to the candidate's enrolled identity (SFace),
    /// -1..1; present only when the session verifies against an enrolment.
    pub const CANDIDATE_SIMILARITY: &str = "candidate_similarity";
    /// Mean absolute luma change (0-255) of the whole picture since the previous
    /// analysed frame, on a 48x48 thumbnail: near 0 for frozen video.
    pub const FRAME_CHANGE: &str = "frame_change";
    /// Share (0..1) of the decoded frames since the previous analysed frame that replay
    /// an earlier stretch of the video in order (looped video; see `replay`). Absent
    /// when the input gives no frame fingerprints (JPEG or PNG frame streams).
    pub const LOOPED: &str = "looped";
    /// Movement of the main face's box centre since the previous analysed frame, in
    /// face widths.
    pub const FACE_MOTION: &str = "face_motion";
    /// Change of the main face's landmark shape (nose and mouth corners in the frame of
    /// the eyes) since the previous analysed frame, in inter-ocular distances.
    pub const SHAPE_CHANGE: &str = "shape_change";
    /// |change of the face's mean luma − change of the background's| since the previous
    /// analysed frame (0-255).
    pub const FACE_FLICKER: &str = "face_flicker";
    /// Head yaw in degrees from the face mesh (PnP against the canonical face); 0 =
    /// facing the camera, negative = turned toward the picture's right.
    pub const HEAD_YAW: &str = "head_yaw";
    /// Head pitch in degrees; its level varies by person, its changes are meaningful.
    pub const HEAD_PITCH: &str = "head_pitch";
    /// Mean eye aspect ratio of both eyes from the mesh: open eyes about 0.2-0.4, a
    /// blink drops toward 0.
    pub const EYE_OPENNESS: &str = "eye_openness";
    /// Blinks ended since the previous analysed frame (dips of `eye_openness` under 0.7
    /// of the face's recent open level and back, see `blink`); a segment's count is
    /// mean x frames. Present only while the stream glances at the eyes between
    /// analysed frames (`--glance-fps`, and during blink challenges).
    pub const BLINKS: &str = "blinks";
    /// Inner-lip gap over mouth width from the mesh: closed 0.01-0.06, speaking more.
    pub const MOUTH_OPEN: &str = "mouth_open";
    /// Change of the face mesh's shape since the previous analysed frame, with moving,
    /// in-plane turning and scaling removed (2-D Procrustes), in face radii: a photo
    /// moved in front of the camera barely deforms.
    pub const MESH_DEFORMATION: &str = "mesh_deformation";
    /// What is left of the main face's change since the previous analysed frame once
    /// the best shift, scale and in-plane turn of the picture is undone, against the
    /// face's own detail: a photo moved in front of the camera reads under 0.3, live
    /// faces 0.4 and up. Only on frames where the face moved (3 % of its width or more).
    pub const RIGID_RESIDUAL: &str = "rigid_residual";
    /// SNR of the face's pulse over the last window (remote photoplethysmography, see
    /// `pulse`), dB: power within 0.1 Hz of the strongest rate in 42-240 bpm and of its
    /// first harmonic over the rest of that band. White noise alone reads about -3 to -9.
    pub const PULSE_SNR: &str = "pulse_snr";
    /// Agreement, 0..1, of the pulses of forehead and both cheeks over the last window
    /// (see `pulse::PulseReading::coherence`): near 1 for one pulse seen everywhere, near
    /// 0 for noise or regions beating at different rates.
    pub const PULSE_COHERENCE: &str = "pulse_coherence";
    /// The signals compared with the session's own baseline (`<name>_shift`).
    pub const SESSION_RELATIVE: [&str; 4] = [
        FACE_CONTEXT_SHARPNESS,
        FACE_CONTEXT_NOISE,
        CONTOUR_EDGE,
        FACE_FLICKER,
    ];
}

/// What produced a signal: a model (name + version from the model manifest) or a
/// measurement computed directly from pixels (name of the measurement, version of the
/// formula).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Source {
    pub name: String,
    pub version: String,
}

impl Source {
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub name: String,
    pub value: f32,
    pub source: Source,
}

impl Signal {
    pub fn new(name: impl Into<String>, value: f32, source: &Source) -> Self {
        Self {
            name: name.into(),
            value,
            source: source.clone(),
        }
    }
}

/// Finds a signal by name in a list.
pub fn find<'a>(signals: &'a [Signal], name: &str) -> Option<&'a Signal> {
    signals.iter().find(|s| s.name == name)
}
