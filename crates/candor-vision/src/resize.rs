//! Bilinear resampling of a rectangle of a BGR picture, with OpenCV's `INTER_LINEAR`
//! sampling (half-pixel centres, edge pixels repeated, no anti-aliasing), because the
//! models were trained and checked on `cv2.resize` output.

use candor_core::BgrImage;

use crate::error::VisionError;

/// An integer pixel rectangle: columns `x..x + w`, rows `y..y + h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PixelRect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl PixelRect {
    pub const fn new(x: u32, y: u32, w: u32, h: u32) -> Self {
        Self { x, y, w, h }
    }

    /// The whole picture.
    pub fn full(image: &BgrImage) -> Self {
        Self::new(0, 0, image.width, image.height)
    }

    /// True when the rectangle is non-empty and lies inside `image`.
    pub fn fits(&self, image: &BgrImage) -> bool {
        self.w > 0
            && self.h > 0
            && u64::from(self.x) + u64::from(self.w) <= u64::from(image.width)
            && u64::from(self.y) + u64::from(self.h) <= u64::from(image.height)
    }
}

/// Rejects empty pictures and pictures whose data length disagrees with their size.
pub(crate) fn check_image(image: &BgrImage) -> Result<(), VisionError> {
    if image.width == 0 || image.height == 0 {
        return Err(VisionError::BadInput("empty picture".into()));
    }
    if image.data.len() != image.width as usize * image.height as usize * 3 {
        return Err(VisionError::BadInput(format!(
            "picture {}x{} has {} bytes, expected {}",
            image.width,
            image.height,
            image.data.len(),
            image.width as usize * image.height as usize * 3
        )));
    }
    Ok(())
}

/// For one output coordinate: the two source taps and the weight of the second.
#[derive(Debug, Clone, Copy)]
struct Tap {
    i0: usize,
    i1: usize,
    w1: f32,
}

/// Taps for resampling `src_len` source pixels (starting at `offset`) into `dst_len`.
fn taps(offset: u32, src_len: u32, dst_len: u32) -> Vec<Tap> {
    let scale = f64::from(src_len) / f64::from(dst_len);
    let last = src_len as usize - 1;
    (0..dst_len)
        .map(|d| {
            let f = (f64::from(d) + 0.5) * scale - 0.5;
            let s = f.floor();
            let (s, frac) = if s < 0.0 {
                (0, 0.0)
            } else if s as usize >= last {
                (last, 0.0)
            } else {
                (s as usize, (f - s) as f32)
            };
            Tap {
                i0: offset as usize + s,
                i1: offset as usize + (s + 1).min(last),
                w1: frac,
            }
        })
        .collect()
}

/// Resamples `roi` of `src` into all of `dst` (its size is the output size).
pub fn resize_bilinear_into(
    src: &BgrImage,
    roi: PixelRect,
    dst: &mut BgrImage,
) -> Result<(), VisionError> {
    if !roi.fits(src) {
        return Err(VisionError::BadInput(format!(
            "resize region {roi:?} does not fit in a {}x{} picture",
            src.width, src.height
        )));
    }
    if dst.width == 0 || dst.height == 0 {
        return Err(VisionError::BadInput("resize to an empty picture".into()));
    }
    let needed = dst.width as usize * dst.height as usize * 3;
    dst.data.resize(needed, 0);

    let xs = taps(roi.x, roi.w, dst.width);
    let ys = taps(roi.y, roi.h, dst.height);
    let stride = src.width as usize * 3;
    let out_stride = dst.width as usize * 3;

    for (row, ty) in dst.data.chunks_exact_mut(out_stride).zip(&ys) {
        let r0 = &src.data[ty.i0 * stride..(ty.i0 + 1) * stride];
        let r1 = &src.data[ty.i1 * stride..(ty.i1 + 1) * stride];
        let wy1 = ty.w1;
        let wy0 = 1.0 - wy1;
        for (px, tx) in row.chunks_exact_mut(3).zip(&xs) {
            let (a, b) = (tx.i0 * 3, tx.i1 * 3);
            let wx1 = tx.w1;
            let wx0 = 1.0 - wx1;
            for c in 0..3 {
                let top = wx0 * f32::from(r0[a + c]) + wx1 * f32::from(r0[b + c]);
                let bottom = wx0 * f32::from(r1[a + c]) + wx1 * f32::from(r1[b + c]);
                let v = wy0 * top + wy1 * bottom;
                // Round half up and saturate; `as u8` on f32 saturates.
                px[c] = (v + 0.5) as u8;
            }
        }
    }
    Ok(())
}

/// Resamples `roi` of `src` into a new `out_w` x `out_h` picture.
pub fn resize_bilinear(
    src: &BgrImage,
    roi: PixelRect,
    out_w: u32,
    out_h: u32,
) -> Result<BgrImage, VisionError> {
    let mut dst = BgrImage {
        width: out_w,
        height: out_h,
        data: Vec::new(),
    };
    resize_bilinear_into(src, roi, &mut dst)?;
    Ok(dst)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> BgrImage {
        let data = (0..h)
            .flat_map(|y| (0..w).flat_map(move |x| [(x * 10) as u8, (y * 10) as u8, (x + y) as u8]))
            .collect();
        BgrImage::new(w, h, data).unwrap()
    }

    #[test]
    fn two_by_two_to_one_pixel_is_the_mean() {
        let img =
            BgrImage::new(2, 2, vec![0, 10, 100, 40, 50, 200, 80, 30, 0, 120, 70, 100]).unwrap();
        let out = resize_bilinear(&img, PixelRect::full(&img), 1, 1).unwrap();
        // (0+40+80+120)/4, (10+50+30+70)/4, (100+200+0+100)/4
        assert_eq!(out.data, vec![60, 40, 100]);
    }

    #[test]
    fn same_size_is_an_exact_copy() {
        let img = gradient(7, 5);
        let out = resize_bilinear(&img, PixelRect::full(&img), 7, 5).unwrap();
        assert_eq!(out, img);
    }

    #[test]
    fn same_size_sub_rectangle_is_an_exact_crop() {
        let img = gradient(9, 8);
        let out = resize_bilinear(&img, PixelRect::new(2, 3, 4, 5), 4, 5).unwrap();
        for y in 0..5 {
            for x in 0..4 {
                assert_eq!(out.pixel(x, y), img.pixel(x + 2, y + 3));
            }
        }
    }

    #[test]
    fn constant_picture_stays_constant() {
        let img = BgrImage::filled(13, 11, [7, 128, 251]);
        for (w, h) in [(1, 1), (5, 3), (40, 37), (13, 11)] {
            let out = resize_bilinear(&img, PixelRect::new(1, 2, 10, 8), w, h).unwrap();
            assert!(out.data.chunks(3).all(|p| p == [7, 128, 251]), "{w}x{h}");
        }
    }

    #[test]
    fn upscale_doubles_with_half_pixel_centres() {
        // 1-D row [0, 100] -> 4 pixels: centres map to -0.25, 0.25, 0.75, 1.25.
        let img = BgrImage::new(2, 1, vec![0, 0, 0, 100, 100, 100]).unwrap();
        let out = resize_bilinear(&img, PixelRect::full(&img), 4, 1).unwrap();
        let b: Vec<u8> = out.data.chunks(3).map(|p| p[0]).collect();
        assert_eq!(b, vec![0, 25, 75, 100]);
    }

    #[test]
    fn region_outside_the_picture_is_rejected() {
        let img = BgrImage::filled(4, 4, [0; 3]);
        assert!(resize_bilinear(&img, PixelRect::new(2, 0, 3, 4), 2, 2).is_err());
        assert!(resize_bilinear(&img, PixelRect::new(0, 0, 0, 4), 2, 2).is_err());
        assert!(resize_bilinear(&img, PixelRect::full(&img), 0, 2).is_err());
    }
}
