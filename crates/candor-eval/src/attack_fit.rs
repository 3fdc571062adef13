//! Calibrating the attack score (`candor eval --fit-out`): one term per kind of attack,
//! fitted class-balanced on the attacks it is for against real segments: the live score
//! on spoofs (Platt scaling), and the face-forgery signals on fakes (Platt scaling of
//! one, or an L2-penalised logistic model over several, so that the detectors add up
//! instead of the noisiest setting the score); the fused score is the highest term at
//! the operating prior. Measured leave-one-group-out
//! (a group is a file, or a matched pair of files that must stay on one side): every
//! segment is scored by terms fitted without its group.

use candor_core::Segment;
use candor_core::config::{
    AttackConfig, AttackInput, AttackTerm, FeatureTransform, LivenessThresholds,
    PresenceThresholds, Statistic,
};
use candor_core::rules::live_score_stands;
use candor_core::signal::names;
use serde::Serialize;

use crate::calibrate::{ClassWeights, Platt, fit_platt};
use crate::fit::{FitFile, FitSample, fit_logistic};
use crate::folds::leave_one_group_out;
use crate::manifest::Label;
use crate::metrics::auc;

/// Below this many spoof groups the live score is not calibrated on them: it keeps the
/// liveness model's own probability (its training made 0.5 its decision point).
pub const MIN_SPOOF_GROUPS: usize = 3;

/// What `candor eval --fit-out` asks of the attack score.
#[derive(Debug, Clone)]
pub struct AttackFitOptions {
    /// Face-forgery signals (logit), one term over them all.
    pub forgery_signals: Vec<String>,
    /// Which statistic of a face-forgery signal in a segment the term reads.
    pub statistic: Statistic,
    /// Share of sessions that are attacks, under which the score is stated.
    pub prior: f64,
    /// Frames of a face-forgery signal a segment needs for its term to count (the live
    /// score's term counts from one frame).
    pub min_frames: u32,
    /// The service's liveness and presence thresholds: where the live score stands on
    /// its own, the liveness term counts (see `live_score_stands`).
    pub liveness: LivenessThresholds,
    pub presence: PresenceThresholds,
}

/// One score's file-level AUCs (file means), measured leave-one-group-out.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreAuc {
    pub score: String,
    pub fake_vs_real: Option<f64>,
    pub spoof_vs_real: Option<f64>,
    pub any_vs_real: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttackFit {
    pub config: AttackConfig,
    /// The fused score first, then each term's signal alone.
    pub aucs: Vec<ScoreAuc>,
    /// Median and 95th percentile of real segments' out-of-fold fused scores.
    pub real_median: Option<f64>,
    pub real_p95: Option<f64>,
    pub real_segments: usize,
    /// Whether the live score was calibrated on spoofs (else the model's own
    /// probability, for want of spoof groups).
    pub liveness_calibrated: bool,
}

/// One term to fit: how it reads a segment (its calibration still the identity) and
/// which attacks it is calibrated on.
#[derive(Debug, Clone)]
struct TermSpec {
    term: AttackTerm,
    attack: Label,
}

/// One segment as the fit sees it: its file, label and group, the segment itself (to
/// be scored as the service scores it) and each term's feature.
#[derive(Debug, Clone)]
struct Sample<'a> {
    file: usize,
    label: Label,
    group: usize,
    segment: &'a Segment,
    /// Whether the segment's live score may speak for an attack on its own.
    live_stands: bool,
    features: Vec<Option<f64>>,
}

pub fn fit_attack(files: &[FitFile], opts: &AttackFitOptions) -> Result<AttackFit, String> {
    let spec = |signal: &str, statistic, transform, attack, min_frames| TermSpec {
        term: AttackTerm {
            signal: signal.to_owned(),
            statistic,
            transform,
            a: 1.0,
            b: 0.0,
            min_frames,
            calibrated_on: String::new(),
            also: Vec::new(),
        },
        attack,
    };
    let mut specs = vec![spec(
        names::LIVENESS,
        Statistic::Mean,
        FeatureTransform::ComplementLogit,
        Label::Spoof,
        // The live score is decided per frame: a still's one frame is all there is.
        1,
    )];
    specs.extend(opts.forgery_signals.iter().map(|s| {
        spec(
            s,
            opts.statistic,
            FeatureTransform::Logit,
            Label::Fake,
            opts.min_frames,
        )
    }));
    let samples: Vec<Sample> = files
        .iter()
        .enumerate()
        .flat_map(|(i, f)| {
            let specs = &specs;
            f.segments.iter().map(move |segment| {
                let live_stands = live_score_stands(&opts.liveness, &opts.presence, segment);
                Sample {
                    file: i,
                    label: f.label,
                    group: f.group,
                    segment,
                    live_stands,
                    features: specs
                        .iter()
                        .map(|t| {
                            let counts = live_stands || t.term.signal != names::LIVENESS;
                            t.term.feature(segment).filter(|_| counts).map(f64::from)
                        })
                        .collect(),
                }
            })
        })
        .collect();
    let spoof_groups = distinct(
        files
            .iter()
            .filter(|f| f.label == Label::Spoof)
            .map(|f| f.group),
    );
    let calibrate_liveness = spoof_groups >= MIN_SPOOF_GROUPS;
    let fit_all = |train: &[Sample]| {
        Some(AttackConfig {
            prior: opts.prior as f32,
            terms: fit_terms(&specs, train, calibrate_liveness)?,
            provenance: String::new(),
        })
    };
    let config = fit_all(&samples).ok_or("cannot fit the attack score: every term needs real segments, and the forgery terms fake ones")?;
    // Every held-out segment is scored by the service's own code.
    let score = |c: &AttackConfig, s: &Sample| {
        c.attack_score(s.segment, s.live_stands)
            .map_or(f64::NAN, f64::from)
    };
    let out_of_fold = leave_one_group_out(&samples, |s| s.group, fit_all, score);
    // The face-forgery term alone, calibrated out of fold the same way: what the
    // fusion adds or costs, apart from what calibrating out of fold costs.
    let forgery_alone = |train: &[Sample]| {
        let mut c = fit_all(train)?;
        c.terms.retain(|t| t.signal != names::LIVENESS);
        (!c.terms.is_empty()).then_some(c)
    };
    let mut aucs = vec![file_aucs(
        "attack_score (fused, calibrated)",
        &samples,
        &out_of_fold,
        files,
    )];
    if !opts.forgery_signals.is_empty() {
        let alone = leave_one_group_out(&samples, |s| s.group, forgery_alone, score);
        aucs.push(file_aucs(
            "forgery term alone (calibrated)",
            &samples,
            &alone,
            files,
        ));
    }
    for t in &specs {
        // One signal alone ranks as its raw reading on every segment that has it
        // (calibration is monotone): what the fused score must beat.
        let raw: Vec<Option<f64>> = samples
            .iter()
            .map(|s| t.term.feature(s.segment).map(f64::from))
            .collect();
        aucs.push(file_aucs(&t.term.signal, &samples, &raw, files));
    }
    let mut real: Vec<f64> = samples
        .iter()
        .zip(&out_of_fold)
        .filter(|(s, _)| s.label == Label::Real)
        .filter_map(|(_, v)| v.filter(|v| v.is_finite()))
        .collect();
    real.sort_by(f64::total_cmp);
    let at = |q: f64| (!real.is_empty()).then(|| crate::metrics::quantile(&real, q));
    Ok(AttackFit {
        config,
        aucs,
        real_median: at(0.5),
        real_p95: at(0.95),
        real_segments: real.len(),
        liveness_calibrated: calibrate_liveness,
    })
}

/// The calibrated terms as the service loads them, fitted on `train`: the live score
/// keeps the identity map (`sigmoid(logit(1 - live))`) when it is not calibrated, and
/// the face-forgery signals make one term. `None` when a term has no real or no attack
/// segment to fit on.
fn fit_terms(
    specs: &[TermSpec],
    train: &[Sample],
    calibrate_liveness: bool,
) -> Option<Vec<AttackTerm>> {
    let mut terms = Vec::new();
    let (live, forgery): (Vec<_>, Vec<_>) = specs
        .iter()
        .enumerate()
        .partition(|(_, s)| s.attack == Label::Spoof);
    for (k, spec) in live {
        let platt = if calibrate_liveness {
            fit_platt_term(k, spec.attack, train)?
        } else {
            Platt { a: 1.0, b: 0.0 }
        };
        terms.push(AttackTerm {
            a: platt.a as f32,
            b: platt.b as f32,
            calibrated_on: if calibrate_liveness {
                "spoof vs real segments".into()
            } else {
                "none: the liveness model's own probability (too few spoof files to fit on)".into()
            },
            ..spec.term.clone()
        });
    }
    match forgery.as_slice() {
        [] => {}
        [(k, spec)] => {
            let platt = fit_platt_term(*k, spec.attack, train)?;
            terms.push(AttackTerm {
                a: platt.a as f32,
                b: platt.b as f32,
                calibrated_on: "fake vs real segments".into(),
                ..spec.term.clone()
            });
        }
        several => {
            let ks: Vec<usize> = several.iter().map(|(k, _)| *k).collect();
            let samples: Vec<FitSample> = train
                .iter()
                .filter(|s| matches!(s.label, Label::Fake | Label::Real))
                .filter_map(|s| {
                    Some(FitSample {
                        features: ks.iter().map(|&k| s.features[k]).collect::<Option<_>>()?,
                        fake: s.label == Label::Fake,
                        file: s.file,
                    })
                })
                .collect();
            let model = fit_logistic(&samples, FORGERY_L2)?;
            let first = &several[0].1.term;
            terms.push(AttackTerm {
                a: model.weights[0] as f32,
                b: model.bias as f32,
                calibrated_on: "fake vs real segments (logistic model over the signals)".into(),
                also: several[1..]
                    .iter()
                    .zip(&model.weights[1..])
                    .map(|((_, spec), w)| AttackInput {
                        signal: spec.term.signal.clone(),
                        a: *w as f32,
                    })
                    .collect(),
                ..first.clone()
            });
        }
    }
    Some(terms)
}

/// L2 penalty of the logistic model over several face-forgery signals: the one the
/// synthetic-face rule is fitted with.
const FORGERY_L2: f64 = 1.0;

/// Platt scaling of spec `k`'s feature, `attack` against real segments.
fn fit_platt_term(k: usize, attack: Label, train: &[Sample]) -> Option<Platt> {
    let pairs: Vec<(f64, bool)> = train
        .iter()
        .filter(|s| s.label == attack || s.label == Label::Real)
        .filter_map(|s| Some((s.features[k]?, s.label == attack)))
        .collect();
    fit_platt(&pairs, ClassWeights::balanced(&pairs)?)
}

/// File-level AUCs of per-segment scores (file mean of the finite ones).
fn file_aucs(
    name: &str,
    samples: &[Sample],
    scores: &[Option<f64>],
    files: &[FitFile],
) -> ScoreAuc {
    let mut sums = vec![(0.0, 0usize); files.len()];
    for (s, v) in samples.iter().zip(scores) {
        if let Some(v) = v.filter(|v| v.is_finite()) {
            sums[s.file].0 += v;
            sums[s.file].1 += 1;
        }
    }
    let of = |label: Label| -> Vec<f64> {
        files
            .iter()
            .zip(&sums)
            .filter(|(f, (_, n))| f.label == label && *n > 0)
            .map(|(_, (sum, n))| sum / *n as f64)
            .collect()
    };
    let (real, fake, spoof) = (of(Label::Real), of(Label::Fake), of(Label::Spoof));
    let any: Vec<f64> = fake.iter().chain(&spoof).copied().collect();
    ScoreAuc {
        score: name.into(),
        fake_vs_real: auc(&fake, &real),
        spoof_vs_real: auc(&spoof, &real),
        any_vs_real: auc(&any, &real),
    }
}

fn distinct(ids: impl Iterator<Item = usize>) -> usize {
    let mut v: Vec<usize> = ids.collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candor_core::RiskState;

    fn seg(live: f32, fake: f32) -> Segment {
        crate::aggregate::tests::seg(
            0,
            RiskState::Clear,
            &[(names::LIVENESS, live), ("x_fake", fake)],
        )
        .segment
    }

    fn opts() -> AttackFitOptions {
        AttackFitOptions {
            forgery_signals: vec!["x_fake".into()],
            statistic: Statistic::Median,
            prior: 0.05,
            min_frames: 2,
            liveness: LivenessThresholds::default(),
            presence: PresenceThresholds::default(),
        }
    }

    /// Real files read (live 0.9, fake 0.2-0.4); fakes (live 0.9, fake 0.6-0.8); two
    /// spoof stills (live 0.1).
    fn data() -> Vec<(Label, Vec<Segment>)> {
        let mut d = Vec::new();
        for i in 0..6 {
            let f = i as f32 * 0.04;
            d.push((Label::Real, vec![seg(0.9, 0.2 + f), seg(0.88, 0.22 + f)]));
            d.push((Label::Fake, vec![seg(0.9, 0.6 + f), seg(0.87, 0.62 + f)]));
        }
        d.push((Label::Spoof, vec![seg(0.1, 0.3)]));
        d.push((Label::Spoof, vec![seg(0.05, 0.3)]));
        d
    }

    fn files(d: &[(Label, Vec<Segment>)]) -> Vec<FitFile<'_>> {
        d.iter()
            .enumerate()
            .map(|(i, (label, segments))| FitFile {
                label: *label,
                group: i,
                segments,
            })
            .collect()
    }

    #[test]
    fn the_fused_score_ranks_fakes_and_spoofs_and_reads_low_on_real_faces() {
        let d = data();
        let fit = fit_attack(&files(&d), &opts()).unwrap();
        assert!(!fit.liveness_calibrated, "two spoof groups are too few");
        let fused = &fit.aucs[0];
        assert_eq!(fused.fake_vs_real, Some(1.0), "{fit:?}");
        assert_eq!(fused.spoof_vs_real, Some(1.0), "{fit:?}");
        assert!(fit.real_median.unwrap() < 0.1, "{fit:?}");
        // The shipped config reads a fake higher than a real face, at the prior.
        let (fake, real) = (seg(0.9, 0.7), seg(0.9, 0.25));
        let (f, r) = (
            fit.config.attack_score(&fake, true).unwrap(),
            fit.config.attack_score(&real, true).unwrap(),
        );
        assert!(f > r && r < 0.1, "{f} {r}");
    }

    /// A segment of video: `seg` plus a picture that changes like a live feed's.
    fn moving(live: f32, fake: f32) -> Segment {
        let mut s = seg(live, fake);
        let mut change = s.signals[0].clone();
        change.name = names::FRAME_CHANGE.into();
        (change.mean, change.median) = (4.0, 4.0);
        s.signals.push(change);
        s
    }

    #[test]
    fn recorded_footage_that_reads_low_on_liveness_does_not_outrank_fakes() {
        // Two real files are recorded footage: low live scores (0.3), moving like live
        // video, and read as real by the forgery detector. Where the live score alone
        // cannot alert, it does not lift the fused score either, and the fused score
        // ranks fakes above every real file.
        let mut d = data();
        d.push((Label::Real, vec![moving(0.3, 0.25), moving(0.32, 0.24)]));
        d.push((Label::Real, vec![moving(0.28, 0.3), moving(0.3, 0.26)]));
        let fit = fit_attack(&files(&d), &opts()).unwrap();
        assert_eq!(fit.aucs[0].fake_vs_real, Some(1.0), "{fit:?}");
        // The live score alone ranks those two above every fake (it ties the fakes with
        // the other reals at 0.885 against 0.89): 12 of 6 x 8 pairs lost.
        assert_eq!(fit.aucs[2].score, names::LIVENESS);
        assert_eq!(fit.aucs[2].fake_vs_real, Some(36.0 / 48.0), "{fit:?}");
        // The forgery term alone ranks them as the fusion does here.
        assert_eq!(fit.aucs[1].fake_vs_real, Some(1.0), "{fit:?}");
        // A screen (extreme score) still stands on its own in video.
        let screen = fit.config.attack_score(&moving(0.02, 0.25), true).unwrap();
        assert!(screen > 0.5, "{screen}");
    }

    #[test]
    fn the_live_score_is_calibrated_once_there_are_enough_spoof_groups() {
        let mut d = data();
        d.push((Label::Spoof, vec![seg(0.2, 0.3)]));
        let fit = fit_attack(&files(&d), &opts()).unwrap();
        assert!(fit.liveness_calibrated);
        let live = &fit.config.terms[0];
        assert!(
            live.a > 0.0 && live.calibrated_on.starts_with("spoof"),
            "{live:?}"
        );
    }

    #[test]
    fn several_forgery_signals_make_one_term() {
        // A second detector that reads fakes 0.3 higher too: one term over both.
        let mut d = data();
        for (label, segs) in &mut d {
            for s in segs.iter_mut() {
                let mut y = s.signals[1].clone();
                y.name = "y_fake".into();
                let shift = if *label == Label::Fake { 0.1 } else { 0.0 };
                y.median = (y.median + shift).min(0.95);
                s.signals.push(y);
            }
        }
        let o = AttackFitOptions {
            forgery_signals: vec!["x_fake".into(), "y_fake".into()],
            ..opts()
        };
        let fit = fit_attack(&files(&d), &o).unwrap();
        assert_eq!(fit.config.terms.len(), 2, "{:?}", fit.config.terms);
        let forgery = &fit.config.terms[1];
        assert_eq!(forgery.signal, "x_fake");
        assert_eq!(forgery.also.len(), 1);
        assert_eq!(forgery.also[0].signal, "y_fake");
        assert!(forgery.a > 0.0 && forgery.also[0].a > 0.0, "{forgery:?}");
        assert_eq!(fit.aucs[0].fake_vs_real, Some(1.0), "{fit:?}");
        // After the fused figure: the forgery term alone, then each signal: liveness,
        // x, y.
        assert_eq!(fit.aucs.len(), 5);
    }

    #[test]
    fn a_pair_stays_on_one_side_of_every_split() {
        // The same group for a real file and its fake: scoring either never saw both.
        let d = data();
        let mut f = files(&d);
        f[1].group = f[0].group;
        assert!(fit_attack(&f, &opts()).is_ok());
        let no_fakes: Vec<FitFile> = f.into_iter().filter(|x| x.label != Label::Fake).collect();
        assert!(fit_attack(&no_fakes, &opts()).is_err());
    }
}
