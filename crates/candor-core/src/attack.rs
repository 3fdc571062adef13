//! The fused attack confidence of a segment (`attack_score`): calibrated terms, each a
//! probability at even odds that the segment shows the attack its signal sees, moved
//! to the operating prior; the segment reports the highest. Calibration makes the
//! number mean what a reader assumes: a real face reads low, and 0.5 means even odds
//! under the stated prior, whatever signal it came from. A term over the live score
//! counts only where the live score stands on its own (see
//! [`crate::rules::live_score_stands`]): in video, recorded footage reads as low on
//! the liveness model as a print, and the liveness alert does not trust it either.

use crate::config::{AttackConfig, AttackTerm};
use crate::segment::Segment;
use crate::signal::names;

impl AttackTerm {
    /// What the term calibrates: the transformed statistic of its signal, when the
    /// segment carries the signal on enough frames.
    pub fn feature(&self, s: &Segment) -> Option<f32> {
        self.feature_of(&self.signal, s)
    }

    /// The same reading of any signal, as the term reads its own.
    pub fn feature_of(&self, signal: &str, s: &Segment) -> Option<f32> {
        let stats = s.signal(signal)?;
        if stats.frames < self.min_frames.max(1) {
            return None;
        }
        Some(self.transform.apply(stats.get(self.statistic)))
    }

    /// The term's calibrated probability at even odds; `None` unless every input is
    /// measured.
    pub fn probability(&self, s: &Segment) -> Option<f32> {
        let mut z = self.a * self.feature(s)? + self.b;
        for input in &self.also {
            z += input.a * self.feature_of(&input.signal, s)?;
        }
        Some(sigmoid(z))
    }
}

impl AttackConfig {
    /// Every signal the terms read, in term order (a signal may repeat).
    pub fn signals(&self) -> impl Iterator<Item = &String> {
        self.terms
            .iter()
            .flat_map(|t| std::iter::once(&t.signal).chain(t.also.iter().map(|i| &i.signal)))
    }

    /// The highest calibrated term probability at the operating prior; `None` when no
    /// term's signal was measured. `live_score_stands`: whether the live score may speak
    /// for an attack in this segment.
    pub fn attack_score(&self, s: &Segment, live_score_stands: bool) -> Option<f32> {
        self.terms
            .iter()
            .filter(|t| live_score_stands || t.signal != names::LIVENESS)
            .filter_map(|t| t.probability(s))
            .map(|q| shift_prior(q, 0.5, self.prior))
            .reduce(f32::max)
    }
}

/// `p`, a probability under the prior `from`, under the prior `to` instead (Bayes:
/// the likelihood ratio stays, the prior odds change).
pub fn shift_prior(p: f32, from: f32, to: f32) -> f32 {
    let p = p.clamp(1e-7, 1.0 - 1e-7);
    let odds = p / (1.0 - p) * (to / (1.0 - to)) / (from / (1.0 - from));
    odds / (1.0 + odds)
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FeatureTransform, Statistic};
    use crate::testing;

    fn term(signal: &str, transform: FeatureTransform, a: f32, b: f32) -> AttackTerm {
        AttackTerm {
            signal: signal.into(),
            statistic: Statistic::Mean,
            transform,
            a,
            b,
            min_frames: 2,
            calibrated_on: "test".into(),
            also: Vec::new(),
        }
    }

    fn segment(signals: &[(&str, f32, u32)]) -> Segment {
        let mut s = testing::segment(4, 4, 0, None);
        for &(name, v, frames) in signals {
            let mut st = testing::stats(name, v, v);
            st.frames = frames;
            s.signals.push(st);
        }
        s
    }

    #[test]
    fn even_odds_move_to_the_prior_exactly() {
        assert!((shift_prior(0.5, 0.5, 0.05) - 0.05).abs() < 1e-6);
        assert!((shift_prior(0.05, 0.05, 0.5) - 0.5).abs() < 1e-6);
        // Odds 9 at even odds become 9 x 1/19 at a 5 % prior.
        assert!((shift_prior(0.9, 0.5, 0.05) - 9.0 / 28.0).abs() < 1e-6);
    }

    #[test]
    fn the_score_is_the_highest_calibrated_term_at_the_prior() {
        let cfg = AttackConfig {
            prior: 0.05,
            terms: vec![
                // Live score 0.2: 1 - p = 0.8, logit 1.386; a=1, b=0 -> 0.8 at even odds.
                term("liveness", FeatureTransform::ComplementLogit, 1.0, 0.0),
                // logit(0.5) = 0, b = ln 9 -> 0.9 at even odds.
                term("x_fake", FeatureTransform::Logit, 2.0, 9f32.ln()),
            ],
            provenance: String::new(),
        };
        let s = segment(&[("liveness", 0.2, 4), ("x_fake", 0.5, 4)]);
        let got = cfg.attack_score(&s, true).unwrap();
        assert!((got - 9.0 / 28.0).abs() < 1e-5, "{got}");
        // Too few frames of the forgery signal: only liveness counts (odds 4 -> 4/19).
        let s = segment(&[("liveness", 0.2, 4), ("x_fake", 0.5, 1)]);
        assert!((cfg.attack_score(&s, true).unwrap() - 4.0 / 23.0).abs() < 1e-5);
        // Unless the live score does not stand on its own here: nothing is measured.
        assert_eq!(cfg.attack_score(&s, false), None);
        assert_eq!(cfg.attack_score(&segment(&[]), true), None);
    }

    #[test]
    fn a_term_reads_its_statistic() {
        let mut s = segment(&[]);
        let mut st = testing::stats("x_fake", 0.5, 0.2);
        st.median = 0.6;
        s.signals.push(st);
        let t = |statistic| AttackTerm {
            statistic,
            ..term("x_fake", FeatureTransform::Identity, 1.0, 0.0)
        };
        assert_eq!(t(Statistic::Mean).feature(&s), Some(0.5));
        assert_eq!(t(Statistic::Median).feature(&s), Some(0.6));
        assert_eq!(t(Statistic::Min).feature(&s), Some(0.2));
        assert_eq!("min".parse::<Statistic>(), Ok(Statistic::Min));
        assert!("max".parse::<Statistic>().is_err());
    }

    #[test]
    fn a_term_over_several_signals_adds_them_and_needs_each() {
        use crate::config::AttackInput;
        // logit(0.5) = 0 for x, logit(0.8) = ln 4 for y: z = 1 x 0 + 0.5 ln 4 + 0 = ln 2.
        let t = AttackTerm {
            also: vec![AttackInput {
                signal: "y_fake".into(),
                a: 0.5,
            }],
            ..term("x_fake", FeatureTransform::Logit, 1.0, 0.0)
        };
        let s = segment(&[("x_fake", 0.5, 4), ("y_fake", 0.8, 4)]);
        assert!((t.probability(&s).unwrap() - 2.0 / 3.0).abs() < 1e-5);
        assert_eq!(t.probability(&segment(&[("x_fake", 0.5, 4)])), None);
        assert_eq!(
            t.probability(&segment(&[("x_fake", 0.5, 4), ("y_fake", 0.8, 1)])),
            None
        );
    }
}
