//! What decoding yields: the stream's description and one event per decoded frame.
//! A leaf both the decoder and the video source speak.

use candor_core::{Frame, FrameInfo};

/// What the input turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamInfo {
    /// FFmpeg demuxer name (e.g. `mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`, `h264`),
    /// or `jpeg` / `png` for stills.
    pub container: String,
    /// Codec name (e.g. `h264`, `vp8`, `vp9`, `jpeg`, `png`).
    pub codec: String,
    /// Size of the first frame as declared by the stream (it may change mid-stream),
    /// as displayed: after `rotation_degrees`, so a portrait phone recording stored
    /// as 1920x1080 reports 1080x1920.
    pub width: u32,
    pub height: u32,
    /// Clockwise rotation (0, 90, 180 or 270) applied to every frame for display, from
    /// the container's display matrix (phone recordings); other angles are rounded to
    /// the nearest quarter turn. Sampled images and `FrameInfo` sizes are already
    /// turned. A per-frame display matrix (H.264/HEVC display orientation SEI), which
    /// overrides this for the frames it applies to, is not known here. Always 0 for
    /// stills, whose EXIF orientation is applied on decoding.
    pub rotation_degrees: i32,
    /// The display matrix also mirrors the picture left-right (applied before the
    /// rotation). Rare: some front-camera recordings.
    pub mirrored: bool,
    /// Frame rate declared by the stream, if any.
    pub fps: Option<f32>,
    /// Duration declared by the container, if known (not for live streams or stills).
    pub duration_us: Option<i64>,
}

/// One event per decoded frame, in presentation order.
#[derive(Debug, Clone)]
pub enum DecodeEvent {
    /// Chosen by the sampling policy, converted to BGR at the working size.
    Sampled(Frame),
    /// Decoded but not sampled: only its timing and size are reported.
    Skipped(FrameInfo),
    /// Not sampled for analysis, but picked at the glance rate
    /// ([`DecodeOptions::glance`]) and converted like a sampled frame, for quick looks
    /// between analyses (blinks).
    Glance(Frame),
}

impl DecodeEvent {
    pub fn info(&self) -> &FrameInfo {
        match self {
            Self::Sampled(frame) | Self::Glance(frame) => &frame.info,
            Self::Skipped(info) => info,
        }
    }

    pub fn frame(&self) -> Option<&Frame> {
        match self {
            Self::Sampled(frame) => Some(frame),
            Self::Skipped(_) | Self::Glance(_) => None,
        }
    }
}
