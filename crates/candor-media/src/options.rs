//! What the caller can choose about decoding.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// Which container or still format the input is in. `Auto` probes the bytes; a
/// specific hint forces that demuxer (useful for streamed input whose first bytes
/// are ambiguous, e.g. raw H.264 without a leading SPS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContainerHint {
    #[default]
    Auto,
    /// MP4 / MOV, plain or fragmented.
    Mp4,
    /// Matroska, including WebM.
    Matroska,
    /// Raw H.264 elementary stream with Annex-B start codes.
    H264AnnexB,
    Jpeg,
    Png,
}

impl ContainerHint {
    /// FFmpeg demuxer short name to force, `None` for probing or for stills.
    pub(crate) fn demuxer(self) -> Option<&'static std::ffi::CStr> {
        match self {
            Self::Mp4 => Some(c"mp4"),
            Self::Matroska => Some(c"matroska"),
            Self::H264AnnexB => Some(c"h264"),
            Self::Auto | Self::Jpeg | Self::Png => None,
        }
    }
}

/// How often to glance at frames between analysis samples (frames per second, 0 =
/// never), shared with whoever changes it while decoding runs: a live session raises
/// it for the seconds of a blink challenge. Glanced frames are converted like sampled
/// ones and reach the caller as [`crate::DecodeEvent::Glance`].
#[derive(Debug, Clone, Default)]
pub struct GlanceRate(Arc<AtomicU32>);

impl GlanceRate {
    pub fn new(fps: f32) -> Self {
        let rate = Self::default();
        rate.set(fps);
        rate
    }

    /// Takes effect from the next decoded frame. Non-finite or negative means 0.
    pub fn set(&self, fps: f32) {
        let fps = if fps.is_finite() { fps.max(0.0) } else { 0.0 };
        self.0.store(fps.to_bits(), Ordering::Relaxed);
    }

    pub fn get(&self) -> f32 {
        f32::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// The glance rates a stream switches between: `watchful_fps` while something is in
/// doubt, `idle_fps` otherwise (the stream runner decides which, and sets the
/// stream's own [`GlanceRate`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GlancePlan {
    pub watchful_fps: f32,
    pub idle_fps: f32,
}

impl PartialEq for GlanceRate {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DecodeOptions {
    /// Frames per second to sample for analysis; `<= 0` (or NaN) samples every frame.
    pub sample_fps: f32,
    /// Longest side of sampled images; larger sources are scaled down (never up),
    /// keeping the aspect ratio. 0 keeps the source size.
    pub max_side: u32,
    /// Longest side of the full-resolution picture sampled frames also carry, for face
    /// crops (`Frame::source`): the decoded picture, scaled down only beyond this so
    /// a 4K frame does not hold 25 MB while in flight. No such picture is made when it
    /// would be no larger than the working size, so 0 (or anything up to `max_side`)
    /// turns full-resolution crops off. Glances and skipped frames never get one.
    pub crop_max_side: u32,
    /// Decoded frames with more pixels than this are rejected with `TooLarge`.
    pub max_source_pixels: u64,
    /// Frame rate to assume when frames carry no timestamps (raw H.264 usually);
    /// takes precedence over the rate the stream declares. `None`: the declared
    /// rate, else 25 fps.
    pub fps_hint: Option<f32>,
    pub hint: ContainerHint,
    /// Glances between samples (see [`GlanceRate`]); default never.
    pub glance: GlanceRate,
    /// The rates a stream's runner moves `glance` between; default never.
    pub glance_plan: GlancePlan,
    /// Decoder threads (frame threading); 0 lets FFmpeg choose from the cores, which
    /// speeds one file up. A node running many live streams wants 1 each: the streams
    /// already fill the cores, and every extra frame thread holds its own pictures and
    /// delays output by a frame.
    pub decoder_threads: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            sample_fps: 2.0,
            max_side: 640,
            // Off until the crops are shrunk without aliasing and the fusion is refitted
            // on them (see README, "candor analyze").
            crop_max_side: 0,
            max_source_pixels: 8192 * 8192,
            fps_hint: None,
            hint: ContainerHint::Auto,
            glance: GlanceRate::default(),
            glance_plan: GlancePlan::default(),
            decoder_threads: 0,
        }
    }
}
