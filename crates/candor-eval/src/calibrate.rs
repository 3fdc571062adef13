//! Calibration: maps an attack-oriented score (higher = more like an attack) to the
//! probability that the presentation is an attack, fitted on labelled scores.
//!
//! - [`fit_platt`]: a sigmoid of the score (Platt 1999), fitted by maximum likelihood on
//!   Platt's smoothed targets, so a small or separable set gives a finite slope and
//!   never promises 0 or 1. The default for the few dozen clips the development set has.
//! - [`fit_isotonic`]: the best non-decreasing step map (pool-adjacent-violators). No
//!   shape assumed, but it needs many samples and reaches 0 and 1 at the ends.
//!
//! Fitted class-balanced (each class weighs half), a probability describes a 50 %
//! attack rate; [`shift_prior`] moves it to the rate a platform actually sees.
//! [`out_of_fold`] scores each group with a calibrator that never saw it, which is the
//! honest way to judge a calibration on a set this small.

use serde::{Deserialize, Serialize};

use crate::folds::leave_one_group_out;

/// L2 penalty on the Platt slope: keeps the Newton system invertible when every score
/// is equal, too small to move any real fit.
pub const PLATT_L2: f64 = 1e-6;

/// How much each sample of a class counts in a fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassWeights {
    pub positive: f64,
    pub negative: f64,
}

impl ClassWeights {
    pub const EQUAL: Self = Self {
        positive: 1.0,
        negative: 1.0,
    };

    /// Each class weighs half of the total (n / (2 n_class)), as in `fit::fit_logistic`,
    /// so the share of attacks in the set does not set the prior. `None` when a class is
    /// missing.
    pub fn balanced(samples: &[(f64, bool)]) -> Option<Self> {
        let positives = samples.iter().filter(|s| s.1).count();
        let negatives = samples.len() - positives;
        if positives == 0 || negatives == 0 {
            return None;
        }
        let n = samples.len() as f64;
        Some(Self {
            positive: n / (2.0 * positives as f64),
            negative: n / (2.0 * negatives as f64),
        })
    }

    fn of(&self, positive: bool) -> f64 {
        if positive {
            self.positive
        } else {
            self.negative
        }
    }
}

/// Whether a fit weighs every sample alike or balances the classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weighting {
    PerSample,
    Balanced,
}

impl Weighting {
    fn weights(self, samples: &[(f64, bool)]) -> Option<ClassWeights> {
        match self {
            Self::PerSample => Some(ClassWeights::EQUAL),
            Self::Balanced => ClassWeights::balanced(samples),
        }
    }
}

/// `p = sigmoid(a * score + b)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    pub a: f64,
    pub b: f64,
}

impl Platt {
    pub fn apply(&self, x: f64) -> f64 {
        sigmoid(self.a * x + self.b)
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// ln(1 + e^z) without overflow.
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// Fits Platt scaling to (score, attack) pairs: Newton's method with a backtracking
/// line search (Lin, Lin & Weng 2007) on the weighted cross-entropy against Platt's
/// targets, (N+ + 1) / (N+ + 2) for attacks and 1 / (N- + 2) for the rest, with the
/// sample counts (not the weights) in the targets: they say how much evidence there is.
/// Non-finite scores are left out. `None` when a class is missing.
pub fn fit_platt(samples: &[(f64, bool)], weights: ClassWeights) -> Option<Platt> {
    let data: Vec<(f64, bool)> = samples
        .iter()
        .copied()
        .filter(|s| s.0.is_finite())
        .collect();
    let positives = data.iter().filter(|s| s.1).count() as f64;
    let negatives = data.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return None;
    }
    let hi = (positives + 1.0) / (positives + 2.0);
    let lo = 1.0 / (negatives + 2.0);
    // (score, target, weight)
    let data: Vec<(f64, f64, f64)> = data
        .iter()
        .map(|&(x, pos)| (x, if pos { hi } else { lo }, weights.of(pos)))
        .collect();
    let loss = |a: f64, b: f64| {
        let fit: f64 = data
            .iter()
            .map(|&(x, t, w)| {
                let z = a * x + b;
                w * (softplus(z) - t * z)
            })
            .sum();
        fit + 0.5 * PLATT_L2 * a * a
    };
    let (mut a, mut b) = (0.0, ((positives + 1.0) / (negatives + 1.0)).ln());
    let mut current = loss(a, b);
    for _ in 0..100 {
        // Gradient and Hessian in (a, b).
        let (mut ga, mut gb) = (PLATT_L2 * a, 0.0);
        let (mut haa, mut hab, mut hbb) = (PLATT_L2 + 1e-12, 0.0, 1e-12);
        for &(x, t, w) in &data {
            let p = sigmoid(a * x + b);
            let d = w * p * (1.0 - p);
            ga += w * (p - t) * x;
            gb += w * (p - t);
            haa += d * x * x;
            hab += d * x;
            hbb += d;
        }
        if ga.abs().max(gb.abs()) < 1e-12 {
            break;
        }
        let det = haa * hbb - hab * hab;
        let (da, db) = (-(hbb * ga - hab * gb) / det, -(haa * gb - hab * ga) / det);
        let slope = ga * da + gb * db;
        let mut step = 1.0;
        loop {
            let next = loss(a + step * da, b + step * db);
            if next <= current + 1e-4 * step * slope {
                a += step * da;
                b += step * db;
                current = next;
                break;
            }
            step /= 2.0;
            if step < 1e-10 {
                return Some(Platt { a, b });
            }
        }
    }
    Some(Platt { a, b })
}

/// A non-decreasing map through breakpoints (`xs` ascending): linear between them,
/// the end values outside.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Isotonic {
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
}

impl Isotonic {
    pub fn apply(&self, x: f64) -> f64 {
        let (Some(&first), Some(&last)) = (self.xs.first(), self.xs.last()) else {
            return f64::NAN;
        };
        if x.is_nan() {
            return f64::NAN;
        }
        if x <= first {
            return self.ys[0];
        }
        if x >= last {
            return self.ys[self.ys.len() - 1];
        }
        // First breakpoint above x; x lies in [xs[i - 1], xs[i]).
        let i = self.xs.partition_point(|&v| v <= x);
        let (x0, x1, y0, y1) = (self.xs[i - 1], self.xs[i], self.ys[i - 1], self.ys[i]);
        y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    }
}

/// Isotonic regression of attack (1) / not (0) on the score by pool-adjacent-violators:
/// samples with equal scores are pooled first, then any neighbouring blocks whose
/// weighted means fall are pooled until they rise. Each block becomes a flat step from
/// its lowest to its highest score. Non-finite scores are left out. `None` without
/// samples.
pub fn fit_isotonic(samples: &[(f64, bool)], weights: ClassWeights) -> Option<Isotonic> {
    let mut data: Vec<(f64, bool)> = samples
        .iter()
        .copied()
        .filter(|s| s.0.is_finite())
        .collect();
    data.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Blocks as (lowest score, highest score, weighted attacks, weight).
    let mut blocks: Vec<(f64, f64, f64, f64)> = Vec::new();
    for (x, pos) in data {
        let w = weights.of(pos);
        let y = if pos { w } else { 0.0 };
        match blocks.last_mut() {
            Some(last) if last.1 == x => {
                last.2 += y;
                last.3 += w;
            }
            _ => blocks.push((x, x, y, w)),
        }
        // Pool while the previous block's mean is not below the last one's.
        while blocks.len() >= 2 {
            let (cur, prev) = (blocks[blocks.len() - 1], blocks[blocks.len() - 2]);
            if prev.2 * cur.3 < cur.2 * prev.3 {
                break;
            }
            blocks.pop();
            let merged = blocks.last_mut()?;
            merged.1 = cur.1;
            merged.2 += cur.2;
            merged.3 += cur.3;
        }
    }
    if blocks.is_empty() {
        return None;
    }
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for (lo, hi, y, w) in blocks {
        let mean = y / w;
        xs.push(lo);
        ys.push(mean);
        if hi > lo {
            xs.push(hi);
            ys.push(mean);
        }
    }
    Some(Isotonic { xs, ys })
}

/// Which calibrator to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Platt,
    Isotonic,
}

/// A fitted calibrator, as stored in a configuration:
/// `{"method": "platt", "a": .., "b": ..}` or `{"method": "isotonic", "xs": [..], "ys": [..]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Calibrator {
    Platt(Platt),
    Isotonic(Isotonic),
}

impl Calibrator {
    /// The probability of an attack for a score.
    pub fn apply(&self, x: f64) -> f64 {
        match self {
            Self::Platt(p) => p.apply(x),
            Self::Isotonic(i) => i.apply(x),
        }
    }
}

/// Fits `method` to (score, attack) pairs. `None` when a class is missing.
pub fn fit(method: Method, samples: &[(f64, bool)], weighting: Weighting) -> Option<Calibrator> {
    let weights = weighting.weights(samples)?;
    match method {
        Method::Platt => fit_platt(samples, weights).map(Calibrator::Platt),
        Method::Isotonic => {
            let both = samples.iter().any(|s| s.1) && samples.iter().any(|s| !s.1);
            both.then(|| fit_isotonic(samples, weights).map(Calibrator::Isotonic))?
        }
    }
}

/// Moves an attack probability fitted at attack prior `from` to attack prior `to`:
/// the odds are multiplied by `to / (1 - to)` and divided by `from / (1 - from)`
/// (Bayes' rule; the likelihood ratio stays). A class-balanced fit has `from` = 0.5.
pub fn shift_prior(p: f64, from: f64, to: f64) -> f64 {
    let attack = p * to * (1.0 - from);
    let bona_fide = (1.0 - p) * (1.0 - to) * from;
    if attack + bona_fide == 0.0 {
        return p;
    }
    attack / (attack + bona_fide)
}

/// One score with its label and the group that must stay on one side of a split (a
/// file, or both files of a matched pair).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupedScore {
    pub score: f64,
    pub attack: bool,
    pub group: usize,
}

/// Leave-one-group-out calibrated probabilities, one per sample in order: each group's
/// scores mapped by a calibrator fitted on all the other groups. `None` for a group
/// whose rest lacks a class.
pub fn out_of_fold(
    samples: &[GroupedScore],
    method: Method,
    weighting: Weighting,
) -> Vec<Option<f64>> {
    leave_one_group_out(
        samples,
        |s| s.group,
        |train| {
            let pairs: Vec<(f64, bool)> = train.iter().map(|s| (s.score, s.attack)).collect();
            fit(method, &pairs, weighting)
        },
        |calibrator, s| calibrator.apply(s.score),
    )
}

/// Brier score: mean squared difference between the probability and the outcome (1 for
/// an attack), 0 at best; `None` without samples.
pub fn brier(probabilities: &[(f64, bool)]) -> Option<f64> {
    if probabilities.is_empty() {
        return None;
    }
    let sum: f64 = probabilities
        .iter()
        .map(|&(p, attack)| (p - f64::from(u8::from(attack))).powi(2))
        .sum();
    Some(sum / probabilities.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn pav_pools_the_violating_pair_and_interpolates() {
        let s = [(1.0, false), (2.0, true), (3.0, false), (4.0, true)];
        let iso = fit_isotonic(&s, ClassWeights::EQUAL).unwrap();
        // 0 | (1 + 0) / 2 | 1; the pooled block spans scores 2 and 3.
        assert_eq!(iso.xs, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(iso.ys, vec![0.0, 0.5, 0.5, 1.0]);
        assert_eq!(iso.apply(1.5), 0.25);
        assert_eq!(iso.apply(2.5), 0.5);
        assert_eq!(iso.apply(3.5), 0.75);
        // Clamped outside.
        assert_eq!(iso.apply(-10.0), 0.0);
        assert_eq!(iso.apply(10.0), 1.0);
        assert!(iso.apply(f64::NAN).is_nan());
    }

    #[test]
    fn pav_pools_ties_first_and_weighs_classes() {
        // Equal scores become one block before any pooling: x = 1 holds 1 of 2, then x
        // = 2 (0) violates and pools to 1/3.
        let s = [(1.0, true), (1.0, false), (2.0, false), (3.0, true)];
        let iso = fit_isotonic(&s, ClassWeights::EQUAL).unwrap();
        assert_eq!(iso.xs, vec![1.0, 2.0, 3.0]);
        assert!(close(iso.ys[0], 1.0 / 3.0, 1e-15) && iso.ys[0] == iso.ys[1]);
        assert_eq!(iso.ys[2], 1.0);

        // 2 attacks, 3 not: balanced weights 5/4 and 5/6. Scores 2 (attack) and 3, 3
        // (not) pool to (5/4) / (5/4 + 10/6) = 3/7 instead of 1/3.
        let s = [
            (1.0, false),
            (2.0, true),
            (3.0, false),
            (3.0, false),
            (4.0, true),
        ];
        let w = ClassWeights::balanced(&s).unwrap();
        assert_eq!((w.positive, w.negative), (1.25, 5.0 / 6.0));
        let iso = fit_isotonic(&s, w).unwrap();
        assert_eq!(iso.xs, vec![1.0, 2.0, 3.0, 4.0]);
        assert!(close(iso.ys[1], 3.0 / 7.0, 1e-15), "{iso:?}");
        let plain = fit_isotonic(&s, ClassWeights::EQUAL).unwrap();
        assert!(close(plain.ys[1], 1.0 / 3.0, 1e-15), "{plain:?}");
        assert!(fit_isotonic(&[(f64::NAN, true)], ClassWeights::EQUAL).is_none());
    }

    #[test]
    fn platt_on_separable_data_is_finite_and_monotone() {
        // Targets 1/4 (not) and 3/4 (attack); symmetric, so b = 0 and the gradient in a
        // vanishes where (sigmoid(a) - 3/4) + 2 (sigmoid(2a) - 3/4) = 0: a = 0.673996
        // (bisection), give or take the tiny L2.
        let s = [(-2.0, false), (-1.0, false), (1.0, true), (2.0, true)];
        let p = fit_platt(&s, ClassWeights::EQUAL).unwrap();
        assert!(close(p.b, 0.0, 1e-9), "{p:?}");
        assert!(close(p.a, 0.673_996, 1e-5), "{p:?}");
        let curve: Vec<f64> = (-40..=40).map(|i| p.apply(f64::from(i) / 4.0)).collect();
        assert!(curve.windows(2).all(|w| w[0] < w[1]));
        assert!(curve.iter().all(|&v| v > 0.0 && v < 1.0));
        assert!(close(p.apply(0.0), 0.5, 1e-9));
    }

    #[test]
    fn weighted_platt_sits_at_the_optimum() {
        // Unbalanced and overlapping; at the optimum the weighted gradient vanishes.
        let s = [
            (0.1, false),
            (0.2, false),
            (0.3, true),
            (0.4, false),
            (0.5, false),
            (0.6, false),
            (0.7, true),
            (0.9, true),
        ];
        let w = ClassWeights::balanced(&s).unwrap();
        let p = fit_platt(&s, w).unwrap();
        let (hi, lo) = (4.0 / 5.0, 1.0 / 7.0);
        let (mut ga, mut gb) = (PLATT_L2 * p.a, 0.0);
        for &(x, pos) in &s {
            let r = w.of(pos) * (p.apply(x) - if pos { hi } else { lo });
            ga += r * x;
            gb += r;
        }
        assert!(close(ga, 0.0, 1e-9) && close(gb, 0.0, 1e-9), "{ga} {gb}");
        // Balancing raises the minority class: every score reads more attack-like.
        let plain = fit_platt(&s, ClassWeights::EQUAL).unwrap();
        assert!(p.apply(0.5) > plain.apply(0.5), "{p:?} {plain:?}");
        assert!(p.a > 0.0);
    }

    #[test]
    fn platt_needs_both_classes_and_survives_equal_scores() {
        assert!(fit_platt(&[(1.0, true), (2.0, true)], ClassWeights::EQUAL).is_none());
        assert!(fit_platt(&[], ClassWeights::EQUAL).is_none());
        // Every score equal: no slope, and the base rate of the smoothed targets,
        // (2/3 + 1/3) / 2.
        let p = fit_platt(&[(3.0, true), (3.0, false)], ClassWeights::EQUAL).unwrap();
        assert!(close(p.apply(3.0), 0.5, 1e-9), "{p:?}");
        assert!(p.a.abs() < 1e-6);
    }

    #[test]
    fn prior_shift_moves_the_odds() {
        assert_eq!(shift_prior(0.5, 0.5, 0.05), 0.05);
        // Odds 4 at a balanced prior, times 0.2 / 0.8: odds 1.
        assert!(close(shift_prior(0.8, 0.5, 0.2), 0.5, 1e-15));
        assert_eq!(shift_prior(0.3, 0.5, 0.5), 0.3);
        let there = shift_prior(0.9, 0.5, 0.01);
        assert!(close(shift_prior(there, 0.01, 0.5), 0.9, 1e-12));
        assert_eq!(shift_prior(0.0, 0.5, 0.05), 0.0);
        assert_eq!(shift_prior(1.0, 0.5, 0.05), 1.0);
    }

    #[test]
    fn calibrators_read_from_json() {
        let c: Calibrator = serde_json::from_str(r#"{"method":"platt","a":2.0,"b":-1.0}"#).unwrap();
        assert_eq!(c.apply(0.5), 0.5);
        let c: Calibrator =
            serde_json::from_str(r#"{"method":"isotonic","xs":[0.0,1.0],"ys":[0.1,0.3]}"#).unwrap();
        assert!(close(c.apply(0.5), 0.2, 1e-15));
        let back: Calibrator = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn out_of_fold_never_sees_its_own_group() {
        let g = |score, attack, group| GroupedScore {
            score,
            attack,
            group,
        };
        // Group 3 is a matched pair: an attack that scores low and its real source.
        let samples = [
            g(0.1, false, 0),
            g(0.2, false, 1),
            g(0.8, true, 2),
            g(0.15, true, 3),
            g(0.3, false, 3),
            g(0.9, true, 4),
        ];
        let out = out_of_fold(&samples, Method::Isotonic, Weighting::PerSample);
        // Without group 3 the data are separable at 0.2 | 0.8: the low attack maps to
        // 0 and its source to the interpolation 1/6. In-sample it would read 1/3.
        assert_eq!(out[3], Some(0.0));
        assert!(close(out[4].unwrap(), 1.0 / 6.0, 1e-15), "{out:?}");
        // Every score equals a fit on the other groups.
        for (i, s) in samples.iter().enumerate() {
            let rest: Vec<(f64, bool)> = samples
                .iter()
                .filter(|o| o.group != s.group)
                .map(|o| (o.score, o.attack))
                .collect();
            let fold = fit(Method::Isotonic, &rest, Weighting::PerSample).unwrap();
            assert_eq!(out[i], Some(fold.apply(s.score)));
        }
        // Holding out the only attack group leaves nothing to fit.
        let lone = [g(0.1, false, 0), g(0.2, false, 1), g(0.9, true, 2)];
        let out = out_of_fold(&lone, Method::Platt, Weighting::Balanced);
        assert_eq!(out[2], None);
        assert!(out[0].is_some() && out[1].is_some());
    }

    #[test]
    fn brier_score() {
        let b = brier(&[(0.8, true), (0.4, false)]).unwrap();
        assert!(close(b, (0.04 + 0.16) / 2.0, 1e-15));
        assert_eq!(brier(&[]), None);
    }
}
