//! `candor bench-models` (hidden): the stage bounds of the capacity benchmark
//! (`scripts/bench`). It decodes a recording as the pipeline does (every frame, the
//! sampled and glanced ones converted to the working size), then times each model alone
//! on a real face of that recording at its real input size, one-thread sessions as the
//! service runs them, and prints one JSON object. From the per-call costs and the rate
//! each model runs at per second of video follows the least CPU time a second of video
//! can cost, a bound to hold the whole pipeline's measured cost against.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use candor_core::{BgrImage, FaceDetection};
use candor_media::DecodeEvent;
use candor_pipeline::{ForgerySelection, ModelCatalog};
use candor_vision::{
    DetectorOptions, FaceDetector, FaceEmbedder, FaceMesh, ForgeryModel, LivenessModel, MeshRoi,
};
use clap::Args;
use serde_json::json;

use crate::load_figures::percentile;
use crate::proc_stats;
use crate::settings::{AnalysisArgs, ModelArgs};

#[derive(Debug, Args)]
pub struct BenchModelsArgs {
    /// Recording with one face (the benchmark clip).
    pub file: PathBuf,

    /// Timed calls of each model (after 3 warm-up calls).
    #[arg(long, env = "CANDOR_BENCH_RUNS", default_value_t = 100)]
    pub runs: usize,

    /// The face is taken from the first analysed frame at or after this second.
    #[arg(long, env = "CANDOR_BENCH_FACE_AT_S", default_value_t = 5.0)]
    pub face_at_s: f64,

    #[command(flatten)]
    pub models: ModelArgs,

    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// Cost of one call of a stage: wall time (median over calls) and CPU time (mean),
/// the one the bound adds up, since a busy shared machine stretches wall time only.
struct Timing {
    median_wall_ms: f64,
    cpu_ms: f64,
}

pub fn run(args: BenchModelsArgs) -> Result<ExitCode> {
    let analysis = args.analysis.analysis_config()?;
    // The models a default node runs: the forgery classifiers the fusion reads.
    let cfg = args
        .models
        .engine_config(ForgerySelection::ForSignals(analysis.fused_signals()))?;
    if let Some(lib) = &cfg.ort_library {
        candor_vision::init_runtime(lib)?;
    }
    let catalog = ModelCatalog::load(&cfg.manifest, &cfg.weights_dir)?;
    let options = args.analysis.decode_options();

    // Decode: the pipeline's own decoder over the whole recording.
    let cpu0 = proc_stats::cpu_time("self")?;
    let t0 = Instant::now();
    let (mut decoded, mut converted, mut video_us) = (0u64, 0u64, 0i64);
    let mut picture: Option<Arc<BgrImage>> = None;
    for event in candor_media::open_path(&args.file, &options)? {
        let event = event?;
        decoded += 1;
        video_us = video_us.max(event.info().pts_us);
        match event {
            DecodeEvent::Sampled(frame) => {
                converted += 1;
                if picture.is_none() && frame.info.pts_us as f64 >= args.face_at_s * 1e6 {
                    picture = Some(Arc::new(frame.image));
                }
            }
            DecodeEvent::Glance(_) => converted += 1,
            DecodeEvent::Skipped(_) => {}
        }
    }
    let decode_wall = t0.elapsed();
    let decode_cpu = proc_stats::cpu_time("self")?.saturating_sub(cpu0);
    let video_s = (video_us as f64 / 1e6 + 1.0 / 25.0).max(1e-3);
    let image = picture.context("no analysed frame at or after --face-at-s")?;

    let rt = &cfg.runtime;
    let mut detector = FaceDetector::load(
        &catalog.resolve(&cfg.detector)?,
        rt,
        DetectorOptions {
            max_side: args.analysis.max_side,
            score_threshold: cfg.detector_threshold,
            ..DetectorOptions::default()
        },
    )?;
    let face: FaceDetection = *detector
        .detect(&image)?
        .first()
        .context("no face found in the analysed frame")?;

    let runs = args.runs.max(1);
    let sample_fps = f64::from(args.analysis.sample_fps);
    // Rates of a clear stream (what a benchmark clip of one real face is): glances at
    // the idle rate.
    let glance_fps = f64::from(args.analysis.idle_glance_fps);
    let identity_per_s = 1000.0 / f64::from(analysis.identity.interval_ms.max(1));
    // (stage, input, calls per second of video, timing)
    let mut stages: Vec<(String, String, f64, Timing)> = Vec::new();
    let working = format!("{}x{}", image.width, image.height);
    stages.push((
        cfg.detector.clone(),
        working,
        sample_fps,
        time(runs, || detector.detect(&image).map(drop))?,
    ));
    let mut liveness = LivenessModel::load(
        &catalog.resolve("minifasnet_v2")?,
        &catalog.resolve("minifasnet_v1se")?,
        rt,
    )?;
    stages.push((
        "minifasnet_v2+v1se".into(),
        "2 x 80x80".into(),
        sample_fps,
        time(runs, || liveness.score(&image, &face).map(drop))?,
    ));
    for (spec, forgery) in catalog.forgery_models(&cfg.forgery_models)? {
        let side = forgery.input_side;
        let mut model = ForgeryModel::load(&spec, forgery, rt)?;
        stages.push((
            spec.name.clone(),
            format!("{side}x{side}"),
            sample_fps,
            time(runs, || model.fake_probability(&image, &face).map(drop))?,
        ));
    }
    if let Some(name) = &cfg.mesh_model {
        let mut mesh = FaceMesh::load(&catalog.resolve(name)?, rt)?;
        let roi = MeshRoi::from_detection(&face);
        stages.push((
            name.clone(),
            "192x192".into(),
            // Once per analysed frame, and on every glance between them.
            sample_fps + glance_fps,
            time(runs, || mesh.landmarks(&image, &roi).map(drop))?,
        ));
    }
    if let Some(name) = &cfg.identity_model {
        let mut sface = FaceEmbedder::load(&catalog.resolve(name)?, rt)?;
        stages.push((
            name.clone(),
            "112x112".into(),
            identity_per_s,
            time(runs, || sface.embed(&image, &face.landmarks).map(drop))?,
        ));
    }

    let decode_cpu_ms_per_s = decode_cpu.as_secs_f64() * 1e3 / video_s;
    let models_cpu_ms_per_s: f64 = stages.iter().map(|(_, _, rate, t)| rate * t.cpu_ms).sum();
    let report = json!({
        "file": args.file,
        "video_s": video_s,
        "decode": {
            "frames": decoded,
            "converted": converted,
            "wall_s": decode_wall.as_secs_f64(),
            "cpu_s": decode_cpu.as_secs_f64(),
            "fps": decoded as f64 / decode_wall.as_secs_f64(),
            "cpu_ms_per_video_s": decode_cpu_ms_per_s,
        },
        "face_width_px": face.bbox.w,
        "runs": runs,
        "models": stages.iter().map(|(name, input, rate, t)| json!({
            "name": name,
            "input": input,
            "per_video_s": rate,
            "median_wall_ms": t.median_wall_ms,
            "cpu_ms": t.cpu_ms,
            "cpu_ms_per_video_s": rate * t.cpu_ms,
        })).collect::<Vec<_>>(),
        "models_cpu_ms_per_video_s": models_cpu_ms_per_s,
        "bound_cpu_ms_per_video_s": decode_cpu_ms_per_s + models_cpu_ms_per_s,
    });
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}

/// Times `runs` calls of `call` after 3 warm-up calls.
fn time(
    runs: usize,
    mut call: impl FnMut() -> Result<(), candor_vision::VisionError>,
) -> Result<Timing> {
    for _ in 0..3 {
        call()?;
    }
    let mut walls = Vec::with_capacity(runs);
    let cpu0 = proc_stats::cpu_time("self")?;
    for _ in 0..runs {
        let t = Instant::now();
        call()?;
        walls.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let cpu: Duration = proc_stats::cpu_time("self")?.saturating_sub(cpu0);
    Ok(Timing {
        median_wall_ms: percentile(&walls, 50.0).unwrap_or(0.0),
        cpu_ms: cpu.as_secs_f64() * 1e3 / runs as f64,
    })
}
