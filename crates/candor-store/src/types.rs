//! The values that go in and out of a [`Store`](crate::Store).
//!
//! Times named `*_at` are unix milliseconds (wall clock); times named `*_us` are stream
//! time in microseconds, as in [`candor_core::Segment`]. JSON payloads are kept as text
//! exactly as given (the store checks that they parse, nothing more), so the store does
//! not change when the report format grows.

use candor_core::{RiskState, SegmentReport, Summary};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};

/// Default retention of sessions, in days, for tenants without settings.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

/// Per-tenant settings. A tenant that was never upserted has the defaults of
/// [`TenantSettings::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSettings {
    pub tenant: String,
    /// Sessions (with their segments and evidence) and batch jobs older than this are
    /// deleted by `sweep_expired`. 1 ..= 36500; default 30.
    pub retention_days: u32,
    /// Whether `add_evidence` may store media. Default false.
    pub evidence_capture: bool,
    /// Whether `enrol` may store identity embeddings (biometric data). Default false.
    pub enrolment_enabled: bool,
    /// Whether sessions are searched against the tenant's other enrolled candidates
    /// and its blocklist, which may then hold embeddings, and session identities are
    /// kept for blocklisting. Default false. Results written before it existed lack
    /// it, hence the serde default.
    #[serde(default)]
    pub duplicate_search: bool,
}

impl TenantSettings {
    /// The defaults: 30 days' retention, no evidence capture, no enrolment.
    pub fn new(tenant: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into(),
            retention_days: DEFAULT_RETENTION_DAYS,
            evidence_capture: false,
            enrolment_enabled: false,
            duplicate_search: false,
        }
    }
}

/// A session to create (live gRPC stream, batch file or CLI run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSession {
    pub tenant: String,
    /// Made by the caller (a UUID is a good choice, see [`new_id`](crate::new_id)).
    pub session_id: String,
    pub participant_id: String,
    pub interview_ref: Option<String>,
    /// The candidate this session is about; what `purge_candidate` and
    /// `list_sessions` filter on.
    pub candidate_ref: Option<String>,
    /// Where it came from, e.g. `grpc`, `batch`, `cli`.
    pub source: String,
    /// The analysis settings in force (e.g. `AnalysisConfig` as JSON).
    pub settings_json: String,
    /// Model names and versions (e.g. the summary's `models` list as JSON).
    pub models_json: String,
    /// Unix ms. Retention counts from here.
    pub started_at: i64,
    /// The server node that runs it (`--node-name`), so that when the node dies another
    /// can close it; `None` for sessions no node runs (CLI, batch). Not compared on a
    /// replay: the first writer's node is kept.
    pub node: Option<String>,
}

/// A stored session, with its latest summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub tenant: String,
    pub session_id: String,
    pub participant_id: String,
    pub interview_ref: Option<String>,
    pub candidate_ref: Option<String>,
    pub source: String,
    pub settings_json: String,
    pub models_json: String,
    pub started_at: i64,
    /// Set by `finish_session`; `None` while the session runs (or if it never
    /// finished, e.g. the process died).
    pub ended_at: Option<i64>,
    /// The latest summary given to `finish_session`.
    pub summary_json: Option<String>,
    /// How many segments are stored.
    pub segments: u32,
    /// The server node that runs (or ran) it; see [`NewSession::node`].
    pub node: Option<String>,
}

impl SessionRecord {
    /// The summary, parsed.
    pub fn summary(&self) -> Result<Option<Summary>, serde_json::Error> {
        self.summary_json
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
    }
}

/// Which sessions `list_sessions` returns. Empty filter: all of the tenant's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionFilter {
    pub candidate_ref: Option<String>,
    pub interview_ref: Option<String>,
}

impl SessionFilter {
    pub fn candidate(candidate_ref: impl Into<String>) -> Self {
        Self {
            candidate_ref: Some(candidate_ref.into()),
            ..Self::default()
        }
    }
}

/// One judged segment to append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSegment {
    pub index: u32,
    pub state: RiskState,
    pub start_us: i64,
    pub end_us: i64,
    /// The `SegmentReport` as JSON.
    pub report_json: String,
}

impl NewSegment {
    /// From a report: index, state and span are taken from it.
    pub fn from_report(report: &SegmentReport) -> Result<Self> {
        Ok(Self {
            index: report.segment.index,
            state: report.assessment.state,
            start_us: report.segment.start_us,
            end_us: report.segment.end_us,
            report_json: serde_json::to_string(report)
                .map_err(|e| StoreError::Invalid(format!("segment report: {e}")))?,
        })
    }
}

/// A stored segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentRecord {
    pub index: u32,
    pub state: RiskState,
    pub start_us: i64,
    pub end_us: i64,
    pub report_json: String,
}

impl SegmentRecord {
    /// The report, parsed.
    pub fn report(&self) -> Result<SegmentReport, serde_json::Error> {
        serde_json::from_str(&self.report_json)
    }
}

/// A change of a session's risk state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChangeRecord {
    /// Stream time of the change.
    pub at_us: i64,
    /// `None` for the session's first state.
    pub from: Option<RiskState>,
    pub to: RiskState,
    pub reason: String,
}

/// The result of one liveness challenge (e.g. "turn your head") of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeRecord {
    pub challenge_id: String,
    pub kind: String,
    pub result_json: String,
    /// Unix ms, when the store recorded it.
    pub recorded_at: i64,
}

/// A `Challenge` call made on one node for a session another node runs, left in the
/// store for that node to start and answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewChallengeRequest {
    pub tenant: String,
    pub session_id: String,
    /// Made by the caller (a UUID).
    pub request_id: String,
    /// The node asked: the one that runs the session.
    pub node: String,
    pub kind: String,
    pub window_ms: u32,
    /// Unix ms.
    pub requested_at: i64,
}

/// A stored challenge request, with the asked node's answer once it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeRequest {
    pub tenant: String,
    pub session_id: String,
    pub request_id: String,
    pub node: String,
    pub kind: String,
    pub window_ms: u32,
    pub requested_at: i64,
    /// The answer as the node wrote it (JSON, opaque to the store).
    pub answer_json: Option<String>,
    pub answered_at: Option<i64>,
}

/// A write other nodes may be waiting for, as a change feed (`Store::change_feed`)
/// reports it once committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Change {
    /// A request for the challenge node `node` (made, or answered).
    ChallengeRequest {
        tenant: String,
        request_id: String,
        node: String,
    },
    /// A session's new segment, state change or challenge result, or its end.
    Session { tenant: String, session_id: String },
}

/// An identity embedding of a candidate (biometric data). Only
/// [`Store::enrolment`](crate::Store::enrolment) returns one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrolment {
    pub candidate_ref: String,
    pub model_version: String,
    pub embedding: Vec<f32>,
    pub source_session: Option<String>,
    /// Unix ms, when the store recorded it.
    pub enrolled_at: i64,
}

/// What is known about an enrolment, without the embedding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentInfo {
    pub candidate_ref: String,
    pub model_version: String,
    /// Length of the embedding.
    pub dims: u32,
    pub source_session: Option<String>,
    pub enrolled_at: i64,
}

/// A stored piece of evidence (e.g. a JPEG of a frame that triggered an alert).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRecord {
    /// Made by the store (UUID v4).
    pub id: String,
    pub session_id: String,
    pub segment_index: u32,
    pub kind: String,
    pub size_bytes: u64,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    /// Backend-specific location; for SQLite the file path relative to the data
    /// directory (`evidence/<tenant>/<session>/<file>`).
    pub location: String,
    pub created_at: i64,
}

/// Where a batch job file stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobFileStatus {
    Pending,
    Done,
    Failed,
}

impl JobFileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(Self::Pending),
            "done" => Ok(Self::Done),
            "failed" => Ok(Self::Failed),
            other => Err(StoreError::Backend(format!(
                "corrupt row: job file status {other:?}"
            ))),
        }
    }
}

/// How one file of a batch job ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileOutcome {
    /// Analysed; the result (e.g. segments and summary) as JSON.
    Done { result_json: String },
    /// Could not be analysed; the error message.
    Failed { error: String },
}

/// One file of a batch job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFileRecord {
    pub path: String,
    pub content_hash: String,
    /// Identifies the result: hash of content + model versions + settings.
    pub key: String,
    pub status: JobFileStatus,
    pub result_json: Option<String>,
    pub error: Option<String>,
    /// Unix ms, when the store recorded the outcome.
    pub completed_at: Option<i64>,
}

/// File counts of a batch job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobProgress {
    pub total: u32,
    pub pending: u32,
    pub done: u32,
    pub failed: u32,
}

/// A batch job as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobInfo {
    pub job_id: String,
    pub settings_json: String,
    pub created_at: i64,
    pub progress: JobProgress,
}

/// A job, of any tenant, with files still pending: work any node may take up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenJob {
    pub tenant: String,
    pub job_id: String,
    pub settings_json: String,
}

/// A batch job with its files, in the order they were added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    pub info: JobInfo,
    pub files: Vec<JobFileRecord>,
}

/// What a purge or sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeReport {
    pub sessions: u64,
    pub segments: u64,
    pub state_changes: u64,
    pub challenges: u64,
    /// Evidence rows.
    pub evidence: u64,
    /// Evidence files removed from disk (can exceed `evidence` when a crash left an
    /// unrecorded file behind).
    pub evidence_files: u64,
    pub enrolments: u64,
    /// Session identities kept for blocklisting (with duplicate search on).
    pub session_identities: u64,
    pub blocklist: u64,
    pub audit_log: u64,
    pub jobs: u64,
    pub job_files: u64,
}

impl PurgeReport {
    /// Every count with its name, in a fixed order (for printing and metrics).
    pub fn counts(&self) -> [(&'static str, u64); 12] {
        [
            ("sessions", self.sessions),
            ("segments", self.segments),
            ("state_changes", self.state_changes),
            ("challenges", self.challenges),
            ("evidence", self.evidence),
            ("evidence_files", self.evidence_files),
            ("enrolments", self.enrolments),
            ("session_identities", self.session_identities),
            ("blocklist", self.blocklist),
            ("audit_log", self.audit_log),
            ("jobs", self.jobs),
            ("job_files", self.job_files),
        ]
    }

    pub(crate) fn add(&mut self, o: &PurgeReport) {
        self.sessions += o.sessions;
        self.segments += o.segments;
        self.state_changes += o.state_changes;
        self.challenges += o.challenges;
        self.evidence += o.evidence;
        self.evidence_files += o.evidence_files;
        self.enrolments += o.enrolments;
        self.session_identities += o.session_identities;
        self.blocklist += o.blocklist;
        self.audit_log += o.audit_log;
        self.jobs += o.jobs;
        self.job_files += o.job_files;
    }
}

/// What `sweep_expired` deleted.
pub type SweepReport = PurgeReport;

/// An identity to blocklist: an embedding taken from a stored session's identity or a
/// candidate's enrolment, with words for the people who review matches.
#[derive(Clone, PartialEq)]
pub struct NewBlocklistEntry {
    pub model_version: String,
    pub embedding: Vec<f32>,
    /// A name for reviewers, e.g. "fraud ring March 2026 #3".
    pub label: String,
    /// Why the identity is blocked.
    pub reason: String,
    /// The candidate the identity was enrolled under, if any: purging that candidate
    /// removes the entry.
    pub candidate_ref: Option<String>,
    /// The session it was taken from, if any.
    pub source_session: Option<String>,
}

/// Biometric data stays out of logs: the embedding is never printed.
impl std::fmt::Debug for NewBlocklistEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewBlocklistEntry")
            .field("model_version", &self.model_version)
            .field("embedding", &format_args!("{}-d", self.embedding.len()))
            .field("label", &self.label)
            .field("reason", &self.reason)
            .field("candidate_ref", &self.candidate_ref)
            .field("source_session", &self.source_session)
            .finish()
    }
}

/// A blocklist entry as listed: never with its embedding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlocklistEntry {
    /// Made by the store.
    pub entry_id: String,
    pub model_version: String,
    pub label: String,
    pub reason: String,
    pub candidate_ref: Option<String>,
    pub source_session: Option<String>,
    /// Unix ms. The entry expires with the tenant's retention period from here.
    pub added_at: i64,
}

/// Every identity one tenant's sessions are searched against, for one model version,
/// read in one transaction with the generation it reflects.
#[derive(Clone, Default, PartialEq)]
pub struct IdentityGallery {
    /// See [`Store::identity_generation`](crate::Store::identity_generation).
    pub generation: i64,
    /// (candidate ref, unit embedding) of every enrolled candidate.
    pub enrolled: Vec<(String, Vec<f32>)>,
    /// (entry, embedding) of every blocklist entry.
    pub blocked: Vec<(BlocklistEntry, Vec<f32>)>,
}

impl std::fmt::Debug for IdentityGallery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityGallery")
            .field("generation", &self.generation)
            .field("enrolled", &self.enrolled.len())
            .field("blocked", &self.blocked.len())
            .finish()
    }
}

/// One line to add to the audit log: who read or found what about whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    /// What happened, e.g. `identity_match` (a search returned a match); later also
    /// reads of stored results.
    pub kind: String,
    pub session_id: Option<String>,
    /// Who caused it (the API key's tenant, `cli`, a service), when known.
    pub caller: Option<String>,
    /// What it was about, as JSON (e.g. the matched reference and the similarity).
    pub detail_json: String,
}

impl NewAuditEntry {
    /// A read of stored results: `kind` names what was read (e.g. `read_session`), the
    /// session or the batch job it was.
    pub fn read(
        kind: &str,
        session_id: Option<&str>,
        job_id: Option<&str>,
        caller: String,
    ) -> Self {
        Self {
            kind: kind.into(),
            session_id: session_id.map(str::to_owned),
            caller: Some(caller),
            detail_json: serde_json::json!({ "job_id": job_id }).to_string(),
        }
    }
}

/// A stored audit log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: i64,
    pub tenant: String,
    pub kind: String,
    pub session_id: Option<String>,
    pub caller: Option<String>,
    pub detail_json: String,
    /// Unix ms.
    pub at: i64,
}
