//! Candor's vision models: ONNX Runtime wrappers (YuNet face detection, MiniFASNet
//! liveness, SFace identity, MediaPipe face mesh), the image preprocessing and
//! geometry they need (alignment, head pose, blink and mouth ratios), pixel-only face
//! quality, and a worker pool that runs model instances on dedicated threads.
//!
//! Call [`init_runtime`] once (or set `ORT_DYLIB_PATH`) before loading a model.

pub mod align;
pub mod blend;
pub mod crop;
pub mod error;
pub mod face_metrics;
pub mod forgery;
pub mod geometry3d;
pub mod identity;
pub mod liveness;
pub mod mesh;
pub mod model;
pub mod nms;
pub mod pose;
pub mod quality;
pub mod resize;
pub mod rigid;
pub mod runtime;
pub mod skin;
mod tensor;
pub mod worker;
pub mod yunet;

pub use align::{Affine, Border, RotatedSquare, warp_affine_bilinear};
pub use blend::{BlendMeasures, blend_measures};
pub use error::VisionError;
pub use face_metrics::FaceMetrics;
pub use forgery::{ColourOrder, CropCentre, CropRotation, ForgeryConfig, ForgeryModel};
pub use identity::{Embedding, FaceEmbedder, FaceEmbedding, cosine};
pub use liveness::{LivenessModel, LivenessScore};
pub use mesh::{FaceMesh, MeshResult, MeshRoi};
pub use model::{Model, ModelSpec};
pub use pose::{HeadPose, HeadPoseEstimate, HeadPoseEstimator};
pub use quality::{FaceQuality, face_quality};
pub use resize::PixelRect;
pub use rigid::rigid_residual;
pub use runtime::{ExecutionProvider, RuntimeOptions, init_runtime};
pub use skin::skin_patches;
#[cfg(feature = "fault-injection")]
pub use worker::Fault;
pub use worker::{PoolHealth, WorkerPool};
pub use yunet::{DetectorOptions, FaceDetector};
