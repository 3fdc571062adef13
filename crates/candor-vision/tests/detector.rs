//! YuNet on the real stills, against OpenCV's `FaceDetectorYN` reference rows.

mod common;

use candor_core::BgrImage;
use candor_vision::{DetectorOptions, FaceDetector, Model, ModelSpec, RuntimeOptions};
use common::{data_dir, detector, load_shared, yunet_n_spec, yunet_s_spec};

// Measured worst cases (JPEG decoders differ slightly from OpenCV's libjpeg): box 0.2 %
// of its size, landmarks 0.4 px, score 0.0005. The tolerances leave about 5x margin.
/// Box coordinates may differ from OpenCV's by this share of the reference box size.
const BOX_TOLERANCE: f32 = 0.01;
/// Landmarks may differ by this many pixels (either axis).
const LANDMARK_TOLERANCE_PX: f32 = 1.5;
const SCORE_TOLERANCE: f32 = 0.01;

/// (relative path under the data folder, reference row) for every reference image.
fn references() -> Vec<(String, Vec<f32>)> {
    let path = data_dir().join("faces/reference_outputs.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let images = json["images"].as_object().expect("images");
    let mut refs: Vec<(String, Vec<f32>)> = images
        .iter()
        .map(|(rel, v)| {
            let row = v["yunet_face"]
                .as_array()
                .expect("yunet_face")
                .iter()
                .map(|x| x.as_f64().expect("number") as f32)
                .collect();
            (rel.clone(), row)
        })
        .collect();
    refs.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        refs.len() >= 8,
        "expected the 5 faces and 3 spoof samples, got {}",
        refs.len()
    );
    refs
}

#[test]
fn yunet_n_matches_opencv_reference_on_every_still() {
    // Input size = image size, like the reference: no resize, only padding.
    let mut det = detector(&yunet_n_spec(), 4096);
    let mut worst = [0.0f32; 3]; // box share, landmark px, score
    for (rel, r) in references() {
        let img = load_shared(&rel);
        let faces = det.detect(&img).expect("detect");
        let confident = faces.iter().filter(|f| f.score > 0.6).count();
        assert_eq!(confident, 1, "{rel}: {faces:?}");
        let f = faces[0];
        let (rw, rh) = (r[2], r[3]);
        let box_dev = [
            (f.bbox.x - r[0]).abs() / rw,
            (f.bbox.y - r[1]).abs() / rh,
            (f.bbox.w - r[2]).abs() / rw,
            (f.bbox.h - r[3]).abs() / rh,
        ]
        .into_iter()
        .fold(0.0f32, f32::max);
        let lm_dev = f
            .landmarks
            .iter()
            .enumerate()
            .map(|(k, p)| (p.x - r[4 + 2 * k]).abs().max((p.y - r[5 + 2 * k]).abs()))
            .fold(0.0f32, f32::max);
        let score_dev = (f.score - r[14]).abs();
        println!(
            "{rel:38} box ({:7.2} {:7.2} {:7.2} {:7.2}) ref ({:7.2} {:7.2} {:7.2} {:7.2}) max dev {:.4} of size; \
             landmarks max dev {lm_dev:.3} px; score {:.4} ref {:.3}",
            f.bbox.x, f.bbox.y, f.bbox.w, f.bbox.h, r[0], r[1], r[2], r[3], box_dev, f.score, r[14]
        );
        assert!(
            box_dev <= BOX_TOLERANCE,
            "{rel}: box deviates by {box_dev} of its size"
        );
        assert!(
            lm_dev <= LANDMARK_TOLERANCE_PX,
            "{rel}: landmark deviates by {lm_dev} px"
        );
        assert!(
            score_dev <= SCORE_TOLERANCE,
            "{rel}: score {} vs {}",
            f.score,
            r[14]
        );
        worst = [
            worst[0].max(box_dev),
            worst[1].max(lm_dev),
            worst[2].max(score_dev),
        ];
    }
    println!(
        "worst deviations: box {:.4} of size, landmarks {:.3} px, score {:.4}",
        worst[0], worst[1], worst[2]
    );
}

#[test]
fn yunet_s_finds_exactly_one_face_on_every_still() {
    let mut det = detector(&yunet_s_spec(), 640);
    for (rel, r) in references() {
        let img = load_shared(&rel);
        let faces = det.detect(&img).expect("detect");
        let confident: Vec<_> = faces.iter().filter(|f| f.score > 0.6).collect();
        assert_eq!(confident.len(), 1, "{rel}: {faces:?}");
        let iou = confident[0]
            .bbox
            .iou(&candor_core::Rect::new(r[0], r[1], r[2], r[3]));
        println!(
            "{rel:38} yunet_s score {:.3}, IoU with yunet_n reference {iou:.3}",
            confident[0].score
        );
        assert!(iou > 0.7, "{rel}: IoU {iou}");
    }
}

#[test]
fn a_blank_picture_has_no_face() {
    let mut det = detector(&yunet_n_spec(), 640);
    for colour in [[0, 0, 0], [128, 128, 128], [255, 255, 255]] {
        let faces = det
            .detect(&BgrImage::filled(640, 480, colour))
            .expect("detect");
        assert!(faces.is_empty(), "{colour:?}: {faces:?}");
    }
}

#[test]
fn a_large_picture_is_shrunk_and_faces_mapped_back() {
    // Double the 640x552 portrait (nearest neighbour) to 1280x1104; detection at
    // max_side 640 must land on twice the reference box.
    let src = load_shared("faces/obama_2012_portrait.jpg");
    let (w, h) = (src.width * 2, src.height * 2);
    let mut data = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            data.extend(src.pixel(x / 2, y / 2));
        }
    }
    let big = BgrImage::new(w, h, data).unwrap();
    let mut det = detector(&yunet_n_spec(), 640);
    let faces = det.detect(&big).expect("detect");
    assert_eq!(
        faces.iter().filter(|f| f.score > 0.6).count(),
        1,
        "{faces:?}"
    );
    let reference = candor_core::Rect::new(252.23, 61.862, 166.151, 242.202).scaled(2.0);
    let iou = faces[0].bbox.iou(&reference);
    println!(
        "2x portrait at max_side 640: {:?}, IoU with 2x reference {iou:.3}",
        faces[0].bbox
    );
    assert!(iou > 0.9, "IoU {iou}");
}

#[test]
fn model_identity_and_bad_input() {
    let mut det = detector(&yunet_n_spec(), 640);
    assert_eq!((det.name(), det.version()), ("yunet_n", "2023mar-n"));
    det.warm_up().expect("warm up");
    let empty = BgrImage {
        width: 0,
        height: 0,
        data: Vec::new(),
    };
    assert!(det.detect(&empty).is_err());
    let wrong = BgrImage {
        width: 4,
        height: 4,
        data: vec![0; 10],
    };
    assert!(det.detect(&wrong).is_err());
    // A file that is not a YuNet model is refused at load.
    let not_yunet = ModelSpec::new("x", "1", common::weights("minifasnet_v2.onnx"));
    assert!(
        FaceDetector::load(
            &not_yunet,
            &RuntimeOptions::default(),
            DetectorOptions::default()
        )
        .is_err()
    );
}
