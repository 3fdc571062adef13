//! Candor's analysis pipeline: decode -> face detection and tracking -> per-face
//! analysers (quality, liveness) -> segments -> risk fusion -> summary.
//!
//! One [`StreamRunner`] (around a [`StreamAnalyser`]) serves recorded files
//! ([`analyse_file`]) and live sessions, so both judge video identically and follow the
//! same per-stream rules.

pub mod analyser;
pub mod engine;
pub mod error;
pub mod evidence;
pub mod file;
pub mod models;
pub mod motion;
pub mod photo;
pub mod pulse_watch;
pub mod runner;
pub mod stream;
pub mod tracker;

pub use analyser::{AnalysisFrame, FaceAnalyser};
pub use engine::{Engine, EngineConfig};
pub use error::PipelineError;
pub use file::{FileOutcome, analyse_file};
pub use models::{ForgerySelection, ModelCatalog};
pub use photo::{PhotoIdentity, photo_identity};
pub use runner::{FrameFate, JudgedSegment, StreamInput, StreamOutput, StreamRunner};
pub use stream::{FrameTimings, StreamAnalyser};
pub use tracker::{Tracker, TrackerConfig};

/// Faults a test build can inject into the model pools ([`Engine::inject_fault`]).
#[cfg(feature = "fault-injection")]
pub use candor_vision::Fault;
