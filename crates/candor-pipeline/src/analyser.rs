//! Per-face analysers: each turns the main face of an analysed frame into signals.
//! Registering a new analyser (face swap, identity) adds signals without touching the
//! core types; its fusion rule is added to the core's `Fusion` beside it.

use std::sync::Arc;

use candor_core::signal::names;
use candor_core::{BgrImage, FaceDetection, Signal, Source};
use candor_vision::{
    FaceMetrics, FaceQuality, ForgeryModel, HeadPose, LivenessModel, MeshResult, Model, PoolHealth,
    WorkerPool,
};

use crate::error::PipelineError;

/// The picture the per-face analysers cut their crops from: the sampled frame at (up
/// to) full resolution, else at the working size, shared with the model workers
/// without copying.
pub struct AnalysisFrame {
    pub image: Arc<BgrImage>,
    /// Multiplies `image` coordinates into source-frame coordinates.
    pub to_source: f32,
}

pub trait FaceAnalyser: Send + Sync {
    /// Short name for logs and metrics.
    fn name(&self) -> &str;
    /// The models or measurements this analyser reports as signal sources.
    fn sources(&self) -> Vec<Source>;
    /// The analyser's model pool, when it runs a model.
    fn health(&self) -> Option<PoolHealth> {
        None
    }
    /// Injects a fault into its model's pool (test builds only).
    #[cfg(feature = "fault-injection")]
    fn inject(&self, _fault: candor_vision::Fault) {}
    /// Signals for one face (in `frame.image` coordinates) on `frame`.
    fn analyse(
        &self,
        frame: &AnalysisFrame,
        face: &FaceDetection,
    ) -> Result<Vec<Signal>, PipelineError>;
}

/// A model pool run on the main face, its output turned into signals: every model
/// analyser (liveness, face forgery) has this shape.
pub struct PooledAnalyser<M: Model> {
    pool: WorkerPool<M>,
    source: Source,
    to_signals: SignalMap<M::Output>,
}

type SignalMap<T> = Box<dyn Fn(T, &Source) -> Vec<Signal> + Send + Sync>;

impl<M> PooledAnalyser<M>
where
    M: Model<Input = (Arc<BgrImage>, FaceDetection)>,
{
    pub fn new(
        pool: WorkerPool<M>,
        source: Source,
        to_signals: impl Fn(M::Output, &Source) -> Vec<Signal> + Send + Sync + 'static,
    ) -> Self {
        Self {
            pool,
            source,
            to_signals: Box::new(to_signals),
        }
    }
}

/// Passive liveness from the MiniFASNet V2 + V1SE pair.
pub fn liveness_analyser(
    pool: WorkerPool<LivenessModel>,
    source: Source,
) -> PooledAnalyser<LivenessModel> {
    PooledAnalyser::new(pool, source, |score, s| {
        vec![Signal::new(names::LIVENESS, score.live, s)]
    })
}

/// One face-forgery classifier: P(fake) of the aligned face crop, under the signal
/// name its manifest entry gives.
pub fn forgery_analyser(
    pool: WorkerPool<ForgeryModel>,
    source: Source,
    signal: String,
) -> PooledAnalyser<ForgeryModel> {
    PooledAnalyser::new(pool, source, move |fake, s| {
        vec![Signal::new(&signal, fake, s)]
    })
}

impl<M> FaceAnalyser for PooledAnalyser<M>
where
    M: Model<Input = (Arc<BgrImage>, FaceDetection)>,
{
    fn name(&self) -> &str {
        &self.source.name
    }

    fn sources(&self) -> Vec<Source> {
        vec![self.source.clone()]
    }

    fn health(&self) -> Option<PoolHealth> {
        Some(self.pool.health())
    }

    #[cfg(feature = "fault-injection")]
    fn inject(&self, fault: candor_vision::Fault) {
        self.pool.inject(fault);
    }

    fn analyse(
        &self,
        frame: &AnalysisFrame,
        face: &FaceDetection,
    ) -> Result<Vec<Signal>, PipelineError> {
        let out = self.pool.call((frame.image.clone(), *face))?;
        Ok((self.to_signals)(out, &self.source))
    }
}

/// Head pose, eye openness and mouth opening of one face mesh: where the candidate
/// looks, and the blinks and speech a photo or a frozen frame lacks.
/// Mean eye aspect ratio of both eyes, from the mesh.
pub fn eye_openness(mesh: &MeshResult) -> Option<f32> {
    FaceMetrics::from_mesh(&mesh.points).map(|m| m.ear_mean())
}

pub fn mesh_signals(mesh: &MeshResult, pose: Option<HeadPose>, source: &Source) -> Vec<Signal> {
    let mut out = Vec::with_capacity(4);
    if let Some(m) = FaceMetrics::from_mesh(&mesh.points) {
        out.push(Signal::new(names::EYE_OPENNESS, m.ear_mean(), source));
        out.push(Signal::new(names::MOUTH_OPEN, m.mouth_open, source));
    }
    if let Some(p) = pose {
        out.push(Signal::new(names::HEAD_YAW, p.yaw, source));
        out.push(Signal::new(names::HEAD_PITCH, p.pitch, source));
    }
    out
}

/// Face-versus-surroundings sharpness and noise, and contour edges: what a pasted face
/// tends to change. Reported raw; the stream analyser adds their change against the
/// session's own baseline.
pub struct BlendAnalyser {
    source: Source,
}

impl Default for BlendAnalyser {
    fn default() -> Self {
        Self {
            source: Source::new("blend_measures", "1"),
        }
    }
}

impl FaceAnalyser for BlendAnalyser {
    fn name(&self) -> &str {
        &self.source.name
    }

    fn sources(&self) -> Vec<Source> {
        vec![self.source.clone()]
    }

    fn analyse(
        &self,
        frame: &AnalysisFrame,
        face: &FaceDetection,
    ) -> Result<Vec<Signal>, PipelineError> {
        let Some(m) = candor_vision::blend_measures(&frame.image, &face.bbox)? else {
            return Ok(Vec::new());
        };
        let s = &self.source;
        Ok(vec![
            Signal::new(names::FACE_CONTEXT_SHARPNESS, m.face_context_sharpness, s),
            Signal::new(names::FACE_CONTEXT_NOISE, m.face_context_noise, s),
            Signal::new(names::CONTOUR_EDGE, m.contour_edge, s),
        ])
    }
}

/// Face size, brightness, exposure and sharpness measured from pixels.
pub struct QualityAnalyser {
    source: Source,
}

impl Default for QualityAnalyser {
    fn default() -> Self {
        Self {
            source: Source::new("face_quality", "1"),
        }
    }
}

impl FaceAnalyser for QualityAnalyser {
    fn name(&self) -> &str {
        &self.source.name
    }

    fn sources(&self) -> Vec<Source> {
        vec![self.source.clone()]
    }

    fn analyse(
        &self,
        frame: &AnalysisFrame,
        face: &FaceDetection,
    ) -> Result<Vec<Signal>, PipelineError> {
        let q: FaceQuality = candor_vision::face_quality(&frame.image, &face.bbox)?;
        let s = &self.source;
        Ok(vec![
            Signal::new(names::FACE_WIDTH_PX, face.bbox.w * frame.to_source, s),
            Signal::new(names::BRIGHTNESS, q.brightness, s),
            Signal::new(names::CLIPPED_SHARE, q.dark_share + q.bright_share, s),
            Signal::new(names::SHARPNESS, q.sharpness, s),
            Signal::new(names::DETECTION_SCORE, face.score, s),
        ])
    }
}
