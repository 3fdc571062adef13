//! Settings shared by every subcommand that runs the models: where the models and the
//! ONNX Runtime library are, how frames are sampled, and the decision thresholds.
//! Every field has a long flag and an environment variable.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use candor_core::AnalysisConfig;
use candor_media::DecodeOptions;
use candor_pipeline::{EngineConfig, ForgerySelection};
use candor_vision::{ExecutionProvider, RuntimeOptions};
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Folder with the model manifest (manifest.toml) and the installed weights
    /// (weights/). Default: ./models, else the models/ folder of the source tree the
    /// binary was built in.
    #[arg(long, env = "CANDOR_MODELS_DIR")]
    pub models_dir: Option<PathBuf>,

    /// ONNX Runtime shared library (libonnxruntime.so). Default: ./.ort/lib, else the
    /// source tree's .ort/lib (installed by scripts/setup).
    #[arg(long, env = "ORT_DYLIB_PATH")]
    pub ort_library: Option<PathBuf>,

    /// Face detector, by manifest name (yunet_s, or the faster, weaker yunet_n).
    #[arg(long, env = "CANDOR_DETECTOR", default_value = "yunet_s")]
    pub detector: String,

    /// Minimum face detector confidence.
    #[arg(long, env = "CANDOR_DETECTOR_THRESHOLD", default_value_t = 0.6)]
    pub detector_threshold: f32,

    /// Threads per ONNX Runtime session. One-thread sessions in parallel serve
    /// concurrent streams best on CPU.
    #[arg(long, env = "CANDOR_INTRA_THREADS", default_value_t = 1)]
    pub intra_threads: usize,

    /// Face-forgery classifiers to run, by manifest name, comma-separated; `all` for
    /// every manifest entry with a `[model.forgery]` table, `none` for none. Default:
    /// those whose signal the fusion reads (the others change no decision), except
    /// for `candor eval`, which runs them all to compare and fit them.
    #[arg(long, env = "CANDOR_FORGERY_MODELS", value_delimiter = ',')]
    pub forgery_models: Option<Vec<String>>,

    /// Skip the identity checks (SFace embeddings of the main face, about once a second).
    #[arg(long, env = "CANDOR_NO_IDENTITY")]
    pub no_identity: bool,

    /// Skip the face mesh (head pose, eye openness, mouth opening).
    #[arg(long, env = "CANDOR_NO_MESH")]
    pub no_mesh: bool,

    /// Model instances (worker threads) per model.
    #[arg(long, env = "CANDOR_MODEL_WORKERS", default_value_t = 1)]
    pub model_workers: usize,

    /// Where the models run: `cpu`, or `cuda` / `cuda:N` for an NVIDIA GPU (needs the
    /// CUDA build of ONNX Runtime, `scripts/setup --gpu`, passed as --ort-library).
    /// A model that cannot start on the GPU is an error at start, never a silent
    /// fall back to CPU.
    #[arg(long, env = "CANDOR_DEVICE", default_value = "cpu")]
    pub device: ExecutionProvider,
}

#[derive(Debug, Clone, Args)]
pub struct AnalysisArgs {
    /// Frames analysed per second of video (every frame is still decoded).
    #[arg(long, env = "CANDOR_SAMPLE_FPS", default_value_t = 2.0)]
    pub sample_fps: f32,

    /// Looks per second at the eyes between analysed frames while a stream is in doubt
    /// (its last segment suspicious or alert), for counting blinks and reading the
    /// pulse (the face mesh alone, on the face the last analysed frame found): at 15,
    /// 13 of the 14 blinks found at 30 on the development clips, for 2-3 ms a look
    /// with the frame's conversion. 0 = none. Blink challenges glance at 25 whatever
    /// this is.
    #[arg(long, env = "CANDOR_GLANCE_FPS", default_value_t = 15.0)]
    pub glance_fps: f32,

    /// Looks per second at the eyes while a stream is clear. No rule decides on blinks
    /// or the pulse outside challenges, and glancing at 15 a second costs about 30 %
    /// of a 720p stream's CPU, so by default a clear stream does not glance (its
    /// segments then carry no blink count or pulse). 15 glances always.
    #[arg(long, env = "CANDOR_IDLE_GLANCE_FPS", default_value_t = 0.0)]
    pub idle_glance_fps: f32,

    /// Longest side of the working size frames are scaled to before analysis.
    #[arg(long, env = "CANDOR_MAX_SIDE", default_value_t = 640)]
    pub max_side: u32,

    /// Longest side of the full-resolution picture analysed frames keep for face
    /// crops: faces are found at the working size (--max-side), but every model and
    /// quality measure reads the main face from the decoded picture, scaled down only
    /// beyond this (e.g. 1920). 0 (the default for now) = crops from the working size:
    /// at full resolution the face-forgery scores, fitted on working-size crops, read
    /// worse (see README).
    #[arg(long, env = "CANDOR_CROP_MAX_SIDE", default_value_t = 0)]
    pub crop_max_side: u32,

    /// Segment length in milliseconds (overrides the config file).
    #[arg(long, env = "CANDOR_SEGMENT_MS")]
    pub segment_ms: Option<u32>,

    /// Thresholds file (TOML); fields left out keep their documented defaults.
    #[arg(long, env = "CANDOR_CONFIG")]
    pub config: Option<PathBuf>,
}

impl ModelArgs {
    /// `default_forgery`: the classifiers to run when `--forgery-models` is not given.
    pub fn engine_config(&self, default_forgery: ForgerySelection) -> Result<EngineConfig> {
        let models_dir = match &self.models_dir {
            Some(d) => d.clone(),
            None => find_default("models", |p| p.join("manifest.toml").is_file()).context(
                "cannot find the models folder: pass --models-dir or run from the source tree",
            )?,
        };
        let ort_library = match &self.ort_library {
            Some(p) => p.clone(),
            None => find_default(".ort/lib/libonnxruntime.so", |p| p.is_file()).context(
                "cannot find libonnxruntime.so: run scripts/setup or pass --ort-library",
            )?,
        };
        Ok(EngineConfig {
            manifest: models_dir.join("manifest.toml"),
            weights_dir: models_dir.join("weights"),
            detector: self.detector.clone(),
            detector_threshold: self.detector_threshold,
            ort_library: Some(ort_library),
            runtime: RuntimeOptions {
                intra_threads: self.intra_threads.max(1),
                execution_provider: self.device,
                ..RuntimeOptions::default()
            },
            workers: self.model_workers.max(1),
            queue: 16,
            identity_model: (!self.no_identity).then(|| "sface".to_owned()),
            mesh_model: (!self.no_mesh).then(|| "face_mesh".to_owned()),
            forgery_models: match &self.forgery_models {
                None => default_forgery,
                Some(names) if names.iter().any(|n| n == "all") => ForgerySelection::All,
                Some(names) => ForgerySelection::Named(
                    names
                        .iter()
                        .filter(|n| !n.is_empty() && n.as_str() != "none")
                        .cloned()
                        .collect(),
                ),
            },
        })
    }
}

impl AnalysisArgs {
    pub fn analysis_config(&self) -> Result<AnalysisConfig> {
        let mut cfg = match &self.config {
            Some(path) => AnalysisConfig::from_toml_file(path)?,
            None => AnalysisConfig::default(),
        };
        if let Some(ms) = self.segment_ms {
            cfg.segment.length_ms = ms;
        }
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn decode_options(&self) -> DecodeOptions {
        DecodeOptions {
            sample_fps: self.sample_fps,
            max_side: self.max_side,
            crop_max_side: self.crop_max_side,
            glance: candor_media::GlanceRate::new(self.idle_glance_fps),
            glance_plan: candor_media::GlancePlan {
                watchful_fps: self.glance_fps,
                idle_fps: self.idle_glance_fps,
            },
            ..DecodeOptions::default()
        }
    }
}

/// `rel` under the current directory, else under the source tree this binary was built
/// from (target/<profile>/candor -> ../..), so the binary works from anywhere in a
/// checkout.
fn find_default(rel: &str, ok: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    let here = PathBuf::from(rel);
    if ok(&here) {
        return Some(here);
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .take(4)
        .map(|dir| dir.join(rel))
        .find(|p| ok(p))
}

/// Where results are kept: the embedded store (SQLite in WAL mode plus evidence files
/// in a data directory), or a PostgreSQL database that several nodes share.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Data directory of the result store (created if missing). Not used with --store.
    #[arg(long, env = "CANDOR_DATA_DIR", default_value = candor_store::DEFAULT_DATA_DIR, global = true)]
    pub data_dir: PathBuf,

    /// A PostgreSQL database for the result store instead of the data directory, e.g.
    /// postgres://candor:PASSWORD@db:5432/candor (add ?sslmode=require for TLS, and
    /// &sslrootcert=/path/ca.pem for a private authority). Migrated at start; server
    /// nodes may share it.
    #[arg(long = "store", env = "CANDOR_STORE_URL", global = true)]
    pub store_url: Option<candor_store::PostgresUrl>,

    /// Keep evidence (face crops of alerting segments) in this object store instead of
    /// the data directory or the database: s3://bucket/prefix (credentials, region and
    /// endpoint from the AWS_* variables) or file:///shared/folder.
    #[arg(long, env = "CANDOR_EVIDENCE_STORE", global = true)]
    pub evidence_store: Option<String>,
}

impl StoreArgs {
    pub fn location(&self) -> candor_store::StoreLocation {
        candor_store::StoreLocation::pick(self.store_url.as_ref(), &self.data_dir)
    }

    pub fn open(&self) -> Result<Arc<dyn candor_store::Store>> {
        let location = self.location();
        candor_store::open_with_evidence(&location, self.evidence_store.as_deref())
            .with_context(|| format!("opening the {}", location.shown()))
    }
}
