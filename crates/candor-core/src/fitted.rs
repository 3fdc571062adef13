//! The synthetic-face model shipped as the default: `models/synthetic_fit.toml`, as
//! `candor eval --fit-out` writes it, embedded at build time so the core needs no file
//! at run time.

use serde::Deserialize;

use crate::config::{SyntheticConfig, SyntheticTerm};

const FITTED: &str = include_str!("../../../models/synthetic_fit.toml");

/// Every field required: a fit file is written whole, and the config's own `Default`
/// (which calls this) must not be reached while reading it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FittedSynthetic {
    terms: Vec<SyntheticTerm>,
    bias: f32,
    min_frames: u32,
    suspicious_at: f32,
    alert_at: f32,
    provenance: String,
}

#[derive(Deserialize)]
struct FitFile {
    synthetic: FittedSynthetic,
}

/// The shipped fit is the synthetic rule's default.
impl Default for SyntheticConfig {
    fn default() -> Self {
        synthetic_default()
    }
}

fn synthetic_default() -> SyntheticConfig {
    // Checked by the unit test below, so this cannot fail in a tested build.
    let f = toml::from_str::<FitFile>(FITTED)
        .map(|f| f.synthetic)
        .expect("models/synthetic_fit.toml is a valid fit file");
    SyntheticConfig {
        terms: f.terms,
        bias: f.bias,
        min_frames: f.min_frames,
        suspicious_at: f.suspicious_at,
        alert_at: f.alert_at,
        provenance: f.provenance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AnalysisConfig;

    #[test]
    fn the_shipped_fit_parses_and_validates() {
        let s = synthetic_default();
        assert!(s.suspicious_at <= s.alert_at);
        AnalysisConfig::default().validate().unwrap();
        // The same file loads as a --config file.
        assert_eq!(AnalysisConfig::from_toml_str(FITTED).unwrap().synthetic, s);
    }
}
