//! Candor's core: the plain types every stage shares and the pure decision logic
//! (signals, segments, risk states, fusion, thresholds). It depends on no media
//! library, model runtime or async runtime, so all of it is testable without models
//! or video.
//!
//! Flow: analysers attach [`Signal`]s to faces on each analysed frame
//! ([`FrameObservation`]); a [`Segmenter`] groups every decoded frame into fixed
//! windows ([`Segment`]); [`Fusion`] rules judge each segment ([`Assessment`]);
//! a [`SummaryBuilder`] sums a recording or session up.

pub mod attack;
pub mod baseline;
pub mod blink;
pub mod capture;
pub mod challenge;
pub mod codes;
pub mod config;
pub mod confirm;
pub mod face;
mod fitted;
pub mod fusion;
pub mod geometry;
pub mod hysteresis;
pub mod identity;
pub mod identity_search;
pub mod image;
pub mod judge;
pub mod observation;
pub mod pulse;
pub mod quality;
pub mod replay;
pub mod risk;
pub mod rules;
pub mod segment;
pub mod signal;
pub mod summary;
pub mod sustained;
#[cfg(test)]
mod testing;

pub use config::AnalysisConfig;
pub use face::FaceDetection;
pub use fusion::Fusion;
pub use geometry::{Point, Rect};
pub use image::{BgrImage, Frame, FrameInfo, crop_image};
pub use judge::Judge;
pub use observation::{FaceObservation, FrameObservation};
pub use quality::AbstainCode;
pub use risk::{Assessment, Reason, RiskRule, RiskState};
pub use segment::{FrameCounts, FrameEvent, Segment, Segmenter, SignalStats};
pub use signal::{Signal, Source};
pub use summary::{SegmentReport, StateChange, StateTracker, Summary, SummaryBuilder};
