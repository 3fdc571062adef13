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
