//! The service's error type and the one table that maps errors to gRPC codes.
//! "No face", "too dark" and the like are results, never errors.

use candor_media::MediaError;
use candor_pipeline::PipelineError;
use candor_vision::VisionError;
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Unauthenticated(String),
    /// The request itself is wrong: bad first message, unknown format, undecodable
    /// media, oversized or malformed frames.
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// Too many open sessions, or a model queue is full.
    #[error("{0}")]
    Overloaded(String),
    /// The client stopped sending media for longer than the idle timeout.
    #[error("{0}")]
    IdleTimeout(String),
    /// The session reached the longest a session may run.
    #[error("{0}")]
    TooLong(String),
    /// Models are not loaded yet, or the server is shutting down.
    #[error("{0}")]
    Unavailable(String),
    /// The feature is switched off in this server's configuration.
    #[error("{0}")]
    NotEnabled(String),
    /// The session exists but is no longer analysing video (e.g. a challenge for a
    /// session that has ended).
    #[error("{0}")]
    NotRunning(String),
    /// A model failed to run.
    #[error("{0}")]
    Backend(String),
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    /// The table: every error kind and its gRPC code, in one place.
    pub fn code(&self) -> Code {
        match self {
            Self::Unauthenticated(_) => Code::Unauthenticated,
            Self::InvalidArgument(_) => Code::InvalidArgument,
            Self::NotFound(_) => Code::NotFound,
            Self::AlreadyExists(_) => Code::AlreadyExists,
            Self::Overloaded(_) => Code::ResourceExhausted,
            Self::IdleTimeout(_) => Code::DeadlineExceeded,
            Self::TooLong(_) => Code::OutOfRange,
            Self::Unavailable(_) => Code::Unavailable,
            Self::Backend(_) | Self::NotEnabled(_) | Self::NotRunning(_) => {
                Code::FailedPrecondition
            }
            Self::Internal(_) => Code::Internal,
        }
    }
}

impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Self {
        crate::metrics::METRICS.record_error(e.code());
        Status::new(e.code(), e.to_string())
    }
}

impl From<MediaError> for ServiceError {
    fn from(e: MediaError) -> Self {
        match e {
            MediaError::Internal(m) => Self::Internal(m),
            other => Self::InvalidArgument(format!("media: {other}")),
        }
    }
}

impl From<VisionError> for ServiceError {
    fn from(e: VisionError) -> Self {
        match e {
            VisionError::Overloaded => Self::Overloaded("model queue is full, try again".into()),
            VisionError::BadInput(m) => Self::InvalidArgument(m),
            other => Self::Backend(other.to_string()),
        }
    }
}

impl From<candor_store::StoreError> for ServiceError {
    fn from(e: candor_store::StoreError) -> Self {
        use candor_store::StoreError as E;
        crate::metrics::METRICS.record_store_error(&e);
        match e {
            E::NotFound(m) => Self::NotFound(m),
            E::Conflict(m) => Self::AlreadyExists(m),
            E::Invalid(m) => Self::InvalidArgument(m),
            E::Backend(m) => Self::Unavailable(format!("result store: {m}")),
        }
    }
}

impl From<PipelineError> for ServiceError {
    fn from(e: PipelineError) -> Self {
        match e {
            PipelineError::Media(m) => m.into(),
            PipelineError::Vision(v) => v.into(),
            PipelineError::Config(m) => Self::Internal(m),
            PipelineError::DecoderGone => Self::Internal(e.to_string()),
        }
    }
}

/// For clients: whether `status` was made by the client's own gRPC library from a
/// broken connection (the server died or the network dropped) rather than sent by the
/// server. tonic reports a connection reset mid-stream as UNKNOWN with the I/O error
/// as its source; it means the same as UNAVAILABLE: retry, on a new session.
pub fn lost_connection(status: &Status) -> bool {
    use std::io::ErrorKind as K;
    let mut source = std::error::Error::source(status);
    while let Some(e) = source {
        // h2 keeps the I/O error to itself (no `source`).
        let io = e
            .downcast_ref::<std::io::Error>()
            .or_else(|| e.downcast_ref::<h2::Error>().and_then(h2::Error::get_io));
        if let Some(io) = io
            && matches!(
                io.kind(),
                K::ConnectionReset
                    | K::ConnectionAborted
                    | K::ConnectionRefused
                    | K::BrokenPipe
                    | K::UnexpectedEof
            )
        {
            return true;
        }
        source = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table() {
        let cases = [
            (ServiceError::from(MediaError::Empty), Code::InvalidArgument),
            (
                ServiceError::from(MediaError::UnrecognisedFormat),
                Code::InvalidArgument,
            ),
            (
                ServiceError::from(MediaError::Internal("x".into())),
                Code::Internal,
            ),
            (
                ServiceError::from(VisionError::Overloaded),
                Code::ResourceExhausted,
            ),
            (
                ServiceError::from(VisionError::WorkerGone),
                Code::FailedPrecondition,
            ),
            (
                ServiceError::IdleTimeout("x".into()),
                Code::DeadlineExceeded,
            ),
            (
                ServiceError::Unauthenticated("x".into()),
                Code::Unauthenticated,
            ),
            (ServiceError::NotFound("x".into()), Code::NotFound),
            (
                ServiceError::from(candor_store::StoreError::NotFound("x".into())),
                Code::NotFound,
            ),
            (
                ServiceError::from(candor_store::StoreError::Backend("x".into())),
                Code::Unavailable,
            ),
            (ServiceError::Unavailable("x".into()), Code::Unavailable),
            // e.g. EnrollCandidate for a tenant with enrolment off
            (
                ServiceError::NotEnabled("x".into()),
                Code::FailedPrecondition,
            ),
            (
                ServiceError::NotRunning("x".into()),
                Code::FailedPrecondition,
            ),
        ];
        for (e, code) in cases {
            assert_eq!(Status::from(e).code(), code);
        }
    }

    #[test]
    fn media_errors_keep_their_message() {
        let s = Status::from(ServiceError::from(MediaError::NoVideoStream));
        assert!(s.message().contains("no video stream"), "{}", s.message());
    }

    #[test]
    fn a_reset_connection_is_a_lost_connection_and_a_server_status_is_not() {
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(lost_connection(&Status::from_error(Box::new(reset))));
        assert!(!lost_connection(&Status::unavailable("shutting down")));
        let other = std::io::Error::other("disk on fire");
        assert!(!lost_connection(&Status::from_error(Box::new(other))));
    }
}
