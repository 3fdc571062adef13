//! Candor's media input: decodes recorded files and streamed input (MP4 including
//! fragmented, WebM/MKV with VP8/VP9/H.264, raw H.264 Annex-B, JPEG/PNG stills) into
//! timestamped frames, converting only the frames chosen by the sampling policy to
//! BGR at the working size.
//!
//! * Every decoded frame yields exactly one [`DecodeEvent`], in presentation order.
//! * Timestamps are microseconds from the stream's start time (the first frame of a
//!   normal file is at 0). Frames without timestamps (raw H.264) get `index / fps`,
//!   with fps from [`DecodeOptions::fps_hint`], else the stream's declared rate, else 25.
//! * Sampling keeps a fixed `1 / sample_fps` grid anchored at the first frame (always
//!   sampled); a frame is sampled when it reaches the next grid point, and gaps skip
//!   grid points rather than causing bursts (see [`Sampler`]).
//! * Video is turned as its display matrix says (phone recordings: see
//!   [`StreamInfo::rotation_degrees`]); sizes in [`StreamInfo`] and `FrameInfo` are
//!   the displayed ones.
//! * Stills (JPEG/PNG, by magic bytes) yield one frame at pts 0, EXIF orientation applied.
//!
//! ```no_run
//! # fn main() -> Result<(), candor_media::MediaError> {
//! let mut decoder = candor_media::open_path("interview.mp4", &Default::default())?;
//! for event in &mut decoder {
//!     if let candor_media::DecodeEvent::Sampled(frame) = event? {
//!         println!("{} µs: {:?}", frame.info.pts_us, frame.image);
//!     }
//! }
//! # Ok(()) }
//! ```

mod decoder;
mod error;
mod events;
mod options;
mod orient;
mod probe;
mod raw;
mod sampler;
mod scale;
mod still;
mod stream_io;
mod timeline;
mod video;

pub use decoder::{Decoder, open_path, open_reader};
pub use error::MediaError;
pub use events::{DecodeEvent, StreamInfo};
pub use options::{ContainerHint, DecodeOptions, GlancePlan, GlanceRate};
pub use raw::{RawConverter, RawFormat, RawFrame};
pub use sampler::{GlanceSampler, Sampler};
pub use scale::working_size;

/// Initialises FFmpeg once per process and silences its logging: failures reach
/// the caller as `MediaError`s instead of lines on stderr.
fn init_ffmpeg() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        if let Err(e) = ffmpeg_next::init() {
            tracing::warn!("FFmpeg initialisation reported: {e}");
        }
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Quiet);
    });
}
