//! Decoded pictures as plain pixel buffers, so that the decision logic and the model
//! wrappers share one type without depending on FFmpeg or ONNX Runtime.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::replay::Fingerprint;

/// A tightly packed 8-bit BGR picture (stride = width * 3). BGR because the face
/// detector and the anti-spoofing models both take BGR, so one conversion serves both.
#[derive(Clone, PartialEq, Eq)]
pub struct BgrImage {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl std::fmt::Debug for BgrImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BgrImage({}x{})", self.width, self.height)
    }
}

impl BgrImage {
    /// Wraps `data`; `None` when its length does not match `width * height * 3`.
    pub fn new(width: u32, height: u32, data: Vec<u8>) -> Option<Self> {
        (data.len() == width as usize * height as usize * 3).then_some(Self {
            width,
            height,
            data,
        })
    }

    /// A picture filled with one colour.
    pub fn filled(width: u32, height: u32, bgr: [u8; 3]) -> Self {
        let data = bgr
            .iter()
            .copied()
            .cycle()
            .take(width as usize * height as usize * 3)
            .collect();
        Self {
            width,
            height,
            data,
        }
    }

    /// The B, G, R values at (x, y). Panics when out of bounds, like slice indexing.
    #[inline]
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// The picture turned clockwise by `degrees` (0, 90, 180 or 270; other values are
    /// rounded to the nearest quarter turn).
    pub fn rotated_cw(&self, degrees: i32) -> BgrImage {
        let quarter = ((degrees as f32 / 90.0).round() as i32).rem_euclid(4);
        if quarter == 0 {
            return self.clone();
        }
        let (w, h) = (self.width as usize, self.height as usize);
        let (ow, oh) = if quarter == 2 { (w, h) } else { (h, w) };
        let mut data = vec![0u8; self.data.len()];
        for y in 0..h {
            for x in 0..w {
                let (ox, oy) = match quarter {
                    1 => (h - 1 - y, x),
                    2 => (w - 1 - x, h - 1 - y),
                    _ => (y, w - 1 - x),
                };
                let src = (y * w + x) * 3;
                let dst = (oy * ow + ox) * 3;
                data[dst..dst + 3].copy_from_slice(&self.data[src..src + 3]);
            }
        }
        BgrImage {
            width: ow as u32,
            height: oh as u32,
            data,
        }
    }

    /// ITU-R BT.601 luma of a pixel, 0-255.
    #[inline]
    pub fn luma(&self, x: u32, y: u32) -> f32 {
        let [b, g, r] = self.pixel(x, y);
        0.114 * b as f32 + 0.587 * g as f32 + 0.299 * r as f32
    }
}

/// Where a frame sits in its stream, and how it relates to the decoded original.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameInfo {
    /// Presentation time in microseconds from the start of the stream.
    pub pts_us: i64,
    /// 0-based index among all decoded frames of the stream (sampled or not).
    pub decoded_index: u64,
    /// Size of the decoded frame before scaling to the working size.
    pub source_width: u32,
    pub source_height: u32,
    /// Coarse luma of the whole decoded frame, for finding replayed frames (see
    /// [`crate::replay`]); `None` where the decoder could not take one cheaply.
    #[serde(skip)]
    pub fingerprint: Option<Fingerprint>,
}

/// A sampled frame at the working size, ready for analysis, with the decoded picture
/// at (up to) full resolution when it is larger than the working size.
///
/// Faces are found and tracked on `image`; the per-face models and measurements cut
/// their crops from [`Frame::crop_image`], so that a face keeps the detail the camera
/// gave it.
#[derive(Debug, Clone)]
pub struct Frame {
    pub info: FrameInfo,
    /// The working-size picture (detection, tracking, motion, glances, evidence).
    pub image: BgrImage,
    /// The same picture at (up to) the decoded resolution, for face crops; `None`
    /// when it would be no larger than `image` (small sources, glances, or full
    /// resolution turned off).
    pub source: Option<Arc<BgrImage>>,
}

impl Frame {
    /// A frame with only the working-size picture.
    pub fn new(info: FrameInfo, image: BgrImage) -> Self {
        Self {
            info,
            image,
            source: None,
        }
    }

    /// Factor that maps working-size coordinates back to source-frame coordinates.
    pub fn to_source_scale(&self) -> f32 {
        if self.image.width == 0 {
            1.0
        } else {
            self.info.source_width as f32 / self.image.width as f32
        }
    }
}

/// The picture face crops are cut from, and the factor that maps working-size
/// coordinates into it: the full-resolution picture when there is one, else the
/// working image itself (factor 1).
pub fn crop_image(working: &Arc<BgrImage>, source: Option<&Arc<BgrImage>>) -> (Arc<BgrImage>, f32) {
    match source {
        Some(full) if working.width > 0 && full.width > working.width => {
            (full.clone(), full.width as f32 / working.width as f32)
        }
        _ => (working.clone(), 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_rejects_wrong_length() {
        assert!(BgrImage::new(2, 2, vec![0; 11]).is_none());
        assert!(BgrImage::new(2, 2, vec![0; 12]).is_some());
    }

    #[test]
    fn rotation_moves_the_top_left_pixel_where_expected() {
        // 3x2 picture with a marked top-left pixel.
        let mut img = BgrImage::filled(3, 2, [0, 0, 0]);
        img.data[..3].copy_from_slice(&[9, 9, 9]);
        let cw = img.rotated_cw(90);
        assert_eq!((cw.width, cw.height), (2, 3));
        assert_eq!(cw.pixel(1, 0), [9, 9, 9]);
        let half = img.rotated_cw(180);
        assert_eq!((half.width, half.height), (3, 2));
        assert_eq!(half.pixel(2, 1), [9, 9, 9]);
        let ccw = img.rotated_cw(270);
        assert_eq!(ccw.pixel(0, 2), [9, 9, 9]);
        assert_eq!(img.rotated_cw(-90), ccw);
        assert_eq!(img.rotated_cw(360), img);
    }

    #[test]
    fn crops_come_from_the_larger_picture() {
        let working = Arc::new(BgrImage::filled(640, 360, [0; 3]));
        let full = Arc::new(BgrImage::filled(1920, 1080, [0; 3]));
        let (img, k) = crop_image(&working, Some(&full));
        assert!(Arc::ptr_eq(&img, &full));
        assert!((k - 3.0).abs() < 1e-6);
        let (img, k) = crop_image(&working, None);
        assert!(Arc::ptr_eq(&img, &working));
        assert_eq!(k, 1.0);
        // A "full" picture no larger than the working one is not used.
        let (img, _) = crop_image(&working, Some(&working.clone()));
        assert!(Arc::ptr_eq(&img, &working));
    }

    #[test]
    fn filled_and_pixel_agree() {
        let img = BgrImage::filled(3, 2, [1, 2, 3]);
        assert_eq!(img.pixel(2, 1), [1, 2, 3]);
        assert!((img.luma(0, 0) - (0.114 + 2.0 * 0.587 + 3.0 * 0.299)).abs() < 1e-5);
    }
}
