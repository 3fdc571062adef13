//! JPEG and PNG stills: recognised by their magic bytes, decoded with the `image`
//! crate with EXIF orientation applied, and delivered as a single frame at pts 0.

use std::io::Cursor;
use std::sync::Arc;

use candor_core::{BgrImage, Frame, FrameInfo};
use ffmpeg_next::format::Pixel;
use ffmpeg_next::util::frame;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

use crate::MediaError;
use crate::options::DecodeOptions;
use crate::scale::{Scaler, crop_size, working_size};

/// Enough leading bytes to recognise every still format we accept.
pub const MAGIC_LEN: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StillKind {
    Jpeg,
    Png,
}

impl StillKind {
    /// Recognises a still from the first bytes of the input.
    pub fn sniff(head: &[u8]) -> Option<Self> {
        if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(Self::Png)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Jpeg => "jpeg",
            Self::Png => "png",
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
        }
    }
}

/// Decodes a whole still file into one frame at the working size.
pub fn decode_still(
    bytes: &[u8],
    kind: StillKind,
    options: &DecodeOptions,
) -> Result<Frame, MediaError> {
    let image_err = |e: image::ImageError| MediaError::Image(format!("{}: {e}", kind.name()));
    let mut decoder = ImageReader::with_format(Cursor::new(bytes), kind.image_format())
        .into_decoder()
        .map_err(image_err)?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > options.max_source_pixels {
        return Err(MediaError::TooLarge {
            width,
            height,
            limit: options.max_source_pixels,
        });
    }
    let orientation = decoder.orientation().map_err(image_err)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(image_err)?;
    image.apply_orientation(orientation);
    // Alpha, if any, is dropped: the analysis works on the stored colours.
    let rgb = image.into_rgb8();
    let (source_width, source_height) = rgb.dimensions();
    let working = working_size(source_width, source_height, options.max_side);
    // Same scaler as video, so stills and frames are resampled alike.
    let fit = |max_side: u32| -> Result<BgrImage, MediaError> {
        if working_size(source_width, source_height, max_side) == (source_width, source_height) {
            Ok(rgb_to_bgr(&rgb))
        } else {
            Scaler::new().convert(&rgb_frame(&rgb), max_side)
        }
    };
    let bgr = fit(options.max_side)?;
    // A photo is analysed like a sampled frame: its face crops come from the picture
    // at (up to) full resolution.
    let source = match crop_size(source_width, source_height, working, options.crop_max_side) {
        Some(_) => Some(Arc::new(fit(options.crop_max_side)?)),
        None => None,
    };
    Ok(Frame {
        info: FrameInfo {
            pts_us: 0,
            decoded_index: 0,
            source_width,
            source_height,
            fingerprint: None,
        },
        image: bgr,
        source,
    })
}

fn rgb_to_bgr(rgb: &RgbImage) -> BgrImage {
    let data = rgb
        .as_raw()
        .chunks_exact(3)
        .flat_map(|p| [p[2], p[1], p[0]])
        .collect();
    BgrImage {
        width: rgb.width(),
        height: rgb.height(),
        data,
    }
}

/// Copies an RGB image into an FFmpeg frame (whose rows may be padded).
fn rgb_frame(rgb: &RgbImage) -> frame::Video {
    let mut frame = frame::Video::new(Pixel::RGB24, rgb.width(), rgb.height());
    let row = rgb.width() as usize * 3;
    let stride = frame.stride(0);
    let plane = frame.data_mut(0);
    for (y, src) in rgb.as_raw().chunks_exact(row).enumerate() {
        plane[y * stride..y * stride + row].copy_from_slice(src);
    }
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_magic_bytes() {
        assert_eq!(
            StillKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(StillKind::Jpeg)
        );
        assert_eq!(
            StillKind::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(StillKind::Png)
        );
        assert_eq!(StillKind::sniff(b"\x89PNG"), None);
        assert_eq!(StillKind::sniff(b"\0\0\0\x20ftypisom"), None);
        assert_eq!(StillKind::sniff(&[]), None);
    }

    #[test]
    fn rgb_becomes_bgr() {
        let rgb = RgbImage::from_raw(2, 1, vec![1, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(rgb_to_bgr(&rgb).data, vec![3, 2, 1, 6, 5, 4]);
    }
}
