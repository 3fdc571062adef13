//! Head pose from the 468-point face mesh: perspective-n-point against MediaPipe's
//! canonical face model, without OpenCV.
//!
//! The solver starts from a scaled-orthographic (weak-perspective) fit, then runs
//! Levenberg-Marquardt over rotation (axis-angle, applied as a left increment) and
//! translation, minimising the squared reprojection error in pixels: the same objective
//! as `cv2.solvePnP(SOLVEPNP_ITERATIVE)`, so both land on the same minimum.

// Small fixed-size matrix code reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

use std::path::Path;

use crate::error::VisionError;
use crate::geometry3d::{
    Mat3, Vec3, axis_angle, cross, euler_zyx, load_obj_vertices, mat_mul, mat_vec, norm,
    parse_obj_vertices, rodrigues,
};
use crate::mesh::MESH_POINTS;

/// A pinhole camera without distortion, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    pub fx: f64,
    pub fy: f64,
    pub cx: f64,
    pub cy: f64,
}

impl Camera {
    /// The usual guess for an uncalibrated picture: f = max(W, H), principal point at
    /// the picture's centre `(W/2, H/2)`.
    pub fn for_image(width: u32, height: u32) -> Self {
        let f = f64::from(width.max(height));
        Self {
            fx: f,
            fy: f,
            cx: f64::from(width) / 2.0,
            cy: f64::from(height) / 2.0,
        }
    }

    /// Projects a point in camera coordinates (x right, y down, z forward); `None`
    /// when it is not in front of the camera.
    pub fn project(&self, p: Vec3) -> Option<[f64; 2]> {
        (p[2] > 0.0).then(|| {
            [
                self.fx * p[0] / p[2] + self.cx,
                self.fy * p[1] / p[2] + self.cy,
            ]
        })
    }
}

/// Object pose in camera coordinates: `x_cam = rotation * x_obj + translation`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PnpSolution {
    pub rotation: Mat3,
    /// The rotation as an axis-angle vector (OpenCV's `rvec`).
    pub rvec: Vec3,
    pub translation: Vec3,
    /// Root-mean-square reprojection error, pixels.
    pub rms_px: f64,
    /// Levenberg-Marquardt iterations used.
    pub iterations: usize,
}

/// Options of [`solve_pnp`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PnpOptions {
    pub max_iterations: usize,
    /// Stop when a step shrinks the squared error by less than this share.
    pub relative_tolerance: f64,
}

impl Default for PnpOptions {
    fn default() -> Self {
        Self {
            max_iterations: 100,
            relative_tolerance: 1e-14,
        }
    }
}

/// Solves `n x n` `a x = b` by Gaussian elimination with partial pivoting; `None` when
/// singular. `a` and `b` are overwritten.
fn solve_linear<const N: usize>(a: &mut [[f64; N]; N], b: &mut [f64; N]) -> Option<[f64; N]> {
    for col in 0..N {
        let pivot = (col..N).fold(col, |best, r| {
            if a[r][col].abs() > a[best][col].abs() {
                r
            } else {
                best
            }
        });
        // Also catches NaN.
        if a[pivot][col].abs().partial_cmp(&1e-300) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for r in col + 1..N {
            let f = a[r][col] / a[col][col];
            if f != 0.0 {
                for c in col..N {
                    a[r][c] -= f * a[col][c];
                }
                b[r] -= f * b[col];
            }
        }
    }
    let mut x = [0.0; N];
    for r in (0..N).rev() {
        let s: f64 = (r + 1..N).map(|c| a[r][c] * x[c]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Sum of squared reprojection errors, `None` if a point falls behind the camera.
fn cost(object: &[Vec3], image: &[[f64; 2]], cam: &Camera, r: &Mat3, t: Vec3) -> Option<f64> {
    let mut sum = 0.0;
    for (x, u) in object.iter().zip(image) {
        let pc = mat_vec(r, *x);
        let p = cam.project([pc[0] + t[0], pc[1] + t[1], pc[2] + t[2]])?;
        sum += (p[0] - u[0]).powi(2) + (p[1] - u[1]).powi(2);
    }
    Some(sum)
}

/// Scaled-orthographic initial pose: fits the centred image points as an affine image of
/// the centred object points, turns the two rows into a rotation and the scale into a
/// depth. Falls back to a fronto-parallel guess when the object points are coplanar.
fn weak_perspective_init(object: &[Vec3], image: &[[f64; 2]], cam: &Camera) -> (Mat3, Vec3) {
    let n = object.len() as f64;
    let mut mo = [0.0; 3];
    let mut mi = [0.0; 2];
    for (x, u) in object.iter().zip(image) {
        for k in 0..3 {
            mo[k] += x[k] / n;
        }
        // Normalised image coordinates (unit focal length).
        mi[0] += (u[0] - cam.cx) / cam.fx / n;
        mi[1] += (u[1] - cam.cy) / cam.fy / n;
    }
    let mut c = [[0.0; 3]; 3]; // sum p p^T
    let mut m = [[0.0; 3]; 2]; // sum q p^T
    let (mut spread_obj, mut spread_img) = (0.0, 0.0);
    for (x, u) in object.iter().zip(image) {
        let p = [x[0] - mo[0], x[1] - mo[1], x[2] - mo[2]];
        let q = [
            (u[0] - cam.cx) / cam.fx - mi[0],
            (u[1] - cam.cy) / cam.fy - mi[1],
        ];
        for i in 0..3 {
            for j in 0..3 {
                c[i][j] += p[i] * p[j];
            }
            m[0][i] += q[0] * p[i];
            m[1][i] += q[1] * p[i];
        }
        spread_obj += p[0] * p[0] + p[1] * p[1];
        spread_img += q[0] * q[0] + q[1] * q[1];
    }
    // Rows of A = M C^-1 (C symmetric): solve C a_k = M_k.
    let rows = [0, 1].map(|k| {
        let mut cc = c;
        let mut b = m[k];
        solve_linear(&mut cc, &mut b)
    });
    let (r, s) = match rows {
        [Some(a1), Some(a2)] if norm(a1) > 0.0 && norm(a2) > 0.0 => {
            let (s1, s2) = (norm(a1), norm(a2));
            let (u1, u2) = (a1.map(|v| v / s1), a2.map(|v| v / s2));
            // The nearest orthonormal pair, symmetric in both rows: rotate each by half
            // the excess angle about their bisector. The rotation must be exactly
            // orthonormal, or no rotation increment can remove the residual.
            let sum = [u1[0] + u2[0], u1[1] + u2[1], u1[2] + u2[2]];
            let diff = [u1[0] - u2[0], u1[1] - u2[1], u1[2] - u2[2]];
            let (ns, nd) = (norm(sum), norm(diff));
            if ns > 1e-9 && nd > 1e-9 {
                let h = std::f64::consts::FRAC_1_SQRT_2;
                let (a, b) = (sum.map(|v| v / ns), diff.map(|v| v / nd));
                let r1 = [0, 1, 2].map(|k| (a[k] + b[k]) * h);
                let r2 = [0, 1, 2].map(|k| (a[k] - b[k]) * h);
                ([r1, r2, cross(r1, r2)], (s1 + s2) / 2.0)
            } else {
                (
                    crate::geometry3d::MAT3_IDENTITY,
                    (spread_img / spread_obj.max(1e-300)).sqrt(),
                )
            }
        }
        _ => (
            crate::geometry3d::MAT3_IDENTITY,
            (spread_img / spread_obj.max(1e-300)).sqrt(),
        ),
    };
    // s = 1 / Z (unit focal length).
    let z = if s > 0.0 && s.is_finite() {
        1.0 / s
    } else {
        1.0
    };
    let rm = mat_vec(&r, mo);
    let t = [mi[0] * z - rm[0], mi[1] * z - rm[1], z - rm[2]];
    (r, t)
}

/// Finds the pose of `object` (3-D points) whose pinhole projection best fits `image`
/// (pixels), point `i` matching point `i`, by least squares on the reprojection error.
///
/// Needs at least 4 non-coplanar points in front of the camera. Errors on mismatched or
/// too few points, non-finite input, or a solve that cannot keep the points in front.
pub fn solve_pnp(
    object: &[Vec3],
    image: &[[f64; 2]],
    camera: &Camera,
    options: &PnpOptions,
) -> Result<PnpSolution, VisionError> {
    if object.len() != image.len() || object.len() < 4 {
        return Err(VisionError::BadInput(format!(
            "PnP needs matching point lists of at least 4, got {} and {}",
            object.len(),
            image.len()
        )));
    }
    let finite = object.iter().flatten().all(|v| v.is_finite())
        && image.iter().flatten().all(|v| v.is_finite());
    if !(finite && camera.fx > 0.0 && camera.fy > 0.0) {
        return Err(VisionError::BadInput(
            "PnP input is not finite or the focal length is not positive".into(),
        ));
    }
    let (mut r, mut t) = weak_perspective_init(object, image, camera);
    let mut err = cost(object, image, camera, &r, t);
    if err.is_none() {
        // The weak-perspective depth put points behind the camera: push the object back.
        let spread = object.iter().map(|x| norm(*x)).fold(0.0, f64::max);
        t[2] += 2.0 * spread + 1.0;
        err = cost(object, image, camera, &r, t);
    }
    let mut err = err.ok_or_else(|| {
        VisionError::BadInput("PnP: object cannot be placed in front of the camera".into())
    })?;

    let mut lambda = 1e-3;
    let mut iterations = 0;
    while iterations < options.max_iterations && err > 0.0 {
        iterations += 1;
        // Normal equations of the linearised problem.
        let mut jtj = [[0.0; 6]; 6];
        let mut jtr = [0.0; 6];
        for (x, u) in object.iter().zip(image) {
            let rx = mat_vec(&r, *x);
            let pc = [rx[0] + t[0], rx[1] + t[1], rx[2] + t[2]];
            let iz = 1.0 / pc[2];
            let res = [
                camera.fx * pc[0] * iz + camera.cx - u[0],
                camera.fy * pc[1] * iz + camera.cy - u[1],
            ];
            // d(projection)/d(pc)
            let du = [camera.fx * iz, 0.0, -camera.fx * pc[0] * iz * iz];
            let dv = [0.0, camera.fy * iz, -camera.fy * pc[1] * iz * iz];
            // d(pc)/d(omega) = -[rx]x (omega x rx), so for a gradient row g:
            // g . (omega x rx) = omega . (rx x g).
            let rows = [du, dv].map(|g| {
                let w = cross(rx, g);
                [w[0], w[1], w[2], g[0], g[1], g[2]]
            });
            for (row, e) in rows.iter().zip(res) {
                for i in 0..6 {
                    jtr[i] += row[i] * e;
                    for j in i..6 {
                        jtj[i][j] += row[i] * row[j];
                    }
                }
            }
        }
        for i in 0..6 {
            for j in 0..i {
                jtj[i][j] = jtj[j][i];
            }
        }
        // Damped steps until one lowers the error (or damping gives up).
        let mut improved = false;
        while lambda < 1e12 {
            let mut a = jtj;
            for (i, row) in a.iter_mut().enumerate() {
                row[i] += lambda * jtj[i][i].max(1e-12);
            }
            let mut b = jtr.map(|v| -v);
            let Some(step) = solve_linear(&mut a, &mut b) else {
                lambda *= 10.0;
                continue;
            };
            let r_new = mat_mul(&rodrigues([step[0], step[1], step[2]]), &r);
            let t_new = [t[0] + step[3], t[1] + step[4], t[2] + step[5]];
            match cost(object, image, camera, &r_new, t_new) {
                Some(e) if e <= err => {
                    let gain = (err - e) / err.max(1e-300);
                    r = r_new;
                    t = t_new;
                    err = e;
                    lambda = (lambda / 10.0).max(1e-12);
                    improved = gain > options.relative_tolerance;
                    break;
                }
                _ => lambda *= 10.0,
            }
        }
        if !improved {
            break;
        }
    }
    // Re-orthonormalise the accumulated product of small rotations.
    let rvec = axis_angle(&r);
    let rotation = rodrigues(rvec);
    Ok(PnpSolution {
        rotation,
        rvec,
        translation: t,
        rms_px: (err / object.len() as f64).sqrt(),
        iterations,
    })
}

/// Head pose in degrees.
///
/// Convention (matches the reference values, computed with `cv2.solvePnP` and
/// `cv2.RQDecomp3x3`): with the camera-frame rotation `R = Rz(roll) Ry(yaw) Rx(pitch)`
/// of the canonical face (its y and z flipped to the camera's y-down, z-forward axes),
/// yaw is the turn about the vertical axis, **negative = face turned toward the
/// image's right**; pitch is about the horizontal axis; roll about the optical axis,
/// positive = face tilted clockwise on screen. A frontal face reads (0, 0, 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeadPose {
    pub yaw: f32,
    pub pitch: f32,
    pub roll: f32,
}

impl HeadPose {
    /// The angles of a camera-frame rotation of the (flipped) canonical face.
    pub fn from_rotation(r: &Mat3) -> Self {
        let [x, y, z] = euler_zyx(r);
        Self {
            yaw: y.to_degrees() as f32,
            pitch: x.to_degrees() as f32,
            roll: z.to_degrees() as f32,
        }
    }
}

/// A pose estimate with the solve behind it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeadPoseEstimate {
    pub pose: HeadPose,
    pub solution: PnpSolution,
}

/// Head pose from mesh points: PnP against MediaPipe's canonical face model.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadPoseEstimator {
    /// Canonical vertices with y and z negated (camera axes: x right, y down, z away
    /// from the viewer), centimetres.
    model: Vec<Vec3>,
    options: PnpOptions,
}

impl HeadPoseEstimator {
    /// From the canonical model's vertices as the `.obj` gives them (y up, z toward the
    /// viewer); needs the 468 mesh vertices.
    pub fn new(canonical: &[Vec3]) -> Result<Self, VisionError> {
        if canonical.len() < MESH_POINTS {
            return Err(VisionError::BadInput(format!(
                "canonical face model has {} vertices, expected {MESH_POINTS}",
                canonical.len()
            )));
        }
        Ok(Self {
            model: canonical[..MESH_POINTS]
                .iter()
                .map(|v| [v[0], -v[1], -v[2]])
                .collect(),
            options: PnpOptions::default(),
        })
    }

    /// From the text of `canonical_face_model.obj`.
    pub fn from_obj(text: &str) -> Result<Self, VisionError> {
        Self::new(&parse_obj_vertices(text)?)
    }

    /// From `canonical_face_model.obj` on disk.
    pub fn load(path: &Path) -> Result<Self, VisionError> {
        let vertices = load_obj_vertices(path)?;
        Self::new(&vertices).map_err(|e| VisionError::ModelLoad {
            path: path.to_path_buf(),
            msg: e.to_string(),
        })
    }

    /// The model points in camera axes (y and z already negated).
    pub fn model_points(&self) -> &[Vec3] {
        &self.model
    }

    /// Head pose for 468 mesh points (x, y in pixels of a `width` x `height` picture; z
    /// unused), with the camera of [`Camera::for_image`].
    pub fn estimate(
        &self,
        points: &[[f32; 3]],
        width: u32,
        height: u32,
    ) -> Result<HeadPoseEstimate, VisionError> {
        if points.len() < MESH_POINTS {
            return Err(VisionError::BadInput(format!(
                "head pose needs {MESH_POINTS} mesh points, got {}",
                points.len()
            )));
        }
        let image: Vec<[f64; 2]> = points[..MESH_POINTS]
            .iter()
            .map(|p| [f64::from(p[0]), f64::from(p[1])])
            .collect();
        let camera = Camera::for_image(width, height);
        let solution = solve_pnp(&self.model, &image, &camera, &self.options)?;
        Ok(HeadPoseEstimate {
            pose: HeadPose::from_rotation(&solution.rotation),
            solution,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry3d::{rot_x, rot_y, rot_z};

    /// A deterministic, non-planar cloud shaped roughly like a face (cm).
    fn cloud(n: usize) -> Vec<Vec3> {
        let mut state = 12345u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        (0..n)
            .map(|_| [7.0 * next(), 9.0 * next(), 4.0 * next()])
            .collect()
    }

    fn project_all(object: &[Vec3], r: &Mat3, t: Vec3, cam: &Camera) -> Vec<[f64; 2]> {
        object
            .iter()
            .map(|x| {
                let p = mat_vec(r, *x);
                cam.project([p[0] + t[0], p[1] + t[1], p[2] + t[2]])
                    .unwrap()
            })
            .collect()
    }

    fn angle_between(a: &Mat3, b: &Mat3) -> f64 {
        let d = mat_mul(a, &crate::geometry3d::transpose(b));
        norm(axis_angle(&d)).to_degrees()
    }

    #[test]
    fn recovers_a_known_pose_from_exact_projections() {
        let object = cloud(468);
        let cam = Camera::for_image(640, 480);
        for (yaw, pitch, roll, t) in [
            (-25.0f64, 11.5f64, 10.6f64, [3.0, -2.0, 60.0]),
            (28.0, 17.4, 22.6, [-5.0, 4.0, 45.0]),
            (0.0, 0.0, 0.0, [0.0, 0.0, 50.0]),
            (-60.0, -35.0, -80.0, [10.0, 8.0, 120.0]),
        ] {
            let r = mat_mul(
                &rot_z(roll.to_radians()),
                &mat_mul(&rot_y(yaw.to_radians()), &rot_x(pitch.to_radians())),
            );
            let image = project_all(&object, &r, t, &cam);
            let sol = solve_pnp(&object, &image, &cam, &PnpOptions::default()).unwrap();
            let err = angle_between(&sol.rotation, &r);
            assert!(err < 0.01, "rotation off by {err} degrees");
            for k in 0..3 {
                assert!(
                    (sol.translation[k] - t[k]).abs() < 1e-4,
                    "{:?}",
                    sol.translation
                );
            }
            assert!(
                sol.rms_px < 1e-6,
                "rms {} after {} iterations",
                sol.rms_px,
                sol.iterations
            );
            let pose = HeadPose::from_rotation(&sol.rotation);
            assert!((f64::from(pose.yaw) - yaw).abs() < 0.01, "{pose:?}");
            assert!((f64::from(pose.pitch) - pitch).abs() < 0.01, "{pose:?}");
            assert!((f64::from(pose.roll) - roll).abs() < 0.01, "{pose:?}");
        }
    }

    #[test]
    fn noisy_projections_still_land_near_the_pose() {
        let object = cloud(200);
        let cam = Camera::for_image(480, 640);
        let r = mat_mul(&rot_y(0.3), &rot_x(-0.2));
        let t = [1.0, 2.0, 55.0];
        let mut image = project_all(&object, &r, t, &cam);
        for (i, p) in image.iter_mut().enumerate() {
            // +-0.5 px deterministic "noise"
            p[0] += ((i * 7919) % 101) as f64 / 100.0 - 0.5;
            p[1] += ((i * 104729) % 103) as f64 / 102.0 - 0.5;
        }
        let sol = solve_pnp(&object, &image, &cam, &PnpOptions::default()).unwrap();
        assert!(angle_between(&sol.rotation, &r) < 1.0);
        assert!(sol.rms_px < 0.6, "rms {}", sol.rms_px);
    }

    #[test]
    fn bad_input_is_rejected() {
        let cam = Camera::for_image(100, 100);
        let object = cloud(5);
        let image = vec![[1.0, 2.0]; 4];
        assert!(solve_pnp(&object, &image, &cam, &PnpOptions::default()).is_err());
        let image = vec![[f64::NAN, 2.0]; 5];
        assert!(solve_pnp(&object, &image, &cam, &PnpOptions::default()).is_err());
        assert!(HeadPoseEstimator::new(&object).is_err());
    }

    #[test]
    fn camera_for_image_and_projection() {
        let cam = Camera::for_image(480, 640);
        assert_eq!(
            cam,
            Camera {
                fx: 640.0,
                fy: 640.0,
                cx: 240.0,
                cy: 320.0
            }
        );
        assert_eq!(cam.project([1.0, -2.0, 64.0]), Some([250.0, 300.0]));
        assert_eq!(cam.project([0.0, 0.0, -1.0]), None);
    }

    #[test]
    fn linear_solver_solves_and_detects_singularity() {
        let mut a = [[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]];
        let mut b = [3.0, 5.0, 5.0];
        let x = solve_linear(&mut a, &mut b).unwrap();
        for (v, e) in x.iter().zip([1.0, 1.0, 1.0]) {
            assert!((v - e).abs() < 1e-12);
        }
        let mut s = [[1.0, 2.0], [2.0, 4.0]];
        assert!(solve_linear(&mut s, &mut [1.0, 2.0]).is_none());
    }
}
