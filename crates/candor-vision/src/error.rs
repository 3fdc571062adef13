//! The one error type of this crate.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum VisionError {
    /// ONNX Runtime could not be loaded or its environment could not be built.
    #[error("ONNX Runtime initialisation failed: {0}")]
    Runtime(String),
    /// A model file could not be read or turned into a session.
    #[error("cannot load model {path}: {msg}")]
    ModelLoad { path: PathBuf, msg: String },
    /// A model ran but failed, or returned outputs of an unexpected shape.
    #[error("inference failed in {model}: {msg}")]
    Inference { model: String, msg: String },
    /// The caller's input cannot be processed (empty image, degenerate box, ...).
    #[error("bad input: {0}")]
    BadInput(String),
    /// The worker queue is full; the caller should drop or retry this item.
    #[error("model workers are overloaded (queue full)")]
    Overloaded,
    /// Every worker of the pool has stopped; nothing will answer.
    #[error("model workers are gone")]
    WorkerGone,
    /// The model panicked while running this input; the worker survived.
    #[error("model {model} panicked")]
    Panicked { model: String },
}

impl VisionError {
    pub(crate) fn inference(model: &str, msg: impl std::fmt::Display) -> Self {
        Self::Inference {
            model: model.to_owned(),
            msg: msg.to_string(),
        }
    }
}
