//! One face, many personas: a session identity searched against every other enrolled
//! candidate of the tenant (1:N) and against its blocklist, and what a match does to
//! the session's segments. Pure arithmetic on unit vectors; the server owns the
//! galleries, the store keeps them.

use serde::{Deserialize, Serialize};

use crate::codes;
use crate::risk::{Assessment, Reason, RiskState};

/// Which list a match was found on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// Another enrolled candidate of the tenant.
    Duplicate,
    /// An entry of the tenant's blocklist.
    Blocklisted,
}

/// One identity a session's face matched: a reference and a similarity, never a
/// picture or an embedding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityMatch {
    pub kind: MatchKind,
    /// The other candidate's reference, or the blocklist entry's id.
    pub reference: String,
    /// The blocklist entry's label (empty for a duplicate).
    pub label: String,
    /// Cosine similarity of the two identities.
    pub similarity: f32,
}

impl IdentityMatch {
    /// The reason a segment carries for this match, at `alert`.
    pub fn reason(&self) -> Reason {
        let (code, message) = match self.kind {
            MatchKind::Duplicate => (
                codes::DUPLICATE_IDENTITY,
                format!(
                    "the face on camera matches another enrolled candidate, \"{}\" \
                     (similarity {:.2}): one person applying under several names?",
                    self.reference, self.similarity
                ),
            ),
            MatchKind::Blocklisted => (
                codes::BLOCKLISTED_IDENTITY,
                format!(
                    "the face on camera matches blocklist entry \"{}\" ({}, similarity {:.2})",
                    self.label, self.reference, self.similarity
                ),
            ),
        };
        Reason::new(code, RiskState::Alert, None, message)
    }
}

/// Adds a reason at `alert` for every match, ahead of the others (most severe first),
/// and raises the state to `alert`. Applied to every segment judged after the search
/// found them: the person on camera is still the one who matched.
pub fn apply(matches: &[IdentityMatch], a: &mut Assessment) {
    if matches.is_empty() {
        return;
    }
    let reasons = matches.iter().map(IdentityMatch::reason);
    a.reasons.splice(0..0, reasons);
    a.state = a.state.max(RiskState::Alert);
}

/// A session identity's search: the session asks once, when its identity is
/// established. Implemented by the server over its in-memory galleries.
pub trait IdentitySearch: Send {
    fn search(&mut self, identity: &[f32]) -> Vec<IdentityMatch>;
}

/// Unit embeddings of one dimension in one contiguous matrix, each with a key: a
/// brute-force search is one pass of dot products over memory read in order, which
/// for 100,000 128-d rows takes milliseconds on one core.
#[derive(Debug, Clone)]
pub struct Gallery<K> {
    dims: usize,
    keys: Vec<K>,
    rows: Vec<f32>,
}

impl<K: PartialEq> Gallery<K> {
    pub fn new(dims: usize) -> Self {
        Self {
            dims,
            keys: Vec::new(),
            rows: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn keys(&self) -> &[K] {
        &self.keys
    }

    /// Appends a row without looking for an equal key: for loading rows whose keys are
    /// known to be distinct (a store's primary key), where `upsert`'s scan would make
    /// loading quadratic. An embedding of another dimension is refused (false).
    pub fn push(&mut self, key: K, embedding: &[f32]) -> bool {
        if embedding.len() != self.dims {
            return false;
        }
        self.keys.push(key);
        self.rows.extend_from_slice(embedding);
        true
    }

    /// Adds `embedding` under `key`, replacing the row of an equal key. An embedding of
    /// another dimension is refused (false): it cannot be compared.
    pub fn upsert(&mut self, key: K, embedding: &[f32]) -> bool {
        if embedding.len() != self.dims {
            return false;
        }
        match self.keys.iter().position(|k| *k == key) {
            Some(i) => self.rows[i * self.dims..(i + 1) * self.dims].copy_from_slice(embedding),
            None => {
                self.keys.push(key);
                self.rows.extend_from_slice(embedding);
            }
        }
        true
    }

    /// Removes every row whose key `drop` selects (swapping the last row in: order is
    /// not kept). Returns how many went.
    pub fn remove_where(&mut self, mut drop: impl FnMut(&K) -> bool) -> usize {
        let mut removed = 0;
        let mut i = 0;
        while i < self.keys.len() {
            if drop(&self.keys[i]) {
                let last = self.keys.len() - 1;
                self.keys.swap_remove(i);
                if i != last {
                    let (head, tail) = self.rows.split_at_mut(last * self.dims);
                    head[i * self.dims..(i + 1) * self.dims].copy_from_slice(&tail[..self.dims]);
                }
                self.rows.truncate(last * self.dims);
                removed += 1;
            } else {
                i += 1;
            }
        }
        removed
    }

    /// Every row at or above `threshold` cosine to `query` (both unit vectors) that
    /// `eligible` allows, most similar first.
    pub fn search(
        &self,
        query: &[f32],
        threshold: f32,
        mut eligible: impl FnMut(&K) -> bool,
    ) -> Vec<(&K, f32)> {
        if query.len() != self.dims || self.dims == 0 {
            return Vec::new();
        }
        let mut hits: Vec<(&K, f32)> = self
            .rows
            .chunks_exact(self.dims)
            .zip(&self.keys)
            .filter_map(|(row, key)| {
                let sim = dot(row, query);
                (sim >= threshold && eligible(key)).then_some((key, sim))
            })
            .collect();
        hits.sort_by(|a, b| b.1.total_cmp(&a.1));
        hits
    }
}

/// Dot product in eight independent lanes, so the compiler keeps them in vector
/// registers instead of one serial chain of additions.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AnalysisConfig, Fusion};

    fn axis(i: usize, dims: usize) -> Vec<f32> {
        let mut v = vec![0.0; dims];
        v[i] = 1.0;
        v
    }

    #[test]
    fn search_finds_rows_above_the_threshold_most_similar_first() {
        let mut g = Gallery::new(4);
        g.upsert("a".to_owned(), &axis(0, 4));
        g.upsert("b".to_owned(), &[0.6, 0.8, 0.0, 0.0]);
        g.upsert("c".to_owned(), &axis(2, 4));
        let hits = g.search(&axis(0, 4), 0.5, |_| true);
        assert_eq!(hits.len(), 2);
        assert_eq!((hits[0].0.as_str(), hits[0].1), ("a", 1.0));
        assert_eq!(hits[1].0, "b");
        assert!((hits[1].1 - 0.6).abs() < 1e-6);
        // The session's own candidate is left out by the caller's filter.
        assert_eq!(g.search(&axis(0, 4), 0.5, |k| k != "a").len(), 1);
        // Wrong dimension: nothing, never a panic.
        assert!(g.search(&axis(0, 3), 0.5, |_| true).is_empty());
        assert!(!g.upsert("d".to_owned(), &axis(0, 3)));
    }

    #[test]
    fn upsert_replaces_and_remove_keeps_the_other_rows_intact() {
        let mut g = Gallery::new(3);
        for (i, k) in ["a", "b", "c"].iter().enumerate() {
            g.upsert(k.to_string(), &axis(i, 3));
        }
        g.upsert("a".to_owned(), &axis(2, 3));
        assert_eq!(g.len(), 3);
        assert_eq!(g.remove_where(|k| k == "a"), 1);
        assert_eq!(g.len(), 2);
        // "c" was swapped into "a"'s place and still answers with its own row.
        let hits = g.search(&axis(2, 3), 0.9, |_| true);
        assert_eq!(hits, vec![(&"c".to_owned(), 1.0)]);
        assert_eq!(g.search(&axis(1, 3), 0.9, |_| true)[0].0, "b");
        assert_eq!(g.remove_where(|_| true), 2);
        assert!(g.is_empty());
    }

    #[test]
    fn a_match_makes_the_segment_alert_and_names_the_reference() {
        let mut a = Fusion::from_config(&AnalysisConfig::default())
            .assess(&crate::testing::segment(4, 4, 0, Some(0.95)));
        assert_eq!(a.state, RiskState::Clear);
        let matches = [
            IdentityMatch {
                kind: MatchKind::Duplicate,
                reference: "cand-7".into(),
                label: String::new(),
                similarity: 0.83,
            },
            IdentityMatch {
                kind: MatchKind::Blocklisted,
                reference: "entry-1".into(),
                label: "ring #3".into(),
                similarity: 0.71,
            },
        ];
        apply(&matches, &mut a);
        assert_eq!(a.state, RiskState::Alert);
        assert_eq!(a.reasons[0].code, codes::DUPLICATE_IDENTITY);
        assert!(a.reasons[0].message.contains("\"cand-7\""));
        assert!(a.reasons[0].message.contains("0.83"));
        assert_eq!(a.reasons[1].code, codes::BLOCKLISTED_IDENTITY);
        assert!(a.reasons[1].message.contains("ring #3"));
        // No match, no change.
        let mut b = a.clone();
        apply(&[], &mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn dot_matches_the_plain_sum() {
        let a: Vec<f32> = (0..131).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..131).map(|i| (i as f32 * 0.11).cos()).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - plain).abs() < 1e-4);
    }
}
