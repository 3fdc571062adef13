//! Mean colour of three skin patches placed by the face mesh: the forehead and both
//! cheeks, where the blood volume pulse shows best and hair, eyes and lips do not. A
//! remote-photoplethysmography signal is read from how these means change over time.

use candor_core::BgrImage;

/// MediaPipe face-mesh points the patches centre on: the middle of the forehead and
/// the middle of each cheek (below the cheekbone, beside the nose); left and right are
/// the subject's.
const FOREHEAD: usize = 151;
const RIGHT_CHEEK: usize = 205;
const LEFT_CHEEK: usize = 425;
/// Outer eye corners, whose distance scales the patches.
const EYE_CORNERS: (usize, usize) = (33, 263);
/// Patch side as a share of the eye-corner distance: large enough to average out
/// sensor noise, small enough to stay on skin when the head turns.
const PATCH_SHARE: f32 = 0.25;
/// Smallest patch side, in pixels: below it a mean is mostly noise.
const MIN_SIDE_PX: f32 = 4.0;

/// Mean RGB (0-255) of the forehead, left-cheek and right-cheek patches of `image`,
/// whose pixels are the mesh's coordinates times `to_image`; `None` when the mesh is
/// not a 468-point mesh, the face is too small, or a patch leaves the picture.
pub fn skin_patches(image: &BgrImage, mesh: &[[f32; 3]], to_image: f32) -> Option<[[f32; 3]; 3]> {
    if mesh.len() < 468 {
        return None;
    }
    let (a, b) = (mesh[EYE_CORNERS.0], mesh[EYE_CORNERS.1]);
    let side = ((a[0] - b[0]).hypot(a[1] - b[1]) * to_image * PATCH_SHARE).max(0.0);
    if side < MIN_SIDE_PX {
        return None;
    }
    let mut out = [[0.0; 3]; 3];
    for (slot, &point) in out.iter_mut().zip(&[FOREHEAD, LEFT_CHEEK, RIGHT_CHEEK]) {
        let [x, y, _] = mesh[point];
        *slot = mean_rgb(image, x * to_image, y * to_image, side)?;
    }
    Some(out)
}

/// Mean RGB of the square of `side` pixels centred on (cx, cy), if it lies inside.
fn mean_rgb(image: &BgrImage, cx: f32, cy: f32, side: f32) -> Option<[f32; 3]> {
    let half = side / 2.0;
    let (x0, y0) = ((cx - half).round(), (cy - half).round());
    let (x1, y1) = ((cx + half).round(), (cy + half).round());
    if x0 < 0.0 || y0 < 0.0 || x1 > image.width as f32 || y1 > image.height as f32 {
        return None;
    }
    let (x0, y0, x1, y1) = (x0 as usize, y0 as usize, x1 as usize, y1 as usize);
    let width = image.width as usize;
    let mut sum = [0u64; 3];
    for y in y0..y1 {
        let row = &image.data[(y * width + x0) * 3..(y * width + x1) * 3];
        for px in row.chunks_exact(3) {
            // BGR in memory, RGB out.
            sum[0] += u64::from(px[2]);
            sum[1] += u64::from(px[1]);
            sum[2] += u64::from(px[0]);
        }
    }
    let n = ((x1 - x0) * (y1 - y0)) as f32;
    (n > 0.0).then(|| sum.map(|s| s as f32 / n))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mesh whose every point sits at (x, y), with the eye corners `eye` apart.
    fn mesh_at(x: f32, y: f32, eye: f32) -> Vec<[f32; 3]> {
        let mut m = vec![[x, y, 0.0]; 468];
        m[EYE_CORNERS.0] = [x - eye / 2.0, y, 0.0];
        m[EYE_CORNERS.1] = [x + eye / 2.0, y, 0.0];
        m
    }

    #[test]
    fn patches_read_the_skin_colour_in_rgb_order() {
        // BGR (40, 90, 200) everywhere: RGB (200, 90, 40).
        let img = BgrImage::filled(100, 80, [40, 90, 200]);
        let got = skin_patches(&img, &mesh_at(50.0, 40.0, 40.0), 1.0).unwrap();
        assert_eq!(got, [[200.0, 90.0, 40.0]; 3]);
        // A mesh read on a picture twice this size lands on the same patches.
        let doubled = skin_patches(&img, &mesh_at(100.0, 80.0, 80.0), 0.5).unwrap();
        assert_eq!(doubled, got);
    }

    #[test]
    fn the_patch_is_the_square_around_its_point() {
        // Left half dark, right half bright: a patch centred on the edge reads half-way.
        let mut img = BgrImage::filled(100, 80, [0, 0, 0]);
        for y in 0..80 {
            for x in 50..100 {
                let i = (y * 100 + x) * 3;
                img.data[i..i + 3].copy_from_slice(&[100, 100, 100]);
            }
        }
        let got = skin_patches(&img, &mesh_at(50.0, 40.0, 40.0), 1.0).unwrap();
        assert_eq!(got[0], [50.0, 50.0, 50.0]);
    }

    #[test]
    fn small_faces_and_patches_off_the_picture_read_nothing() {
        let img = BgrImage::filled(100, 80, [1, 2, 3]);
        assert!(skin_patches(&img, &mesh_at(50.0, 40.0, 8.0), 1.0).is_none());
        assert!(skin_patches(&img, &mesh_at(2.0, 40.0, 40.0), 1.0).is_none());
        assert!(skin_patches(&img, &mesh_at(50.0, 40.0, 40.0)[..100], 1.0).is_none());
    }
}
