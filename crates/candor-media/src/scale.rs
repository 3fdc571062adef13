//! Conversion of decoded pictures to BGR at the working size, in one swscale pass.
//!
//! The YUV → RGB conversion follows each frame's colour tags, as FFmpeg's own `scale`
//! filter does: full-range ("pc"/JPEG) video is expanded from 0–255 rather than
//! 16–235, and the matrix is the tagged one (BT.709 for most HD recordings);
//! untagged video keeps swscale's defaults (limited range, BT.601).

use std::os::raw::c_int;
use std::ptr;

use candor_core::BgrImage;
use ffmpeg_next::ffi;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::color;
use ffmpeg_next::util::frame;

use crate::MediaError;

/// Size that fits the longest side within `max_side`, keeping the aspect ratio and
/// never upscaling. `max_side == 0` keeps the source size.
pub fn working_size(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let longest = width.max(height);
    if max_side == 0 || longest <= max_side {
        return (width, height);
    }
    let scale = f64::from(max_side) / f64::from(longest);
    let fit = |side: u32| ((f64::from(side) * scale).round() as u32).clamp(1, max_side);
    (fit(width), fit(height))
}

/// The size of the full-resolution picture kept for face crops (see
/// `DecodeOptions::crop_max_side`), or `None` when it would be no larger than the
/// working size `working` (then the working picture serves for crops as well).
pub fn crop_size(
    width: u32,
    height: u32,
    working: (u32, u32),
    crop_max_side: u32,
) -> Option<(u32, u32)> {
    if crop_max_side == 0 {
        return None;
    }
    let size = working_size(width, height, crop_max_side);
    (size.0 > working.0).then_some(size)
}

/// `scaling::Context` is not `Send` in ffmpeg-next, but an `SwsContext` has no thread
/// affinity: it is plain heap state used through `&mut`, one call at a time.
struct SendScaler(scaling::Context);
// SAFETY: see above; the context is owned, never shared, and only used via `&mut self`.
unsafe impl Send for SendScaler {}

/// Keeps one scaler and reuses it while the source size and format stay the same,
/// recreating it when they change (resolution can change mid-stream).
pub struct Scaler {
    ctx: Option<SendScaler>,
    out: frame::Video,
    /// The source colour tags the context was last set up for.
    colour: Option<(color::Range, color::Space)>,
}

impl Scaler {
    pub fn new() -> Self {
        Self {
            ctx: None,
            out: frame::Video::empty(),
            colour: None,
        }
    }

    /// Converts `src` to tightly packed BGR24 scaled to fit `max_side`.
    pub fn convert(&mut self, src: &frame::Video, max_side: u32) -> Result<BgrImage, MediaError> {
        let (width, height, format) = (src.width(), src.height(), src.format());
        let (out_w, out_h) = working_size(width, height, max_side);
        let wanted_in = scaling::context::Definition {
            format,
            width,
            height,
        };
        let reusable = self.ctx.as_ref().is_some_and(|c| {
            *c.0.input() == wanted_in && (c.0.output().width, c.0.output().height) == (out_w, out_h)
        });
        if !reusable {
            // Area averaging: the right filter for downscaling, exact for same-size conversion.
            let ctx = scaling::Context::get(
                format,
                width,
                height,
                Pixel::BGR24,
                out_w,
                out_h,
                scaling::Flags::AREA,
            )
            .map_err(|e| {
                MediaError::Internal(format!(
                    "cannot convert {format:?} {width}x{height} to BGR {out_w}x{out_h}: {e}"
                ))
            })?;
            self.ctx = Some(SendScaler(ctx));
            self.colour = None;
            // The output frame is allocated by the first run at the new size.
            self.out = frame::Video::empty();
        }
        let Some(ctx) = self.ctx.as_mut() else {
            // Unreachable: set just above when missing.
            return Err(MediaError::Internal("scaler missing".into()));
        };
        // Tags may change from frame to frame even when the size does not.
        let colour = (src.color_range(), src.color_space());
        if self.colour != Some(colour) {
            set_source_colour(&mut ctx.0, format, colour.0, colour.1);
            self.colour = Some(colour);
        }
        ctx.0
            .run(src, &mut self.out)
            .map_err(|e| MediaError::Internal(format!("scaling failed: {e}")))?;
        Ok(packed_bgr(&self.out, out_w, out_h))
    }
}

/// Tells the scaler the source's colour range and matrix (YUV and grey sources only;
/// RGB needs no conversion matrix).
fn set_source_colour(
    ctx: &mut scaling::Context,
    format: Pixel,
    range: color::Range,
    space: color::Space,
) {
    let Some(desc) = format.descriptor() else {
        return;
    };
    // SAFETY: the descriptor is static FFmpeg data.
    let flags = unsafe { (*desc.as_ptr()).flags };
    if flags & ffi::AV_PIX_FMT_FLAG_RGB as u64 != 0 {
        return;
    }
    // The deprecated yuvj formats (H.264 and MJPEG decoders still output them) are
    // full range by definition; otherwise only a "pc" tag means full range.
    let yuvj = matches!(
        format,
        Pixel::YUVJ420P | Pixel::YUVJ422P | Pixel::YUVJ444P | Pixel::YUVJ440P | Pixel::YUVJ411P
    );
    let full_range = c_int::from(yuvj || range == color::Range::JPEG);
    let matrix = match space {
        color::Space::BT709 => ffi::SWS_CS_ITU709,
        color::Space::FCC => ffi::SWS_CS_FCC,
        color::Space::BT470BG | color::Space::SMPTE170M => ffi::SWS_CS_ITU601,
        color::Space::SMPTE240M => ffi::SWS_CS_SMPTE240M,
        color::Space::BT2020NCL | color::Space::BT2020CL => ffi::SWS_CS_BT2020,
        _ => ffi::SWS_CS_DEFAULT,
    };
    // SAFETY: `ctx` is a valid, initialised SwsContext; the out-pointers are locals,
    // and the coefficient tables are static swscale data (the destination table and
    // the adjustments are passed back unchanged).
    let ret = unsafe {
        let sws = ctx.as_mut_ptr();
        let (mut inv_table, mut table) = (ptr::null_mut(), ptr::null_mut());
        let (mut src_range, mut dst_range) = (0, 0);
        let (mut brightness, mut contrast, mut saturation) = (0, 0, 0);
        let got = ffi::sws_getColorspaceDetails(
            sws,
            &mut inv_table,
            &mut src_range,
            &mut table,
            &mut dst_range,
            &mut brightness,
            &mut contrast,
            &mut saturation,
        );
        if got < 0 {
            got
        } else {
            ffi::sws_setColorspaceDetails(
                sws,
                ffi::sws_getCoefficients(matrix),
                full_range,
                table,
                dst_range,
                brightness,
                contrast,
                saturation,
            )
        }
    };
    if ret < 0 {
        tracing::debug!("swscale kept its default colour details for {format:?} ({ret})");
    }
}

/// Copies a BGR24 frame (rows possibly padded) into a tightly packed image.
fn packed_bgr(frame: &frame::Video, width: u32, height: u32) -> BgrImage {
    let row = width as usize * 3;
    let stride = frame.stride(0);
    let plane = frame.data(0);
    let mut data = Vec::with_capacity(row * height as usize);
    for y in 0..height as usize {
        data.extend_from_slice(&plane[y * stride..y * stride + row]);
    }
    BgrImage {
        width,
        height,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_size_fits_longest_side_without_upscaling() {
        assert_eq!(working_size(1280, 720, 640), (640, 360));
        assert_eq!(working_size(720, 1280, 640), (360, 640));
        assert_eq!(working_size(320, 240, 640), (320, 240));
        assert_eq!(working_size(640, 480, 640), (640, 480));
        assert_eq!(working_size(1000, 333, 640), (640, 213));
        assert_eq!(working_size(5000, 1, 640), (640, 1));
        assert_eq!(working_size(1280, 720, 0), (1280, 720));
    }

    #[test]
    fn crop_size_only_when_larger_than_the_working_size() {
        assert_eq!(crop_size(1920, 1080, (640, 360), 1920), Some((1920, 1080)));
        assert_eq!(crop_size(3840, 2160, (640, 360), 1920), Some((1920, 1080)));
        assert_eq!(crop_size(1080, 1920, (360, 640), 1920), Some((1080, 1920)));
        assert_eq!(crop_size(640, 480, (640, 480), 1920), None);
        assert_eq!(crop_size(1920, 1080, (640, 360), 0), None);
        assert_eq!(crop_size(1920, 1080, (640, 360), 640), None);
    }
}
