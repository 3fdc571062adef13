//! The storage trait every backend implements.

use std::time::Duration;

use candor_core::{RiskState, SegmentReport};

use crate::error::Result;
use crate::types::*;

/// Everything Candor stores, scoped by tenant.
///
/// **Synchronous.** Every method blocks on disk (or network) I/O. From async code call
/// it through `tokio::task::spawn_blocking` (or from a dedicated writer thread fed by a
/// channel); never directly on a runtime worker. Implementations are `Send + Sync`:
/// share one behind an `Arc<dyn Store>`.
///
/// **Tenancy.** Every method takes the tenant and touches only that tenant's rows. A
/// row that belongs to another tenant is reported as [`StoreError::NotFound`], exactly
/// like one that does not exist; listings simply leave it out.
///
/// **Ids.** Tenant, session, job, candidate, challenge ids and job-file keys are made
/// by the caller (a UUID from [`new_id`](crate::new_id) for sessions and jobs is a
/// good choice). Tenant, session and job ids and evidence kinds name directories, so
/// they are 1–128 characters of `[A-Za-z0-9._-]` not starting with `.`; other ids and
/// names are any non-empty text up to 512 bytes. Evidence ids are made by the store.
///
/// **Idempotency.** Writes keyed by a caller id (create session/job, append segment,
/// append challenge) may be replayed: the same data again under the same key is `Ok`
/// and changes nothing; different data under the same key is [`StoreError::Conflict`].
/// Settings, summaries, enrolments and job outcomes are "latest wins".
///
/// **Durability.** Each write is one transaction, committed when the call returns. A
/// crash loses at most the write in flight (for SQLite with `synchronous=NORMAL` in WAL
/// mode, an OS crash or power loss may also roll back the last few commits; a process
/// crash loses nothing that returned).
///
/// [`StoreError::NotFound`]: crate::StoreError::NotFound
/// [`StoreError::Conflict`]: crate::StoreError::Conflict
pub trait Store: Send + Sync {
    // ---- tenants ----

    /// Creates or replaces a tenant's settings.
    fn upsert_tenant(&self, settings: &TenantSettings) -> Result<()>;
    /// The tenant's settings; the defaults ([`TenantSettings::new`]) if never set.
    fn tenant_settings(&self, tenant: &str) -> Result<TenantSettings>;

    // ---- sessions ----

    /// `Conflict` if the id exists for this tenant with different data.
    fn create_session(&self, session: &NewSession) -> Result<()>;
    /// Records the (latest) summary and end time. May be called again (latest wins).
    fn finish_session(
        &self,
        tenant: &str,
        session_id: &str,
        summary_json: &str,
        ended_at: i64,
    ) -> Result<()>;
    fn get_session(&self, tenant: &str, session_id: &str) -> Result<SessionRecord>;
    /// Newest first (by `started_at`), at most `limit`.
    fn list_sessions(
        &self,
        tenant: &str,
        filter: &SessionFilter,
        limit: u32,
    ) -> Result<Vec<SessionRecord>>;

    /// Sessions of every tenant that have no end recorded, oldest first: after a
    /// crash, those the dead process left open (the tenant is in each record). Only
    /// for start-up, before this process opens sessions of its own.
    fn unfinished_sessions(&self) -> Result<Vec<SessionRecord>>;

    // ---- server nodes sharing the store ----

    /// Records that server node `node` is alive at `now_ms` (its heartbeat).
    fn heartbeat(&self, node: &str, now_ms: i64) -> Result<()>;
    /// When `node` last beat (unix ms), if ever.
    fn last_heartbeat(&self, node: &str) -> Result<Option<i64>>;
    /// Sessions of every tenant with no end whose node is gone: its last heartbeat is
    /// older than `alive_since` (unix ms), or it never sent one; with `own_node`, also
    /// that node's own (what it left open before it restarted). Sessions without a
    /// node are never included. Oldest first.
    fn orphaned_sessions(
        &self,
        alive_since: i64,
        own_node: Option<&str>,
    ) -> Result<Vec<SessionRecord>>;

    /// A feed of the [`Change`]s any process makes, as they commit, where the backend
    /// pushes them (PostgreSQL: `LISTEN`/`NOTIFY` on a connection of the feed's own);
    /// `None` where readers have to poll.
    fn change_feed(&self) -> Result<Option<Box<dyn ChangeFeed>>> {
        Ok(None)
    }

    // ---- segments ----

    /// Appends one judged segment, in its own transaction. Replaying the same index
    /// with identical content is `Ok`; different content is `Conflict`.
    fn append_segment(&self, tenant: &str, session_id: &str, segment: &NewSegment) -> Result<()>;
    /// In index order.
    fn segments(&self, tenant: &str, session_id: &str) -> Result<Vec<SegmentRecord>>;
    /// The segments with index `from` or above, in index order: what a reader that
    /// follows a running session fetches each time.
    fn segments_from(
        &self,
        tenant: &str,
        session_id: &str,
        from: u32,
    ) -> Result<Vec<SegmentRecord>>;

    // ---- state changes ----

    fn append_state_change(
        &self,
        tenant: &str,
        session_id: &str,
        at_us: i64,
        from: Option<RiskState>,
        to: RiskState,
        reason: &str,
    ) -> Result<()>;
    /// In stream-time order (then insertion order).
    fn state_changes(&self, tenant: &str, session_id: &str) -> Result<Vec<StateChangeRecord>>;

    // ---- challenges ----

    /// `Conflict` if `challenge_id` was recorded for this session with different data.
    fn append_challenge(
        &self,
        tenant: &str,
        session_id: &str,
        challenge_id: &str,
        kind: &str,
        result_json: &str,
    ) -> Result<()>;
    /// In the order recorded.
    fn challenges(&self, tenant: &str, session_id: &str) -> Result<Vec<ChallengeRecord>>;

    // ---- challenge requests (between nodes) ----

    /// Leaves a request for the node that runs the session. `NotFound` without the
    /// session; replaying the same request is `Ok`, another under its id `Conflict`.
    fn request_challenge(&self, request: &NewChallengeRequest) -> Result<()>;
    /// The unanswered requests for `node` made at or after `since` (unix ms), of every
    /// tenant, oldest first.
    fn pending_challenge_requests(&self, node: &str, since: i64) -> Result<Vec<ChallengeRequest>>;
    /// Records the answer; the first answer stays. `NotFound` without the request.
    fn answer_challenge_request(
        &self,
        tenant: &str,
        request_id: &str,
        answer_json: &str,
        answered_at: i64,
    ) -> Result<()>;
    fn challenge_request(&self, tenant: &str, request_id: &str) -> Result<ChallengeRequest>;

    // ---- enrolments (biometric) ----

    /// Stores (or replaces) the candidate's embedding for that model version.
    /// `Invalid` unless the tenant has `enrolment_enabled`. `source_session`, when
    /// given, must be one of the tenant's sessions (`NotFound` otherwise).
    fn enrol(
        &self,
        tenant: &str,
        candidate_ref: &str,
        embedding: &[f32],
        model_version: &str,
        source_session: Option<&str>,
    ) -> Result<()>;
    /// The only call that returns an embedding.
    fn enrolment(
        &self,
        tenant: &str,
        candidate_ref: &str,
        model_version: &str,
    ) -> Result<Enrolment>;
    /// The candidate's enrolments, without embeddings. Empty if none.
    fn enrolments(&self, tenant: &str, candidate_ref: &str) -> Result<Vec<EnrolmentInfo>>;

    // ---- duplicate search (biometric) ----

    /// Keeps the identity of a session (for a later `AddToBlocklist` from it).
    /// `Invalid` unless the tenant has `duplicate_search`; `NotFound` without the
    /// session. Deleted with the session.
    fn save_session_identity(
        &self,
        tenant: &str,
        session_id: &str,
        embedding: &[f32],
        model_version: &str,
    ) -> Result<()>;
    /// A session's kept identity (`NotFound` if none was kept).
    fn session_identity(
        &self,
        tenant: &str,
        session_id: &str,
        model_version: &str,
    ) -> Result<Vec<f32>>;
    /// `Invalid` unless the tenant has `duplicate_search`.
    fn add_to_blocklist(&self, tenant: &str, entry: &NewBlocklistEntry) -> Result<BlocklistEntry>;
    /// Oldest first, without embeddings.
    fn blocklist(&self, tenant: &str) -> Result<Vec<BlocklistEntry>>;
    /// `NotFound` if the tenant has no such entry.
    fn remove_from_blocklist(&self, tenant: &str, entry_id: &str) -> Result<()>;
    /// A number that changes whenever the tenant's enrolments or blocklist change, by
    /// any path or process (0 before the first). A search index compares it with the
    /// one it was loaded at.
    fn identity_generation(&self, tenant: &str) -> Result<i64>;
    /// Every enrolment and blocklist entry of the tenant for `model_version`, with
    /// embeddings, in one read: what a search index loads.
    fn identity_gallery(&self, tenant: &str, model_version: &str) -> Result<IdentityGallery>;

    // ---- audit log ----

    fn append_audit(&self, tenant: &str, entry: &NewAuditEntry) -> Result<()>;
    /// Newest first, at most `limit`.
    fn audit_log(&self, tenant: &str, limit: u32) -> Result<Vec<AuditRecord>>;

    // ---- evidence ----

    /// Stores evidence media of a segment. `Invalid` unless the tenant has
    /// `evidence_capture`.
    fn add_evidence(
        &self,
        tenant: &str,
        session_id: &str,
        segment_index: u32,
        kind: &str,
        bytes: &[u8],
    ) -> Result<EvidenceRecord>;
    /// The session's evidence, by segment index then time.
    fn evidence(&self, tenant: &str, session_id: &str) -> Result<Vec<EvidenceRecord>>;
    /// The bytes of one piece of evidence.
    fn read_evidence(&self, tenant: &str, evidence_id: &str) -> Result<Vec<u8>>;

    // ---- batch jobs ----

    /// Replaying with the same settings is `Ok` (resume); different settings is
    /// `Conflict`.
    fn create_job(
        &self,
        tenant: &str,
        job_id: &str,
        settings_json: &str,
        created_at: i64,
    ) -> Result<()>;
    /// Adds a file (pending). Re-adding the same path with the same key keeps its
    /// status; with a new key (content, models or settings changed) resets it to
    /// pending.
    fn add_job_file(
        &self,
        tenant: &str,
        job_id: &str,
        path: &str,
        content_hash: &str,
        key: &str,
    ) -> Result<()>;
    /// For resume: the result of a file of this job with this key that is done, by key
    /// (a moved or renamed file is still found). `None` if none is done (failed files
    /// are retried).
    fn job_file_done(&self, tenant: &str, job_id: &str, key: &str) -> Result<Option<String>>;
    /// Records the outcome of every file of the job with this key (latest wins), in one
    /// transaction. `NotFound` if the job has no file with that key.
    fn complete_job_file(
        &self,
        tenant: &str,
        job_id: &str,
        key: &str,
        outcome: &FileOutcome,
    ) -> Result<()>;
    fn job(&self, tenant: &str, job_id: &str) -> Result<JobRecord>;
    /// Newest first.
    fn list_jobs(&self, tenant: &str) -> Result<Vec<JobInfo>>;
    /// Jobs of every tenant with pending files, oldest first: what the nodes sharing
    /// a store share out (each file through [`Store::claim_job_file`]).
    fn open_jobs(&self) -> Result<Vec<OpenJob>>;
    /// Claims the job's file(s) with `key` for `worker` until `now_ms + lease_ms`, so
    /// that several workers on one job score each file once. `true` when claimed: the
    /// file is not done and unclaimed, its lease has ended, or it is already this
    /// worker's (which renews the lease). `false` while another worker's lease runs,
    /// and once the file is done. `NotFound` if the job has no file with that key.
    /// Recording the file's outcome (or re-adding it with a new key) ends the claim.
    fn claim_job_file(
        &self,
        tenant: &str,
        job_id: &str,
        key: &str,
        worker: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<bool>;

    // ---- privacy ----

    /// Deletes the session, every row that belongs to it and its evidence files.
    /// Enrolments made from it are kept, with `source_session` cleared.
    fn purge_session(&self, tenant: &str, session_id: &str) -> Result<PurgeReport>;
    /// Deletes every session of the candidate (as `purge_session`), all their
    /// enrolments and every blocklist entry made from them. Zero counts if the tenant
    /// has nothing on them.
    fn purge_candidate(&self, tenant: &str, candidate_ref: &str) -> Result<PurgeReport>;
    /// Deletes, for every tenant, the sessions that started more than the tenant's
    /// retention period before `now_ms` (as `purge_session`), the batch jobs created
    /// before it, blocklist entries added before it and audit log lines written before
    /// it. Enrolments are not swept; they live until `purge_candidate`.
    fn sweep_expired(&self, now_ms: i64) -> Result<SweepReport>;

    // ---- typed helpers ----

    /// `append_segment` from a report.
    fn append_report(&self, tenant: &str, session_id: &str, report: &SegmentReport) -> Result<()> {
        self.append_segment(tenant, session_id, &NewSegment::from_report(report)?)
    }
}

/// Changes as they commit, from every process on the store (see
/// [`Store::change_feed`]). Blocking; keep it on a thread of its own.
pub trait ChangeFeed: Send {
    /// The next change, waiting at most `timeout`: `Ok(None)` when none came.
    /// `Backend` when the feed's connection is lost: open another feed.
    fn next(&mut self, timeout: Duration) -> Result<Option<Change>>;
}
