//! Candor's evaluation harness, pure and model-free: it reads a labelled manifest
//! ([`manifest`]), sums each file's judged segments up into per-file scores
//! ([`aggregate`]), and measures how well every signal and the risk states separate
//! attacks from real presentations ([`metrics`], [`report`]): ROC AUC with stratified
//! bootstrap intervals, APCER/BPCER (ISO/IEC 30107-3) at the state thresholds, the
//! confusion of states against labels, and an ROC chart ([`svg`]).
//!
//! The `candor eval` command runs the models and feeds this crate; everything here is
//! testable with hand-made segment reports.

pub mod aggregate;
pub mod attack_fit;
pub mod calibrate;
pub mod fit;
pub mod folds;
pub mod manifest;
pub mod metrics;
pub mod report;
pub mod svg;
pub mod synthetic_fit;

pub use aggregate::{FileAggregate, Orientation, ScoreSpec, SignalAggregate};
pub use manifest::{Entry, Label, Manifest, ManifestError};
pub use metrics::{Ci, Confusion, PadErrors, Rate, RocPoint, SplitMix64};
pub use report::{EvalOptions, EvalReport, FileEval, FileStatus};
