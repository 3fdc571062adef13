//! Candor's vision models: ONNX Runtime wrappers (YuNet face detection, MiniFASNet
//! liveness), the image preprocessing they need, pixel-only face quality, and a
//! worker pool that runs model instances on dedicated threads.
//!
//! Call [`init_runtime`] once (or set `ORT_DYLIB_PATH`) before loading a model.

pub mod crop;
pub mod error;
pub mod liveness;
pub mod model;
pub mod nms;
pub mod quality;
pub mod resize;
pub mod runtime;
mod tensor;
pub mod worker;
pub mod yunet;

pub use error::VisionError;
pub use liveness::{LivenessModel, LivenessScore};
pub use model::{Model, ModelSpec};
pub use quality::{FaceQuality, face_quality};
pub use resize::PixelRect;
pub use runtime::{ExecutionProvider, RuntimeOptions, init_runtime};
pub use worker::WorkerPool;
pub use yunet::{DetectorOptions, FaceDetector};
