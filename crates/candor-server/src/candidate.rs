//! Identity across interview rounds: a session with a `candidate_ref` is verified
//! against the candidate's enrolled identity when the tenant has one, and enrols its
//! own identity when it has none; `EnrollCandidate` enrols from a reference photo.
//!
//! With the tenant's `duplicate_search`, a session's identity is also searched against
//! every other enrolled candidate and the blocklist once it is established, and a
//! photo enrolment against them at once.
//!
//! Embeddings are biometric data: stored only for tenants with `enrolment_enabled`
//! (or, for session identities and the blocklist, `duplicate_search`), scoped to the
//! tenant, deleted with the candidate, and never returned by any call.
//! Store calls and photo inference block, so they run on the blocking pool.

use std::sync::Arc;

use candor_core::config::IdentityConfig;
use candor_media::DecodeOptions;
use candor_pipeline::{Engine, PhotoIdentity};
use candor_store::{Store, StoreError, TenantSettings};

use crate::blocking;
use crate::convert;
use crate::error::ServiceError;
use crate::identity_index::{IdentityIndex, Query, SessionSearch};
use crate::proto;
use crate::values::{CandidatePlan, SessionMeta};

/// The key enrolments are stored under: embeddings of different identity models (or
/// versions) cannot be compared.
pub fn model_version(engine: &Engine) -> Option<String> {
    engine
        .identity_source()
        .map(|s| format!("{}@{}", s.name, s.version))
}

/// Decides, from the tenant's settings (read once at session start, `None` when there
/// is no store or they could not be read) and enrolments, what the session does. Any
/// store failure leaves the session unverified rather than failing it.
pub async fn plan(
    store: Option<Arc<dyn Store>>,
    engine: &Engine,
    meta: &SessionMeta,
    tenant_settings: Option<&TenantSettings>,
) -> CandidatePlan {
    let (Some(store), Some(candidate), Some(model)) =
        (store, meta.candidate_ref.clone(), model_version(engine))
    else {
        return CandidatePlan::Nothing;
    };
    // Turning enrolment off stops verification as well as enrolment.
    if !tenant_settings.is_some_and(|t| t.enrolment_enabled) {
        return CandidatePlan::Nothing;
    }
    let tenant = meta.tenant.clone();
    let decided = blocking::run("enrolment read", move || {
        match store.enrolment(&tenant, &candidate, &model) {
            Ok(e) => Ok(CandidatePlan::Verify(e.embedding)),
            Err(StoreError::NotFound(_)) => Ok(CandidatePlan::Enrol),
            Err(e) => Err(ServiceError::from(e)),
        }
    })
    .await;
    decided.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "candidate enrolment unreadable: session not verified");
        CandidatePlan::Nothing
    })
}

/// The session's duplicate search, when the tenant has it on (settings read once at
/// session start) and the server keeps data and has an identity model.
pub fn search(
    index: Option<Arc<IdentityIndex>>,
    engine: &Engine,
    meta: &SessionMeta,
    tenant_settings: Option<&TenantSettings>,
    identity: &IdentityConfig,
) -> Option<SessionSearch> {
    if !tenant_settings.is_some_and(|t| t.duplicate_search) {
        return None;
    }
    Some(SessionSearch {
        index: index?,
        tenant: meta.tenant.clone(),
        session_id: crate::persist::storage_id(&meta.session_id),
        candidate_ref: meta.candidate_ref.clone(),
        model: model_version(engine)?,
        threshold: identity.duplicate_search_above,
    })
}

/// `EnrollCandidate` (validated): the identity of the photo's one face, enrolled for
/// the tenant, and (with duplicate search) the other candidates and blocklist entries
/// it matches.
pub async fn enrol_photo(
    store: Arc<dyn Store>,
    index: Arc<IdentityIndex>,
    engine: Arc<Engine>,
    decode: DecodeOptions,
    identity: IdentityConfig,
    tenant: &str,
    req: proto::EnrollCandidateRequest,
) -> Result<proto::EnrollCandidateResponse, ServiceError> {
    let (Some(model), Some(source)) = (model_version(&engine), engine.identity_source().cloned())
    else {
        return Err(no_identity_model());
    };
    let settings = blocking::run("tenant settings", {
        let (store, tenant) = (store.clone(), tenant.to_owned());
        move || store.tenant_settings(&tenant).map_err(ServiceError::from)
    })
    .await?;
    if !settings.enrolment_enabled {
        return Err(ServiceError::NotEnabled(
            "enrolment is not enabled for this tenant (candor admin tenant --enrolment true)"
                .into(),
        ));
    }
    let threshold = identity.duplicate_search_above;
    let found = blocking::run("photo identity", move || {
        candor_pipeline::photo_identity(&engine, req.photo, &decode, &identity)
            .map_err(ServiceError::from)
    })
    .await?;
    let embedding = match found {
        PhotoIdentity::Face(e) => e,
        PhotoIdentity::NoFace => {
            return Err(ServiceError::InvalidArgument(
                "no face found in the photo: enrolment needs a photo of exactly one face".into(),
            ));
        }
        PhotoIdentity::SeveralFaces(n) => {
            return Err(ServiceError::InvalidArgument(format!(
                "{n} faces found in the photo: enrolment needs a photo of exactly one face"
            )));
        }
        PhotoIdentity::FaceTooSmall { width_px, min_px } => {
            return Err(ServiceError::InvalidArgument(format!(
                "the face in the photo is too small ({width_px:.0} px wide at the working \
                 size, need {min_px:.0}): send a closer or larger photo"
            )));
        }
        PhotoIdentity::NoIdentityModel => return Err(no_identity_model()),
    };
    let candidate = req.candidate_ref.clone();
    let tenant = tenant.to_owned();
    let matches = blocking::run("enrolment write", move || {
        store.enrol(&tenant, &candidate, &embedding, &model, None)?;
        index.enrolled(&tenant, &model, &candidate, &embedding);
        if !settings.duplicate_search {
            return Ok(Vec::new());
        }
        let q = Query {
            identity: &embedding,
            exclude: Some(&candidate),
            threshold,
        };
        let found = index.search(&tenant, &model, &q)?;
        index.audit(&tenant, None, &found);
        Ok(found)
    })
    .await?;
    Ok(proto::EnrollCandidateResponse {
        candidate_ref: req.candidate_ref,
        model: Some(convert::model(&source)),
        matches: matches.iter().map(convert::identity_match).collect(),
    })
}

/// `DeleteCandidate` (validated): every session, enrolment and blocklist entry of the
/// candidate, at once, in the store and in the search index.
pub async fn delete(
    store: Arc<dyn Store>,
    index: Option<Arc<IdentityIndex>>,
    tenant: &str,
    req: proto::DeleteCandidateRequest,
) -> Result<proto::DeleteCandidateResponse, ServiceError> {
    let tenant = tenant.to_owned();
    let report = blocking::run("candidate purge", move || {
        let report = store.purge_candidate(&tenant, &req.candidate_ref)?;
        if let Some(index) = index {
            index.purged(&tenant);
        }
        Ok(report)
    })
    .await?;
    Ok(proto::DeleteCandidateResponse {
        sessions: report.sessions as u32,
        enrolments: report.enrolments as u32,
        blocklist_entries: report.blocklist as u32,
    })
}

fn no_identity_model() -> ServiceError {
    ServiceError::NotEnabled("this server runs without an identity model".into())
}
