//! Face-region key frames, kept only when a tenant turns evidence capture on, so that a
//! reviewer can see what an alert was about. Never whole frames: the crop is the main
//! face box grown by half, and at most a few per segment.

use std::collections::VecDeque;

use candor_core::{BgrImage, Rect};

/// Key frames kept for one segment.
pub const KEY_FRAMES_PER_SEGMENT: usize = 3;
/// Crops held while their segment is still open (2 fps: 8 s).
const HELD: usize = 16;
/// The face box is grown by this factor about its centre before cropping.
const CONTEXT: f32 = 1.5;

#[derive(Debug, Clone, PartialEq)]
pub struct KeyFrame {
    pub pts_us: i64,
    /// The face region at the working size.
    pub image: BgrImage,
}

#[derive(Debug, Default)]
pub struct EvidenceBuffer {
    held: VecDeque<KeyFrame>,
}

impl EvidenceBuffer {
    /// Keeps the face region of an analysed frame until its segment closes.
    pub fn offer(&mut self, pts_us: i64, image: &BgrImage, face: &Rect) {
        if let Some(crop) = face_region(image, face) {
            if self.held.len() == HELD {
                self.held.pop_front();
            }
            self.held.push_back(KeyFrame {
                pts_us,
                image: crop,
            });
        }
    }

    /// Up to KEY_FRAMES_PER_SEGMENT crops from `[start_us, end_us)`, spread over it;
    /// crops of that span and older are let go.
    pub fn take(&mut self, start_us: i64, end_us: i64) -> Vec<KeyFrame> {
        let inside: Vec<KeyFrame> = self
            .held
            .iter()
            .filter(|k| k.pts_us >= start_us && k.pts_us < end_us)
            .cloned()
            .collect();
        self.held.retain(|k| k.pts_us >= end_us);
        let n = inside.len();
        if n <= KEY_FRAMES_PER_SEGMENT {
            return inside;
        }
        // First, last and evenly between.
        (0..KEY_FRAMES_PER_SEGMENT)
            .map(|i| inside[i * (n - 1) / (KEY_FRAMES_PER_SEGMENT - 1)].clone())
            .collect()
    }
}

fn face_region(image: &BgrImage, face: &Rect) -> Option<BgrImage> {
    let c = face.center();
    let (w, h) = (face.w * CONTEXT, face.h * CONTEXT);
    let r = Rect::new(c.x - w / 2.0, c.y - h / 2.0, w, h)
        .clipped(image.width as f32, image.height as f32);
    let (x0, y0) = (r.x.floor() as usize, r.y.floor() as usize);
    let (x1, y1) = (r.right().ceil() as usize, r.bottom().ceil() as usize);
    let (x1, y1) = (x1.min(image.width as usize), y1.min(image.height as usize));
    if x1 <= x0 || y1 <= y0 || !r.w.is_finite() || !r.h.is_finite() {
        return None;
    }
    let stride = image.width as usize * 3;
    let data = (y0..y1)
        .flat_map(|y| {
            image.data[y * stride + x0 * 3..y * stride + x1 * 3]
                .iter()
                .copied()
        })
        .collect();
    BgrImage::new((x1 - x0) as u32, (y1 - y0) as u32, data)
}

/// A key frame as the JPEG that is stored (quality 90); `None` if it cannot be encoded.
pub fn jpeg(image: &BgrImage) -> Option<Vec<u8>> {
    let rgb: Vec<u8> = image
        .data
        .chunks_exact(3)
        .flat_map(|p| [p[2], p[1], p[0]])
        .collect();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode(
            &rgb,
            image.width,
            image.height,
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| tracing::warn!(error = %e, "evidence frame not encoded"))
        .ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture() -> BgrImage {
        let data = (0..100u32 * 80)
            .flat_map(|i| [(i % 100) as u8, (i / 100) as u8, 7])
            .collect();
        BgrImage::new(100, 80, data).unwrap()
    }

    #[test]
    fn the_crop_is_the_grown_face_box_clipped_to_the_picture() {
        let mut b = EvidenceBuffer::default();
        // 20x20 box at (40, 30): grown 1.5x about its centre (50, 40) -> 30x30 at (35, 25).
        b.offer(0, &picture(), &Rect::new(40.0, 30.0, 20.0, 20.0));
        // At the corner: clipped.
        b.offer(1, &picture(), &Rect::new(-10.0, -10.0, 20.0, 20.0));
        let k = b.take(0, 10);
        assert_eq!((k[0].image.width, k[0].image.height), (30, 30));
        // Top-left pixel of the crop is picture pixel (35, 25): B = x, G = y.
        assert_eq!(&k[0].image.data[..3], &[35, 25, 7]);
        assert_eq!((k[1].image.width, k[1].image.height), (15, 15));
    }

    #[test]
    fn take_spreads_over_the_segment_and_lets_old_crops_go() {
        let mut b = EvidenceBuffer::default();
        let face = Rect::new(40.0, 30.0, 20.0, 20.0);
        for t in 0..7 {
            b.offer(t * 500_000, &picture(), &face);
        }
        // Segment [0, 2 s) holds t = 0, 0.5, 1, 1.5 s: first, middle, last.
        let pts: Vec<i64> = b.take(0, 2_000_000).iter().map(|k| k.pts_us).collect();
        assert_eq!(pts, vec![0, 500_000, 1_500_000]);
        // Only the next segment's crops remain.
        let pts: Vec<i64> = b
            .take(2_000_000, 4_000_000)
            .iter()
            .map(|k| k.pts_us)
            .collect();
        assert_eq!(pts, vec![2_000_000, 2_500_000, 3_000_000]);
        assert!(b.take(0, i64::MAX).is_empty());
    }
}
