//! Candor's core: the plain types every stage shares and the pure decision logic
//! (signals, segments, risk states, fusion, thresholds). It depends on no media
//! library, model runtime or async runtime, so all of it is testable without models
//! or video.

pub mod face;
pub mod geometry;
pub mod image;

pub use face::FaceDetection;
pub use geometry::{Point, Rect};
pub use image::{BgrImage, Frame, FrameInfo};
