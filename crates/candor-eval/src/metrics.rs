//! Detection metrics: ROC AUC (Mann-Whitney, ties count 1/2), ROC curve points,
//! stratified percentile-bootstrap confidence intervals with a seeded PRNG, APCER and
//! BPCER (ISO/IEC 30107-3) and a confusion table of risk states against labels.
//!
//! Scores here are always attack-oriented: higher means "more like an attack". The
//! caller flips scores whose natural direction is the other way (liveness).

use std::collections::BTreeMap;

use candor_core::RiskState;
use serde::{Deserialize, Serialize};

use crate::aggregate::Orientation;
use crate::manifest::Label;

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, fast, well-mixed 64-bit PRNG. Enough
/// for resampling; the same seed always gives the same stream.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (multiply-shift; the bias is below 2^-32 for any n used here).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// Area under the ROC curve: the probability that a random attack scores higher than
/// a random real presentation, ties counted 1/2 (the Mann-Whitney U statistic divided
/// by n_attack * n_real). `None` when either class is empty.
pub fn auc(attack: &[f64], real: &[f64]) -> Option<f64> {
    if attack.is_empty() || real.is_empty() {
        return None;
    }
    // Rank-sum with mid-ranks for ties: O(n log n).
    let mut all: Vec<(f64, bool)> = attack
        .iter()
        .map(|&s| (s, true))
        .chain(real.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut attack_rank_sum = 0.0f64;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let mid = (i + j) as f64 / 2.0 + 1.0;
        let attacks_here = all[i..=j].iter().filter(|x| x.1).count();
        attack_rank_sum += mid * attacks_here as f64;
        i = j + 1;
    }
    let n1 = attack.len() as f64;
    let n0 = real.len() as f64;
    let u = attack_rank_sum - n1 * (n1 + 1.0) / 2.0;
    Some(u / (n1 * n0))
}

/// One operating point: classify as attack when score >= `threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RocPoint {
    /// False positive rate: share of real presentations classified as attack (BPCER).
    pub fpr: f64,
    /// True positive rate: share of attacks classified as attack (1 - APCER).
    pub tpr: f64,
    /// Attack-oriented threshold; `None` for the (0, 0) start point (nothing flagged).
    pub threshold: Option<f64>,
}

/// The ROC curve from (0, 0) to (1, 1), one point per distinct score. Empty when
/// either class is empty.
pub fn roc_curve(attack: &[f64], real: &[f64]) -> Vec<RocPoint> {
    if attack.is_empty() || real.is_empty() {
        return Vec::new();
    }
    let mut all: Vec<(f64, bool)> = attack
        .iter()
        .map(|&s| (s, true))
        .chain(real.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (n1, n0) = (attack.len() as f64, real.len() as f64);
    let mut points = vec![RocPoint {
        fpr: 0.0,
        tpr: 0.0,
        threshold: None,
    }];
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut i = 0;
    while i < all.len() {
        let t = all[i].0;
        while i < all.len() && all[i].0 == t {
            if all[i].1 {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        points.push(RocPoint {
            fpr: fp as f64 / n0,
            tpr: tp as f64 / n1,
            threshold: Some(t),
        });
    }
    points
}

/// A confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ci {
    pub low: f64,
    pub high: f64,
    /// Coverage, e.g. 0.95.
    pub level: f64,
    /// Bootstrap resamples it came from.
    pub resamples: usize,
}

/// Stratified percentile bootstrap of the AUC: each resample draws n_attack attacks and
/// n_real real scores with replacement from their own class, so both classes are
/// always present. Deterministic for a seed. `None` when either class is empty or
/// `resamples` is 0.
pub fn bootstrap_auc_ci(
    attack: &[f64],
    real: &[f64],
    resamples: usize,
    seed: u64,
    level: f64,
) -> Option<Ci> {
    if attack.is_empty() || real.is_empty() || resamples == 0 {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    let mut a = vec![0.0; attack.len()];
    let mut r = vec![0.0; real.len()];
    let mut aucs = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for x in a.iter_mut() {
            *x = attack[rng.below(attack.len())];
        }
        for x in r.iter_mut() {
            *x = real[rng.below(real.len())];
        }
        aucs.extend(auc(&a, &r));
    }
    aucs.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Some(Ci {
        low: quantile(&aucs, tail),
        high: quantile(&aucs, 1.0 - tail),
        level,
        resamples,
    })
}

/// Quantile of sorted values, linear interpolation between closest ranks.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = pos.ceil() as usize;
            sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
        }
    }
}

/// Errors out of a total, with the share.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub errors: usize,
    pub total: usize,
    /// errors / total; `None` when total is 0.
    pub rate: Option<f64>,
}

impl Rate {
    pub fn new(errors: usize, total: usize) -> Self {
        Self {
            errors,
            total,
            rate: (total > 0).then(|| errors as f64 / total as f64),
        }
    }
}

impl Default for Rate {
    fn default() -> Self {
        Self::new(0, 0)
    }
}

/// The attack species with the highest APCER.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorstSpecies {
    pub kind: String,
    pub rate: Rate,
}

/// ISO/IEC 30107-3 error rates at one decision threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PadErrors {
    /// Attack presentation classification error rate per attack species (`label/kind`):
    /// share of attack presentations classified as bona fide.
    pub apcer_by_kind: BTreeMap<String, Rate>,
    /// APCER pooled over every species of a label (`fake`, `spoof`).
    pub apcer_by_label: BTreeMap<Label, Rate>,
    /// The highest per-species APCER (the standard's summary figure), `None` without
    /// attacks.
    pub apcer_max: Option<WorstSpecies>,
    /// Bona fide presentation classification error rate: share of real presentations
    /// classified as attacks.
    pub bpcer: Rate,
}

/// The species key of an attack: `label/kind`, `label/unknown` without a kind.
pub fn species(label: Label, kind: Option<&str>) -> String {
    format!("{label}/{}", kind.unwrap_or("unknown"))
}

/// APCER and BPCER over presentations given as (label, kind, classified as attack).
pub fn pad_errors<'a>(
    items: impl IntoIterator<Item = (Label, Option<&'a str>, bool)>,
) -> PadErrors {
    let mut by_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut by_label: BTreeMap<Label, (usize, usize)> = BTreeMap::new();
    let (mut bf_err, mut bf_total) = (0usize, 0usize);
    for (label, kind, attack) in items {
        if label.is_attack() {
            let missed = usize::from(!attack);
            for slot in [
                by_kind.entry(species(label, kind)).or_default(),
                by_label.entry(label).or_default(),
            ] {
                slot.0 += missed;
                slot.1 += 1;
            }
        } else {
            bf_err += usize::from(attack);
            bf_total += 1;
        }
    }
    let apcer_by_kind: BTreeMap<String, Rate> = by_kind
        .into_iter()
        .map(|(k, (e, t))| (k, Rate::new(e, t)))
        .collect();
    // Highest rate; ties go to the species with more presentations, then name order.
    let apcer_max = apcer_by_kind
        .iter()
        .filter_map(|(k, r)| r.rate.map(|x| (k, r, x)))
        .max_by(|a, b| {
            a.2.total_cmp(&b.2)
                .then(a.1.total.cmp(&b.1.total))
                .then(b.0.cmp(a.0))
        })
        .map(|(k, r, _)| WorstSpecies {
            kind: k.clone(),
            rate: *r,
        });
    PadErrors {
        apcer_by_kind,
        apcer_by_label: by_label
            .into_iter()
            .map(|(k, (e, t))| (k, Rate::new(e, t)))
            .collect(),
        apcer_max,
        bpcer: Rate::new(bf_err, bf_total),
    }
}

/// Counts of risk states per label; every label and state is present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confusion(pub BTreeMap<Label, BTreeMap<RiskState, u64>>);

impl Default for Confusion {
    fn default() -> Self {
        Self(
            Label::ALL
                .into_iter()
                .map(|l| (l, RiskState::ALL.into_iter().map(|s| (s, 0)).collect()))
                .collect(),
        )
    }
}

impl Confusion {
    pub fn add(&mut self, label: Label, state: RiskState, n: u64) {
        *self.0.entry(label).or_default().entry(state).or_default() += n;
    }

    pub fn get(&self, label: Label, state: RiskState) -> u64 {
        self.0
            .get(&label)
            .and_then(|r| r.get(&state))
            .copied()
            .unwrap_or(0)
    }

    pub fn row_total(&self, label: Label) -> u64 {
        self.0.get(&label).map_or(0, |r| r.values().sum())
    }
}

/// The ROC curve of one score, any attack vs real.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RocCurve {
    pub score: String,
    pub orientation: Orientation,
    /// `>=` or `<=`: a file is flagged when its value compares so with the threshold.
    pub attack_if: String,
    pub auc: Option<f64>,
    /// Thresholds in the score's own units.
    pub points: Vec<RocPoint>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(scores: &[f64], labels: &[u8]) -> (Vec<f64>, Vec<f64>) {
        let pos = scores
            .iter()
            .zip(labels)
            .filter(|x| *x.1 == 1)
            .map(|x| *x.0)
            .collect();
        let neg = scores
            .iter()
            .zip(labels)
            .filter(|x| *x.1 == 0)
            .map(|x| *x.0)
            .collect();
        (pos, neg)
    }

    /// Brute force over all pairs, for cross-checking.
    fn auc_pairs(pos: &[f64], neg: &[f64]) -> f64 {
        let mut s = 0.0;
        for p in pos {
            for n in neg {
                s += if p > n {
                    1.0
                } else if p == n {
                    0.5
                } else {
                    0.0
                };
            }
        }
        s / (pos.len() * neg.len()) as f64
    }

    #[test]
    fn auc_hand_case() {
        let (p, n) = split(&[0.1, 0.4, 0.35, 0.8], &[0, 0, 1, 1]);
        assert_eq!(auc(&p, &n), Some(0.75));
    }

    #[test]
    fn auc_extremes_and_empty() {
        assert_eq!(auc(&[0.9, 0.8], &[0.1, 0.2, 0.3]), Some(1.0));
        assert_eq!(auc(&[0.1], &[0.9, 0.8]), Some(0.0));
        assert_eq!(auc(&[], &[0.1]), None);
        assert_eq!(auc(&[0.1], &[]), None);
    }

    #[test]
    fn auc_ties_count_half() {
        // Pairs: (0.5 vs 0.5) 1/2, (0.5 vs 0.2) 1, (0.7 vs 0.5) 1, (0.7 vs 0.2) 1 -> 3.5/4.
        assert_eq!(auc(&[0.5, 0.7], &[0.5, 0.2]), Some(0.875));
        // All equal: every pair is a tie.
        assert_eq!(auc(&[0.3, 0.3, 0.3], &[0.3, 0.3]), Some(0.5));
        // Integer-valued ordinal scores with many ties (like worst_state).
        let pos = [3.0, 3.0, 0.0, 2.0];
        let neg = [0.0, 0.0, 2.0, 1.0, 0.0];
        assert_eq!(auc(&pos, &neg), Some(auc_pairs(&pos, &neg)));
    }

    #[test]
    fn auc_matches_pairwise_on_random_data() {
        let mut rng = SplitMix64::new(7);
        for _ in 0..50 {
            let n1 = 1 + rng.below(9);
            let n0 = 1 + rng.below(9);
            // Coarse values so that ties happen.
            let mut draw = |n| {
                (0..n)
                    .map(|_| rng.below(5) as f64 / 4.0)
                    .collect::<Vec<_>>()
            };
            let pos = draw(n1);
            let neg = draw(n0);
            let a = auc(&pos, &neg).unwrap();
            assert!((a - auc_pairs(&pos, &neg)).abs() < 1e-12);
        }
    }

    #[test]
    fn roc_curve_points() {
        let pts = roc_curve(&[0.35, 0.8], &[0.1, 0.4]);
        let xy: Vec<(f64, f64)> = pts.iter().map(|p| (p.fpr, p.tpr)).collect();
        assert_eq!(
            xy,
            vec![(0.0, 0.0), (0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (1.0, 1.0)]
        );
        assert_eq!(pts[0].threshold, None);
        assert_eq!(pts[1].threshold, Some(0.8));
        // Trapezoid area under the curve equals the AUC.
        let area: f64 = pts
            .windows(2)
            .map(|w| (w[1].fpr - w[0].fpr) * (w[1].tpr + w[0].tpr) / 2.0)
            .sum();
        assert!((area - 0.75).abs() < 1e-12);
        // Ties become one diagonal step.
        let pts = roc_curve(&[0.5], &[0.5]);
        assert_eq!(pts.len(), 2);
        assert_eq!((pts[1].fpr, pts[1].tpr), (1.0, 1.0));
        assert!(roc_curve(&[], &[1.0]).is_empty());
    }

    #[test]
    fn bootstrap_ci_contains_estimate_and_is_deterministic() {
        let pos = [0.35, 0.8, 0.6, 0.9, 0.2, 0.7, 0.55];
        let neg = [0.1, 0.4, 0.3, 0.5, 0.65, 0.2];
        let point = auc(&pos, &neg).unwrap();
        let ci = bootstrap_auc_ci(&pos, &neg, 1000, 42, 0.95).unwrap();
        assert!(ci.low <= point && point <= ci.high, "{ci:?} vs {point}");
        assert!(ci.low < ci.high);
        assert!(ci.low >= 0.0 && ci.high <= 1.0);
        assert_eq!(ci.resamples, 1000);
        assert_eq!(bootstrap_auc_ci(&pos, &neg, 1000, 42, 0.95), Some(ci));
        assert_ne!(bootstrap_auc_ci(&pos, &neg, 1000, 43, 0.95), Some(ci));
        // Perfect separation stays perfect in every resample.
        let ci = bootstrap_auc_ci(&[0.9, 0.8], &[0.1], 200, 1, 0.95).unwrap();
        assert_eq!((ci.low, ci.high), (1.0, 1.0));
        assert_eq!(bootstrap_auc_ci(&[], &[0.1], 200, 1, 0.95), None);
        assert_eq!(bootstrap_auc_ci(&[0.2], &[0.1], 0, 1, 0.95), None);
    }

    #[test]
    fn splitmix_is_seeded_and_in_range() {
        let mut a = SplitMix64::new(1);
        let mut b = SplitMix64::new(1);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        // Reference value of SplitMix64 seeded with 0.
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
        let mut counts = [0usize; 3];
        for _ in 0..3000 {
            counts[a.below(3)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (900..1100).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn quantile_interpolates() {
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.5), 3.0);
        assert_eq!(quantile(&[0.0, 1.0], 0.25), 0.25);
        assert_eq!(quantile(&[7.0], 0.9), 7.0);
    }

    #[test]
    fn apcer_bpcer_on_hand_table() {
        // attack = classified as attack
        let items = [
            (Label::Spoof, Some("print"), true),
            (Label::Spoof, Some("print"), false), // missed print
            (Label::Spoof, Some("screen"), true),
            (Label::Fake, Some("face_swap"), false), // missed swap
            (Label::Fake, Some("face_swap"), false), // missed swap
            (Label::Fake, None, true),
            (Label::Real, Some("grid"), false),
            (Label::Real, Some("grid"), true), // false alarm
            (Label::Real, None, false),
            (Label::Real, None, false),
        ];
        let e = pad_errors(items);
        assert_eq!(e.apcer_by_kind["spoof/print"], Rate::new(1, 2));
        assert_eq!(e.apcer_by_kind["spoof/screen"].rate, Some(0.0));
        assert_eq!(e.apcer_by_kind["fake/face_swap"].rate, Some(1.0));
        assert_eq!(e.apcer_by_kind["fake/unknown"].rate, Some(0.0));
        assert_eq!(e.apcer_by_label[&Label::Spoof], Rate::new(1, 3));
        assert_eq!(e.apcer_by_label[&Label::Fake], Rate::new(2, 3));
        let worst = e.apcer_max.unwrap();
        assert_eq!(worst.kind, "fake/face_swap");
        assert_eq!(worst.rate.rate, Some(1.0));
        assert_eq!(e.bpcer, Rate::new(1, 4));
        assert_eq!(e.bpcer.rate, Some(0.25));

        let none = pad_errors([(Label::Real, None, false)]);
        assert!(none.apcer_max.is_none());
        assert!(none.apcer_by_kind.is_empty());
        assert_eq!(pad_errors([]).bpcer.rate, None);
    }

    #[test]
    fn confusion_counts() {
        let mut c = Confusion::default();
        c.add(Label::Real, RiskState::Clear, 3);
        c.add(Label::Real, RiskState::Alert, 1);
        c.add(Label::Spoof, RiskState::Alert, 2);
        assert_eq!(c.get(Label::Real, RiskState::Clear), 3);
        assert_eq!(c.get(Label::Fake, RiskState::Alert), 0);
        assert_eq!(c.row_total(Label::Real), 4);
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["spoof"]["alert"], 2);
        assert_eq!(v["fake"]["inconclusive"], 0);
    }
}
