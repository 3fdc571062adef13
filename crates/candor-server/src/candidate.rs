//! Identity across interview rounds: a session with a `candidate_ref` is verified
//! against the candidate's enrolled identity when the tenant has one, and enrols its
//! own identity when it has none; `EnrollCandidate` enrols from a reference photo.
//!
//! Embeddings are biometric data: stored only for tenants with `enrolment_enabled`,
//! scoped to the tenant, deleted with the candidate, and never returned by any call.
//! Store calls and photo inference block, so they run on the blocking pool.

use std::sync::Arc;

use candor_core::config::IdentityConfig;
use candor_media::DecodeOptions;
use candor_pipeline::{Engine, PhotoIdentity};
use candor_store::{Store, StoreError, TenantSettings};

use crate::blocking;
use crate::convert;
use crate::error::ServiceError;
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

/// `EnrollCandidate` (validated): the identity of the photo's one face, enrolled for
/// the tenant.
pub async fn enrol_photo(
    store: Arc<dyn Store>,
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
    blocking::run("enrolment write", move || {
        store
            .enrol(&tenant, &candidate, &embedding, &model, None)
            .map_err(ServiceError::from)
    })
    .await?;
    Ok(proto::EnrollCandidateResponse {
        candidate_ref: req.candidate_ref,
        model: Some(convert::model(&source)),
    })
}

/// `DeleteCandidate` (validated): every session and enrolment of the candidate, at once.
pub async fn delete(
    store: Arc<dyn Store>,
    tenant: &str,
    req: proto::DeleteCandidateRequest,
) -> Result<proto::DeleteCandidateResponse, ServiceError> {
    let tenant = tenant.to_owned();
    let report = blocking::run("candidate purge", move || {
        store
            .purge_candidate(&tenant, &req.candidate_ref)
            .map_err(ServiceError::from)
    })
    .await?;
    Ok(proto::DeleteCandidateResponse {
        sessions: report.sessions as u32,
        enrolments: report.enrolments as u32,
    })
}

fn no_identity_model() -> ServiceError {
    ServiceError::NotEnabled("this server runs without an identity model".into())
}
