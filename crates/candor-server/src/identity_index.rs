//! The in-memory duplicate-search index: per tenant and identity model, every enrolled
//! candidate's and every blocklist entry's embedding in one contiguous matrix, loaded
//! once from the store and kept in step with this server's enrolments and blocklist
//! changes. The store stays the source of truth: before each search the tenant's
//! identity generation is read (one indexed row), and a gallery that some other path
//! changed (a purge by `candor admin`, the retention sweep, another server) is loaded
//! again.
//!
//! Store calls block: call these from the analysis thread or the blocking pool.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use candor_core::identity_search::{Gallery, IdentityMatch, IdentitySearch, MatchKind};
use candor_store::{BlocklistEntry, IdentityGallery, NewAuditEntry, Store, StoreError};

use crate::metrics::METRICS;

/// The audit log kind of a search that returned a match.
pub const AUDIT_IDENTITY_MATCH: &str = "identity_match";

/// One tenant's gallery for one model version.
struct TenantGallery {
    /// The store generation this reflects; `None` once out of step (load again).
    generation: Option<i64>,
    enrolled: Gallery<String>,
    blocked: Gallery<BlocklistEntry>,
}

impl TenantGallery {
    fn load(g: IdentityGallery, dims: usize) -> Self {
        // Keys are the store's primary keys, so distinct: no search for duplicates.
        let mut enrolled = Gallery::new(dims);
        for (candidate, e) in g.enrolled {
            enrolled.push(candidate, &e);
        }
        let mut blocked = Gallery::new(dims);
        for (entry, e) in g.blocked {
            blocked.push(entry, &e);
        }
        Self {
            generation: Some(g.generation),
            enrolled,
            blocked,
        }
    }

    fn search(&self, q: &Query<'_>) -> Vec<IdentityMatch> {
        let duplicates = self
            .enrolled
            .search(q.identity, q.threshold, |c| Some(c.as_str()) != q.exclude)
            .into_iter()
            .map(|(c, similarity)| IdentityMatch {
                kind: MatchKind::Duplicate,
                reference: c.clone(),
                label: String::new(),
                similarity,
            });
        let blocked = self
            .blocked
            .search(q.identity, q.threshold, |_| true)
            .into_iter()
            .map(|(e, similarity)| IdentityMatch {
                kind: MatchKind::Blocklisted,
                reference: e.entry_id.clone(),
                label: e.label.clone(),
                similarity,
            });
        // Blocklist first: it is the tenant's own decision about this person.
        blocked.chain(duplicates).collect()
    }
}

/// What to search for.
pub struct Query<'a> {
    pub identity: &'a [f32],
    /// The session's own candidate, who is not their own duplicate.
    pub exclude: Option<&'a str>,
    pub threshold: f32,
}

type Key = (String, String);

pub struct IdentityIndex {
    store: Arc<dyn Store>,
    galleries: Mutex<HashMap<Key, Arc<RwLock<TenantGallery>>>>,
}

impl IdentityIndex {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            galleries: Mutex::new(HashMap::new()),
        }
    }

    fn gallery(&self, tenant: &str, model: &str) -> Option<Arc<RwLock<TenantGallery>>> {
        let map = self
            .galleries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.get(&(tenant.to_owned(), model.to_owned())).cloned()
    }

    /// Every enrolled candidate (but `exclude`) and blocklist entry of the tenant at or
    /// above the threshold, blocklist first, then most similar first.
    pub fn search(
        &self,
        tenant: &str,
        model: &str,
        q: &Query<'_>,
    ) -> Result<Vec<IdentityMatch>, StoreError> {
        let generation = self.store.identity_generation(tenant)?;
        if let Some(g) = self.gallery(tenant, model) {
            let g = g.read().unwrap_or_else(PoisonError::into_inner);
            if g.generation == Some(generation) {
                return Ok(g.search(q));
            }
        }
        // Loaded outside any lock: other tenants' searches go on meanwhile.
        let fresh = self.store.identity_gallery(tenant, model)?;
        let loaded = TenantGallery::load(fresh, q.identity.len());
        let found = loaded.search(q);
        let mut map = self
            .galleries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.insert(
            (tenant.to_owned(), model.to_owned()),
            Arc::new(RwLock::new(loaded)),
        );
        Ok(found)
    }

    /// How many (enrolled, blocklisted) identities the loaded gallery holds; `None`
    /// before the tenant's first search.
    pub fn loaded(&self, tenant: &str, model: &str) -> Option<(usize, usize)> {
        let g = self.gallery(tenant, model)?;
        let g = g.read().unwrap_or_else(PoisonError::into_inner);
        Some((g.enrolled.len(), g.blocked.len()))
    }

    /// Applies one write this server made to the store (one row, so one generation
    /// step) to the loaded gallery, if any. When the store's generation moved by more
    /// than that step, someone else wrote too: the gallery is loaded again before its
    /// next search.
    fn apply(&self, tenant: &str, model: &str, change: impl FnOnce(&mut TenantGallery)) {
        let Some(g) = self.gallery(tenant, model) else {
            return;
        };
        let mut g = g.write().unwrap_or_else(PoisonError::into_inner);
        change(&mut g);
        let now = self.store.identity_generation(tenant).ok();
        g.generation = match (g.generation, now) {
            (Some(before), Some(now)) if now == before + 1 => Some(now),
            _ => None,
        };
    }

    /// A candidate enrolled (or enrolled again) by this server.
    pub fn enrolled(&self, tenant: &str, model: &str, candidate: &str, embedding: &[f32]) {
        self.apply(tenant, model, |g| {
            g.enrolled.upsert(candidate.to_owned(), embedding);
        });
    }

    /// An entry this server added to the blocklist.
    pub fn blocked(&self, tenant: &str, entry: &BlocklistEntry, embedding: &[f32]) {
        self.apply(tenant, &entry.model_version, |g| {
            g.blocked.upsert(entry.clone(), embedding);
        });
    }

    /// An entry this server removed from the blocklist.
    pub fn unblocked(&self, tenant: &str, entry_id: &str) {
        let models: Vec<String> = {
            let map = self
                .galleries
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            map.keys()
                .filter(|(t, _)| t == tenant)
                .map(|(_, m)| m.clone())
                .collect()
        };
        for model in models {
            self.apply(tenant, &model, |g| {
                g.blocked.remove_where(|e| e.entry_id == entry_id);
            });
        }
    }

    /// A candidate purged: the tenant's galleries are dropped and loaded again before
    /// the next search (a purge removes rows of several kinds at once).
    pub fn purged(&self, tenant: &str) {
        let mut map = self
            .galleries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.retain(|(t, _), _| t != tenant);
    }

    /// Writes one audit line per match, and counts the search by outcome. A failure
    /// is logged, never fatal: the match still reaches the session's results.
    pub fn audit(&self, tenant: &str, session_id: Option<&str>, matches: &[IdentityMatch]) {
        let outcome = if matches.iter().any(|m| m.kind == MatchKind::Blocklisted) {
            "blocklisted"
        } else if matches.is_empty() {
            "no_match"
        } else {
            "duplicate"
        };
        METRICS
            .identity_searches
            .with_label_values(&[outcome])
            .inc();
        for m in matches {
            let entry = NewAuditEntry {
                kind: AUDIT_IDENTITY_MATCH.into(),
                session_id: session_id.map(str::to_owned),
                caller: Some(tenant.to_owned()),
                detail_json: serde_json::json!({
                    "list": m.kind,
                    "reference": m.reference,
                    "similarity": m.similarity,
                })
                .to_string(),
            };
            if let Err(error) = self.store.append_audit(tenant, &entry) {
                tracing::warn!(%tenant, %error, "identity match not written to the audit log");
            }
        }
    }
}

/// One live session's search, asked by its analysis thread once the session identity
/// is established.
pub struct SessionSearch {
    pub index: Arc<IdentityIndex>,
    pub tenant: String,
    /// The id the session is stored under.
    pub session_id: String,
    pub candidate_ref: Option<String>,
    pub model: String,
    pub threshold: f32,
}

impl IdentitySearch for SessionSearch {
    fn search(&mut self, identity: &[f32]) -> Vec<IdentityMatch> {
        let q = Query {
            identity,
            exclude: self.candidate_ref.as_deref(),
            threshold: self.threshold,
        };
        match self.index.search(&self.tenant, &self.model, &q) {
            Ok(found) => {
                self.index
                    .audit(&self.tenant, Some(&self.session_id), &found);
                found
            }
            Err(error) => {
                METRICS
                    .identity_searches
                    .with_label_values(&["failed"])
                    .inc();
                tracing::warn!(%error, "identity search failed: session not searched");
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candor_store::{NewBlocklistEntry, SqliteStore, TenantSettings};

    const MODEL: &str = "sface@1";

    fn axis(i: usize) -> Vec<f32> {
        let mut v = vec![0.0; 8];
        v[i] = 1.0;
        v
    }

    fn searching_store() -> Arc<dyn Store> {
        let store = SqliteStore::open_in_memory().unwrap();
        for t in ["acme", "other"] {
            let mut s = TenantSettings::new(t);
            (s.enrolment_enabled, s.duplicate_search) = (true, true);
            store.upsert_tenant(&s).unwrap();
        }
        Arc::new(store)
    }

    fn refs(index: &IdentityIndex, tenant: &str, exclude: Option<&str>) -> Vec<String> {
        let q = Query {
            identity: &axis(0),
            exclude,
            threshold: 0.62,
        };
        let found = index.search(tenant, MODEL, &q).unwrap();
        found.into_iter().map(|m| m.reference).collect()
    }

    #[test]
    fn searches_follow_writes_made_by_any_path() {
        let store = searching_store();
        let index = IdentityIndex::new(store.clone());
        assert!(refs(&index, "acme", None).is_empty());
        assert_eq!(index.loaded("acme", MODEL), Some((0, 0)));

        // This server's own enrolment: applied in place, no reload needed.
        store
            .enrol("acme", "cand-a", &axis(0), MODEL, None)
            .unwrap();
        index.enrolled("acme", MODEL, "cand-a", &axis(0));
        assert_eq!(refs(&index, "acme", None), vec!["cand-a"]);
        // Not a duplicate of itself; not visible to another tenant.
        assert!(refs(&index, "acme", Some("cand-a")).is_empty());
        assert!(refs(&index, "other", None).is_empty());

        // Written by another process (no call to the index): seen at the next search.
        store
            .enrol("acme", "cand-b", &axis(0), MODEL, None)
            .unwrap();
        store
            .enrol("acme", "cand-c", &axis(1), MODEL, None)
            .unwrap();
        assert_eq!(refs(&index, "acme", None).len(), 2);
        store.purge_candidate("acme", "cand-a").unwrap();
        assert_eq!(refs(&index, "acme", None), vec!["cand-b"]);
        assert_eq!(index.loaded("acme", MODEL), Some((2, 0)));
    }

    #[test]
    fn blocklist_entries_match_first_and_go_when_removed() {
        let store = searching_store();
        let index = IdentityIndex::new(store.clone());
        store
            .enrol("acme", "cand-a", &axis(0), MODEL, None)
            .unwrap();
        assert_eq!(refs(&index, "acme", None), vec!["cand-a"]);
        let entry = NewBlocklistEntry {
            model_version: MODEL.into(),
            embedding: axis(0),
            label: "ring".into(),
            reason: "r".into(),
            candidate_ref: None,
            source_session: None,
        };
        let added = store.add_to_blocklist("acme", &entry).unwrap();
        index.blocked("acme", &added, &axis(0));
        assert_eq!(
            refs(&index, "acme", None),
            vec![added.entry_id.clone(), "cand-a".into()]
        );
        store
            .remove_from_blocklist("acme", &added.entry_id)
            .unwrap();
        index.unblocked("acme", &added.entry_id);
        assert_eq!(refs(&index, "acme", None), vec!["cand-a"]);
    }
}
