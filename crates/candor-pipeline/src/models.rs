//! Reads the project's model manifest (models/manifest.toml) so that models are picked
//! by name, and results can name the exact model version that produced each signal.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use candor_vision::{ForgeryConfig, ModelSpec};

use crate::error::PipelineError;

/// Face-forgery classifiers to run, among the manifest entries with a `[model.forgery]`
/// table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForgerySelection {
    /// Every one (evaluation and fitting compare them all).
    All,
    /// These, by manifest name, in order (empty: none).
    Named(Vec<String>),
    /// Those whose signal is one of these: the ones a decision reads
    /// ([`candor_core::AnalysisConfig::fused_signals`]), so no model runs for nothing.
    ForSignals(Vec<String>),
}

#[derive(Debug, Clone, Deserialize)]
pub struct ManifestEntry {
    pub name: String,
    pub version: String,
    pub file: String,
    pub sha256: String,
    #[serde(default)]
    pub license: String,
    /// Present on face-forgery classifiers: how to crop, feed and read them.
    #[serde(default)]
    pub forgery: Option<ForgeryConfig>,
}

#[derive(Debug, Clone, Deserialize)]
struct ManifestFile {
    #[serde(default)]
    model: Vec<ManifestEntry>,
}

/// The model manifest plus the folder where `scripts/setup` installed the weights.
#[derive(Debug, Clone)]
pub struct ModelCatalog {
    entries: Vec<ManifestEntry>,
    weights_dir: PathBuf,
}

impl ModelCatalog {
    pub fn load(manifest: &Path, weights_dir: &Path) -> Result<Self, PipelineError> {
        let text = std::fs::read_to_string(manifest).map_err(|e| {
            PipelineError::Config(format!(
                "cannot read model manifest {}: {e}",
                manifest.display()
            ))
        })?;
        let parsed: ManifestFile = toml::from_str(&text).map_err(|e| {
            PipelineError::Config(format!(
                "invalid model manifest {}: {e}",
                manifest.display()
            ))
        })?;
        Ok(Self {
            entries: parsed.model,
            weights_dir: weights_dir.to_owned(),
        })
    }

    /// Finds `name` and checks its file is installed.
    pub fn resolve(&self, name: &str) -> Result<ModelSpec, PipelineError> {
        let entry = self
            .entries
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| {
                let known: Vec<_> = self.entries.iter().map(|e| e.name.as_str()).collect();
                PipelineError::Config(format!(
                    "model {name:?} is not in the manifest (known: {})",
                    known.join(", ")
                ))
            })?;
        let path = self.weights_dir.join(&entry.file);
        if !path.is_file() {
            return Err(PipelineError::Config(format!(
                "model file {} is missing: run scripts/setup to install the weights",
                path.display()
            )));
        }
        Ok(ModelSpec::new(&entry.name, &entry.version, path))
    }

    /// The face-forgery classifiers `selection` picks, among the manifest entries with
    /// a `[model.forgery]` table. Each must be installed.
    pub fn forgery_models(
        &self,
        selection: &ForgerySelection,
    ) -> Result<Vec<(ModelSpec, ForgeryConfig)>, PipelineError> {
        let forgery = |e: &ManifestEntry| e.forgery.clone().map(|f| (e.name.clone(), f));
        let picked: Vec<(String, ForgeryConfig)> = match selection {
            ForgerySelection::All => self.entries.iter().filter_map(forgery).collect(),
            ForgerySelection::ForSignals(signals) => self
                .entries
                .iter()
                .filter_map(forgery)
                .filter(|(_, f)| signals.contains(&f.signal))
                .collect(),
            ForgerySelection::Named(names) => names
                .iter()
                .map(|n| {
                    self.entries
                        .iter()
                        .filter(|e| &e.name == n)
                        .find_map(forgery)
                        .ok_or_else(|| {
                            PipelineError::Config(format!(
                                "{n:?} is not a face-forgery model of the manifest \
                                 (no [model.forgery] table)"
                            ))
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        picked
            .into_iter()
            .map(|(name, cfg)| Ok((self.resolve(&name)?, cfg)))
            .collect()
    }

    pub fn entries(&self) -> &[ManifestEntry] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn resolves_installed_models_and_explains_missing_ones() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = write(
            dir.path(),
            "manifest.toml",
            "[[model]]\nname = \"a\"\nversion = \"1\"\nfile = \"a.onnx\"\nsha256 = \"x\"\n\
             [[model]]\nname = \"b\"\nversion = \"2\"\nfile = \"b.onnx\"\nsha256 = \"y\"\n",
        );
        write(dir.path(), "a.onnx", "");
        let cat = ModelCatalog::load(&manifest, dir.path()).unwrap();
        let a = cat.resolve("a").unwrap();
        assert_eq!(
            (a.version.as_str(), a.path.clone()),
            ("1", dir.path().join("a.onnx"))
        );
        let missing = cat.resolve("b").unwrap_err().to_string();
        assert!(missing.contains("scripts/setup"), "{missing}");
        let unknown = cat.resolve("zzz").unwrap_err().to_string();
        assert!(unknown.contains("known: a, b"), "{unknown}");
    }

    #[test]
    fn the_project_manifest_parses() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let cat = ModelCatalog::load(
            &root.join("models/manifest.toml"),
            &root.join("models/weights"),
        )
        .unwrap();
        for name in ["yunet_s", "minifasnet_v2", "minifasnet_v1se"] {
            assert!(cat.entries().iter().any(|e| e.name == name), "{name}");
        }
    }
}
