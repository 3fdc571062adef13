//! Scoring recorded files for batch jobs: re-scoring recorded files with the same pipeline as live sessions, each
//! file's result committed to the store when it is done. `candor batch` and the gRPC
//! `SubmitJob` both score files through [`FileScorer`], so a file's stored result is
//! the same document whichever started it: `{"segments": [...], "summary": {...}}`,
//! the objects `candor analyze --json` prints.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candor_core::{AnalysisConfig, SegmentReport, Source};
use candor_media::DecodeOptions;
use candor_pipeline::{Engine, analyse_file};
use candor_store::digest::{hex, sha256_hex};
use candor_store::{FileOutcome, Store, StoreError};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Extensions a folder is searched for (lower case).
pub const MEDIA_EXTENSIONS: &[&str] = &[
    "mp4", "m4v", "mov", "webm", "mkv", "h264", "264", "jpg", "jpeg", "png",
];

/// Scores files of batch jobs with one engine and one set of settings.
pub struct FileScorer {
    pub store: Arc<dyn Store>,
    pub engine: Arc<Engine>,
    pub models: Vec<Source>,
    pub decode: DecodeOptions,
    pub cfg: AnalysisConfig,
    /// The models and settings, as stored with the job.
    pub settings_json: String,
    /// Their hash: part of every file's key.
    settings_hash: String,
}

/// A file ready to be scored: its name in the job and its key.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub path: PathBuf,
    /// How the job names the file (the path as given, or relative to a root).
    pub name: String,
    pub content_hash: String,
    /// Hash of the content, the models and the settings: what identifies a result.
    pub key: String,
    /// Set when the file cannot be read; it is then recorded as failed.
    pub read_error: Option<String>,
}

/// How one file went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scored {
    /// Already done with the same key (an earlier run of the job).
    AlreadyDone,
    Done,
    Failed(String),
}

impl FileScorer {
    pub fn new(
        store: Arc<dyn Store>,
        engine: Arc<Engine>,
        decode: DecodeOptions,
        cfg: AnalysisConfig,
    ) -> Self {
        let models = engine.sources();
        let settings_json = json!({
            "models": models,
            "decode": {"sample_fps": decode.sample_fps, "max_side": decode.max_side},
            "analysis": cfg,
        })
        .to_string();
        let settings_hash = sha256_hex(settings_json.as_bytes());
        Self {
            store,
            engine,
            models,
            decode,
            cfg,
            settings_json,
            settings_hash,
        }
    }

    pub fn settings_hash(&self) -> &str {
        &self.settings_hash
    }

    /// Hashes the file (reading it once) and makes its key; `name` is how the job
    /// lists it.
    pub fn prepare(&self, path: &Path, name: String) -> Prepared {
        let (content_hash, read_error) = match hash_file(path) {
            Ok(h) => (h, None),
            // Still recorded (and retried next time), keyed by its name.
            Err(e) => (
                format!("unreadable:{}", sha256_hex(name.as_bytes())),
                Some(format!("cannot read the file: {e}")),
            ),
        };
        let key = sha256_hex(format!("{content_hash}\n{}", self.settings_hash).as_bytes());
        Prepared {
            path: path.to_owned(),
            name,
            content_hash,
            key,
            read_error,
        }
    }

    /// Adds the file to the job (pending, unless already there with the same key).
    pub fn register(&self, tenant: &str, job: &str, p: &Prepared) -> Result<(), StoreError> {
        self.store
            .add_job_file(tenant, job, &p.name, &p.content_hash, &p.key)
    }

    /// Scores one registered file unless it is already done (or `force`), committing
    /// its outcome. `Err` only when the store fails; a file that cannot be analysed is
    /// `Ok(Scored::Failed)`.
    pub fn score(
        &self,
        tenant: &str,
        job: &str,
        p: &Prepared,
        force: bool,
        on_segment: impl FnMut(&SegmentReport),
    ) -> Result<Scored, StoreError> {
        if !force && self.store.job_file_done(tenant, job, &p.key)?.is_some() {
            return Ok(Scored::AlreadyDone);
        }
        let outcome = match &p.read_error {
            Some(e) => FileOutcome::Failed { error: e.clone() },
            None => self.analyse(&p.path, on_segment),
        };
        self.store
            .complete_job_file(tenant, job, &p.key, &outcome)?;
        Ok(match outcome {
            FileOutcome::Done { .. } => Scored::Done,
            FileOutcome::Failed { error } => Scored::Failed(error),
        })
    }

    fn analyse(&self, file: &Path, mut on_segment: impl FnMut(&SegmentReport)) -> FileOutcome {
        let mut segments = Vec::new();
        let mut encode_error = None;
        let analysed = analyse_file(&self.engine, file, &self.decode, &self.cfg, |report| {
            on_segment(report);
            match segment_value(file, report) {
                Ok(v) => segments.push(v),
                Err(e) => {
                    encode_error.get_or_insert(e);
                }
            }
        });
        let summary = analysed
            .map_err(|e| e.to_string())
            .and_then(|o| summary_value(file, &o, &self.models).map_err(|e| e.to_string()));
        match (summary, encode_error) {
            (Ok(summary), None) => FileOutcome::Done {
                result_json: json!({"segments": segments, "summary": summary}).to_string(),
            },
            (Err(error), _) => FileOutcome::Failed { error },
            (Ok(_), Some(e)) => FileOutcome::Failed {
                error: format!("cannot encode the result: {e}"),
            },
        }
    }
}

/// The `segment` JSON Lines object of a report.
pub fn segment_value(file: &Path, r: &SegmentReport) -> serde_json::Result<Value> {
    let mut v = serde_json::to_value(r)?;
    tag(&mut v, "segment", file);
    Ok(v)
}

/// The `summary` JSON Lines object of a file: the summary, its stream and the models.
pub fn summary_value(
    file: &Path,
    o: &candor_pipeline::FileOutcome,
    models: &[Source],
) -> serde_json::Result<Value> {
    let mut v = serde_json::to_value(&o.summary)?;
    tag(&mut v, "summary", file);
    if let Value::Object(m) = &mut v {
        m.insert(
            "stream".into(),
            json!({
                "container": o.stream.container,
                "codec": o.stream.codec,
                "width": o.stream.width,
                "height": o.stream.height,
                "fps": o.stream.fps,
                "duration_us": o.stream.duration_us,
            }),
        );
        m.insert("models".into(), serde_json::to_value(models)?);
        if let Some(w) = &o.warning {
            m.insert("warning".into(), json!(w));
        }
    }
    Ok(v)
}

/// The `error` JSON Lines object of a file that could not be analysed.
pub fn error_value(file: &Path, error: &str) -> Value {
    json!({"type": "error", "file": file.display().to_string(), "error": error})
}

/// Puts `type` and `file` first-class into a JSON object (replacing any already there).
pub fn tag(v: &mut Value, kind: &str, file: &Path) {
    if let Value::Object(m) = v {
        m.insert("type".into(), json!(kind));
        m.insert("file".into(), json!(file.display().to_string()));
    }
}

/// Video and image files under `dir`, recursively, sorted by path.
pub fn media_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| MEDIA_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut File::open(path)?, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}
