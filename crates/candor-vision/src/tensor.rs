//! Packing pictures into NCHW float tensors (batch 1), the layout every model here takes.

use candor_core::BgrImage;

/// Writes `image` as raw 0-255 B, G, R planes into the top-left corner of a
/// `[3, plane_h, plane_w]` buffer. Cells outside the picture are left untouched, so a
/// zero-filled buffer reused for same-sized pictures keeps its zero padding.
///
/// `dst.len()` must be `3 * plane_w * plane_h` and the picture must fit in a plane.
pub(crate) fn write_bgr_planes(image: &BgrImage, dst: &mut [f32], plane_w: usize, plane_h: usize) {
    let (w, h) = (image.width as usize, image.height as usize);
    debug_assert!(w <= plane_w && h <= plane_h && dst.len() == 3 * plane_w * plane_h);
    let plane = plane_w * plane_h;
    let (b_plane, rest) = dst.split_at_mut(plane);
    let (g_plane, r_plane) = rest.split_at_mut(plane);
    for (y, row) in image.data.chunks_exact(w * 3).take(h).enumerate() {
        let start = y * plane_w;
        let b = &mut b_plane[start..start + w];
        let g = &mut g_plane[start..start + w];
        let r = &mut r_plane[start..start + w];
        for (x, px) in row.chunks_exact(3).enumerate() {
            b[x] = f32::from(px[0]);
            g[x] = f32::from(px[1]);
            r[x] = f32::from(px[2]);
        }
    }
}

/// Writes a whole `image` as B, G, R planes (`[3, h, w]`), each value multiplied by
/// `scale`.
///
/// `dst.len()` must be `3 * w * h`.
pub(crate) fn write_bgr_planes_scaled(image: &BgrImage, dst: &mut [f32], scale: f32) {
    let plane = image.width as usize * image.height as usize;
    debug_assert!(dst.len() == 3 * plane && image.data.len() == 3 * plane);
    for (i, px) in image.data.chunks_exact(3).enumerate() {
        for (c, v) in px.iter().enumerate() {
            dst[c * plane + i] = f32::from(*v) * scale;
        }
    }
}

/// Writes a whole `image` as R, G, B planes (`[3, h, w]`, channels swapped from the
/// picture's BGR), each value multiplied by `scale` (1 for raw 0-255, 1/255 for 0-1).
///
/// `dst.len()` must be `3 * w * h`.
pub(crate) fn write_rgb_planes(image: &BgrImage, dst: &mut [f32], scale: f32) {
    let (w, h) = (image.width as usize, image.height as usize);
    debug_assert!(dst.len() == 3 * w * h && image.data.len() == 3 * w * h);
    let plane = w * h;
    let (r_plane, rest) = dst.split_at_mut(plane);
    let (g_plane, b_plane) = rest.split_at_mut(plane);
    for (y, row) in image.data.chunks_exact(w * 3).take(h).enumerate() {
        let start = y * w;
        let r = &mut r_plane[start..start + w];
        let g = &mut g_plane[start..start + w];
        let b = &mut b_plane[start..start + w];
        for (x, px) in row.chunks_exact(3).enumerate() {
            b[x] = f32::from(px[0]) * scale;
            g[x] = f32::from(px[1]) * scale;
            r[x] = f32::from(px[2]) * scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_are_bgr_in_order_and_padding_untouched() {
        let img = BgrImage::new(2, 1, vec![1, 2, 3, 4, 5, 6]).unwrap();
        let mut buf = vec![-1.0; 3 * 3 * 2];
        write_bgr_planes(&img, &mut buf, 3, 2);
        #[rustfmt::skip]
        let expected = [
            1.0, 4.0, -1.0, -1.0, -1.0, -1.0, // B
            2.0, 5.0, -1.0, -1.0, -1.0, -1.0, // G
            3.0, 6.0, -1.0, -1.0, -1.0, -1.0, // R
        ];
        assert_eq!(buf, expected);
    }

    #[test]
    fn rgb_planes_swap_channels_and_scale() {
        let img = BgrImage::new(2, 1, vec![1, 2, 3, 4, 5, 6]).unwrap();
        let mut buf = vec![0.0; 6];
        write_rgb_planes(&img, &mut buf, 1.0);
        assert_eq!(buf, [3.0, 6.0, 2.0, 5.0, 1.0, 4.0]);
        write_rgb_planes(&img, &mut buf, 0.5);
        assert_eq!(buf, [1.5, 3.0, 1.0, 2.5, 0.5, 2.0]);
    }
}
