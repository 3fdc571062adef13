//! Who is on camera within one session: a running session identity built from the
//! first good face embeddings, and each later embedding's cosine similarity to it.
//! Pure arithmetic on unit vectors; the embeddings come from the identity model.

/// Cosine similarity of two unit vectors (0 when their lengths differ).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `v` scaled to unit length; `None` for a zero or non-finite vector.
pub fn normalised(mut v: Vec<f32>) -> Option<Vec<f32>> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if !norm.is_finite() || norm < 1e-6 {
        return None;
    }
    v.iter_mut().for_each(|x| *x /= norm);
    Some(v)
}

/// The session's reference identity.
#[derive(Debug, Clone)]
pub struct SessionIdentity {
    /// Embeddings that build the reference before it is fixed.
    pending: Vec<Vec<f32>>,
    reference: Option<Vec<f32>>,
    /// Embeddings needed before the reference exists.
    enrol_count: usize,
    /// Later embeddings at least this similar refine the reference; others (a new
    /// person) never pollute it.
    same_person: f32,
    updates: u32,
}

impl SessionIdentity {
    pub fn new(enrol_count: usize, same_person: f32) -> Self {
        Self {
            pending: Vec::new(),
            reference: None,
            enrol_count: enrol_count.max(1),
            same_person,
            updates: 0,
        }
    }

    /// True once enough embeddings formed a reference.
    pub fn is_enrolled(&self) -> bool {
        self.reference.is_some()
    }

    /// The session identity: the mean of the consistent embeddings that formed it and
    /// of every later one that matched it, as a unit vector. `None` before enrolment.
    pub fn reference(&self) -> Option<&[f32]> {
        self.reference.as_deref()
    }

    /// Takes one unit embedding of the main face; returns its similarity to the session
    /// identity once that exists. While enrolling, an embedding unlike the first ones
    /// restarts enrolment from itself (the camera's first face may be a passer-by), so
    /// the reference is built from consistent faces only.
    pub fn observe(&mut self, embedding: &[f32]) -> Option<f32> {
        let Some(reference) = &self.reference else {
            if let Some(first) = self.pending.first()
                && cosine(first, embedding) < self.same_person
            {
                self.pending.clear();
            }
            self.pending.push(embedding.to_vec());
            if self.pending.len() >= self.enrol_count {
                self.reference = mean(&self.pending);
                self.updates = self.pending.len() as u32;
                self.pending.clear();
            }
            return None;
        };
        let sim = cosine(reference, embedding);
        if sim >= self.same_person {
            // Running mean of accepted embeddings, renormalised.
            let n = self.updates as f32;
            let merged: Vec<f32> = reference
                .iter()
                .zip(embedding)
                .map(|(r, e)| (r * n + e) / (n + 1.0))
                .collect();
            if let Some(m) = normalised(merged) {
                self.reference = Some(m);
                self.updates += 1;
            }
        }
        Some(sim)
    }
}

fn mean(vs: &[Vec<f32>]) -> Option<Vec<f32>> {
    let d = vs.first()?.len();
    let mut sum = vec![0.0; d];
    for v in vs {
        for (s, x) in sum.iter_mut().zip(v) {
            *s += x;
        }
    }
    normalised(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(angle_deg: f32) -> Vec<f32> {
        let a = angle_deg.to_radians();
        vec![a.cos(), a.sin(), 0.0]
    }

    #[test]
    fn enrols_then_scores_against_the_mean() {
        let mut id = SessionIdentity::new(2, 0.363);
        assert_eq!(id.observe(&unit(0.0)), None);
        assert_eq!(id.observe(&unit(20.0)), None);
        assert!(id.is_enrolled());
        assert!((cosine(id.reference().unwrap(), &unit(10.0)) - 1.0).abs() < 1e-6);
        // Reference = unit(10°): a face at 10° matches exactly, one at 100° is cos 90° = 0.
        assert!((id.observe(&unit(10.0)).unwrap() - 1.0).abs() < 1e-6);
        assert!(id.observe(&unit(100.0)).unwrap().abs() < 1e-6);
        // The stranger did not move the reference.
        assert!((id.observe(&unit(10.0)).unwrap() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn an_inconsistent_start_restarts_enrolment() {
        let mut id = SessionIdentity::new(2, 0.363);
        id.observe(&unit(0.0));
        // Unlike the first (cos 90° = 0): enrolment restarts from this one.
        id.observe(&unit(90.0));
        assert!(!id.is_enrolled());
        id.observe(&unit(90.0));
        assert!(id.is_enrolled());
        assert!((id.observe(&unit(90.0)).unwrap() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn cosine_of_mismatched_lengths_is_zero() {
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
        assert_eq!(normalised(vec![0.0, 0.0]), None);
    }
}
