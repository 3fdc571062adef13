//! Plain values the server's modules hand each other. A leaf: it uses no other module
//! of the crate but the generated protocol types, so every module can depend on it.

use std::pin::Pin;

use candor_core::challenge::ChallengeKind;
use tokio_stream::Stream;

use crate::proto;

/// The events a session's watcher receives (WatchSession, the badge page).
pub type EventStream =
    Pin<Box<dyn Stream<Item = Result<proto::AnalyzeResponse, tonic::Status>> + Send>>;

/// Who and what a session is about.
#[derive(Debug, Clone)]
pub struct SessionMeta {
    pub tenant: String,
    pub session_id: String,
    pub participant_id: String,
    pub interview_ref: Option<String>,
    pub candidate_ref: Option<String>,
    pub capture: proto::CaptureInfo,
}

/// A challenge to start with the session's next analysed frame.
#[derive(Debug, Clone)]
pub struct ChallengeStart {
    pub id: String,
    pub kind: ChallengeKind,
    pub window_us: i64,
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_never_print_embeddings() {
        let shown = format!("{:?}", CandidatePlan::Verify(vec![0.123, 0.456]));
        assert_eq!(shown, "Verify(2-d embedding)");
    }
}
