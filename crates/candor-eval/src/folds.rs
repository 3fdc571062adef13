//! Leave-one-group-out cross-validation: every group is scored by a model fitted on all
//! the other groups, so no score comes from a model that saw its own group. A group is
//! whatever must stay on one side of the split: one file (its segments are not
//! independent), or a matched pair of files (a face swap and its real source).

/// Out-of-fold scores, one per sample in `samples`' order: for each group (given by
/// `group`), `fit` on the samples of every other group, then `score` that group's
/// samples. `None` for the samples of a group whose fold could not be fitted (`fit`
/// returned `None`, e.g. a class missing from the rest).
pub fn leave_one_group_out<S: Clone, M>(
    samples: &[S],
    group: impl Fn(&S) -> usize,
    mut fit: impl FnMut(&[S]) -> Option<M>,
    score: impl Fn(&M, &S) -> f64,
) -> Vec<Option<f64>> {
    let mut out = vec![None; samples.len()];
    for g in groups(samples, &group) {
        let train: Vec<S> = samples.iter().filter(|s| group(s) != g).cloned().collect();
        let Some(model) = fit(&train) else { continue };
        for (slot, s) in out.iter_mut().zip(samples) {
            if group(s) == g {
                *slot = Some(score(&model, s));
            }
        }
    }
    out
}

/// The distinct groups, ascending.
pub fn groups<S>(samples: &[S], group: impl Fn(&S) -> usize) -> Vec<usize> {
    let mut ids: Vec<usize> = samples.iter().map(group).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_is_never_scored_by_a_model_that_saw_it() {
        // The "model" is the set of groups it was fitted on; the score says whether
        // the scored sample's group is in it (1) or not (0).
        let samples = [(0, 'a'), (1, 'b'), (0, 'c'), (2, 'd'), (1, 'e')];
        let mut fits = 0;
        let out = leave_one_group_out(
            &samples,
            |s| s.0,
            |train| {
                fits += 1;
                Some(train.iter().map(|s| s.0).collect::<Vec<_>>())
            },
            |seen, s| f64::from(u8::from(seen.contains(&s.0))),
        );
        assert_eq!(fits, 3);
        assert_eq!(out, vec![Some(0.0); 5]);
    }

    #[test]
    fn groups_that_cannot_be_fitted_stay_unscored() {
        let samples = [(0, 1.0), (1, 2.0), (1, 3.0), (2, 4.0)];
        // Fitting fails whenever group 1 is held out; the model is the training mean.
        let out = leave_one_group_out(
            &samples,
            |s| s.0,
            |train| {
                train
                    .iter()
                    .any(|s| s.0 == 1)
                    .then(|| train.iter().map(|s| s.1).sum::<f64>() / train.len() as f64)
            },
            |mean, _| *mean,
        );
        assert_eq!(out, vec![Some(3.0), None, None, Some(2.0)]);
        assert_eq!(groups(&samples, |s| s.0), vec![0, 1, 2]);
    }
}
