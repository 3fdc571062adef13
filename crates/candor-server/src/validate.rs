//! Every request is checked here first, before a handler acts on it: the rules of the
//! protocol and the store's own limits, so that nothing is accepted live that the store
//! would refuse later.

use candor_core::challenge::ChallengeKind;
use candor_store::validate as store_rules;

use crate::convert;
use crate::error::ServiceError;
use crate::proto::{self, MediaFormat, SessionStart, analyze_request};
use crate::values::SessionMeta;
use crate::view_link::{self, Scope};

/// Media time a challenge checks when the request does not say.
pub const DEFAULT_CHALLENGE_MS: u32 = 5000;

/// Longest reference photo accepted, whatever the message limit.
pub const MAX_PHOTO_BYTES: usize = 16 << 20;

/// The opening message of `Analyze`, as session metadata and the media format.
pub fn session_start(
    tenant: &str,
    start: &SessionStart,
) -> Result<(SessionMeta, MediaFormat), ServiceError> {
    client_session_id(&start.session_id)?;
    if start.participant_id.is_empty() {
        return Err(invalid("participant_id is required"));
    }
    store_rule(store_rules::text("participant_id", &start.participant_id))?;
    for (what, value) in [
        ("interview_ref", &start.interview_ref),
        ("candidate_ref", &start.candidate_ref),
    ] {
        if let Some(v) = value {
            store_rule(store_rules::text(what, v))?;
        }
    }
    let format = MediaFormat::try_from(start.format).unwrap_or(MediaFormat::Unspecified);
    if format == MediaFormat::Unspecified {
        return Err(ServiceError::InvalidArgument(format!(
            "format is missing or unknown ({}): use one of H264_ANNEXB, WEBM, FRAGMENTED_MP4, JPEG, PNG, RAW_I420, RAW_RGB24",
            start.format
        )));
    }
    if let Some(fps) = start.fps_hint
        && !(0.2..=60.0).contains(&fps)
    {
        return Err(ServiceError::InvalidArgument(format!(
            "fps_hint must lie in 0.2-60, got {fps}"
        )));
    }
    Ok((
        SessionMeta {
            tenant: tenant.to_owned(),
            session_id: start.session_id.clone(),
            participant_id: start.participant_id.clone(),
            interview_ref: start.interview_ref.clone(),
            candidate_ref: start.candidate_ref.clone(),
            capture: start.capture.clone().unwrap_or_default(),
        },
        format,
    ))
}

/// A session id as clients name sessions: 1-128 of letters, digits, `-_.:`.
pub fn client_session_id(id: &str) -> Result<(), ServiceError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "session_id must be 1-128 characters of letters, digits, '-', '_', '.', ':'",
        ))
    }
}

/// A media message of a running session: not larger than the limit.
pub fn media_size(req: &proto::AnalyzeRequest, max_bytes: usize) -> Result<(), ServiceError> {
    let size = match &req.message {
        Some(analyze_request::Message::Chunk(c)) => c.data.len(),
        Some(analyze_request::Message::Frame(f)) => f.data.len(),
        _ => 0,
    };
    if size > max_bytes {
        return Err(ServiceError::InvalidArgument(format!(
            "media message of {size} bytes exceeds the limit of {max_bytes} bytes"
        )));
    }
    Ok(())
}

/// The transport's refusal of a message over its size limit (tonic's OUT_OF_RANGE),
/// as the same client error our own size check gives; `None` for any other failure
/// of the request stream (a disconnect).
pub fn transport_refusal(status: &tonic::Status, max_bytes: usize) -> Option<ServiceError> {
    (status.code() == tonic::Code::OutOfRange).then(|| {
        ServiceError::InvalidArgument(format!(
            "a message exceeds the limit of {max_bytes} bytes of media per message ({})",
            status.message()
        ))
    })
}

/// A `Challenge` request: its kind and window (ms).
pub fn challenge(req: &proto::ChallengeRequest) -> Result<(ChallengeKind, u32), ServiceError> {
    client_session_id(&req.session_id)?;
    let kind = convert::challenge_kind_from(req.kind).ok_or_else(|| {
        ServiceError::InvalidArgument(format!(
            "kind is missing or unknown ({}): use TURN_HEAD, LOOK_UP, COVER_FACE or BLINK",
            req.kind
        ))
    })?;
    let window_ms = req.window_ms.unwrap_or(DEFAULT_CHALLENGE_MS);
    if !(1000..=30_000).contains(&window_ms) {
        return Err(ServiceError::InvalidArgument(format!(
            "window_ms must lie in 1000-30000, got {window_ms}"
        )));
    }
    Ok((kind, window_ms))
}

/// A `CreateViewLink` request: its scope and the link's lifetime.
pub fn view_link(
    req: &proto::CreateViewLinkRequest,
) -> Result<(Scope, std::time::Duration), ServiceError> {
    use proto::create_view_link_request::Scope as Asked;
    let scope = match &req.scope {
        Some(Asked::SessionId(id)) => {
            client_session_id(id)?;
            Scope::Session(id.clone())
        }
        Some(Asked::InterviewRef(r)) => {
            if r.is_empty() {
                return Err(invalid("interview_ref must not be empty"));
            }
            store_rule(store_rules::text("interview_ref", r))?;
            Scope::Interview(r.clone())
        }
        None => {
            return Err(invalid(
                "say what the link opens: session_id or interview_ref",
            ));
        }
    };
    let max = view_link::MAX_TTL.as_secs();
    let ttl = req
        .ttl_s
        .map_or(view_link::DEFAULT_TTL.as_secs(), u64::from);
    if !(MIN_LINK_TTL_S..=max).contains(&ttl) {
        return Err(ServiceError::InvalidArgument(format!(
            "ttl_s must lie in {MIN_LINK_TTL_S}-{max} (24 h at most), got {ttl}"
        )));
    }
    Ok((scope, std::time::Duration::from_secs(ttl)))
}

/// Shortest view link lifetime accepted, in seconds.
pub const MIN_LINK_TTL_S: u64 = 60;

pub fn candidate_ref(candidate: &str) -> Result<(), ServiceError> {
    store_rule(store_rules::text("candidate_ref", candidate))
}

/// An `EnrollCandidate` request: a candidate and one JPEG or PNG (by its magic bytes).
pub fn enrolment(req: &proto::EnrollCandidateRequest) -> Result<(), ServiceError> {
    candidate_ref(&req.candidate_ref)?;
    let photo = &req.photo;
    let is_jpeg = photo.starts_with(&[0xFF, 0xD8, 0xFF]);
    let is_png = photo.starts_with(b"\x89PNG\r\n\x1a\n");
    if !is_jpeg && !is_png {
        return Err(invalid("photo must be a JPEG or PNG image"));
    }
    if photo.len() > MAX_PHOTO_BYTES {
        return Err(ServiceError::InvalidArgument(format!(
            "photo of {} bytes exceeds the limit of {MAX_PHOTO_BYTES} bytes",
            photo.len()
        )));
    }
    Ok(())
}

/// An `AddToBlocklist` request: a session or a candidate to take the identity from,
/// a label and a reason.
pub fn blocklist_add(req: &proto::AddToBlocklistRequest) -> Result<(), ServiceError> {
    use proto::add_to_blocklist_request::Source;
    match &req.source {
        Some(Source::SessionId(id)) => client_session_id(id)?,
        Some(Source::CandidateRef(c)) => candidate_ref(c)?,
        None => {
            return Err(invalid(
                "source is missing: give session_id or candidate_ref",
            ));
        }
    }
    store_rule(store_rules::text("label", &req.label))?;
    store_rule(store_rules::text("reason", &req.reason))
}

pub fn blocklist_entry_id(id: &str) -> Result<(), ServiceError> {
    store_rule(store_rules::text("entry_id", id))
}

/// A `SubmitJob` request: some paths, and a job id the store can use.
pub fn job_submit(req: &proto::SubmitJobRequest) -> Result<(), ServiceError> {
    if req.paths.is_empty() {
        return Err(invalid("paths is empty"));
    }
    match &req.job_id {
        Some(id) => job_id(id),
        None => Ok(()),
    }
}

pub fn job_id(id: &str) -> Result<(), ServiceError> {
    store_rule(store_rules::path_id("job_id", id))
}

fn store_rule(r: candor_store::Result<()>) -> Result<(), ServiceError> {
    r.map_err(|e| ServiceError::InvalidArgument(e.to_string()))
}

fn invalid(message: &str) -> ServiceError {
    ServiceError::InvalidArgument(message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(participant: &str) -> SessionStart {
        SessionStart {
            session_id: "call-1".into(),
            participant_id: participant.into(),
            format: MediaFormat::Jpeg as i32,
            ..Default::default()
        }
    }

    fn code(e: ServiceError) -> tonic::Code {
        tonic::Status::from(e).code()
    }

    #[test]
    fn a_start_the_store_would_refuse_is_refused_at_once() {
        assert!(session_start("t", &start("alice")).is_ok());
        let long = "p".repeat(store_rules::MAX_TEXT + 1);
        let e = session_start("t", &start(&long)).unwrap_err();
        assert_eq!(code(e), tonic::Code::InvalidArgument);
        let mut s = start("alice");
        s.candidate_ref = Some(String::new());
        assert!(session_start("t", &s).is_err());
    }

    #[test]
    fn empty_ids_are_invalid_not_missing() {
        assert_eq!(
            code(client_session_id("").unwrap_err()),
            tonic::Code::InvalidArgument
        );
        assert!(client_session_id("zoom:123:alice").is_ok());
        assert!(job_id("").is_err() && job_id("../x").is_err());
    }

    #[test]
    fn only_jpeg_and_png_photos_are_accepted() {
        let req = |photo: &[u8]| proto::EnrollCandidateRequest {
            candidate_ref: "c".into(),
            photo: photo.to_vec(),
        };
        assert!(enrolment(&req(&[0xFF, 0xD8, 0xFF, 0xE0])).is_ok());
        assert!(enrolment(&req(b"\x89PNG\r\n\x1a\n....")).is_ok());
        assert_eq!(
            code(enrolment(&req(b"GIF89a")).unwrap_err()),
            tonic::Code::InvalidArgument
        );
        let mut no_candidate = req(&[0xFF, 0xD8, 0xFF]);
        no_candidate.candidate_ref.clear();
        assert!(enrolment(&no_candidate).is_err());
    }

    #[test]
    fn every_challenge_kind_is_named_when_the_kind_is_wrong() {
        let req = proto::ChallengeRequest {
            session_id: "s".into(),
            kind: 99,
            window_ms: None,
        };
        let message = challenge(&req).unwrap_err().to_string();
        for kind in ["TURN_HEAD", "LOOK_UP", "COVER_FACE", "BLINK"] {
            assert!(message.contains(kind), "{message}");
        }
    }
}
