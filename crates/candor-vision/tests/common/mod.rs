//! Shared helpers for the tests that run the real models on the real stills.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candor_core::BgrImage;
use candor_vision::{DetectorOptions, FaceDetector, LivenessModel, ModelSpec, RuntimeOptions};
use image::{DynamicImage, ImageDecoder, ImageReader};

pub fn workspace_root() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir
        .ancestors()
        .nth(2)
        .unwrap_or(crate_dir)
        .to_path_buf()
}

/// Installed by `scripts/setup` from models/manifest.toml.
pub fn weights(file: &str) -> PathBuf {
    let path = workspace_root().join("models/weights").join(file);
    assert!(
        path.is_file(),
        "{} missing: run scripts/setup",
        path.display()
    );
    path
}

/// The shared test stills (`$CANDOR_DATA_MIRROR`, default ../shared/data).
pub fn data_dir() -> PathBuf {
    let dir = std::env::var_os("CANDOR_DATA_MIRROR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/data"));
    assert!(
        dir.is_dir(),
        "test data folder {} missing (set CANDOR_DATA_MIRROR)",
        dir.display()
    );
    dir
}

/// Loads a still with its EXIF orientation applied, as packed BGR.
pub fn load_bgr(path: &Path) -> BgrImage {
    let mut decoder = ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_decoder()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let orientation = decoder.orientation().expect("orientation");
    let mut img = DynamicImage::from_decoder(decoder).expect("decode");
    img.apply_orientation(orientation);
    let rgb = img.to_rgb8();
    let (w, h) = rgb.dimensions();
    let data = rgb.pixels().flat_map(|p| [p[2], p[1], p[0]]).collect();
    BgrImage::new(w, h, data).expect("size")
}

pub fn load_shared(rel: &str) -> Arc<BgrImage> {
    Arc::new(load_bgr(&data_dir().join(rel)))
}

pub fn yunet_n_spec() -> ModelSpec {
    ModelSpec::new("yunet_n", "2023mar-n", weights("yunet_n_dynamic.onnx"))
}

pub fn yunet_s_spec() -> ModelSpec {
    ModelSpec::new("yunet_s", "2023mar-s", weights("yunet_s_dynamic.onnx"))
}

pub fn detector(spec: &ModelSpec, max_side: u32) -> FaceDetector {
    let options = DetectorOptions {
        max_side,
        ..DetectorOptions::default()
    };
    FaceDetector::load(spec, &RuntimeOptions::default(), options).expect("load detector")
}

pub fn liveness() -> LivenessModel {
    LivenessModel::load(
        &ModelSpec::new("minifasnet_v2", "2.7_80x80", weights("minifasnet_v2.onnx")),
        &ModelSpec::new(
            "minifasnet_v1se",
            "4.0_80x80",
            weights("minifasnet_v1se.onnx"),
        ),
        &RuntimeOptions::default(),
    )
    .expect("load liveness")
}

/// A model file that is not yet in models/manifest.toml: taken from models/weights when
/// installed there, else from the shared mirror (`../shared/models`).
pub fn weights_or_shared(file: &str) -> PathBuf {
    let installed = workspace_root().join("models/weights").join(file);
    if installed.is_file() {
        return installed;
    }
    let shared = workspace_root().join("../shared/models").join(file);
    assert!(
        shared.is_file(),
        "{file} is neither in models/weights nor in {}",
        shared.display()
    );
    shared
}

pub fn sface() -> candor_vision::FaceEmbedder {
    candor_vision::FaceEmbedder::load(
        &ModelSpec::new(
            "sface",
            "2021dec-dequant-fp32",
            weights("sface_2021dec_dequant_fp32.onnx"),
        ),
        &RuntimeOptions::default(),
    )
    .expect("load sface")
}

pub fn face_mesh() -> candor_vision::FaceMesh {
    candor_vision::FaceMesh::load(
        &ModelSpec::new(
            "mediapipe_face_mesh",
            "468",
            weights("mediapipe_face_landmark_468.onnx"),
        ),
        &RuntimeOptions::default(),
    )
    .expect("load face mesh")
}

pub fn head_pose_estimator() -> candor_vision::HeadPoseEstimator {
    candor_vision::HeadPoseEstimator::load(&weights_or_shared("mediapipe_canonical_face_model.obj"))
        .expect("load canonical face model")
}

/// One image's entry of `faces/reference_outputs.json`.
#[derive(Debug, Clone)]
pub struct Reference {
    /// Path relative to the data folder.
    pub rel: String,
    pub width: u32,
    pub height: u32,
    /// OpenCV's YuNet row: x, y, w, h, 5 landmarks, score.
    pub yunet: candor_core::FaceDetection,
    pub sface_raw: Vec<f32>,
    pub mesh: Vec<[f32; 3]>,
    pub ear_left: f32,
    pub ear_right: f32,
    pub mouth: f32,
    /// yaw, pitch, roll (degrees).
    pub pose: [f32; 3],
}

fn json_f32s(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

/// The reference outputs, sorted by path, and the reference cosine matrix
/// (`cosine[a][b]` by path).
pub fn references() -> (
    Vec<Reference>,
    std::collections::BTreeMap<String, std::collections::BTreeMap<String, f32>>,
) {
    use candor_core::{FaceDetection, Point, Rect};
    let path = data_dir().join("faces/reference_outputs.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let mut refs: Vec<Reference> = json["images"]
        .as_object()
        .expect("images")
        .iter()
        .map(|(rel, v)| {
            let row = json_f32s(&v["yunet_face"]);
            let yunet = FaceDetection {
                bbox: Rect::new(row[0], row[1], row[2], row[3]),
                landmarks: std::array::from_fn(|k| Point::new(row[4 + 2 * k], row[5 + 2 * k])),
                score: row[14],
            };
            let mesh = v["mesh_468"]
                .as_array()
                .expect("mesh_468")
                .iter()
                .map(|p| {
                    let p = json_f32s(p);
                    [p[0], p[1], p[2]]
                })
                .collect();
            let pose = json_f32s(&v["head_pose_deg_yaw_pitch_roll"]);
            Reference {
                rel: rel.clone(),
                width: v["width"].as_u64().expect("width") as u32,
                height: v["height"].as_u64().expect("height") as u32,
                yunet,
                sface_raw: json_f32s(&v["sface_embedding"]),
                mesh,
                ear_left: v["ear_image_left_eye"].as_f64().expect("ear") as f32,
                ear_right: v["ear_image_right_eye"].as_f64().expect("ear") as f32,
                mouth: v["mouth_open_ratio"].as_f64().expect("mouth") as f32,
                pose: [pose[0], pose[1], pose[2]],
            }
        })
        .collect();
    refs.sort_by(|a, b| a.rel.cmp(&b.rel));
    assert_eq!(refs.len(), 8, "expected 5 faces and 3 spoof samples");
    let cosine = json["sface_cosine"]
        .as_object()
        .expect("sface_cosine")
        .iter()
        .map(|(a, row)| {
            let row = row
                .as_object()
                .expect("row")
                .iter()
                .map(|(b, c)| (b.clone(), c.as_f64().expect("cosine") as f32))
                .collect();
            (a.clone(), row)
        })
        .collect();
    (refs, cosine)
}
