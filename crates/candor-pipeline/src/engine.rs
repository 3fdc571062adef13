//! The loaded models, shared by every stream: a face detector pool and the per-face
//! analysers. Model sessions live on worker threads inside the pools; the engine itself
//! is cheap to share behind an `Arc`.

use std::path::PathBuf;
use std::sync::Arc;

use candor_core::{BgrImage, FaceDetection, Source};
use candor_vision::{DetectorOptions, FaceDetector, LivenessModel, RuntimeOptions, WorkerPool};

use crate::analyser::{FaceAnalyser, LivenessAnalyser, QualityAnalyser};
use crate::error::PipelineError;
use crate::models::ModelCatalog;

/// How to find and run the models.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The project's model manifest (models/manifest.toml).
    pub manifest: PathBuf,
    /// Where scripts/setup installed the weights (models/weights).
    pub weights_dir: PathBuf,
    /// Manifest name of the face detector.
    pub detector: String,
    /// Minimum detector confidence for a face.
    pub detector_threshold: f32,
    /// ONNX Runtime shared library; `None` uses ORT_DYLIB_PATH.
    pub ort_library: Option<PathBuf>,
    /// ONNX Runtime threading and execution provider.
    pub runtime: RuntimeOptions,
    /// Model instances per model (each on its own thread).
    pub workers: usize,
    /// Bounded queue length in front of each model pool.
    pub queue: usize,
}

pub struct Engine {
    detector: WorkerPool<FaceDetector>,
    detector_source: Source,
    analysers: Vec<Box<dyn FaceAnalyser>>,
}

impl Engine {
    /// Loads every model and warms each instance up with a real inference, so that a
    /// loaded engine is a working engine.
    pub fn load(cfg: &EngineConfig) -> Result<Arc<Self>, PipelineError> {
        if let Some(lib) = &cfg.ort_library {
            candor_vision::init_runtime(lib)?;
        }
        let catalog = ModelCatalog::load(&cfg.manifest, &cfg.weights_dir)?;
        let det_spec = catalog.resolve(&cfg.detector)?;
        let v2 = catalog.resolve("minifasnet_v2")?;
        let v1se = catalog.resolve("minifasnet_v1se")?;
        let workers = cfg.workers.max(1);
        let queue = cfg.queue.max(1);

        let det_opts = DetectorOptions {
            score_threshold: cfg.detector_threshold,
            ..DetectorOptions::default()
        };
        let runtime = cfg.runtime.clone();
        let spec = det_spec.clone();
        let detector = WorkerPool::spawn(
            move || FaceDetector::load(&spec, &runtime, det_opts),
            workers,
            queue,
        )?;
        let runtime = cfg.runtime.clone();
        let (v2c, v1c) = (v2.clone(), v1se.clone());
        let liveness_pool = WorkerPool::spawn(
            move || LivenessModel::load(&v2c, &v1c, &runtime),
            workers,
            queue,
        )?;
        let liveness_source = Source::new(
            "minifasnet_v2+v1se",
            format!("{}+{}", v2.version, v1se.version),
        );
        Ok(Arc::new(Self {
            detector,
            detector_source: Source::new(det_spec.name, det_spec.version),
            analysers: vec![
                Box::new(QualityAnalyser::default()),
                Box::new(LivenessAnalyser::new(liveness_pool, liveness_source)),
            ],
        }))
    }

    /// Every model and measurement whose output appears in results.
    pub fn sources(&self) -> Vec<Source> {
        std::iter::once(self.detector_source.clone())
            .chain(self.analysers.iter().flat_map(|a| a.sources()))
            .collect()
    }

    pub fn detect(&self, image: Arc<BgrImage>) -> Result<Vec<FaceDetection>, PipelineError> {
        Ok(self.detector.call(image)?)
    }

    pub fn detector_name(&self) -> &str {
        &self.detector_source.name
    }

    pub fn analysers(&self) -> &[Box<dyn FaceAnalyser>] {
        &self.analysers
    }

    /// True while every model pool has live, healthy workers.
    pub fn healthy(&self) -> bool {
        self.detector.healthy() && self.analysers.iter().all(|a| a.healthy())
    }
}
