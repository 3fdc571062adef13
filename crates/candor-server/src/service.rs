//! The gRPC handlers: authenticate (via the interceptor), validate, delegate. Session
//! logic lives in `session`, conversions in `convert`.

use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use crate::analysis::ChallengeStart;
use crate::auth::tenant_of;
use crate::candidate;
use crate::convert;
use crate::error::ServiceError;
use crate::job_service;
use crate::persist;
use crate::proto::{
    self, AnalyzeRequest, AnalyzeResponse, analyze_request, analyze_response::Event,
    candor_server::Candor,
};
use crate::registry::SessionEntry;
use crate::session::{Session, validate_start};
use crate::state::ServerState;

/// Media time a challenge checks when the request does not say.
const DEFAULT_CHALLENGE_MS: u32 = 5000;

type EventStream = Pin<Box<dyn Stream<Item = Result<AnalyzeResponse, Status>> + Send>>;

pub struct CandorService {
    pub state: Arc<ServerState>,
}

/// Where a session was found.
enum Found {
    Live(Arc<SessionEntry>),
    Stored(Box<proto::GetSessionResponse>),
}

impl CandorService {
    /// The session in memory (open or recently finished), else from the store (e.g.
    /// after a restart, or evicted); the caller's tenant only.
    async fn find_session(&self, tenant: String, id: &str) -> Result<Found, ServiceError> {
        match (
            self.state.registry.get(&tenant, id),
            &self.state.persistence,
        ) {
            (Ok(entry), _) => Ok(Found::Live(entry)),
            (Err(ServiceError::NotFound(_)), Some(p)) => {
                persist::get_session(p.store.clone(), tenant, id.to_owned())
                    .await
                    .map(|s| Found::Stored(Box::new(s)))
            }
            (Err(e), _) => Err(e),
        }
    }
}

#[tonic::async_trait]
impl Candor for CandorService {
    type AnalyzeStream = EventStream;
    type WatchSessionStream = EventStream;
    type WatchJobStream = Pin<Box<dyn Stream<Item = Result<proto::JobStatus, Status>> + Send>>;

    async fn analyze(
        &self,
        request: Request<Streaming<AnalyzeRequest>>,
    ) -> Result<Response<Self::AnalyzeStream>, Status> {
        let tenant = tenant_of(&request)?;
        let mut inbound = request.into_inner();
        if self.state.engine().is_none() {
            return Err(ServiceError::Unavailable("models are still loading".into()).into());
        }
        let first = tokio::time::timeout(self.state.limits.idle_timeout, inbound.message())
            .await
            .map_err(|_| ServiceError::IdleTimeout("no `start` message received".into()))??;
        let start = match first.and_then(|m| m.message) {
            Some(analyze_request::Message::Start(s)) => s,
            _ => {
                return Err(ServiceError::InvalidArgument(
                    "the first message must be `start` (session id, participant, format)".into(),
                )
                .into());
            }
        };
        let (meta, format) = validate_start(&tenant.0, &start)?;
        let permit = self
            .state
            .sessions
            .clone()
            .try_acquire_owned()
            .map_err(|_| {
                ServiceError::Overloaded(format!(
                    "server is at its limit of {} open sessions",
                    self.state.limits.max_sessions
                ))
            })?;
        let entry = self.state.registry.open(meta)?;
        if let Some(p) = &self.state.persistence {
            p.writer.open(
                &entry.meta,
                self.state.settings_json(),
                &self.state.models(),
            );
        }
        let (tx, rx) = mpsc::channel(32);
        let accepted = AnalyzeResponse {
            event: Some(Event::Accepted(proto::SessionAccepted {
                session_id: start.session_id.clone(),
                settings: Some(self.state.effective_settings()),
                models: self.state.models(),
                execution_provider: self.state.execution_provider.clone(),
            })),
        };
        entry.publish(accepted.clone());
        // The channel is fresh and has room: this cannot fail.
        let _ = tx.try_send(Ok(accepted));
        let (challenge_tx, challenges) = crossbeam_channel::unbounded();
        entry.set_challenges(Some(challenge_tx));
        let session = Session {
            state: self.state.clone(),
            entry,
            format,
            fps_hint: start.fps_hint,
            challenges,
            _permit: permit,
        };
        tokio::spawn(session.run(inbound, tx));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn get_session(
        &self,
        request: Request<proto::GetSessionRequest>,
    ) -> Result<Response<proto::GetSessionResponse>, Status> {
        let tenant = tenant_of(&request)?;
        let entry = match self
            .find_session(tenant.0, &request.get_ref().session_id)
            .await?
        {
            Found::Live(entry) => entry,
            Found::Stored(stored) => return Ok(Response::new(*stored)),
        };
        let (segments, summary) = entry.snapshot();
        let m = &entry.meta;
        Ok(Response::new(proto::GetSessionResponse {
            summary,
            segments,
            participant_id: m.participant_id.clone(),
            interview_ref: m.interview_ref.clone(),
            candidate_ref: m.candidate_ref.clone(),
            capture: Some(m.capture.clone()),
        }))
    }

    async fn watch_session(
        &self,
        request: Request<proto::WatchSessionRequest>,
    ) -> Result<Response<Self::WatchSessionStream>, Status> {
        let tenant = tenant_of(&request)?;
        let entry = match self
            .find_session(tenant.0, &request.get_ref().session_id)
            .await?
        {
            Found::Live(entry) => entry,
            // A session that ended before this server started: its stored segments,
            // then its summary, as a finished session is watched.
            Found::Stored(stored) => {
                let events: Vec<Result<AnalyzeResponse, Status>> = stored
                    .segments
                    .into_iter()
                    .map(Event::Segment)
                    .chain(stored.summary.map(Event::Summary))
                    .map(|e| Ok(AnalyzeResponse { event: Some(e) }))
                    .collect();
                return Ok(Response::new(Box::pin(tokio_stream::iter(events))));
            }
        };
        let (segments, summary, complete, mut events) = entry.watch();
        let (tx, rx) = mpsc::channel(32);
        tokio::spawn(async move {
            let mut last_index = None;
            for s in segments {
                last_index = Some(s.index);
                let msg = AnalyzeResponse {
                    event: Some(Event::Segment(s)),
                };
                if tx.send(Ok(msg)).await.is_err() {
                    return;
                }
            }
            if complete {
                let _ = tx
                    .send(Ok(AnalyzeResponse {
                        event: summary.map(Event::Summary),
                    }))
                    .await;
                return;
            }
            loop {
                let ev = match events.recv().await {
                    Ok(ev) => ev,
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(skipped = n, "watcher fell behind");
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let (skip, done) = match &ev.event {
                    // Already sent from the snapshot.
                    Some(Event::Segment(s)) => (last_index.is_some_and(|i| s.index <= i), false),
                    Some(Event::Accepted(_)) => (true, false),
                    Some(Event::Summary(s)) => (false, s.complete),
                    _ => (false, false),
                };
                if !skip && tx.send(Ok(ev)).await.is_err() {
                    return;
                }
                if done {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn submit_job(
        &self,
        request: Request<proto::SubmitJobRequest>,
    ) -> Result<Response<proto::JobStatus>, Status> {
        let tenant = tenant_of(&request)?;
        let status = job_service::submit(&self.state, &tenant.0, request.into_inner()).await?;
        Ok(Response::new(status))
    }

    async fn get_job(
        &self,
        request: Request<proto::GetJobRequest>,
    ) -> Result<Response<proto::JobStatus>, Status> {
        let tenant = tenant_of(&request)?;
        let status = job_service::get(&self.state, &tenant.0, &request.get_ref().job_id).await?;
        Ok(Response::new(status))
    }

    async fn watch_job(
        &self,
        request: Request<proto::WatchJobRequest>,
    ) -> Result<Response<Self::WatchJobStream>, Status> {
        let tenant = tenant_of(&request)?;
        let job_id = request.into_inner().job_id;
        // Unknown or another tenant's job: NOT_FOUND now, not in the stream.
        job_service::get(&self.state, &tenant.0, &job_id).await?;
        let (tx, rx) = mpsc::channel(8);
        tokio::spawn(job_service::watch(self.state.clone(), tenant.0, job_id, tx));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn enroll_candidate(
        &self,
        request: Request<proto::EnrollCandidateRequest>,
    ) -> Result<Response<proto::EnrollCandidateResponse>, Status> {
        let tenant = tenant_of(&request)?;
        let done = candidate::enrol_photo(&self.state, &tenant.0, request.into_inner()).await?;
        Ok(Response::new(done))
    }

    async fn delete_candidate(
        &self,
        request: Request<proto::DeleteCandidateRequest>,
    ) -> Result<Response<proto::DeleteCandidateResponse>, Status> {
        let tenant = tenant_of(&request)?;
        let done = candidate::delete(&self.state, &tenant.0, request.into_inner()).await?;
        Ok(Response::new(done))
    }

    async fn challenge(
        &self,
        request: Request<proto::ChallengeRequest>,
    ) -> Result<Response<proto::ChallengeResponse>, Status> {
        let tenant = tenant_of(&request)?;
        let req = request.into_inner();
        let kind = convert::challenge_kind_from(req.kind).ok_or_else(|| {
            ServiceError::InvalidArgument(format!(
                "kind is missing or unknown ({}): use TURN_HEAD, LOOK_UP or COVER_FACE",
                req.kind
            ))
        })?;
        let window_ms = req.window_ms.unwrap_or(DEFAULT_CHALLENGE_MS);
        if !(1000..=30_000).contains(&window_ms) {
            return Err(ServiceError::InvalidArgument(format!(
                "window_ms must lie in 1000-30000, got {window_ms}"
            ))
            .into());
        }
        // Only sessions in memory can be live; the store holds finished ones.
        let entry = self.state.registry.get(&tenant.0, &req.session_id)?;
        let id = candor_store::new_id();
        let started = entry.start_challenge(ChallengeStart {
            id: id.clone(),
            kind,
            window_us: i64::from(window_ms) * 1000,
        });
        if !started {
            return Err(ServiceError::NotRunning(format!(
                "session {:?} is no longer analysing video",
                req.session_id
            ))
            .into());
        }
        Ok(Response::new(proto::ChallengeResponse {
            challenge_id: id,
            instruction: kind.instruction().to_owned(),
            window_ms,
        }))
    }

    async fn info(
        &self,
        _request: Request<proto::InfoRequest>,
    ) -> Result<Response<proto::InfoResponse>, Status> {
        let s = &self.state;
        use proto::MediaFormat as F;
        Ok(Response::new(proto::InfoResponse {
            version: env!("CARGO_PKG_VERSION").into(),
            models: s.models(),
            execution_provider: s.execution_provider.clone(),
            max_sessions: s.limits.max_sessions as u32,
            open_sessions: s.registry.open_count() as u32,
            max_message_bytes: s.limits.max_message_bytes as u32,
            max_frame_pixels: s.limits.max_frame_pixels,
            formats: [
                F::H264Annexb,
                F::Webm,
                F::FragmentedMp4,
                F::Jpeg,
                F::Png,
                F::RawI420,
                F::RawRgb24,
            ]
            .into_iter()
            .map(|f| f as i32)
            .collect(),
            defaults: Some(s.effective_settings()),
        }))
    }
}
