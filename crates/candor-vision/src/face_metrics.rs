//! Blink and mouth signals from the 468-point face mesh (pure geometry, image x and y
//! only; z is ignored).

use crate::mesh::MESH_POINTS;

/// Mesh indices of the image-left eye as EAR's p1..p6: outer corner, two upper-lid
/// points, inner corner, two lower-lid points.
pub const IMAGE_LEFT_EYE: [usize; 6] = [33, 160, 158, 133, 153, 144];
/// Mesh indices of the image-right eye, in the same roles.
pub const IMAGE_RIGHT_EYE: [usize; 6] = [362, 385, 387, 263, 373, 380];
/// Inner upper lip, inner lower lip (mouth opening).
pub const MOUTH_INNER_LIPS: (usize, usize) = (13, 14);
/// Mouth corners (mouth width).
pub const MOUTH_CORNERS: (usize, usize) = (78, 308);

fn dist(points: &[[f32; 3]], a: usize, b: usize) -> f64 {
    let (p, q) = (points[a], points[b]);
    (f64::from(p[0]) - f64::from(q[0])).hypot(f64::from(p[1]) - f64::from(q[1]))
}

/// Eye aspect ratio `(|p2 - p6| + |p3 - p5|) / (2 |p1 - p4|)` for the mesh points at
/// `eye` (p1..p6). `None` when `points` has fewer than 468 points or the eye has no
/// width. Open eyes read about 0.2-0.4; a blink drops it toward 0.
pub fn eye_aspect_ratio(points: &[[f32; 3]], eye: &[usize; 6]) -> Option<f32> {
    if points.len() < MESH_POINTS {
        return None;
    }
    let width = dist(points, eye[0], eye[3]);
    let height = dist(points, eye[1], eye[5]) + dist(points, eye[2], eye[4]);
    (width > 0.0 && height.is_finite()).then(|| (height / (2.0 * width)) as f32)
}

/// Mouth opening `|p13 - p14| / |p78 - p308|`: inner-lip gap over mouth width. `None`
/// when `points` has fewer than 468 points or the mouth has no width.
pub fn mouth_open_ratio(points: &[[f32; 3]]) -> Option<f32> {
    if points.len() < MESH_POINTS {
        return None;
    }
    let width = dist(points, MOUTH_CORNERS.0, MOUTH_CORNERS.1);
    let gap = dist(points, MOUTH_INNER_LIPS.0, MOUTH_INNER_LIPS.1);
    (width > 0.0 && gap.is_finite()).then(|| (gap / width) as f32)
}

/// All three signals of one mesh.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceMetrics {
    pub ear_image_left: f32,
    pub ear_image_right: f32,
    pub mouth_open: f32,
}

impl FaceMetrics {
    /// `None` when any ratio is undefined (see the functions above).
    pub fn from_mesh(points: &[[f32; 3]]) -> Option<Self> {
        Some(Self {
            ear_image_left: eye_aspect_ratio(points, &IMAGE_LEFT_EYE)?,
            ear_image_right: eye_aspect_ratio(points, &IMAGE_RIGHT_EYE)?,
            mouth_open: mouth_open_ratio(points)?,
        })
    }

    /// Mean of both eyes' aspect ratios.
    pub fn ear_mean(&self) -> f32 {
        (self.ear_image_left + self.ear_image_right) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mesh with every point at the origin except those set.
    fn mesh(set: &[(usize, [f32; 2])]) -> Vec<[f32; 3]> {
        let mut pts = vec![[0.0f32; 3]; MESH_POINTS];
        for (i, p) in set {
            pts[*i] = [p[0], p[1], 7.0];
        }
        pts
    }

    #[test]
    fn ear_of_a_drawn_eye() {
        // Width 40 (x 10..50); lids 6 and 10 px apart: (6 + 10) / 80 = 0.2.
        let pts = mesh(&[
            (33, [10.0, 100.0]),
            (160, [23.0, 97.0]),
            (158, [37.0, 95.0]),
            (133, [50.0, 100.0]),
            (153, [37.0, 105.0]),
            (144, [23.0, 103.0]),
        ]);
        assert_eq!(eye_aspect_ratio(&pts, &IMAGE_LEFT_EYE), Some(0.2));
    }

    #[test]
    fn ear_uses_euclidean_distances_and_ignores_z() {
        // A 3-4-5 triangle: p2-p6 = 5, p3-p5 = 5, width 20 -> 10 / 40 = 0.25.
        let pts = mesh(&[
            (362, [0.0, 0.0]),
            (385, [3.0, 0.0]),
            (380, [6.0, 4.0]),
            (387, [10.0, 0.0]),
            (373, [13.0, 4.0]),
            (263, [20.0, 0.0]),
        ]);
        assert_eq!(eye_aspect_ratio(&pts, &IMAGE_RIGHT_EYE), Some(0.25));
    }

    #[test]
    fn mouth_ratio_of_a_drawn_mouth() {
        let pts = mesh(&[
            (13, [50.0, 200.0]),
            (14, [50.0, 215.0]),
            (78, [20.0, 207.0]),
            (308, [80.0, 207.0]),
        ]);
        assert_eq!(mouth_open_ratio(&pts), Some(0.25));
        let m = FaceMetrics::from_mesh(&pts);
        // The eyes of this mesh have no width.
        assert!(m.is_none());
    }

    #[test]
    fn degenerate_meshes_give_none() {
        let pts = mesh(&[]);
        assert_eq!(eye_aspect_ratio(&pts, &IMAGE_LEFT_EYE), None);
        assert_eq!(mouth_open_ratio(&pts), None);
        assert_eq!(mouth_open_ratio(&pts[..100]), None);
        assert_eq!(eye_aspect_ratio(&pts[..467], &IMAGE_LEFT_EYE), None);
    }

    #[test]
    fn metrics_bundle_and_mean() {
        let pts = mesh(&[
            (33, [0.0, 0.0]),
            (133, [10.0, 0.0]),
            (160, [3.0, -2.0]),
            (144, [3.0, 2.0]),
            (158, [7.0, -2.0]),
            (153, [7.0, 2.0]),
            (362, [20.0, 0.0]),
            (263, [30.0, 0.0]),
            (385, [23.0, -1.0]),
            (380, [23.0, 1.0]),
            (387, [27.0, -1.0]),
            (373, [27.0, 1.0]),
            (13, [15.0, 20.0]),
            (14, [15.0, 21.0]),
            (78, [10.0, 20.5]),
            (308, [20.0, 20.5]),
        ]);
        let m = FaceMetrics::from_mesh(&pts).unwrap();
        assert_eq!(
            (m.ear_image_left, m.ear_image_right, m.mouth_open),
            (0.4, 0.2, 0.1)
        );
        assert!((m.ear_mean() - 0.3).abs() < 1e-7);
    }
}
