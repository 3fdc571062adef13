//! The gRPC handlers: authenticate (via the interceptor), validate first, delegate.
//! Session logic lives in `session`, watching in `session_watch`, conversions in `convert`.

use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use crate::auth::tenant_of;
use crate::blocklist::Blocklist;
use crate::candidate;
use crate::challenge_relay;
use crate::error::ServiceError;
use crate::jobs;
use crate::proto::{
    self, AnalyzeRequest, AnalyzeResponse, analyze_request, analyze_response::Event,
    candor_server::Candor,
};
use crate::read_audit;
use crate::session::Session;
use crate::session_watch;
use crate::state::{Found, ServerState};
use crate::validate;
use crate::view_link::Scope;

type EventStream = Pin<Box<dyn Stream<Item = Result<AnalyzeResponse, Status>> + Send>>;

pub struct CandorService {
    pub state: Arc<ServerState>,
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
        let state = &self.state;
        state.engine_ready()?;
        let first = tokio::time::timeout(state.limits.idle_timeout, inbound.message())
            .await
            .map_err(|_| ServiceError::IdleTimeout("no `start` message received".into()))?
            .map_err(|status| {
                let max = state.limits.max_message_bytes;
                validate::transport_refusal(&status, max).map_or(status, Status::from)
            })?;
        let Some(analyze_request::Message::Start(start)) = first.and_then(|m| m.message) else {
            return Err(ServiceError::InvalidArgument(
                "the first message must be `start` (session id, participant, format)".into(),
            )
            .into());
        };
        let (meta, format) = validate::session_start(&tenant.0, &start)?;
        state
            .ensure_new_session(&tenant.0, &meta.session_id)
            .await?;
        let permit = state.session_permit()?;
        let entry = state.registry.open(meta)?;
        if let Some(p) = &state.persistence {
            p.writer
                .open(&entry.meta, state.settings_json(), &state.models());
        }
        let (tx, rx) = mpsc::channel(32);
        let accepted = AnalyzeResponse {
            event: Some(Event::Accepted(proto::SessionAccepted {
                session_id: start.session_id.clone(),
                settings: Some(state.effective_settings()),
                models: state.models(),
                execution_provider: state.execution_provider.clone(),
            })),
        };
        entry.publish(accepted.clone());
        // The channel is fresh and has room: this cannot fail.
        let _ = tx.try_send(Ok(accepted));
        let (challenge_tx, challenges) = crossbeam_channel::unbounded();
        entry.set_challenges(Some(challenge_tx));
        let session = Session {
            state: state.clone(),
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
        let id = &request.get_ref().session_id;
        validate::client_session_id(id)?;
        let response = self
            .state
            .read_session(&tenant.0, id, |found| match found {
                Found::Live(entry) => entry.as_response(),
                Found::Stored(stored) => Some(*stored),
                Found::Elsewhere(remote) => Some(remote.response),
            })
            .await?;
        let caller = read_audit::caller(request.remote_addr());
        read_audit::record(
            &self.state,
            &tenant.0,
            read_audit::READ_SESSION,
            Some(id),
            None,
            caller,
        );
        Ok(Response::new(response))
    }

    async fn watch_session(
        &self,
        request: Request<proto::WatchSessionRequest>,
    ) -> Result<Response<Self::WatchSessionStream>, Status> {
        let tenant = tenant_of(&request)?;
        let id = &request.get_ref().session_id;
        validate::client_session_id(id)?;
        let events = self
            .state
            .read_session(&tenant.0, id, session_watch::events)
            .await?;
        let caller = read_audit::caller(request.remote_addr());
        read_audit::record(
            &self.state,
            &tenant.0,
            read_audit::WATCH_SESSION,
            Some(id),
            None,
            caller,
        );
        Ok(Response::new(events))
    }

    async fn submit_job(
        &self,
        request: Request<proto::SubmitJobRequest>,
    ) -> Result<Response<proto::JobStatus>, Status> {
        let tenant = tenant_of(&request)?;
        validate::job_submit(request.get_ref())?;
        let status = jobs::submit(&self.state, &tenant.0, request.into_inner()).await?;
        Ok(Response::new(status))
    }

    async fn get_job(
        &self,
        request: Request<proto::GetJobRequest>,
    ) -> Result<Response<proto::JobStatus>, Status> {
        let tenant = tenant_of(&request)?;
        let job_id = &request.get_ref().job_id;
        validate::job_id(job_id)?;
        let status = jobs::get(&self.state, &tenant.0, job_id).await?;
        let caller = read_audit::caller(request.remote_addr());
        read_audit::record(
            &self.state,
            &tenant.0,
            read_audit::READ_JOB,
            None,
            Some(job_id),
            caller,
        );
        Ok(Response::new(status))
    }

    async fn watch_job(
        &self,
        request: Request<proto::WatchJobRequest>,
    ) -> Result<Response<Self::WatchJobStream>, Status> {
        let tenant = tenant_of(&request)?;
        let caller = read_audit::caller(request.remote_addr());
        let job_id = request.into_inner().job_id;
        validate::job_id(&job_id)?;
        // Unknown or another tenant's job: NOT_FOUND now, not in the stream.
        jobs::get(&self.state, &tenant.0, &job_id).await?;
        read_audit::record(
            &self.state,
            &tenant.0,
            read_audit::WATCH_JOB,
            None,
            Some(&job_id),
            caller,
        );
        let (tx, rx) = mpsc::channel(8);
        tokio::spawn(jobs::watch(self.state.clone(), tenant.0, job_id, tx));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn enroll_candidate(
        &self,
        request: Request<proto::EnrollCandidateRequest>,
    ) -> Result<Response<proto::EnrollCandidateResponse>, Status> {
        let tenant = tenant_of(&request)?;
        validate::enrolment(request.get_ref())?;
        let s = &self.state;
        let (store, engine) = (s.store()?, s.engine_ready()?);
        let index = s.index().ok_or_else(no_data)?;
        let (decode, identity) = (s.decode.clone(), s.analysis.identity.clone());
        let done = candidate::enrol_photo(
            store,
            index,
            engine,
            decode,
            identity,
            &tenant.0,
            request.into_inner(),
        )
        .await?;
        Ok(Response::new(done))
    }

    async fn delete_candidate(
        &self,
        request: Request<proto::DeleteCandidateRequest>,
    ) -> Result<Response<proto::DeleteCandidateResponse>, Status> {
        let tenant = tenant_of(&request)?;
        validate::candidate_ref(&request.get_ref().candidate_ref)?;
        let store = self.state.store()?;
        let index = self.state.index();
        let done = candidate::delete(store, index, &tenant.0, request.into_inner()).await?;
        Ok(Response::new(done))
    }

    async fn add_to_blocklist(
        &self,
        request: Request<proto::AddToBlocklistRequest>,
    ) -> Result<Response<proto::BlocklistEntry>, Status> {
        let tenant = tenant_of(&request)?;
        validate::blocklist_add(request.get_ref())?;
        let engine = self.state.engine_ready()?;
        let mut lists = self.blocklist()?;
        lists.model = candidate::model_version(&engine);
        let done = lists.add(&tenant.0, request.into_inner()).await?;
        Ok(Response::new(done))
    }

    async fn list_blocklist(
        &self,
        request: Request<proto::ListBlocklistRequest>,
    ) -> Result<Response<proto::ListBlocklistResponse>, Status> {
        let tenant = tenant_of(&request)?;
        let done = self.blocklist()?.list(&tenant.0).await?;
        Ok(Response::new(done))
    }

    async fn remove_from_blocklist(
        &self,
        request: Request<proto::RemoveFromBlocklistRequest>,
    ) -> Result<Response<proto::RemoveFromBlocklistResponse>, Status> {
        let tenant = tenant_of(&request)?;
        let entry_id = request.into_inner().entry_id;
        validate::blocklist_entry_id(&entry_id)?;
        let done = self.blocklist()?.remove(&tenant.0, entry_id).await?;
        Ok(Response::new(done))
    }

    async fn challenge(
        &self,
        request: Request<proto::ChallengeRequest>,
    ) -> Result<Response<proto::ChallengeResponse>, Status> {
        let tenant = tenant_of(&request)?;
        let req = request.into_inner();
        let (kind, window_ms) = validate::challenge(&req)?;
        let answer =
            challenge_relay::start(&self.state, &tenant.0, &req.session_id, kind, window_ms)
                .await?;
        Ok(Response::new(answer))
    }

    async fn create_view_link(
        &self,
        request: Request<proto::CreateViewLinkRequest>,
    ) -> Result<Response<proto::CreateViewLinkResponse>, Status> {
        let tenant = tenant_of(&request)?;
        let caller = read_audit::caller(request.remote_addr());
        let (scope, ttl) = validate::view_link(request.get_ref())?;
        if let Scope::Session(id) = &scope {
            // Unknown or another tenant's session: NOT_FOUND now, not a dead link later.
            self.state.find_session(tenant.0.clone(), id).await?;
        }
        let allow_challenges = request.get_ref().allow_challenges;
        let (grant, answer) = self
            .state
            .badge
            .mint(&tenant.0, scope, ttl, allow_challenges)?;
        read_audit::record_link(
            &self.state,
            &grant,
            read_audit::VIEW_LINK_CREATED,
            None,
            caller,
        );
        Ok(Response::new(answer))
    }

    async fn info(
        &self,
        _request: Request<proto::InfoRequest>,
    ) -> Result<Response<proto::InfoResponse>, Status> {
        Ok(Response::new(self.state.info()))
    }
}

impl CandorService {
    /// The blocklist's handles, or `FAILED_PRECONDITION` when the server keeps no data.
    fn blocklist(&self) -> Result<Blocklist, ServiceError> {
        let store = self.state.store()?;
        let index = self.state.index().ok_or_else(no_data)?;
        Ok(Blocklist {
            store,
            index,
            model: None,
        })
    }
}

fn no_data() -> ServiceError {
    ServiceError::NotEnabled("this server keeps no data (no data directory)".into())
}
