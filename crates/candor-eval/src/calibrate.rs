//! Calibration: maps an attack-oriented score (higher = more like an attack) to the
//! probability that the presentation is an attack, fitted on labelled scores.
//!
//! [`fit_platt`]: a sigmoid of the score (Platt 1999), fitted by maximum likelihood on
//! Platt's smoothed targets, so a small or separable set gives a finite slope and never
//! promises 0 or 1: what the few dozen clips of the development set can support (an
//! isotonic map would need many more). Fitted class-balanced (each class weighs half),
//! a probability describes a 50 % attack rate; `candor_core::attack::shift_prior`
//! moves it to the rate a platform sees, and `attack_fit` judges the calibration
//! leave-one-group-out.

use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
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
}
