//! What the fits share: an L2-regularised logistic regression on segment features
//! (real = 0, fake = 1, each class weighted to the same total so the clip counts do
//! not set the prior), and thresholds from real segments' scores for a target
//! false-alert rate.

use candor_core::Segment;
use serde::Serialize;

use crate::manifest::Label;

/// One labelled file of a fit: its label, its cross-validation group (files of one
/// group stay on one side of a split) and its judged segments in order.
#[derive(Debug, Clone, Copy)]
pub struct FitFile<'a> {
    pub label: Label,
    pub group: usize,
    pub segments: &'a [Segment],
}

/// One segment: its features (already transformed) and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct FitSample {
    pub features: Vec<f64>,
    pub fake: bool,
    /// Index of the file its segment came from.
    pub file: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Logistic {
    pub weights: Vec<f64>,
    pub bias: f64,
}

impl Logistic {
    pub fn score(&self, x: &[f64]) -> f64 {
        let z = self.bias + self.weights.iter().zip(x).map(|(w, v)| w * v).sum::<f64>();
        1.0 / (1.0 + (-z).exp())
    }
}

/// Newton's method (IRLS) on the class-balanced, L2-penalised log-loss. `l2` applies
/// to the weights, not the bias. `None` when a class is missing or the features have
/// different lengths.
pub fn fit_logistic(samples: &[FitSample], l2: f64) -> Option<Logistic> {
    let d = samples.first()?.features.len();
    if samples.iter().any(|s| s.features.len() != d) {
        return None;
    }
    let fakes = samples.iter().filter(|s| s.fake).count();
    let reals = samples.len() - fakes;
    if fakes == 0 || reals == 0 {
        return None;
    }
    // Each class weighs half of the total.
    let n = samples.len() as f64;
    let w_fake = n / (2.0 * fakes as f64);
    let w_real = n / (2.0 * reals as f64);
    // Parameters: [bias, w_1..w_d].
    let p = d + 1;
    let mut theta = vec![0.0; p];
    for _ in 0..100 {
        let mut grad = vec![0.0; p];
        let mut hess = vec![vec![0.0; p]; p];
        for s in samples {
            let x: Vec<f64> = std::iter::once(1.0)
                .chain(s.features.iter().copied())
                .collect();
            let z: f64 = theta.iter().zip(&x).map(|(t, v)| t * v).sum();
            let mu = 1.0 / (1.0 + (-z).exp());
            let (y, cw) = if s.fake { (1.0, w_fake) } else { (0.0, w_real) };
            for i in 0..p {
                grad[i] += cw * (mu - y) * x[i];
                for j in 0..p {
                    hess[i][j] += cw * mu * (1.0 - mu) * x[i] * x[j];
                }
            }
        }
        for i in 1..p {
            grad[i] += l2 * theta[i];
            hess[i][i] += l2;
        }
        let step = solve(hess, grad)?;
        let mut change = 0.0f64;
        for (t, s) in theta.iter_mut().zip(&step) {
            *t -= s;
            change = change.max(s.abs());
        }
        if change < 1e-10 {
            break;
        }
    }
    Some(Logistic {
        bias: theta[0],
        weights: theta[1..].to_vec(),
    })
}

/// Gaussian elimination with partial pivoting; `None` for a singular system.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..n {
            let f = a[row][col] / a[col][col];
            let (upper, lower) = a.split_at_mut(row);
            for (x, p) in lower[0][col..].iter_mut().zip(&upper[col][col..]) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// The lowest threshold at which at most `rate` of `real_scores` reach it (score >=
/// threshold). Scores lie in 0..1; the result is at most 1.
pub fn threshold_for_false_alert(real_scores: &[f64], rate: f64) -> f64 {
    let mut desc: Vec<f64> = real_scores
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    desc.sort_by(|a, b| b.total_cmp(a));
    let allowed = (rate.clamp(0.0, 1.0) * desc.len() as f64).floor() as usize;
    match desc.get(allowed) {
        // Just above the first real score that must stay below the threshold.
        Some(v) => (v + 1e-6).min(1.0),
        None => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(x: f64, fake: bool, file: usize) -> FitSample {
        FitSample {
            features: vec![x],
            fake,
            file,
        }
    }

    #[test]
    fn symmetric_data_gives_zero_bias_and_a_positive_weight() {
        // Mirror images around 0: the balanced optimum has bias 0.
        let s = vec![
            sample(-2.0, false, 0),
            sample(-1.0, false, 0),
            sample(0.5, false, 1),
            sample(-0.5, true, 2),
            sample(1.0, true, 3),
            sample(2.0, true, 3),
        ];
        let m = fit_logistic(&s, 0.0).unwrap();
        assert!(m.bias.abs() < 1e-9, "{m:?}");
        assert!(m.weights[0] > 0.0);
        // At the optimum the gradient vanishes: sum (mu - y) x = 0 (equal class weights).
        let g: f64 = s
            .iter()
            .map(|v| (m.score(&v.features) - f64::from(u8::from(v.fake))) * v.features[0])
            .sum();
        assert!(g.abs() < 1e-8, "{g}");
    }

    #[test]
    fn one_point_per_class_with_l2_has_the_closed_form() {
        // x = +1 fake, x = -1 real, l2 = 1, bias 0 by symmetry: the optimum solves
        // 2 (1 - sigmoid(w)) = w  ->  w = 0.674832 (solved by bisection).
        let s = vec![sample(1.0, true, 0), sample(-1.0, false, 1)];
        let m = fit_logistic(&s, 1.0).unwrap();
        assert!((m.weights[0] - 0.674_832).abs() < 1e-5, "{m:?}");
        assert!(m.bias.abs() < 1e-9);
    }

    #[test]
    fn a_missing_class_cannot_be_fitted() {
        assert!(fit_logistic(&[sample(1.0, true, 0)], 1.0).is_none());
        assert!(fit_logistic(&[], 1.0).is_none());
    }

    #[test]
    fn threshold_keeps_the_false_alert_rate() {
        let real: Vec<f64> = (0..100).map(|i| f64::from(i) / 100.0).collect();
        // 1 % of 100 = 1 score may reach it: the threshold sits just above 0.98.
        let t = threshold_for_false_alert(&real, 0.01);
        assert!((t - 0.980_001).abs() < 1e-9, "{t}");
        assert_eq!(real.iter().filter(|&&v| v >= t).count(), 1);
        // Rate 0: above the highest real score.
        let t = threshold_for_false_alert(&real, 0.0);
        assert!(t > 0.99 && real.iter().all(|&v| v < t));
        assert_eq!(threshold_for_false_alert(&[], 0.01), 0.0);
    }
}
