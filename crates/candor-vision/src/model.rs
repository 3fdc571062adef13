//! What every model backend offers to the worker pool, and how callers name a model file.

use std::path::PathBuf;

use crate::error::VisionError;

/// A synchronous model: owns its session and scratch buffers, runs one input at a time.
/// The worker pool gives each instance its own OS thread.
pub trait Model: Send + 'static {
    type Input: Send + 'static;
    type Output: Send + 'static;

    fn name(&self) -> &str;
    fn version(&self) -> &str;
    fn run(&mut self, input: Self::Input) -> Result<Self::Output, VisionError>;
    /// One real inference on a dummy input, so the first caller does not pay for
    /// lazy allocations and kernel selection.
    fn warm_up(&mut self) -> Result<(), VisionError>;
}

/// One model file as the project manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    pub name: String,
    pub version: String,
    pub path: PathBuf,
}

impl ModelSpec {
    /// The error for a file that loaded but is not the model its wrapper expects.
    pub fn load_error(&self, msg: String) -> VisionError {
        VisionError::ModelLoad {
            path: self.path.clone(),
            msg,
        }
    }

    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            path: path.into(),
        }
    }
}
