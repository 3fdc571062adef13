//! Context crops around a face box, as Silent-Face-Anti-Spoofing's
//! `CropImage._get_new_box` makes them for MiniFASNet.

use candor_core::{BgrImage, Rect};

use crate::error::VisionError;
use crate::resize::{PixelRect, resize_bilinear_into};

/// The crop for `bbox` enlarged `scale` times about its centre in a `width` x
/// `height` picture. The scale is reduced until the enlarged box fits, then the box is
/// shifted (not clipped) back inside, so the crop keeps the face's context and aspect.
/// Computed in f64 (the scale too: 2.7f32 is not 2.7) and truncated like the upstream Python; the result includes both
/// end pixels, as upstream slices `[top:bottom + 1, left:right + 1]`.
pub fn scaled_crop_box(
    width: u32,
    height: u32,
    bbox: &Rect,
    scale: f64,
) -> Result<PixelRect, VisionError> {
    let valid = [bbox.x, bbox.y, bbox.w, bbox.h]
        .iter()
        .all(|v| v.is_finite())
        && scale.is_finite();
    if !valid || bbox.w <= 0.0 || bbox.h <= 0.0 || scale <= 0.0 {
        return Err(VisionError::BadInput(format!(
            "cannot crop around box {bbox:?} at scale {scale}"
        )));
    }
    if width < 2 || height < 2 {
        return Err(VisionError::BadInput(format!(
            "picture {width}x{height} too small to crop"
        )));
    }
    let (max_x, max_y) = (f64::from(width - 1), f64::from(height - 1));
    let (x, y, w, h) = (
        f64::from(bbox.x),
        f64::from(bbox.y),
        f64::from(bbox.w),
        f64::from(bbox.h),
    );
    let s = scale.min(max_y / h).min(max_x / w);

    let (new_w, new_h) = (w * s, h * s);
    let (cx, cy) = (x + w / 2.0, y + h / 2.0);
    let (mut left, mut top) = (cx - new_w / 2.0, cy - new_h / 2.0);
    let (mut right, mut bottom) = (cx + new_w / 2.0, cy + new_h / 2.0);
    if left < 0.0 {
        right -= left;
        left = 0.0;
    }
    if top < 0.0 {
        bottom -= top;
        top = 0.0;
    }
    if right > max_x {
        left -= right - max_x;
        right = max_x;
    }
    if bottom > max_y {
        top -= bottom - max_y;
        bottom = max_y;
    }
    // `as u32` truncates toward zero like Python's int() and saturates negatives to 0;
    // the min() guards against a box far outside the picture.
    let to_px = |v: f64, max: u32| (v as u32).min(max);
    let (x0, y0) = (to_px(left, width - 1), to_px(top, height - 1));
    let (x1, y1) = (
        to_px(right, width - 1).max(x0),
        to_px(bottom, height - 1).max(y0),
    );
    Ok(PixelRect::new(x0, y0, x1 - x0 + 1, y1 - y0 + 1))
}

/// Crops the [`scaled_crop_box`] of `bbox` and resizes it (bilinear) into `dst`,
/// whose width and height give the output size.
pub fn crop_scaled_into(
    image: &BgrImage,
    bbox: &Rect,
    scale: f64,
    dst: &mut BgrImage,
) -> Result<PixelRect, VisionError> {
    let roi = scaled_crop_box(image.width, image.height, bbox, scale)?;
    resize_bilinear_into(image, roi, dst)?;
    Ok(roi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_fully_inside_is_scaled_about_its_centre() {
        // 40x50 at (300, 200), x2.7 -> 108 x 135 centred on (320, 225):
        // left 266, top 157.5, right 374, bottom 292.5.
        let r = scaled_crop_box(640, 480, &Rect::new(300.0, 200.0, 40.0, 50.0), 2.7).unwrap();
        assert_eq!(r, PixelRect::new(266, 157, 109, 136));
    }

    #[test]
    fn box_near_top_left_is_shifted_back_not_clipped() {
        // 108 x 108 centred on (30, 25): left -24, top -29 -> shifted to 0, size kept.
        let r = scaled_crop_box(640, 480, &Rect::new(10.0, 5.0, 40.0, 40.0), 2.7).unwrap();
        assert_eq!(r, PixelRect::new(0, 0, 109, 109));
    }

    #[test]
    fn box_near_bottom_right_is_shifted_back_not_clipped() {
        // 40 x 40 centred on (180, 80): right 200 > 199 and bottom 100 > 99 -> shift by 1.
        let r = scaled_crop_box(200, 100, &Rect::new(170.0, 70.0, 20.0, 20.0), 2.0).unwrap();
        assert_eq!(r, PixelRect::new(159, 59, 41, 41));
    }

    #[test]
    fn scale_is_clamped_by_picture_size() {
        // s = min(4, 99/80, 199/60) = 1.2375 -> 74.25 x 99 centred on (80, 50):
        // left 42.875, right 117.125, top 0.5, bottom 99.5 -> shifted up by 0.5.
        let r = scaled_crop_box(200, 100, &Rect::new(50.0, 10.0, 60.0, 80.0), 4.0).unwrap();
        assert_eq!(r, PixelRect::new(42, 0, 76, 100));
    }

    #[test]
    fn box_larger_than_the_picture_is_shrunk_to_fit() {
        // s = min(2.7, 79/140, 99/150) = 0.5643 -> 84.64 x 79 centred on (55, 40):
        // left 12.68, right 97.32, top 0.5, bottom 79.5 -> shifted up by 0.5.
        let r = scaled_crop_box(100, 80, &Rect::new(-20.0, -30.0, 150.0, 140.0), 2.7).unwrap();
        assert_eq!(r, PixelRect::new(12, 0, 86, 80));
    }

    #[test]
    fn degenerate_boxes_are_rejected() {
        assert!(scaled_crop_box(100, 100, &Rect::new(0.0, 0.0, 0.0, 10.0), 2.7).is_err());
        assert!(scaled_crop_box(100, 100, &Rect::new(f32::NAN, 0.0, 10.0, 10.0), 2.7).is_err());
        assert!(scaled_crop_box(1, 100, &Rect::new(0.0, 0.0, 1.0, 10.0), 2.7).is_err());
    }

    #[test]
    fn crop_into_resizes_to_the_output_size() {
        let img = BgrImage::filled(64, 48, [10, 20, 30]);
        let mut dst = BgrImage::filled(8, 8, [0; 3]);
        let roi =
            crop_scaled_into(&img, &Rect::new(20.0, 20.0, 10.0, 10.0), 2.0, &mut dst).unwrap();
        assert_eq!(roi, PixelRect::new(15, 15, 21, 21));
        assert!(dst.data.chunks(3).all(|p| p == [10, 20, 30]));
    }
}
