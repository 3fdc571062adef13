use candor_media::MediaError;
use candor_vision::VisionError;

/// Errors of the analysis pipeline. "No face", "too dark" and the like are results,
/// never errors.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The input could not be read or decoded.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// A model failed to load or run.
    #[error(transparent)]
    Vision(#[from] VisionError),
    /// Settings or the model manifest are wrong.
    #[error("{0}")]
    Config(String),
    /// The decoding thread stopped unexpectedly.
    #[error("decoder thread stopped unexpectedly")]
    DecoderGone,
}
