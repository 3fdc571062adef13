//! Identity across interview rounds: a session with a `candidate_ref` is verified
//! against the candidate's enrolled identity when the tenant has one, and enrols its
//! own identity when it has none; `EnrollCandidate` enrols from a reference photo.
//!
//! Embeddings are biometric data: stored only for tenants with `enrolment_enabled`,
//! scoped to the tenant, deleted with the candidate, and never returned by any call.
//! Store calls run through `spawn_blocking`; photo inference blocks on the model
//! workers, so it does too.

use std::sync::Arc;

use candor_pipeline::{Engine, PhotoIdentity};
use candor_store::{Store, StoreError, TenantSettings};

use crate::error::ServiceError;
use crate::proto;
use crate::registry::SessionMeta;
use crate::state::ServerState;

/// What a live session does about its candidate's identity.
#[derive(Clone, Default, PartialEq)]
pub enum CandidatePlan {
    /// No candidate, no store, no identity model, or enrolment is off for the tenant.
    #[default]
    Nothing,
    /// A later round: compare every identity check with this enrolled embedding.
    Verify(Vec<f32>),
    /// A first round: enrol the session identity if the session ends normally.
    Enrol,
}

/// Biometric data stays out of logs: the embedding is never printed.
impl std::fmt::Debug for CandidatePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Nothing => f.write_str("Nothing"),
            Self::Verify(e) => write!(f, "Verify({}-d embedding)", e.len()),
            Self::Enrol => f.write_str("Enrol"),
        }
    }
}

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
    state: &ServerState,
    engine: &Engine,
    meta: &SessionMeta,
    tenant_settings: Option<&TenantSettings>,
) -> CandidatePlan {
    let (Some(p), Some(candidate), Some(model)) = (
        &state.persistence,
        meta.candidate_ref.clone(),
        model_version(engine),
    ) else {
        return CandidatePlan::Nothing;
    };
    // Turning enrolment off stops verification as well as enrolment.
    if !tenant_settings.is_some_and(|t| t.enrolment_enabled) {
        return CandidatePlan::Nothing;
    }
    let (store, tenant) = (p.store.clone(), meta.tenant.clone());
    let decided =
        tokio::task::spawn_blocking(move || match store.enrolment(&tenant, &candidate, &model) {
            Ok(e) => Ok(CandidatePlan::Verify(e.embedding)),
            Err(StoreError::NotFound(_)) => Ok(CandidatePlan::Enrol),
            Err(e) => Err(e),
        })
        .await;
    match decided {
        Ok(Ok(plan)) => plan,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "candidate enrolment unreadable: session not verified");
            CandidatePlan::Nothing
        }
        Err(_) => CandidatePlan::Nothing,
    }
}

/// Longest reference photo accepted, whatever the message limit.
const MAX_PHOTO_BYTES: usize = 16 << 20;

/// `EnrollCandidate`: the identity of the photo's one face, enrolled for the tenant.
pub async fn enrol_photo(
    state: &ServerState,
    tenant: &str,
    req: proto::EnrollCandidateRequest,
) -> Result<proto::EnrollCandidateResponse, ServiceError> {
    check_candidate_ref(&req.candidate_ref)?;
    check_photo(&req.photo)?;
    let store = store_of(state)?;
    let engine = state
        .engine()
        .ok_or_else(|| ServiceError::Unavailable("models are still loading".into()))?;
    let (Some(model), Some(source)) = (model_version(&engine), engine.identity_source().cloned())
    else {
        return Err(ServiceError::NotEnabled(
            "this server runs without an identity model".into(),
        ));
    };
    let settings = blocking({
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
    let (decode, cfg) = (state.decode.clone(), state.analysis.identity.clone());
    let found = blocking(move || {
        candor_pipeline::photo_identity(&engine, req.photo, &decode, &cfg)
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
        PhotoIdentity::NoIdentityModel => {
            return Err(ServiceError::NotEnabled(
                "this server runs without an identity model".into(),
            ));
        }
    };
    let candidate = req.candidate_ref.clone();
    let tenant = tenant.to_owned();
    blocking(move || {
        store
            .enrol(&tenant, &candidate, &embedding, &model, None)
            .map_err(ServiceError::from)
    })
    .await?;
    Ok(proto::EnrollCandidateResponse {
        candidate_ref: req.candidate_ref,
        model: Some(crate::convert::model(&source)),
    })
}

/// `DeleteCandidate`: every session and enrolment of the candidate, at once.
pub async fn delete(
    state: &ServerState,
    tenant: &str,
    req: proto::DeleteCandidateRequest,
) -> Result<proto::DeleteCandidateResponse, ServiceError> {
    check_candidate_ref(&req.candidate_ref)?;
    let store = store_of(state)?;
    let tenant = tenant.to_owned();
    let report = blocking(move || {
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

fn store_of(state: &ServerState) -> Result<Arc<dyn Store>, ServiceError> {
    state
        .persistence
        .as_ref()
        .map(|p| p.store.clone())
        .ok_or_else(|| {
            ServiceError::NotEnabled(
                "this server keeps no data (no data directory): nothing to enrol or delete".into(),
            )
        })
}

fn check_candidate_ref(candidate: &str) -> Result<(), ServiceError> {
    candor_store::validate::text("candidate_ref", candidate)
        .map_err(|e| ServiceError::InvalidArgument(e.to_string()))
}

/// A JPEG or PNG, by its magic bytes.
fn check_photo(photo: &[u8]) -> Result<(), ServiceError> {
    let is_jpeg = photo.starts_with(&[0xFF, 0xD8, 0xFF]);
    let is_png = photo.starts_with(b"\x89PNG\r\n\x1a\n");
    if !is_jpeg && !is_png {
        return Err(ServiceError::InvalidArgument(
            "photo must be a JPEG or PNG image".into(),
        ));
    }
    if photo.len() > MAX_PHOTO_BYTES {
        return Err(ServiceError::InvalidArgument(format!(
            "photo of {} bytes exceeds the limit of {MAX_PHOTO_BYTES} bytes",
            photo.len()
        )));
    }
    Ok(())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServiceError::Internal(format!("blocking task: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_jpeg_and_png_photos_are_accepted() {
        assert!(check_photo(&[0xFF, 0xD8, 0xFF, 0xE0]).is_ok());
        assert!(check_photo(b"\x89PNG\r\n\x1a\n....").is_ok());
        let e = check_photo(b"GIF89a").unwrap_err();
        assert_eq!(tonic::Status::from(e).code(), tonic::Code::InvalidArgument);
        assert!(check_candidate_ref("").is_err());
    }

    #[test]
    fn plans_never_print_embeddings() {
        let shown = format!("{:?}", CandidatePlan::Verify(vec![0.123, 0.456]));
        assert_eq!(shown, "Verify(2-d embedding)");
    }
}
