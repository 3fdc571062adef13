//! Faces are found at the working size but measured on the full-resolution picture:
//! a 1920x1080 frame whose face carries detail that the 640x360 working frame cannot
//! hold must read sharp, and the face width must stay in source pixels.
//!
//! Needs the model weights (scripts/setup) and the shared stills
//! (`$CANDOR_DATA_MIRROR`, default ../shared/data).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candor_core::signal::names;
use candor_core::{AnalysisConfig, BgrImage, Frame, FrameInfo};
use candor_pipeline::{Engine, EngineConfig, StreamAnalyser};
use candor_vision::RuntimeOptions;

fn workspace_root() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    dir.ancestors().nth(2).unwrap_or(dir).to_path_buf()
}

fn data_dir() -> PathBuf {
    std::env::var_os("CANDOR_DATA_MIRROR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/data"))
}

fn engine() -> Arc<Engine> {
    let root = workspace_root();
    let ort = root.join(".ort/lib/libonnxruntime.so");
    Engine::load(&EngineConfig {
        manifest: root.join("models/manifest.toml"),
        weights_dir: root.join("models/weights"),
        detector: "yunet_s".into(),
        detector_threshold: 0.7,
        ort_library: ort.is_file().then_some(ort),
        runtime: RuntimeOptions::default(),
        workers: 1,
        queue: 4,
        // The quality measures need no model; liveness runs on every engine.
        forgery_models: candor_pipeline::ForgerySelection::Named(Vec::new()),
        identity_model: None,
        mesh_model: None,
    })
    .expect("load engine (run scripts/setup)")
}

/// A real face still pasted at its own size in the middle of a grey 1920x1080 frame.
fn full_frame() -> BgrImage {
    let path = data_dir().join("faces/collins_nasa.jpg");
    let still = image::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    let mut full = BgrImage::filled(1920, 1080, [110, 110, 110]);
    let (ox, oy) = (704, 284); // multiples of 3: the texture below stays block-aligned
    for (x, y, p) in still.enumerate_pixels() {
        let i = (((oy + y) * 1920 + ox + x) * 3) as usize;
        full.data[i..i + 3].copy_from_slice(&[p[2], p[1], p[0]]);
    }
    full
}

/// The 3x3 block mean: the working frame a 640-px decode gives of a 1920x1080 one.
fn shrink3(full: &BgrImage) -> BgrImage {
    let (w, h) = (full.width / 3, full.height / 3);
    let mut data = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let mut sum = 0u32;
                for dy in 0..3 {
                    for dx in 0..3 {
                        sum += u32::from(full.pixel(3 * x + dx, 3 * y + dy)[c]);
                    }
                }
                data.push(((sum + 4) / 9) as u8);
            }
        }
    }
    BgrImage::new(w, h, data).unwrap()
}

/// Adds a fine pattern to `rect` (full-resolution pixels) whose every aligned 3x3 block
/// sums to zero: the full picture carries it, its 3x3 block means do not.
fn add_fine_texture(full: &mut BgrImage, x0: u32, y0: u32, x1: u32, y1: u32) {
    const WAVE: [i32; 3] = [24, -12, -12];
    for y in y0 / 3 * 3..(y1 / 3 * 3).min(full.height) {
        for x in x0 / 3 * 3..(x1 / 3 * 3).min(full.width) {
            let d = WAVE[(x % 3) as usize] + WAVE[(y % 3) as usize];
            let i = ((y * full.width + x) * 3) as usize;
            for v in &mut full.data[i..i + 3] {
                *v = (i32::from(*v) + d).clamp(0, 255) as u8;
            }
        }
    }
}

/// The main face's (sharpness, face width) medians over one analysed frame.
fn measure(engine: &Arc<Engine>, frame: Frame) -> (f32, f32) {
    let mut analyser = StreamAnalyser::new(engine.clone(), &AnalysisConfig::default());
    assert!(analyser.analyse(frame).expect("analyse").is_none());
    let report = analyser.close().expect("a segment");
    let seg = &report.segment;
    let value = |name: &str| {
        seg.quality_measure(name)
            .or_else(|| seg.signal(name))
            .unwrap_or_else(|| panic!("no {name} in {seg:?}"))
            .median
    };
    (value(names::SHARPNESS), value(names::FACE_WIDTH_PX))
}

#[test]
fn face_crops_come_from_the_full_resolution_picture() {
    let engine = engine();
    let mut full = full_frame();
    // Find the face where the pipeline will (the working frame), then give the full
    // picture detail there that the working frame cannot show.
    let faces = engine.detect(Arc::new(shrink3(&full))).expect("detect");
    let face = faces.first().expect("a face in the working frame").bbox;
    let (x0, y0) = ((face.x * 3.0) as u32, (face.y * 3.0) as u32);
    let (x1, y1) = ((face.right() * 3.0) as u32, (face.bottom() * 3.0) as u32);
    add_fine_texture(&mut full, x0, y0, x1, y1);
    let working = shrink3(&full);

    let info = FrameInfo {
        pts_us: 0,
        decoded_index: 0,
        source_width: 1920,
        source_height: 1080,
        fingerprint: None,
    };
    let (sharp_full, width_full) = measure(
        &engine,
        Frame {
            info: info.clone(),
            image: working.clone(),
            source: Some(Arc::new(full)),
        },
    );
    let (sharp_working, width_working) = measure(&engine, Frame::new(info, working));
    eprintln!("sharpness: full picture {sharp_full:.1}, working frame {sharp_working:.1}");
    assert!(
        sharp_full > 4.0 * sharp_working.max(1.0),
        "sharpness from the full picture {sharp_full}, from the working frame {sharp_working}"
    );
    // The face width is in source pixels either way.
    assert!(
        (width_full - width_working).abs() < 1e-3
            && (width_full / (face.w * 3.0) - 1.0).abs() < 0.05,
        "face width {width_full} vs {width_working} (box {} working px)",
        face.w
    );
}
