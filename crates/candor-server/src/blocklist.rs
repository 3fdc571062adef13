//! The tenant blocklist: identities taken from a stored session or an enrolled
//! candidate, that every later session of the tenant is searched against
//! (`blocklisted_identity`). Entries are listed without embeddings, removed on
//! request, expire with the tenant's retention period and go with a purged candidate.
//! Store calls block, so they run on the blocking pool.

use std::sync::Arc;

use candor_store::{NewBlocklistEntry, Store, StoreError};

use crate::blocking;
use crate::convert;
use crate::error::ServiceError;
use crate::identity_index::IdentityIndex;
use crate::persist::storage_id;
use crate::proto::{self, add_to_blocklist_request::Source};

/// What the handlers need: the store, the search index and the identity model version.
pub struct Blocklist {
    pub store: Arc<dyn Store>,
    pub index: Arc<IdentityIndex>,
    pub model: Option<String>,
}

impl Blocklist {
    /// `AddToBlocklist` (validated).
    pub async fn add(
        self,
        tenant: &str,
        req: proto::AddToBlocklistRequest,
    ) -> Result<proto::BlocklistEntry, ServiceError> {
        let model = self.model.ok_or_else(|| {
            ServiceError::NotEnabled("this server runs without an identity model".into())
        })?;
        let (store, index, tenant) = (self.store, self.index, tenant.to_owned());
        blocking::run("blocklist add", move || {
            require_search(store.as_ref(), &tenant)?;
            let (embedding, candidate_ref, source_session) = match req.source {
                Some(Source::SessionId(id)) => {
                    let sid = storage_id(&id);
                    let session = store.get_session(&tenant, &sid)?;
                    let kept = match store.session_identity(&tenant, &sid, &model) {
                        Err(StoreError::NotFound(_)) => None,
                        other => Some(other?),
                    };
                    // A session that kept no identity of its own may still be a
                    // candidate's enrolling round.
                    let enrolled = || {
                        let c = session.candidate_ref.as_deref()?;
                        store
                            .enrolment(&tenant, c, &model)
                            .ok()
                            .map(|e| e.embedding)
                    };
                    let embedding = kept.or_else(enrolled).ok_or_else(|| {
                        ServiceError::NotFound(format!(
                            "no identity was kept for session {id:?} (no face embedded well \
                             enough, or duplicate search was off when it ran)"
                        ))
                    })?;
                    (embedding, session.candidate_ref, Some(sid))
                }
                Some(Source::CandidateRef(c)) => {
                    let e = store.enrolment(&tenant, &c, &model)?;
                    (e.embedding, Some(c), None)
                }
                None => return Err(ServiceError::InvalidArgument("source is missing".into())),
            };
            let entry = store.add_to_blocklist(
                &tenant,
                &NewBlocklistEntry {
                    model_version: model,
                    embedding: embedding.clone(),
                    label: req.label,
                    reason: req.reason,
                    candidate_ref,
                    source_session,
                },
            )?;
            index.blocked(&tenant, &entry, &embedding);
            Ok(convert::blocklist_entry(&entry))
        })
        .await
    }

    /// `ListBlocklist`.
    pub async fn list(self, tenant: &str) -> Result<proto::ListBlocklistResponse, ServiceError> {
        let (store, tenant) = (self.store, tenant.to_owned());
        blocking::run("blocklist list", move || {
            let entries = store.blocklist(&tenant)?;
            Ok(proto::ListBlocklistResponse {
                entries: entries.iter().map(convert::blocklist_entry).collect(),
            })
        })
        .await
    }

    /// `RemoveFromBlocklist` (validated).
    pub async fn remove(
        self,
        tenant: &str,
        entry_id: String,
    ) -> Result<proto::RemoveFromBlocklistResponse, ServiceError> {
        let (store, index, tenant) = (self.store, self.index, tenant.to_owned());
        blocking::run("blocklist remove", move || {
            store.remove_from_blocklist(&tenant, &entry_id)?;
            index.unblocked(&tenant, &entry_id);
            Ok(proto::RemoveFromBlocklistResponse {})
        })
        .await
    }
}

fn require_search(store: &dyn Store, tenant: &str) -> Result<(), ServiceError> {
    if store.tenant_settings(tenant)?.duplicate_search {
        Ok(())
    } else {
        Err(ServiceError::NotEnabled(
            "duplicate search is not enabled for this tenant \
             (candor admin tenant --duplicate-search true)"
                .into(),
        ))
    }
}
