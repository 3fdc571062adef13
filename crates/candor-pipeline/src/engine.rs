//! The loaded models, shared by every stream: a face detector pool and the per-face
//! analysers. Model sessions live on worker threads inside the pools; the engine itself
//! is cheap to share behind an `Arc`.

use std::path::PathBuf;
use std::sync::Arc;

use candor_core::{BgrImage, FaceDetection, Source};
use candor_vision::{
    DetectorOptions, FaceDetector, FaceEmbedder, FaceMesh, ForgeryModel, HeadPose,
    HeadPoseEstimator, LivenessModel, MeshResult, MeshRoi, PoolHealth, RuntimeOptions, WorkerPool,
};

use crate::analyser::{
    BlendAnalyser, FaceAnalyser, QualityAnalyser, forgery_analyser, liveness_analyser,
};
use crate::error::PipelineError;
use crate::models::{ForgerySelection, ModelCatalog};

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
    /// Which face-forgery classifiers to run.
    pub forgery_models: ForgerySelection,
    /// Face identity model by manifest name (`None`: no identity checks).
    pub identity_model: Option<String>,
    /// Face mesh model by manifest name, for head pose, eyes and mouth (`None`: off).
    /// Head pose also needs the manifest's `face_geometry` (the canonical face).
    pub mesh_model: Option<String>,
}

/// Manifest name of the canonical face model head pose is solved against.
const FACE_GEOMETRY: &str = "face_geometry";

pub struct Engine {
    detector: WorkerPool<FaceDetector>,
    detector_source: Source,
    analysers: Vec<Box<dyn FaceAnalyser>>,
    /// Identity embeddings are not a per-frame signal: the stream analyser asks for
    /// them at its own pace and keeps the session identity.
    embedder: Option<(WorkerPool<FaceEmbedder>, Source)>,
    /// The mesh is per-frame but also compared across frames (rigid motion), so the
    /// stream analyser asks for it, like the embeddings.
    mesh: Option<MeshModels>,
}

/// A face's mesh, its head pose when the solve converged, and the mesh model.
pub type FaceMeshReading<'a> = (MeshResult, Option<HeadPose>, &'a Source);

struct MeshModels {
    pool: WorkerPool<FaceMesh>,
    pose: HeadPoseEstimator,
    source: Source,
}

/// Below this mesh presence the model says the crop holds no face.
const MESH_PRESENCE: f32 = 0.5;

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
        let mut analysers: Vec<Box<dyn FaceAnalyser>> = vec![
            Box::new(QualityAnalyser::default()),
            Box::new(liveness_analyser(liveness_pool, liveness_source)),
            Box::new(BlendAnalyser::default()),
        ];
        let mesh = match &cfg.mesh_model {
            Some(name) => {
                let spec = catalog.resolve(name)?;
                let geometry = catalog.resolve(FACE_GEOMETRY)?;
                let pose = HeadPoseEstimator::load(&geometry.path)?;
                let source = Source::new(&spec.name, &spec.version);
                let runtime = cfg.runtime.clone();
                let pool =
                    WorkerPool::spawn(move || FaceMesh::load(&spec, &runtime), workers, queue)?;
                Some(MeshModels { pool, pose, source })
            }
            None => None,
        };
        for (spec, forgery) in catalog.forgery_models(&cfg.forgery_models)? {
            let runtime = cfg.runtime.clone();
            let source = Source::new(&spec.name, &spec.version);
            let signal = forgery.signal.clone();
            let pool = WorkerPool::spawn(
                move || ForgeryModel::load(&spec, forgery.clone(), &runtime),
                workers,
                queue,
            )?;
            analysers.push(Box::new(forgery_analyser(pool, source, signal)));
        }
        let embedder = match &cfg.identity_model {
            Some(name) => {
                let spec = catalog.resolve(name)?;
                let source = Source::new(&spec.name, &spec.version);
                let runtime = cfg.runtime.clone();
                let pool =
                    WorkerPool::spawn(move || FaceEmbedder::load(&spec, &runtime), workers, queue)?;
                Some((pool, source))
            }
            None => None,
        };
        Ok(Arc::new(Self {
            detector,
            detector_source: Source::new(det_spec.name, det_spec.version),
            analysers,
            embedder,
            mesh,
        }))
    }

    /// Every model and measurement whose output appears in results.
    pub fn sources(&self) -> Vec<Source> {
        std::iter::once(self.detector_source.clone())
            .chain(self.analysers.iter().flat_map(|a| a.sources()))
            .chain(self.embedder.iter().map(|(_, s)| s.clone()))
            .chain(self.mesh.iter().map(|m| m.source.clone()))
            .collect()
    }

    pub fn detect(&self, image: Arc<BgrImage>) -> Result<Vec<FaceDetection>, PipelineError> {
        Ok(self.detector.call(image)?)
    }

    /// The unit identity embedding of `face`, with the model that made it; `None` when
    /// no identity model is loaded.
    pub fn embed(
        &self,
        image: Arc<BgrImage>,
        face: FaceDetection,
    ) -> Result<Option<(Vec<f32>, &Source)>, PipelineError> {
        let Some((pool, source)) = &self.embedder else {
            return Ok(None);
        };
        let e = pool.call((image, face))?;
        Ok(Some((e.embedding.as_slice().to_vec(), source)))
    }

    /// The 468-point mesh of `face` and its head pose (when the solve converges), with
    /// the model that made it; `None` without a mesh model or when the mesh finds no
    /// face in the detector's ROI.
    /// The face mesh model's source, when the mesh runs.
    pub fn mesh_source(&self) -> Option<&Source> {
        self.mesh.as_ref().map(|m| &m.source)
    }

    pub fn mesh(
        &self,
        image: Arc<BgrImage>,
        face: &FaceDetection,
    ) -> Result<Option<FaceMeshReading<'_>>, PipelineError> {
        let Some(m) = &self.mesh else {
            return Ok(None);
        };
        let (w, h) = (image.width, image.height);
        let mesh = m.pool.call((image, MeshRoi::from_detection(face)))?;
        if mesh.presence < MESH_PRESENCE {
            return Ok(None);
        }
        // A pose that does not converge is no measurement, not an error.
        let pose = m.pose.estimate(&mesh.points, w, h).ok().map(|p| p.pose);
        Ok(Some((mesh, pose, &m.source)))
    }

    /// The identity model, when one is loaded. Embeddings of different models (or
    /// versions) are not comparable, so enrolments are kept per model version.
    pub fn identity_source(&self) -> Option<&Source> {
        self.embedder.as_ref().map(|(_, s)| s)
    }

    pub fn detector_name(&self) -> &str {
        &self.detector_source.name
    }

    pub fn analysers(&self) -> &[Box<dyn FaceAnalyser>] {
        &self.analysers
    }

    /// Every model pool's workers: what health and the metrics report. A pool short of
    /// workers (one whose model could not be rebuilt) cannot analyse every frame, and
    /// the node should not take traffic.
    pub fn pool_health(&self) -> Vec<PoolHealth> {
        std::iter::once(self.detector.health())
            .chain(self.analysers.iter().filter_map(|a| a.health()))
            .chain(self.mesh.iter().map(|m| m.pool.health()))
            .chain(self.embedder.iter().map(|(p, _)| p.health()))
            .collect()
    }

    /// Injects a fault into the pool of the model named `model` (test builds only);
    /// false when no pool runs that model.
    #[cfg(feature = "fault-injection")]
    pub fn inject_fault(&self, model: &str, fault: candor_vision::Fault) -> bool {
        if self.detector.name() == model {
            self.detector.inject(fault);
            return true;
        }
        if let Some(a) = self
            .analysers
            .iter()
            .find(|a| a.health().is_some_and(|h| h.model == model))
        {
            a.inject(fault);
            return true;
        }
        match (&self.mesh, &self.embedder) {
            (Some(m), _) if m.pool.name() == model => m.pool.inject(fault),
            (_, Some((p, _))) if p.name() == model => p.inject(fault),
            _ => return false,
        }
        true
    }
}
