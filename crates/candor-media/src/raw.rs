//! Uncompressed frames handed over by clients (LiveKit agents, RTMS relays): planar
//! I420 or packed RGB24 with a row stride. They go through the same single swscale
//! step as decoded video: straight to BGR at the working size.

use candor_core::BgrImage;
use candor_core::replay::Fingerprint;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::util::frame;

use crate::MediaError;
use crate::scale::{Scaler, crop_size};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawFormat {
    /// Planar Y, then U and V at half width and height. `stride` is the Y row stride;
    /// chroma rows are `(stride + 1) / 2` bytes.
    I420,
    /// Packed R, G, B bytes; `stride` is the row length in bytes.
    Rgb24,
}

/// One raw picture as received.
#[derive(Debug, Clone, Copy)]
pub struct RawFrame<'a> {
    pub format: RawFormat,
    pub width: u32,
    pub height: u32,
    /// Row stride in bytes of the first plane; 0 means tightly packed.
    pub stride: u32,
    pub data: &'a [u8],
}

impl RawFrame<'_> {
    fn strides(&self) -> (usize, usize) {
        let w = self.width as usize;
        match self.format {
            RawFormat::I420 => {
                let y = if self.stride == 0 {
                    w
                } else {
                    self.stride as usize
                };
                (y, y.div_ceil(2))
            }
            RawFormat::Rgb24 => {
                let s = if self.stride == 0 {
                    w * 3
                } else {
                    self.stride as usize
                };
                (s, 0)
            }
        }
    }

    /// Coarse luma of the picture (see [`Fingerprint`]), straight from the bytes: taken
    /// for every frame, sampled or not, so it must not cost a conversion. `None` when
    /// the data is too short for the declared size.
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        let (stride, _) = self.strides();
        let (w, h) = (self.width as usize, self.height as usize);
        match self.format {
            RawFormat::I420 => Fingerprint::from_luma(self.data, w, h, stride),
            RawFormat::Rgb24 => Fingerprint::from_rgb(self.data, w, h, stride),
        }
    }

    /// Bytes the frame must hold for its declared size and stride.
    pub fn required_len(&self) -> usize {
        let (s0, s1) = self.strides();
        let h = self.height as usize;
        match self.format {
            RawFormat::I420 => s0 * h + 2 * s1 * h.div_ceil(2),
            RawFormat::Rgb24 => s0 * h,
        }
    }

    fn validate(&self, max_pixels: u64) -> Result<(), MediaError> {
        let (w, h) = (self.width, self.height);
        if w == 0 || h == 0 {
            return Err(MediaError::InvalidFrame(format!(
                "raw frame has no size ({w}x{h}): width and height are required"
            )));
        }
        if u64::from(w) * u64::from(h) > max_pixels {
            return Err(MediaError::TooLarge {
                width: w,
                height: h,
                limit: max_pixels,
            });
        }
        let min_stride = match self.format {
            RawFormat::I420 => w as usize,
            RawFormat::Rgb24 => w as usize * 3,
        };
        if self.stride != 0 && (self.stride as usize) < min_stride {
            return Err(MediaError::InvalidFrame(format!(
                "stride {} is shorter than a {w}-pixel row ({min_stride} bytes)",
                self.stride
            )));
        }
        let need = self.required_len();
        if self.data.len() < need {
            return Err(MediaError::InvalidFrame(format!(
                "raw {:?} frame of {w}x{h} (stride {}) needs {need} bytes, got {}",
                self.format,
                self.stride,
                self.data.len()
            )));
        }
        // Extra bytes are refused rather than ignored: they mean the client's idea of
        // the layout (size, stride, format) differs from ours, and the picture would be
        // read wrongly.
        if self.data.len() > need {
            return Err(MediaError::InvalidFrame(format!(
                "raw {:?} frame of {w}x{h} (stride {}) needs {need} bytes, got {}: longer data is refused",
                self.format,
                self.stride,
                self.data.len()
            )));
        }
        Ok(())
    }
}

/// Converts raw frames to BGR at the working size, reusing the scaler while the
/// size and format stay the same.
pub struct RawConverter {
    scaler: Scaler,
    /// For the full-resolution picture of analysed frames (see
    /// [`RawConverter::with_crop_max_side`]).
    crop_scaler: Scaler,
    max_side: u32,
    crop_max_side: u32,
    max_pixels: u64,
}

impl RawConverter {
    pub fn new(max_side: u32, max_pixels: u64) -> Self {
        crate::init_ffmpeg();
        Self {
            scaler: Scaler::new(),
            crop_scaler: Scaler::new(),
            max_side,
            crop_max_side: 0,
            max_pixels,
        }
    }

    /// Makes [`RawConverter::convert_with_source`] also give the picture at (up to)
    /// full resolution, its longest side capped at `crop_max_side` (as
    /// `DecodeOptions::crop_max_side`).
    pub fn with_crop_max_side(mut self, crop_max_side: u32) -> Self {
        self.crop_max_side = crop_max_side;
        self
    }

    /// The working-size picture only (glances).
    pub fn convert(&mut self, raw: &RawFrame<'_>) -> Result<BgrImage, MediaError> {
        let src = self.to_frame(raw)?;
        self.scaler.convert(&src, self.max_side)
    }

    /// The working-size picture and, when larger, the full-resolution one face crops
    /// are cut from (analysed frames), as decoded video gives them.
    pub fn convert_with_source(
        &mut self,
        raw: &RawFrame<'_>,
    ) -> Result<(BgrImage, Option<BgrImage>), MediaError> {
        let src = self.to_frame(raw)?;
        let image = self.scaler.convert(&src, self.max_side)?;
        let working = (image.width, image.height);
        let full = match crop_size(raw.width, raw.height, working, self.crop_max_side) {
            Some(_) => Some(self.crop_scaler.convert(&src, self.crop_max_side)?),
            None => None,
        };
        Ok((image, full))
    }

    fn to_frame(&self, raw: &RawFrame<'_>) -> Result<frame::Video, MediaError> {
        raw.validate(self.max_pixels)?;
        let pixel = match raw.format {
            RawFormat::I420 => Pixel::YUV420P,
            RawFormat::Rgb24 => Pixel::RGB24,
        };
        let mut src = frame::Video::new(pixel, raw.width, raw.height);
        let (s0, s1) = raw.strides();
        let h = raw.height as usize;
        match raw.format {
            RawFormat::Rgb24 => copy_plane(
                &mut src,
                0,
                &raw.data[..s0 * h],
                s0,
                raw.width as usize * 3,
                h,
            ),
            RawFormat::I420 => {
                let ch = h.div_ceil(2);
                let cw = (raw.width as usize).div_ceil(2);
                let (y, rest) = raw.data.split_at(s0 * h);
                let (u, v) = rest.split_at(s1 * ch);
                copy_plane(&mut src, 0, y, s0, raw.width as usize, h);
                copy_plane(&mut src, 1, u, s1, cw, ch);
                copy_plane(&mut src, 2, &v[..s1 * ch], s1, cw, ch);
            }
        }
        Ok(src)
    }
}

/// Copies `rows` rows of `row_len` bytes from a plane with stride `src_stride` into
/// the frame's plane (which has its own, aligned stride).
fn copy_plane(
    dst: &mut frame::Video,
    plane: usize,
    src: &[u8],
    src_stride: usize,
    row_len: usize,
    rows: usize,
) {
    let dst_stride = dst.stride(plane);
    let out = dst.data_mut(plane);
    for r in 0..rows {
        out[r * dst_stride..r * dst_stride + row_len]
            .copy_from_slice(&src[r * src_stride..r * src_stride + row_len]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i420(w: u32, h: u32, y: u8, u: u8, v: u8) -> Vec<u8> {
        let (w, h) = (w as usize, h as usize);
        let c = w.div_ceil(2) * h.div_ceil(2);
        let mut d = vec![y; w * h];
        d.extend(std::iter::repeat_n(u, c));
        d.extend(std::iter::repeat_n(v, c));
        d
    }

    #[test]
    fn rgb_with_padding_converts_to_bgr() {
        let (w, h, stride) = (4u32, 2u32, 16u32);
        let mut data = vec![0u8; (stride * h) as usize];
        for r in 0..h as usize {
            for x in 0..w as usize {
                data[r * stride as usize + x * 3..][..3].copy_from_slice(&[200, 100, 30]);
            }
        }
        let raw = RawFrame {
            format: RawFormat::Rgb24,
            width: w,
            height: h,
            stride,
            data: &data,
        };
        let img = RawConverter::new(640, 1 << 30).convert(&raw).unwrap();
        assert_eq!((img.width, img.height), (4, 2));
        assert_eq!(img.pixel(3, 1), [30, 100, 200]);
    }

    #[test]
    fn grey_i420_is_grey_and_scaled() {
        // Y=126, U=V=128 is mid grey in limited range: about 128 after expansion.
        let data = i420(1280, 720, 126, 128, 128);
        let raw = RawFrame {
            format: RawFormat::I420,
            width: 1280,
            height: 720,
            stride: 0,
            data: &data,
        };
        let img = RawConverter::new(640, 1 << 30).convert(&raw).unwrap();
        assert_eq!((img.width, img.height), (640, 360));
        let [b, g, r] = img.pixel(320, 180);
        for c in [b, g, r] {
            assert!((c as i32 - 128).abs() <= 3, "{b} {g} {r}");
        }
    }

    #[test]
    fn analysed_raw_frames_keep_the_full_resolution() {
        let data = i420(1920, 1080, 126, 128, 128);
        let raw = RawFrame {
            format: RawFormat::I420,
            width: 1920,
            height: 1080,
            stride: 0,
            data: &data,
        };
        let mut conv = RawConverter::new(640, 1 << 30).with_crop_max_side(1280);
        let (img, full) = conv.convert_with_source(&raw).unwrap();
        assert_eq!((img.width, img.height), (640, 360));
        let full = full.unwrap();
        assert_eq!((full.width, full.height), (1280, 720));
        // Off by default, and never for pictures no larger than the working size.
        let mut plain = RawConverter::new(640, 1 << 30);
        assert!(plain.convert_with_source(&raw).unwrap().1.is_none());
        let mut big = RawConverter::new(1920, 1 << 30).with_crop_max_side(1920);
        assert!(big.convert_with_source(&raw).unwrap().1.is_none());
    }

    #[test]
    fn odd_sizes_and_strides_are_accepted() {
        let (w, h, stride) = (5u32, 3u32, 8u32);
        let len = RawFrame {
            format: RawFormat::I420,
            width: w,
            height: h,
            stride,
            data: &[],
        }
        .required_len();
        // Y 8*3 + U 4*2 + V 4*2
        assert_eq!(len, 24 + 8 + 8);
        let data = vec![128u8; len];
        let raw = RawFrame {
            format: RawFormat::I420,
            width: w,
            height: h,
            stride,
            data: &data,
        };
        assert!(RawConverter::new(640, 1 << 30).convert(&raw).is_ok());
    }

    #[test]
    fn wrong_sizes_are_clear_errors() {
        let mut conv = RawConverter::new(640, 1000);
        let short = vec![0u8; 10];
        let long = vec![0u8; 97];
        let cases = [
            (
                RawFrame {
                    format: RawFormat::I420,
                    width: 8,
                    height: 8,
                    stride: 0,
                    data: &long,
                },
                "needs 96 bytes, got 97: longer data is refused",
            ),
            (
                RawFrame {
                    format: RawFormat::I420,
                    width: 8,
                    height: 8,
                    stride: 0,
                    data: &short,
                },
                "needs 96 bytes, got 10",
            ),
            (
                RawFrame {
                    format: RawFormat::Rgb24,
                    width: 0,
                    height: 8,
                    stride: 0,
                    data: &short,
                },
                "no size",
            ),
            (
                RawFrame {
                    format: RawFormat::Rgb24,
                    width: 8,
                    height: 2,
                    stride: 4,
                    data: &short,
                },
                "stride 4 is shorter",
            ),
            (
                RawFrame {
                    format: RawFormat::Rgb24,
                    width: 100,
                    height: 100,
                    stride: 0,
                    data: &short,
                },
                "exceeds the limit",
            ),
        ];
        for (raw, want) in cases {
            let e = conv.convert(&raw).unwrap_err().to_string();
            assert!(e.contains(want), "{e:?} should contain {want:?}");
        }
    }
}
