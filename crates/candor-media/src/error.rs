//! The crate's one error type. Messages are written for the person who supplied the
//! media: they say what is wrong with the input and, where possible, what to do.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum MediaError {
    #[error("input is empty")]
    Empty,

    #[error(
        "input is not a recognised video or image (supported: MP4, fragmented MP4, \
         WebM/MKV, raw H.264 Annex-B, JPEG, PNG)"
    )]
    UnrecognisedFormat,

    /// The caller's `ContainerHint` disagrees with what the bytes look like.
    #[error("input was declared as {declared} but looks like {detected}")]
    WrongFormat { declared: String, detected: String },

    #[error("input contains no video stream (audio-only or data-only media)")]
    NoVideoStream,

    #[error("unsupported video codec: {0}")]
    UnsupportedCodec(String),

    #[error("input is corrupt: {0}")]
    Corrupt(String),

    #[error("input is truncated (it ends early, e.g. an interrupted upload): {0}")]
    Truncated(String),

    /// A plain (non-fragmented, non-faststart) MP4 keeps its sample index at the end,
    /// so once the demuxer has read that far the samples cannot be reached without seeking.
    #[error(
        "this MP4 keeps its index ('moov' atom) at the end and cannot be decoded from a \
         non-seekable stream: upload it as a file, or re-mux it with \
         `-movflags +faststart` or as fragmented MP4"
    )]
    Unstreamable,

    /// A raw frame whose declared size, stride and data length do not agree.
    #[error("invalid frame: {0}")]
    InvalidFrame(String),

    #[error("video frame of {width}x{height} exceeds the limit of {limit} pixels")]
    TooLarge { width: u32, height: u32, limit: u64 },

    #[error("I/O error while reading the input: {0}")]
    Io(#[from] std::io::Error),

    #[error("could not decode the still image: {0}")]
    Image(String),

    /// An FFmpeg failure that is not attributable to the input (allocation, scaler setup).
    #[error("internal media error: {0}")]
    Internal(String),
}
