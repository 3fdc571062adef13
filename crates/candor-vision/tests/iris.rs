//! MediaPipe iris landmarks on the real stills. No reference values exist for this model
//! (`reference_outputs.json` has none), so these tests check geometry and consistency:
//! the iris lies inside the eye, the contour's ends sit on the mesh's eye corners (which
//! catches a missing or wrong right-eye flip), a mirrored picture gives the mirrored
//! answer, and the output is deterministic.

mod common;

use std::sync::Arc;

use candor_core::{BgrImage, Point};
use candor_vision::iris::{CONTOUR_POINTS, EYE_CORNERS, IRIS_POINTS};
use candor_vision::{EyeRoi, IrisResult, Model};
use common::{face_mesh, iris_model, load_shared, references};

/// MediaPipe face-mesh eye contours (16 points each): image-left eye, image-right eye.
const MESH_EYE_CONTOURS: [[usize; 16]; 2] = [
    [
        33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246,
    ],
    [
        263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466,
    ],
];
/// The iris model's first 16 contour points outline the eye: point 0 at the outer corner,
/// point 8 at the inner corner.
const EYE_OUTLINE: usize = 16;

struct Still {
    rel: String,
    image: Arc<BgrImage>,
    mesh: Vec<[f32; 3]>,
    iod: f32,
}

fn stills() -> Vec<Still> {
    let mut mesh = face_mesh();
    references()
        .0
        .into_iter()
        .map(|r| {
            let image = load_shared(&r.rel);
            let m = mesh.landmarks_refined(&image, &r.yunet).expect("mesh");
            Still {
                rel: r.rel,
                image,
                mesh: m.points,
                iod: r.yunet.inter_ocular(),
            }
        })
        .collect()
}

fn bbox(points: impl Iterator<Item = [f32; 2]>) -> [f32; 4] {
    points.fold(
        [f32::MAX, f32::MAX, f32::MIN, f32::MIN],
        |[x0, y0, x1, y1], [x, y]| [x0.min(x), y0.min(y), x1.max(x), y1.max(y)],
    )
}

fn inside(p: Point, b: [f32; 4]) -> bool {
    p.x > b[0] && p.x < b[2] && p.y > b[1] && p.y < b[3]
}

#[test]
fn iris_lies_inside_each_open_eye() {
    let mut iris = iris_model();
    for s in stills() {
        let rois = EyeRoi::from_mesh(&s.mesh).expect("rois");
        let res = iris.run((Arc::clone(&s.image), rois)).expect("iris");
        for (k, eye) in res.eyes.iter().enumerate() {
            assert_eq!(eye.contour.len(), CONTOUR_POINTS);
            assert_eq!(eye.iris.len(), IRIS_POINTS);
            let c = eye.iris_centre();
            let own = bbox(eye.contour[..EYE_OUTLINE].iter().map(|p| [p[0], p[1]]));
            let from_mesh = bbox(
                MESH_EYE_CONTOURS[k]
                    .iter()
                    .map(|&i| [s.mesh[i][0], s.mesh[i][1]]),
            );
            let radius = eye.iris_radius() / s.iod;
            println!(
                "{:34} eye {k}: iris ({:.1}, {:.1}) radius {:.3} IOD; eye box ({:.0}..{:.0}, {:.0}..{:.0}), mesh eye box ({:.0}..{:.0}, {:.0}..{:.0})",
                s.rel,
                c.x,
                c.y,
                radius,
                own[0],
                own[2],
                own[1],
                own[3],
                from_mesh[0],
                from_mesh[2],
                from_mesh[1],
                from_mesh[3]
            );
            assert!(
                inside(c, own),
                "{} eye {k}: iris {c:?} outside {own:?}",
                s.rel
            );
            assert!(
                inside(c, from_mesh),
                "{} eye {k}: iris {c:?} outside mesh eye {from_mesh:?}",
                s.rel
            );
            // A human iris is about 0.19 inter-ocular distances across.
            assert!(
                (0.06..0.13).contains(&radius),
                "{} eye {k}: radius {radius}",
                s.rel
            );
        }
    }
}

#[test]
fn contour_ends_sit_on_the_mesh_eye_corners() {
    // Point 0 = outer corner, point 8 = inner corner, for both eyes. Without the
    // right-eye flip (or with x not mapped back) the right eye's ends swap sides, about
    // one eye width from where they belong. Measured: 0.002-0.30 eye widths (the two
    // models place the outer corner differently, most on T1's far eye, turned 25 deg).
    let mut iris = iris_model();
    let mut worst = 0.0f32;
    for s in stills() {
        let rois = EyeRoi::from_mesh(&s.mesh).expect("rois");
        let res = iris.eyes(&s.image, &rois).expect("iris");
        for (k, eye) in res.eyes.iter().enumerate() {
            let (a, b) = EYE_CORNERS[k];
            // (outer, inner): 33 and 133 for the image-left eye, 263 and 362 for the right.
            let (outer, inner) = if k == 0 { (a, b) } else { (b, a) };
            let dist = |p: [f32; 3], i: usize| {
                let width = (s.mesh[a][0] - s.mesh[b][0]).hypot(s.mesh[a][1] - s.mesh[b][1]);
                (p[0] - s.mesh[i][0]).hypot(p[1] - s.mesh[i][1]) / width
            };
            for (idx, own, other) in [(0, outer, inner), (8, inner, outer)] {
                let p = eye.contour[idx];
                let (d, d_other) = (dist(p, own), dist(p, other));
                println!(
                    "{:34} eye {k}: contour point {idx} is {d:.3} eye widths from mesh point {own}, {d_other:.3} from {other}",
                    s.rel
                );
                worst = worst.max(d);
                assert!(
                    d < 0.4 && d_other > 0.6,
                    "{} eye {k}: contour {idx} at {p:?}",
                    s.rel
                );
            }
        }
    }
    println!("contour ends: worst distance to the mesh corner {worst:.3} eye widths");
}

fn mirror(img: &BgrImage) -> BgrImage {
    let (w, h) = (img.width, img.height);
    let mut data = Vec::with_capacity(img.data.len());
    for y in 0..h {
        for x in 0..w {
            data.extend(img.pixel(w - 1 - x, y));
        }
    }
    BgrImage::new(w, h, data).unwrap()
}

#[test]
fn mirrored_picture_gives_the_mirrored_iris() {
    let mut iris = iris_model();
    let mut worst = 0.0f32;
    for s in stills() {
        let w = s.image.width as f32;
        let m = |i: usize| Point::new(w - 1.0 - s.mesh[i][0], s.mesh[i][1]);
        let mirrored = mirror(&s.image);
        let rois = EyeRoi::from_mesh(&s.mesh).expect("rois");
        let res = iris.eyes(&s.image, &rois).expect("iris");
        // In the mirror, the original image-right eye becomes the image-left one (no
        // flip): from its outer corner (263) to its inner corner (362), and vice versa.
        let mirrored_rois = [
            EyeRoi::from_corners(m(263), m(362), false),
            EyeRoi::from_corners(m(133), m(33), true),
        ];
        let res_m = iris.eyes(&mirrored, &mirrored_rois).expect("mirrored iris");
        for k in 0..2 {
            let orig = res.eyes[1 - k].iris_centre();
            let back = res_m.eyes[k].iris_centre();
            let back = Point::new(w - 1.0 - back.x, back.y);
            let d = orig.distance(back) / s.iod;
            worst = worst.max(d);
            assert!(
                d < 0.02,
                "{}: eye {k} iris {orig:?} vs mirrored {back:?}",
                s.rel
            );
        }
    }
    println!("mirror consistency: worst iris-centre difference {worst:.4} IOD");
}

#[test]
fn output_is_deterministic_and_bad_rois_are_refused() {
    let s = &stills()[0];
    let mut iris = iris_model();
    let rois = EyeRoi::from_mesh(&s.mesh).expect("rois");
    let a: IrisResult = iris.run((Arc::clone(&s.image), rois)).expect("run");
    let b = iris.run((Arc::clone(&s.image), rois)).expect("run again");
    assert_eq!(a, b);
    let mut bad = rois;
    bad[1].side = f32::NAN;
    assert!(iris.eyes(&s.image, &bad).is_err());
    assert_eq!(iris.name(), "mediapipe_iris");
    iris.warm_up().expect("warm up");
}
