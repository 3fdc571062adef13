//! The fusion shipped as the default: `models/fusion_fit.toml`, as `candor eval
//! --fit-out` writes it (the synthetic-face rule and the attack score's calibration),
//! embedded at build time so the core needs no file at run time.

use serde::Deserialize;

use crate::config::{AttackConfig, AttackTerm, Statistic, SyntheticConfig, SyntheticTerm};

const FITTED: &str = include_str!("../../../models/fusion_fit.toml");

/// Every field required: a fit file is written whole, and the config's own `Default`
/// (which calls this) must not be reached while reading it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FittedSynthetic {
    terms: Vec<SyntheticTerm>,
    statistic: Statistic,
    bias: f32,
    min_frames: u32,
    suspicious_at: f32,
    alert_at: f32,
    provenance: String,
}

/// The same, for the attack score's calibration.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FittedAttack {
    prior: f32,
    terms: Vec<AttackTerm>,
    provenance: String,
}

#[derive(Deserialize)]
struct FitFile {
    synthetic: FittedSynthetic,
    /// A fit file written before the attack score was calibrated has none: the score
    /// is then absent.
    attack: Option<FittedAttack>,
}

/// The shipped fit is the synthetic rule's default.
impl Default for SyntheticConfig {
    fn default() -> Self {
        synthetic_default()
    }
}

/// The shipped calibration is the attack score's default.
impl Default for AttackConfig {
    fn default() -> Self {
        match fit_file().attack {
            Some(f) => AttackConfig {
                prior: f.prior,
                terms: f.terms,
                provenance: f.provenance,
            },
            None => AttackConfig {
                prior: 0.05,
                terms: Vec::new(),
                provenance: "not calibrated".into(),
            },
        }
    }
}

fn fit_file() -> FitFile {
    // Checked by the unit test below, so this cannot fail in a tested build.
    toml::from_str::<FitFile>(FITTED).expect("models/fusion_fit.toml is a valid fit file")
}

fn synthetic_default() -> SyntheticConfig {
    let f = fit_file().synthetic;
    SyntheticConfig {
        terms: f.terms,
        statistic: f.statistic,
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
        let loaded = AnalysisConfig::from_toml_str(FITTED).unwrap();
        assert_eq!(loaded.synthetic, s);
        assert_eq!(loaded.attack, AttackConfig::default());
        assert!(!loaded.attack.terms.is_empty());
    }
}
