//! Blink/mouth ratios and head pose from the reference meshes of
//! `faces/reference_outputs.json`. No model runs here: pure geometry on the reference
//! 468-point meshes, against the reference values computed from the same meshes
//! (`cv2.solvePnP` + `cv2.RQDecomp3x3` for the pose).

mod common;

use candor_vision::FaceMetrics;
use candor_vision::HeadPoseEstimator;
use common::{head_pose_estimator, references, weights_or_shared};

/// Measured worst case 0.00013 (the reference ratios are rounded to 4 decimals and the
/// mesh to 0.01 px); 0.001 is 10x tighter than the 0.01 the signals need.
const RATIO_TOLERANCE: f32 = 0.001;
/// Measured worst case 0.008 degrees (the reference is rounded to 0.01 and its mesh to
/// 0.01 px); the tolerance leaves margin for the solver's stopping point.
const POSE_TOLERANCE_DEG: f32 = 0.05;

#[test]
fn ratios_match_the_reference_on_the_reference_meshes() {
    let mut worst = 0.0f32;
    for r in references().0 {
        let m = FaceMetrics::from_mesh(&r.mesh).expect("metrics");
        let devs = [
            (m.ear_image_left - r.ear_left).abs(),
            (m.ear_image_right - r.ear_right).abs(),
            (m.mouth_open - r.mouth).abs(),
        ];
        println!(
            "{:34} EAR L {:.4} (ref {:.4})  R {:.4} (ref {:.4})  mouth {:.4} (ref {:.4})",
            r.rel,
            m.ear_image_left,
            r.ear_left,
            m.ear_image_right,
            r.ear_right,
            m.mouth_open,
            r.mouth
        );
        for d in devs {
            assert!(d <= RATIO_TOLERANCE, "{}: {m:?} vs reference", r.rel);
            worst = worst.max(d);
        }
    }
    println!("worst ratio deviation {worst:.5}");
}

#[test]
fn head_pose_matches_the_reference_on_the_reference_meshes() {
    let est = head_pose_estimator();
    let mut worst = 0.0f32;
    for r in references().0 {
        let e = est.estimate(&r.mesh, r.width, r.height).expect("pose");
        let ours = [e.pose.yaw, e.pose.pitch, e.pose.roll];
        println!(
            "{:34} yaw/pitch/roll {:7.3} {:7.3} {:7.3}  ref {:7.2} {:7.2} {:7.2}  rms {:.2} px, {} LM iterations",
            r.rel,
            ours[0],
            ours[1],
            ours[2],
            r.pose[0],
            r.pose[1],
            r.pose[2],
            e.solution.rms_px,
            e.solution.iterations
        );
        for (a, b) in ours.iter().zip(r.pose) {
            let d = (a - b).abs();
            assert!(
                d <= POSE_TOLERANCE_DEG,
                "{}: {ours:?} vs {:?}",
                r.rel,
                r.pose
            );
            worst = worst.max(d);
        }
    }
    println!("worst pose deviation {worst:.4} degrees");
}

#[test]
fn pose_signs_follow_the_manifest() {
    // Negative yaw = turned toward the image's right (T1), positive for F1.
    let est = head_pose_estimator();
    let (refs, _) = references();
    let yaw = |name: &str| {
        let r = refs.iter().find(|r| r.rel.ends_with(name)).expect(name);
        est.estimate(&r.mesh, r.width, r.height)
            .expect("pose")
            .pose
            .yaw
    };
    assert!(yaw("image_T1.jpg") < -20.0);
    assert!(yaw("image_F1.jpg") > 20.0);
}

#[test]
fn mirrored_mesh_flips_yaw_and_roll_but_not_pitch() {
    let est = head_pose_estimator();
    let (refs, _) = references();
    let r = refs
        .iter()
        .find(|r| r.rel.ends_with("image_T1.jpg"))
        .unwrap();
    // Mirror the picture: x -> W - x, and swap the mesh's left/right points by
    // re-solving with the mirrored canonical model (x -> -x), which is the same face.
    let w = r.width as f32;
    let mirrored: Vec<[f32; 3]> = r.mesh.iter().map(|p| [w - p[0], p[1], p[2]]).collect();
    let text =
        std::fs::read_to_string(weights_or_shared("mediapipe_canonical_face_model.obj")).unwrap();
    let verts = candor_vision::geometry3d::parse_obj_vertices(&text).unwrap();
    let mirror_model: Vec<_> = verts.iter().map(|v| [-v[0], v[1], v[2]]).collect();
    let mirror_est = HeadPoseEstimator::new(&mirror_model).unwrap();
    let a = est.estimate(&r.mesh, r.width, r.height).unwrap().pose;
    let b = mirror_est
        .estimate(&mirrored, r.width, r.height)
        .unwrap()
        .pose;
    println!("T1 {a:?}, mirrored {b:?}");
    assert!((a.yaw + b.yaw).abs() < 0.05 && (a.roll + b.roll).abs() < 0.05);
    assert!((a.pitch - b.pitch).abs() < 0.05);
}

#[test]
fn canonical_model_has_468_vertices_with_the_eyes_where_expected() {
    let est = head_pose_estimator();
    let m = est.model_points();
    assert_eq!(m.len(), 468);
    // Vertex 33 (image-left eye corner) lies left of 263 in camera axes, and y is down
    // after the flip: the eyes are above (smaller y than) the mouth (13).
    assert!(m[33][0] < 0.0 && m[263][0] > 0.0);
    assert!(m[33][1] < m[13][1]);
}
