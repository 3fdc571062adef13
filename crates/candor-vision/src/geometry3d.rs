//! Small 3-D helpers for head pose: vectors and 3x3 matrices in f64, axis-angle
//! (Rodrigues) rotations, Euler angles, and the Wavefront `.obj` vertex reader for
//! MediaPipe's canonical face model.

use std::path::Path;

use crate::error::VisionError;

pub type Vec3 = [f64; 3];
/// Row-major 3x3 matrix.
pub type Mat3 = [[f64; 3]; 3];

pub const MAT3_IDENTITY: Mat3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

pub fn dot(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

pub fn norm(a: Vec3) -> f64 {
    dot(a, a).sqrt()
}

pub fn mat_vec(m: &Mat3, v: Vec3) -> Vec3 {
    [dot(m[0], v), dot(m[1], v), dot(m[2], v)]
}

pub fn mat_mul(a: &Mat3, b: &Mat3) -> Mat3 {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..3).map(|k| a[i][k] * b[k][j]).sum()))
}

pub fn transpose(m: &Mat3) -> Mat3 {
    std::array::from_fn(|i| std::array::from_fn(|j| m[j][i]))
}

pub fn determinant(m: &Mat3) -> f64 {
    dot(m[0], cross(m[1], m[2]))
}

/// The rotation matrix of the axis-angle vector `r` (direction = axis, length =
/// angle in radians), as OpenCV's `Rodrigues`.
pub fn rodrigues(r: Vec3) -> Mat3 {
    let theta = norm(r);
    if theta < 1e-300 {
        return MAT3_IDENTITY;
    }
    let k = [r[0] / theta, r[1] / theta, r[2] / theta];
    let (s, c) = theta.sin_cos();
    let v = 1.0 - c;
    [
        [
            c + k[0] * k[0] * v,
            k[0] * k[1] * v - k[2] * s,
            k[0] * k[2] * v + k[1] * s,
        ],
        [
            k[1] * k[0] * v + k[2] * s,
            c + k[1] * k[1] * v,
            k[1] * k[2] * v - k[0] * s,
        ],
        [
            k[2] * k[0] * v - k[1] * s,
            k[2] * k[1] * v + k[0] * s,
            c + k[2] * k[2] * v,
        ],
    ]
}

/// The axis-angle vector of a rotation matrix (inverse of [`rodrigues`]), angle in
/// `[0, pi]`.
pub fn axis_angle(m: &Mat3) -> Vec3 {
    let cos = ((m[0][0] + m[1][1] + m[2][2] - 1.0) / 2.0).clamp(-1.0, 1.0);
    // w = 2 sin(theta) k
    let w = [m[2][1] - m[1][2], m[0][2] - m[2][0], m[1][0] - m[0][1]];
    let sin = norm(w) / 2.0;
    let theta = sin.atan2(cos);
    if cos >= 0.0 || sin > 1e-3 {
        if sin < 1e-300 {
            return [0.0; 3];
        }
        let f = theta / (2.0 * sin);
        return [w[0] * f, w[1] * f, w[2] * f];
    }
    // Near pi w vanishes: take the axis from the symmetric part,
    // R + R^T = 2 cos I + 2 (1 - cos) k k^T, and its sign from w.
    let v = 1.0 - cos;
    let d = [0, 1, 2].map(|i| ((m[i][i] - cos) / v).max(0.0).sqrt());
    let i = (0..3).fold(0, |best, i| if d[i] > d[best] { i } else { best });
    let mut k = [0.0; 3];
    k[i] = d[i];
    for j in 0..3 {
        if j != i {
            k[j] = (m[i][j] + m[j][i]) / (2.0 * v * d[i]);
        }
    }
    let n = norm(k);
    let sign = if dot(k, w) < 0.0 { -1.0 } else { 1.0 };
    k.map(|c| sign * c / n * theta)
}

/// Rotation about the x axis by `a` radians (right-handed).
pub fn rot_x(a: f64) -> Mat3 {
    let (s, c) = a.sin_cos();
    [[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]]
}

pub fn rot_y(a: f64) -> Mat3 {
    let (s, c) = a.sin_cos();
    [[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]]
}

pub fn rot_z(a: f64) -> Mat3 {
    let (s, c) = a.sin_cos();
    [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
}

/// Euler angles `(x, y, z)` in radians with `m = Rz(z) * Ry(y) * Rx(x)`, y in
/// `[-pi/2, pi/2]`: the angles OpenCV's `RQDecomp3x3` returns for a rotation matrix.
pub fn euler_zyx(m: &Mat3) -> Vec3 {
    let y = (-m[2][0]).atan2((m[2][1] * m[2][1] + m[2][2] * m[2][2]).sqrt());
    if (m[2][1].abs() + m[2][2].abs()) < 1e-12 {
        // Gimbal lock (y = +-90 degrees): put everything into z.
        return [0.0, y, (-m[0][1]).atan2(m[1][1])];
    }
    [m[2][1].atan2(m[2][2]), y, m[1][0].atan2(m[0][0])]
}

/// The `v x y z` vertices of a Wavefront `.obj` text, in file order (other lines,
/// `vt`/`vn`/`f` included, are skipped; a fourth `w` coordinate is ignored).
pub fn parse_obj_vertices(text: &str) -> Result<Vec<Vec3>, VisionError> {
    let mut vertices = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut fields = line.split_whitespace();
        if fields.next() != Some("v") {
            continue;
        }
        let mut v = [0.0; 3];
        for c in &mut v {
            *c = fields
                .next()
                .and_then(|f| f.parse::<f64>().ok())
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    VisionError::BadInput(format!("obj line {}: bad vertex `{line}`", n + 1))
                })?;
        }
        vertices.push(v);
    }
    Ok(vertices)
}

/// Reads [`parse_obj_vertices`] from a file.
pub fn load_obj_vertices(path: &Path) -> Result<Vec<Vec3>, VisionError> {
    let text = std::fs::read_to_string(path).map_err(|e| VisionError::ModelLoad {
        path: path.to_path_buf(),
        msg: e.to_string(),
    })?;
    parse_obj_vertices(&text).map_err(|e| VisionError::ModelLoad {
        path: path.to_path_buf(),
        msg: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_mat_close(a: &Mat3, b: &Mat3, tol: f64) {
        for i in 0..3 {
            for j in 0..3 {
                assert!((a[i][j] - b[i][j]).abs() <= tol, "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn rodrigues_of_axis_rotations() {
        let a = 0.7;
        assert_mat_close(&rodrigues([a, 0.0, 0.0]), &rot_x(a), 1e-15);
        assert_mat_close(&rodrigues([0.0, a, 0.0]), &rot_y(a), 1e-15);
        assert_mat_close(&rodrigues([0.0, 0.0, a]), &rot_z(a), 1e-15);
        assert_mat_close(&rodrigues([0.0; 3]), &MAT3_IDENTITY, 0.0);
        // A quarter turn about z takes x to y.
        let v = mat_vec(
            &rodrigues([0.0, 0.0, std::f64::consts::FRAC_PI_2]),
            [1.0, 0.0, 0.0],
        );
        assert!((v[0]).abs() < 1e-15 && (v[1] - 1.0).abs() < 1e-15);
    }

    #[test]
    fn axis_angle_inverts_rodrigues() {
        for r in [
            [0.1, -0.2, 0.3],
            [1e-9, 0.0, -2e-9],
            [0.0, 0.0, 0.0],
            [2.0, 1.0, -0.5],
            [0.0, std::f64::consts::PI - 1e-9, 0.0],
            [std::f64::consts::PI / 3f64.sqrt(); 3],
        ] {
            let m = rodrigues(r);
            assert!((determinant(&m) - 1.0).abs() < 1e-12);
            let back = axis_angle(&m);
            assert_mat_close(&rodrigues(back), &m, 1e-9);
        }
    }

    #[test]
    fn euler_zyx_recovers_the_angles() {
        let (x, y, z) = (0.2, -0.4, 0.15);
        let m = mat_mul(&rot_z(z), &mat_mul(&rot_y(y), &rot_x(x)));
        let e = euler_zyx(&m);
        assert!((e[0] - x).abs() < 1e-12 && (e[1] - y).abs() < 1e-12 && (e[2] - z).abs() < 1e-12);
        let e = euler_zyx(&MAT3_IDENTITY);
        assert_eq!(e, [0.0, 0.0, 0.0]);
        let m = mat_mul(&rot_z(0.3), &rot_y(std::f64::consts::FRAC_PI_2));
        let e = euler_zyx(&m);
        assert!((e[1] - std::f64::consts::FRAC_PI_2).abs() < 1e-7, "{e:?}");
    }

    #[test]
    fn matrix_helpers() {
        let m = rot_x(0.3);
        assert_mat_close(&mat_mul(&m, &transpose(&m)), &MAT3_IDENTITY, 1e-15);
        assert_eq!(cross([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]), [0.0, 0.0, 1.0]);
        assert_eq!(norm([3.0, 4.0, 0.0]), 5.0);
    }

    #[test]
    fn obj_vertices_are_read_in_order() {
        let text = "# comment\nmtllib x.mtl\nv 0.000000 -3.406404 5.979507\nvt 0.4 0.6\n\
                    v -0.463928 0.955357 6.633583 1.0\nvn 0 0 1\nf 1/1 2/2 1/1\nv 1 2 3\n";
        let v = parse_obj_vertices(text).unwrap();
        assert_eq!(
            v,
            [
                [0.0, -3.406404, 5.979507],
                [-0.463928, 0.955357, 6.633583],
                [1.0, 2.0, 3.0]
            ]
        );
        assert!(parse_obj_vertices("v 1 2\n").is_err());
        assert!(parse_obj_vertices("v 1 x 3\n").is_err());
        assert!(parse_obj_vertices("v 1 nan 3\n").is_err());
        assert_eq!(parse_obj_vertices("").unwrap(), Vec::<Vec3>::new());
    }
}
