//! What every request handler shares, and the lookups handlers make on it.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use candor_core::AnalysisConfig;
use candor_media::DecodeOptions;
use candor_pipeline::Engine;
use candor_store::Store;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::badge_config::Badge;
use crate::convert;
use crate::error::ServiceError;
use crate::identity_index::IdentityIndex;
use crate::persist::{self, SessionWriter};
use crate::proto;
use crate::registry::{Registry, SessionEntry};
use crate::running_jobs::RunningJobs;
use crate::store_changes::{StoreChanges, Waiter};
use crate::values::ChallengeStart;

/// Limits that protect the server and other sessions.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open `Analyze` sessions; more are refused with RESOURCE_EXHAUSTED.
    pub max_sessions: usize,
    /// A session with no client message for this long is closed (DEADLINE_EXCEEDED).
    pub idle_timeout: Duration,
    /// Largest media payload (chunk or frame) accepted; larger ones are refused with
    /// INVALID_ARGUMENT. Must hold a raw 1080p RGB24 frame (6.2 MB). The transport
    /// accepts 1 MiB more, for the rest of the message; beyond that gRPC itself refuses
    /// the message with OUT_OF_RANGE.
    pub max_message_bytes: usize,
    /// Largest frame, in pixels, decoded or accepted raw.
    pub max_frame_pixels: u32,
    /// Sampled frames waiting for analysis per session; beyond it frames are dropped.
    pub frames_in_flight: usize,
    /// Finished sessions kept readable by GetSession/WatchSession.
    pub keep_finished: usize,
    /// Longest session, in media time: a session's results are held in memory while
    /// it runs (about 5 KB per 2 s segment), so its length bounds its memory. A
    /// session that reaches it ends with its summary and OUT_OF_RANGE.
    pub max_session: Duration,
    /// Batch jobs scored at once; more are refused with RESOURCE_EXHAUSTED.
    pub max_jobs: usize,
    /// How long a batch job's file stays one node's without renewal: after a node dies
    /// mid-file, others take the file up this long after.
    pub job_file_lease: Duration,
    /// On shutdown, how long open sessions get to send their last segment and summary,
    /// and clients to read them, before the remaining connections are closed.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_sessions: 16,
            idle_timeout: Duration::from_secs(30),
            max_message_bytes: 16 * 1024 * 1024,
            max_frame_pixels: 4096 * 4096,
            frames_in_flight: 4,
            keep_finished: 1000,
            max_session: Duration::from_secs(4 * 3600),
            max_jobs: 2,
            job_file_lease: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// The result store, the writer live sessions persist through, and the duplicate
/// search index over the store's identities.
#[derive(Clone)]
pub struct Persistence {
    pub store: Arc<dyn Store>,
    pub writer: SessionWriter,
    pub index: Arc<IdentityIndex>,
    /// This node's name when other nodes share the store (PostgreSQL): sessions open
    /// in the store under another node's name run there, and their jobs are ours too.
    pub shared_as: Option<String>,
    /// What other nodes write, as it commits (shared stores only).
    pub changes: Option<StoreChanges>,
}

impl Persistence {
    /// A session of `tenant` as the store holds it, read off the async runtime.
    async fn session(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<persist::StoredSession, ServiceError> {
        persist::get_session(
            self.store.clone(),
            tenant.to_owned(),
            id.to_owned(),
            self.shared_as.clone(),
        )
        .await
    }
}

pub struct ServerState {
    engine: OnceLock<Arc<Engine>>,
    pub registry: Registry,
    pub sessions: Arc<Semaphore>,
    pub limits: Limits,
    pub analysis: AnalysisConfig,
    pub decode: DecodeOptions,
    pub shutdown: watch::Receiver<bool>,
    pub execution_provider: String,
    /// `None` when the server runs without a data directory (nothing is kept).
    pub persistence: Option<Persistence>,
    /// Folder batch job paths are relative to; `None` switches batch jobs off.
    pub batch_root: Option<PathBuf>,
    pub jobs: RunningJobs,
    /// The recruiter's badge page: view link keys and embedding rules.
    pub badge: Badge,
    /// Who this process is when it claims a batch job's files: the node name and a
    /// random part, so a restarted node does not take its dead self's claims for its own.
    pub worker_id: String,
}

impl ServerState {
    pub fn new(
        limits: Limits,
        analysis: AnalysisConfig,
        decode: DecodeOptions,
        shutdown: watch::Receiver<bool>,
        execution_provider: String,
        persistence: Option<Persistence>,
        batch_root: Option<PathBuf>,
    ) -> Self {
        Self {
            engine: OnceLock::new(),
            registry: Registry::new(limits.keep_finished),
            sessions: Arc::new(Semaphore::new(limits.max_sessions)),
            jobs: RunningJobs::new(limits.max_jobs.max(1)),
            limits,
            analysis,
            decode,
            shutdown,
            execution_provider,
            persistence,
            batch_root,
            badge: Badge::off(),
            worker_id: candor_store::new_id(),
        }
    }

    /// The badge page's keys and embedding rules (off until given).
    pub fn with_badge(mut self, badge: Badge) -> Self {
        self.badge = badge;
        self
    }

    /// Names this node in its claims of batch job files.
    pub fn with_node_name(mut self, node: &str) -> Self {
        self.worker_id = format!("{node}/{}", &candor_store::new_id()[..8]);
        self
    }

    /// The settings a session runs with, as stored with it.
    pub fn settings_json(&self) -> serde_json::Value {
        serde_json::json!({
            "decode": {"sample_fps": self.decode.sample_fps, "max_side": self.decode.max_side},
            "analysis": self.analysis,
        })
    }

    /// The loaded models, once warm-up has finished.
    pub fn engine(&self) -> Option<Arc<Engine>> {
        self.engine.get().cloned()
    }

    pub fn set_engine(&self, engine: Arc<Engine>) {
        let _ = self.engine.set(engine);
    }

    /// The loaded models, or UNAVAILABLE while they load.
    pub fn engine_ready(&self) -> Result<Arc<Engine>, ServiceError> {
        self.engine()
            .ok_or_else(|| ServiceError::Unavailable("models are still loading".into()))
    }

    /// The duplicate-search index, when the server keeps data.
    pub fn index(&self) -> Option<Arc<IdentityIndex>> {
        self.persistence.as_ref().map(|p| p.index.clone())
    }

    /// The result store, or FAILED_PRECONDITION when the server keeps no data.
    pub fn store(&self) -> Result<Arc<dyn Store>, ServiceError> {
        self.persistence
            .as_ref()
            .map(|p| p.store.clone())
            .ok_or_else(|| {
                ServiceError::NotEnabled(
                    "this server keeps no data (no data directory): nothing to enrol or delete"
                        .into(),
                )
            })
    }

    /// A place for one more live session, or RESOURCE_EXHAUSTED at the limit.
    pub fn session_permit(&self) -> Result<OwnedSemaphorePermit, ServiceError> {
        self.sessions.clone().try_acquire_owned().map_err(|_| {
            ServiceError::Overloaded(format!(
                "server is at its limit of {} open sessions",
                self.limits.max_sessions
            ))
        })
    }

    /// The session in memory (open or recently finished), else from the store (e.g.
    /// after a restart, or evicted); the caller's tenant only.
    /// Refuses a session id this tenant already used: the store keeps one session per
    /// id, so a second run under it would be shown live and never stored. Sessions in
    /// memory are checked again, atomically, when the new one is registered.
    pub async fn ensure_new_session(&self, tenant: &str, id: &str) -> Result<(), ServiceError> {
        match self.find_session(tenant.to_owned(), id).await {
            Ok(_) => Err(ServiceError::AlreadyExists(format!(
                "session {id:?} already exists: use a new session id"
            ))),
            Err(ServiceError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `read` of what `find_session` finds; once more when `read` says a session found
    /// in memory left it for the store meanwhile (the second lookup reads the store).
    pub async fn read_session<T>(
        &self,
        tenant: &str,
        id: &str,
        mut read: impl FnMut(Found) -> Option<T>,
    ) -> Result<T, ServiceError> {
        for _ in 0..2 {
            if let Some(v) = read(self.find_session(tenant.to_owned(), id).await?) {
                return Ok(v);
            }
        }
        Err(ServiceError::Internal(format!(
            "session {id:?} moved to the store twice while being read"
        )))
    }

    pub async fn find_session(&self, tenant: String, id: &str) -> Result<Found, ServiceError> {
        match (self.registry.get(&tenant, id), &self.persistence) {
            // A finished session whose results left memory: the store has them all.
            (Ok(entry), Some(p)) if entry.in_store() => p
                .session(&tenant, id)
                .await
                .map(|s| Found::Stored(Box::new(s.response))),
            (Ok(entry), _) => Ok(Found::Live(entry)),
            (Err(ServiceError::NotFound(_)), Some(p)) => {
                let mut stored = p.session(&tenant, id).await?;
                // A session enters memory just before its row is written: one that opened
                // here while the store was read is in memory now, and its row reads as
                // open with no node running it, which would answer as interrupted. (Its
                // results may have left for the store since: the reader then looks again.)
                if let Ok(entry) = self.registry.get(&tenant, id) {
                    return Ok(Found::Live(entry));
                }
                // Open, and no other node runs it: it may have ended here and left memory
                // (evicted under load) before this node's writer stored its end. Read again
                // once the writes sent so far are committed; a session that was really
                // interrupted reads the same.
                if stored.open && stored.running_on.is_none() && p.writer.writable() {
                    p.writer.committed().await;
                    stored = p.session(&tenant, id).await?;
                }
                Ok(match stored.running_on {
                    Some(node) => Found::Elsewhere(Box::new(Elsewhere {
                        changes: p
                            .changes
                            .as_ref()
                            .map_or_else(Waiter::deaf, |c| c.subscribe()),
                        response: stored.response,
                        node,
                        store: p.store.clone(),
                        tenant,
                        session_id: id.to_owned(),
                        shutdown: self.shutdown.clone(),
                    })),
                    None => Found::Stored(Box::new(stored.response)),
                })
            }
            (Err(e), _) => Err(e),
        }
    }

    /// Starts a challenge on a live session of `tenant`: what the `Challenge` call and
    /// the badge page's buttons both do. NOT_FOUND for a session not in memory,
    /// FAILED_PRECONDITION for one no longer analysing video.
    pub fn start_challenge(
        &self,
        tenant: &str,
        session_id: &str,
        kind: candor_core::challenge::ChallengeKind,
        window_ms: u32,
    ) -> Result<proto::ChallengeResponse, ServiceError> {
        // Only sessions in memory can be live here; the store holds finished ones and
        // those of other nodes (see `challenge_relay`).
        let entry = self.registry.get(tenant, session_id)?;
        Self::challenge_entry(&entry, kind, window_ms)
    }

    /// Starts a challenge on the live session of `tenant` stored as `storage_id`: a
    /// request another node relayed through the store.
    pub fn start_challenge_stored(
        &self,
        tenant: &str,
        storage_id: &str,
        kind: candor_core::challenge::ChallengeKind,
        window_ms: u32,
    ) -> Result<proto::ChallengeResponse, ServiceError> {
        let entry = self
            .registry
            .find(tenant, |m| persist::storage_id(&m.session_id) == storage_id)
            .ok_or_else(|| ServiceError::NotFound(format!("no session {storage_id:?}")))?;
        Self::challenge_entry(&entry, kind, window_ms)
    }

    fn challenge_entry(
        entry: &SessionEntry,
        kind: candor_core::challenge::ChallengeKind,
        window_ms: u32,
    ) -> Result<proto::ChallengeResponse, ServiceError> {
        let session_id = &entry.meta.session_id;
        let id = candor_store::new_id();
        let started = entry.start_challenge(ChallengeStart {
            id: id.clone(),
            kind,
            window_us: i64::from(window_ms) * 1000,
        });
        if !started {
            return Err(ServiceError::NotRunning(format!(
                "session {session_id:?} is no longer analysing video"
            )));
        }
        Ok(proto::ChallengeResponse {
            challenge_id: id,
            instruction: kind.instruction().to_owned(),
            window_ms,
        })
    }

    pub fn models(&self) -> Vec<proto::ModelInfo> {
        self.engine()
            .map(|e| e.sources().iter().map(convert::model).collect())
            .unwrap_or_default()
    }

    /// What `Info` answers.
    pub fn info(&self) -> proto::InfoResponse {
        use proto::MediaFormat as F;
        proto::InfoResponse {
            version: env!("CARGO_PKG_VERSION").into(),
            models: self.models(),
            execution_provider: self.execution_provider.clone(),
            max_sessions: self.limits.max_sessions as u32,
            open_sessions: self.registry.open_count() as u32,
            max_message_bytes: self.limits.max_message_bytes as u32,
            max_frame_pixels: self.limits.max_frame_pixels,
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
            defaults: Some(self.effective_settings()),
        }
    }

    pub fn effective_settings(&self) -> proto::EffectiveSettings {
        proto::EffectiveSettings {
            sample_fps: self.decode.sample_fps,
            segment_ms: self.analysis.segment.length_ms,
            max_side: self.decode.max_side,
            max_frame_bytes: self.limits.max_message_bytes as u32,
            idle_timeout_s: self.limits.idle_timeout.as_secs() as u32,
            max_session_s: u32::try_from(self.limits.max_session.as_secs()).unwrap_or(u32::MAX),
        }
    }
}

/// Where a session was found.
pub enum Found {
    Live(Arc<SessionEntry>),
    Stored(Box<proto::GetSessionResponse>),
    /// Open in the shared store, run by another node.
    Elsewhere(Box<Elsewhere>),
}

/// A session another node runs, as stored so far, and what following it takes.
pub struct Elsewhere {
    /// What the store holds so far: segments, no summary.
    pub response: proto::GetSessionResponse,
    /// The node that runs it.
    pub node: String,
    pub store: Arc<dyn Store>,
    pub tenant: String,
    /// The client's id.
    pub session_id: String,
    pub shutdown: watch::Receiver<bool>,
    /// Changes from the moment it was found, so none falls before the first read.
    pub changes: Waiter,
}
