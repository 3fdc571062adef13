//! Fitting the synthetic-face rule: the logistic model over the face-forgery signals
//! ([`crate::fit`]), and its `suspicious` and `alert` lines set on findings as the
//! judge lets them stand. A finding stands once it has held several segments in a row
//! (`[confirm] segments`): a forged face keeps reading high, an honest webcam crosses a
//! line for a segment and falls back. So the lines are set on each segment's *held*
//! score (the lowest of its own and the segments before it that the run needs), and
//! the rates are shares of real segments that would stand at each state. The figures
//! that judge the fit come from leave-one-group-out folds: weights and lines fitted on
//! the other groups, states counted on the group held out.

use serde::Serialize;

use candor_core::config::{FeatureTransform, Statistic, SyntheticConfig, SyntheticTerm};

use crate::Label;
use crate::fit::{FitFile, FitSample, Logistic, fit_logistic, threshold_for_false_alert};
use crate::folds::groups;
use crate::metrics::auc;

/// What `candor eval --fit-out` asks for.
#[derive(Debug, Clone)]
pub struct SyntheticFitOptions {
    /// Face-forgery signals to combine (logit-transformed).
    pub signals: Vec<String>,
    /// Which statistic of each signal in a segment the model reads.
    pub statistic: Statistic,
    pub l2: f64,
    /// Share of real segments allowed to stand at `alert`.
    pub alert_rate: f64,
    /// Share of real segments allowed to stand at `suspicious` or worse.
    pub suspicious_rate: f64,
    /// Usable frames a segment needs to be judged (and to be used in the fit).
    pub min_frames: u32,
    /// Segments in a row a finding must hold before it stands (the judge's
    /// `[confirm] segments`; 1: at once).
    pub hold: u32,
}

/// States counted on files the fit did not see (leave-one-group-out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HeldOutStates {
    /// Real segments scored, and those standing at `suspicious` or worse / `alert`.
    pub real_segments: usize,
    pub real_suspicious: usize,
    pub real_alert: usize,
    /// Fake files scored, and those with a segment at `suspicious` or worse / `alert`.
    pub fake_files: usize,
    pub fake_files_suspicious: usize,
    pub fake_files_alert: usize,
}

/// The fitted rule and how it did.
#[derive(Debug, Clone, Serialize)]
pub struct SyntheticFit {
    pub config: SyntheticConfig,
    pub real_segments: usize,
    pub fake_segments: usize,
    pub real_files: usize,
    pub fake_files: usize,
    /// In-sample share of real / fake segments standing at `alert` and at `suspicious`
    /// or worse.
    pub real_alert_share: f64,
    pub fake_alert_share: f64,
    pub real_suspicious_share: f64,
    pub fake_suspicious_share: f64,
    /// File-level fake-vs-real AUC of out-of-fold segment scores (each file's median),
    /// leave-one-group-out: what to expect on clips the fit never saw.
    pub out_of_fold_auc: Option<f64>,
    /// The states of the rule on the groups it was not fitted on.
    pub held_out: HeldOutStates,
}

/// A segment of the fit: its features and where it sits.
#[derive(Debug, Clone)]
struct Sample {
    fit: FitSample,
    group: usize,
    /// Index of the segment in its file: a run must be unbroken.
    segment: usize,
}

/// Fits the synthetic-face rule on `files` (label fake or real; spoofs are left to the
/// liveness rule). Segments missing a signal, or with fewer than `min_frames` frames of
/// it, are skipped, and break a run.
pub fn fit_synthetic(
    files: &[FitFile<'_>],
    opts: &SyntheticFitOptions,
) -> Result<SyntheticFit, String> {
    if opts.signals.is_empty() {
        return Err("no face-forgery signals to fit (none ends in `_fake`)".into());
    }
    let samples = samples(files, opts);
    let fit_samples: Vec<FitSample> = samples.iter().map(|s| s.fit.clone()).collect();
    let model = fit_logistic(&fit_samples, opts.l2)
        .ok_or("cannot fit: need segments of both real and fake files carrying every signal")?;
    let held = held_scores(&samples, &scores(&samples, &model), opts.hold);
    let (suspicious_at, alert_at) = lines(&samples, &held, opts);
    let share = |fake: bool, t: f64| {
        let of: Vec<f64> = samples
            .iter()
            .zip(&held)
            .filter(|(s, _)| s.fit.fake == fake)
            .map(|(_, v)| *v)
            .collect();
        of.iter().filter(|&&v| v >= t).count() as f64 / of.len().max(1) as f64
    };
    let count_files = |fake: bool| {
        let mut f: Vec<usize> = samples
            .iter()
            .filter(|s| s.fit.fake == fake)
            .map(|s| s.fit.file)
            .collect();
        f.dedup();
        f.len()
    };
    let real_segments = samples.iter().filter(|s| !s.fit.fake).count();
    let config = SyntheticConfig {
        terms: opts
            .signals
            .iter()
            .zip(&model.weights)
            .map(|(signal, w)| SyntheticTerm {
                signal: signal.clone(),
                transform: FeatureTransform::Logit,
                weight: *w as f32,
            })
            .collect(),
        statistic: opts.statistic,
        bias: model.bias as f32,
        min_frames: opts.min_frames,
        suspicious_at: suspicious_at as f32,
        alert_at: alert_at as f32,
        provenance: String::new(),
    };
    let (out_of_fold_auc, held_out) = held_out_figures(&samples, opts);
    Ok(SyntheticFit {
        config,
        real_segments,
        fake_segments: samples.len() - real_segments,
        real_files: count_files(false),
        fake_files: count_files(true),
        real_alert_share: share(false, alert_at),
        fake_alert_share: share(true, alert_at),
        real_suspicious_share: share(false, suspicious_at),
        fake_suspicious_share: share(true, suspicious_at),
        out_of_fold_auc,
        held_out,
    })
}

/// Every fake or real segment carrying each signal on enough frames, files in order.
fn samples(files: &[FitFile<'_>], opts: &SyntheticFitOptions) -> Vec<Sample> {
    let transform = FeatureTransform::Logit;
    let mut out = Vec::new();
    for (file, f) in files.iter().enumerate() {
        let fake = match f.label {
            Label::Fake => true,
            Label::Real => false,
            Label::Spoof => continue,
        };
        for (segment, seg) in f.segments.iter().enumerate() {
            let features: Option<Vec<f64>> = opts
                .signals
                .iter()
                .map(|name| {
                    let s = seg.signal(name).filter(|s| s.frames >= opts.min_frames)?;
                    Some(f64::from(transform.apply(s.get(opts.statistic))))
                })
                .collect();
            if let Some(features) = features {
                out.push(Sample {
                    fit: FitSample {
                        features,
                        fake,
                        file,
                    },
                    group: f.group,
                    segment,
                });
            }
        }
    }
    out
}

/// Each sample's score under `model`.
fn scores(samples: &[Sample], model: &Logistic) -> Vec<f64> {
    samples
        .iter()
        .map(|s| model.score(&s.fit.features))
        .collect()
}

/// Each sample's score (`scores`, in `samples`' order) as the judge lets a finding
/// stand: the lowest score over it and the `hold - 1` segments before it in its file, 0
/// when one of those was not scored (the run is broken). `samples` are in file and
/// segment order.
fn held_scores(samples: &[Sample], scores: &[f64], hold: u32) -> Vec<f64> {
    let back = hold.max(1) as usize - 1;
    (0..samples.len())
        .map(|i| {
            let unbroken = (1..=back).all(|k| {
                i >= k
                    && samples[i - k].fit.file == samples[i].fit.file
                    && samples[i - k].segment + k == samples[i].segment
            });
            if unbroken {
                scores[i - back..=i]
                    .iter()
                    .copied()
                    .fold(f64::MAX, f64::min)
            } else {
                0.0
            }
        })
        .collect()
}

/// (suspicious, alert) lines from the real samples' held scores.
fn lines(samples: &[Sample], held: &[f64], opts: &SyntheticFitOptions) -> (f64, f64) {
    let real: Vec<f64> = samples
        .iter()
        .zip(held)
        .filter(|(s, _)| !s.fit.fake)
        .map(|(_, v)| *v)
        .collect();
    let alert_at = threshold_for_false_alert(&real, opts.alert_rate);
    let suspicious_at = threshold_for_false_alert(&real, opts.suspicious_rate).min(alert_at);
    (suspicious_at, alert_at)
}

/// Fits weights and lines without each group in turn and judges that group: the
/// file-level AUC of the out-of-fold scores (each file's median) and the states.
fn held_out_figures(
    samples: &[Sample],
    opts: &SyntheticFitOptions,
) -> (Option<f64>, HeldOutStates) {
    let mut states = HeldOutStates::default();
    let (mut fake_medians, mut real_medians) = (Vec::new(), Vec::new());
    for g in groups(samples, |s| s.group) {
        let (test, train): (Vec<Sample>, Vec<Sample>) =
            samples.iter().cloned().partition(|s| s.group == g);
        let train_fit: Vec<FitSample> = train.iter().map(|s| s.fit.clone()).collect();
        let Some(model) = fit_logistic(&train_fit, opts.l2) else {
            continue;
        };
        let train_held = held_scores(&train, &scores(&train, &model), opts.hold);
        let (suspicious_at, alert_at) = lines(&train, &train_held, opts);
        let test_scores = scores(&test, &model);
        let held = held_scores(&test, &test_scores, opts.hold);
        for file in groups(&test, |s| s.fit.file) {
            let of_file = || {
                test.iter()
                    .zip(test_scores.iter().zip(&held))
                    .filter(|(s, _)| s.fit.file == file)
            };
            let fake = of_file().next().is_some_and(|(s, _)| s.fit.fake);
            let mut file_scores: Vec<f64> = of_file().map(|(_, (score, _))| *score).collect();
            file_scores.sort_by(f64::total_cmp);
            let median = file_scores[file_scores.len() / 2];
            let suspicious = of_file().filter(|(_, (_, h))| **h >= suspicious_at).count();
            let alert = of_file().filter(|(_, (_, h))| **h >= alert_at).count();
            if fake {
                fake_medians.push(median);
                states.fake_files += 1;
                states.fake_files_suspicious += usize::from(suspicious > 0);
                states.fake_files_alert += usize::from(alert > 0);
            } else {
                real_medians.push(median);
                states.real_segments += file_scores.len();
                states.real_suspicious += suspicious;
                states.real_alert += alert;
            }
        }
    }
    (auc(&fake_medians, &real_medians), states)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::tests::seg as judged;
    use candor_core::RiskState;
    use candor_core::Segment;

    /// Segment `index`, whose one forgery signal reads `p` (every statistic) on 4
    /// frames; `None`: the signal is missing.
    fn seg(index: u32, p: Option<f32>) -> Segment {
        let signals: Vec<(&str, f32)> = p.map(|p| ("x_fake", p)).into_iter().collect();
        judged(index, RiskState::Clear, &signals).segment
    }

    fn file(ps: &[Option<f32>]) -> Vec<Segment> {
        ps.iter()
            .enumerate()
            .map(|(i, p)| seg(i as u32, *p))
            .collect()
    }

    fn opts(hold: u32) -> SyntheticFitOptions {
        SyntheticFitOptions {
            signals: vec!["x_fake".into()],
            statistic: Statistic::Median,
            l2: 1.0,
            alert_rate: 0.0,
            suspicious_rate: 0.0,
            min_frames: 2,
            hold,
        }
    }

    #[test]
    fn a_held_score_is_the_lowest_of_an_unbroken_run() {
        let segs = file(&[Some(0.9), Some(0.7), None, Some(0.8), Some(0.6)]);
        let files = [FitFile {
            label: Label::Real,
            group: 0,
            segments: &segs,
        }];
        // Identity on the logit: a segment scores its own reading.
        let model = Logistic {
            weights: vec![1.0],
            bias: 0.0,
        };
        let held = |hold| -> Vec<f64> {
            let samples = samples(&files, &opts(hold));
            held_scores(&samples, &scores(&samples, &model), hold)
                .into_iter()
                .map(|v| (v * 1e6).round() / 1e6)
                .collect()
        };
        // At once: each scored segment's own reading (the missing one is no sample).
        assert_eq!(held(1), vec![0.9, 0.7, 0.8, 0.6]);
        // Two in a row: the first has nothing before it, the missing one breaks the run.
        assert_eq!(held(2), vec![0.0, 0.7, 0.0, 0.6]);
        assert_eq!(held(3), vec![0.0; 4]);
    }

    /// Real files whose readings cross high for one segment at a time, fake files that
    /// read high throughout, one of each per group.
    fn table() -> Vec<(Label, usize, Vec<Segment>)> {
        let f = |ps: [f32; 4]| file(&ps.map(Some));
        vec![
            (Label::Real, 0, f([0.2, 0.8, 0.2, 0.3])),
            (Label::Real, 1, f([0.3, 0.2, 0.7, 0.2])),
            (Label::Real, 2, f([0.1, 0.2, 0.3, 0.2])),
            (Label::Fake, 0, f([0.6, 0.65, 0.7, 0.6])),
            (Label::Fake, 1, f([0.5, 0.9, 0.4, 0.6])),
            (Label::Fake, 2, f([0.75, 0.7, 0.8, 0.7])),
        ]
    }

    fn fit(hold: u32) -> SyntheticFit {
        let t = table();
        let files: Vec<FitFile<'_>> = t
            .iter()
            .map(|(label, group, segments)| FitFile {
                label: *label,
                group: *group,
                segments,
            })
            .collect();
        fit_synthetic(&files, &opts(hold)).unwrap()
    }

    #[test]
    fn lines_are_set_on_findings_that_stand() {
        // No real segment may stand (rates 0). At once, the line must clear the real
        // files' single 0.8, and only the fakes' 0.9 reaches it: 1 of 12 segments.
        // Held two segments, no real run reads above 0.2 (each 0.8 or 0.7 sits beside a
        // 0.2), and every fake segment with one before it stands (its runs read 0.4 and
        // up): 9 of 12.
        let at_once = fit(1);
        let held = fit(2);
        assert_eq!(at_once.real_suspicious_share, 0.0);
        assert_eq!(held.real_suspicious_share, 0.0);
        assert_eq!(at_once.fake_suspicious_share, 1.0 / 12.0);
        assert_eq!(held.fake_suspicious_share, 9.0 / 12.0);
        assert!(held.config.suspicious_at < at_once.config.suspicious_at);
        // Rate 0 for both: one line.
        assert_eq!(held.config.alert_at, held.config.suspicious_at);
    }

    #[test]
    fn held_out_states_count_each_group_judged_by_the_others() {
        // Each group's real file runs no higher than 0.2, as the other two's do, so
        // none of its segments stands; each fake file runs above 0.2, so each stands.
        let f = fit(2);
        assert_eq!(
            f.held_out,
            HeldOutStates {
                real_segments: 12,
                real_suspicious: 0,
                real_alert: 0,
                fake_files: 3,
                fake_files_suspicious: 3,
                fake_files_alert: 3,
            }
        );
        assert_eq!(f.out_of_fold_auc, Some(1.0));
        assert_eq!((f.real_files, f.fake_files), (3, 3));
        assert_eq!((f.real_segments, f.fake_segments), (12, 12));
    }
}
