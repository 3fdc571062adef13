//! The embedded default store: SQLite in WAL mode, in a data directory.
//!
//! Layout of the data directory (default `./candor-data`):
//!
//! ```text
//! candor.db                        the database (plus candor.db-wal, candor.db-shm)
//! evidence/<tenant>/<session>/     evidence files of one session
//! ```
//!
//! Connections: one writer connection behind a mutex (every write is one
//! `BEGIN IMMEDIATE` transaction, so writes from many threads queue up there) and a
//! small pool of read-only connections, which WAL lets read while a write is in
//! progress. Every connection waits up to [`BUSY_TIMEOUT`] for a lock held by another
//! process before failing with `Backend`.
//!
//! Durability: `journal_mode=WAL`, `synchronous=NORMAL`. A process crash loses nothing
//! that was committed; an OS crash or power cut may roll back the last commits
//! (typically the segment in flight). Evidence files are written and fsynced before
//! their row is committed; a crash in between leaves an unrecorded file in the
//! session's directory, which purging or sweeping the session removes.
//!
//! Code layout: this module holds the connections and the [`Store`] impl, which hands
//! every call to the module of its record kind (`tenants`, `sessions`, `segments`,
//! `state_changes`, `challenges`, `enrolments`, `identities`, `audit`, `evidence`, `jobs`,
//! `retention`); those
//! validate the input and hold the SQL. `migrate`, `rows` (row to record mapping) and
//! `files` (evidence file I/O) serve them and use none of them.

mod audit;
mod challenge_requests;
mod challenges;
mod enrolments;
mod evidence;
mod files;
mod identities;
mod jobs;
mod migrate;
mod nodes;
mod retention;
mod rows;
mod segments;
mod sessions;
mod state_changes;
mod tenants;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use candor_core::RiskState;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::blobs::EvidenceBlobs;
use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::types::*;
use migrate::{current_version, migrate};

/// Where `candor` keeps its data unless told otherwise.
pub const DEFAULT_DATA_DIR: &str = "./candor-data";
/// The database file inside the data directory.
pub const DB_FILE: &str = "candor.db";
/// The evidence folder inside the data directory.
pub const EVIDENCE_DIR: &str = "evidence";
/// How long a connection waits for a lock held elsewhere.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Idle read connections kept open.
const MAX_IDLE_READERS: usize = 4;

/// The SQLite [`Store`].
pub struct SqliteStore {
    writer: Mutex<Connection>,
    /// Idle read-only connections; `None` for an in-memory database, whose only
    /// connection is the writer.
    readers: Option<Mutex<Vec<Connection>>>,
    db_path: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    /// Where evidence bytes go when not into `data_dir` (shared object storage).
    blobs: Option<Arc<EvidenceBlobs>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("db_path", &self.db_path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `data_dir`: the directory, the database
    /// `candor.db` in WAL mode, and any pending migrations. Fails with `Backend` if the
    /// database was written by a newer build (schema version above
    /// [`LATEST_VERSION`](crate::schema::LATEST_VERSION)).
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Self> {
        let data_dir = data_dir.as_ref().to_path_buf();
        fs::create_dir_all(&data_dir).map_err(|e| {
            StoreError::Backend(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        let db_path = data_dir.join(DB_FILE);
        let mut conn = Connection::open(&db_path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "cannot put {} in WAL mode (journal_mode is {mode})",
                db_path.display()
            )));
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        migrate(&mut conn)?;
        Ok(Self {
            writer: Mutex::new(conn),
            readers: Some(Mutex::new(Vec::new())),
            db_path: Some(db_path),
            data_dir: Some(data_dir),
            blobs: None,
        })
    }

    /// A private in-memory store, for tests. It has no data directory, so it refuses
    /// evidence (`Invalid`) even when the tenant has capture on.
    pub fn open_in_memory() -> Result<Self> {
        let mut conn = Connection::open_in_memory()?;
        conn.pragma_update(None, "foreign_keys", true)?;
        migrate(&mut conn)?;
        Ok(Self {
            writer: Mutex::new(conn),
            readers: None,
            db_path: None,
            data_dir: None,
            blobs: None,
        })
    }

    /// The data directory; `None` in memory.
    pub fn data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }

    /// The schema version of the database (the highest applied migration).
    pub fn schema_version(&self) -> Result<i64> {
        self.read(|tx| current_version(tx))
    }

    fn lock_writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock has already rolled its transaction back
        // (Transaction's Drop); the connection is still good.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` in one read transaction (a consistent snapshot).
    fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let (Some(pool), Some(path)) = (&self.readers, &self.db_path) else {
            let mut conn = self.lock_writer();
            let tx = conn.transaction()?;
            return f(&tx);
        };
        let idle = pool.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut conn = match idle {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                c.busy_timeout(BUSY_TIMEOUT)?;
                c
            }
        };
        let out = {
            let tx = conn.transaction()?;
            f(&tx)
            // Dropping `tx` ends the read transaction.
        };
        let mut idle = pool.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        out
    }

    /// Runs `f` in one write transaction, committed if `f` succeeds.
    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Keeps evidence bytes in `blobs` instead of the data directory.
    pub fn with_evidence_blobs(mut self, blobs: Arc<EvidenceBlobs>) -> Self {
        self.blobs = Some(blobs);
        self
    }

    fn session_dir(&self, tenant: &str, session_id: &str) -> Option<PathBuf> {
        self.data_dir
            .as_ref()
            .map(|d| d.join(EVIDENCE_DIR).join(tenant).join(session_id))
    }
}

// ---------------------------------------------------------------------------------------
// The Store: each call goes to the module of its record kind.

impl Store for SqliteStore {
    fn upsert_tenant(&self, s: &TenantSettings) -> Result<()> {
        tenants::upsert(self, s)
    }

    fn tenant_settings(&self, tenant: &str) -> Result<TenantSettings> {
        tenants::settings(self, tenant)
    }

    fn create_session(&self, s: &NewSession) -> Result<()> {
        sessions::create(self, s)
    }

    fn finish_session(
        &self,
        tenant: &str,
        session_id: &str,
        summary_json: &str,
        ended_at: i64,
    ) -> Result<()> {
        sessions::finish(self, tenant, session_id, summary_json, ended_at)
    }

    fn get_session(&self, tenant: &str, session_id: &str) -> Result<SessionRecord> {
        sessions::get(self, tenant, session_id)
    }

    fn unfinished_sessions(&self) -> Result<Vec<SessionRecord>> {
        sessions::unfinished(self)
    }

    fn heartbeat(&self, node: &str, now_ms: i64) -> Result<()> {
        nodes::heartbeat(self, node, now_ms)
    }

    fn last_heartbeat(&self, node: &str) -> Result<Option<i64>> {
        nodes::last_heartbeat(self, node)
    }

    fn orphaned_sessions(
        &self,
        alive_since: i64,
        own_node: Option<&str>,
    ) -> Result<Vec<SessionRecord>> {
        nodes::orphaned_sessions(self, alive_since, own_node)
    }

    fn list_sessions(
        &self,
        tenant: &str,
        filter: &SessionFilter,
        limit: u32,
    ) -> Result<Vec<SessionRecord>> {
        sessions::list(self, tenant, filter, limit)
    }

    fn append_segment(&self, tenant: &str, session_id: &str, seg: &NewSegment) -> Result<()> {
        segments::append(self, tenant, session_id, seg)
    }

    fn segments(&self, tenant: &str, session_id: &str) -> Result<Vec<SegmentRecord>> {
        segments::list_from(self, tenant, session_id, 0)
    }

    fn segments_from(
        &self,
        tenant: &str,
        session_id: &str,
        from: u32,
    ) -> Result<Vec<SegmentRecord>> {
        segments::list_from(self, tenant, session_id, from)
    }

    fn append_state_change(
        &self,
        tenant: &str,
        session_id: &str,
        at_us: i64,
        from: Option<RiskState>,
        to: RiskState,
        reason: &str,
    ) -> Result<()> {
        state_changes::append(self, tenant, session_id, at_us, from, to, reason)
    }

    fn state_changes(&self, tenant: &str, session_id: &str) -> Result<Vec<StateChangeRecord>> {
        state_changes::list(self, tenant, session_id)
    }

    fn append_challenge(
        &self,
        tenant: &str,
        session_id: &str,
        challenge_id: &str,
        kind: &str,
        result_json: &str,
    ) -> Result<()> {
        challenges::append(self, tenant, session_id, challenge_id, kind, result_json)
    }

    fn challenges(&self, tenant: &str, session_id: &str) -> Result<Vec<ChallengeRecord>> {
        challenges::list(self, tenant, session_id)
    }

    fn request_challenge(&self, request: &NewChallengeRequest) -> Result<()> {
        challenge_requests::request(self, request)
    }

    fn pending_challenge_requests(&self, node: &str, since: i64) -> Result<Vec<ChallengeRequest>> {
        challenge_requests::pending(self, node, since)
    }

    fn answer_challenge_request(
        &self,
        tenant: &str,
        request_id: &str,
        answer_json: &str,
        answered_at: i64,
    ) -> Result<()> {
        challenge_requests::answer(self, tenant, request_id, answer_json, answered_at)
    }

    fn challenge_request(&self, tenant: &str, request_id: &str) -> Result<ChallengeRequest> {
        challenge_requests::get(self, tenant, request_id)
    }

    fn enrol(
        &self,
        tenant: &str,
        candidate_ref: &str,
        embedding: &[f32],
        model_version: &str,
        source_session: Option<&str>,
    ) -> Result<()> {
        enrolments::enrol(
            self,
            tenant,
            candidate_ref,
            embedding,
            model_version,
            source_session,
        )
    }

    fn enrolment(
        &self,
        tenant: &str,
        candidate_ref: &str,
        model_version: &str,
    ) -> Result<Enrolment> {
        enrolments::get(self, tenant, candidate_ref, model_version)
    }

    fn enrolments(&self, tenant: &str, candidate_ref: &str) -> Result<Vec<EnrolmentInfo>> {
        enrolments::list(self, tenant, candidate_ref)
    }

    fn save_session_identity(
        &self,
        tenant: &str,
        session_id: &str,
        embedding: &[f32],
        model_version: &str,
    ) -> Result<()> {
        identities::save_session_identity(self, tenant, session_id, embedding, model_version)
    }

    fn session_identity(
        &self,
        tenant: &str,
        session_id: &str,
        model_version: &str,
    ) -> Result<Vec<f32>> {
        identities::session_identity(self, tenant, session_id, model_version)
    }

    fn add_to_blocklist(&self, tenant: &str, entry: &NewBlocklistEntry) -> Result<BlocklistEntry> {
        identities::add_to_blocklist(self, tenant, entry)
    }

    fn blocklist(&self, tenant: &str) -> Result<Vec<BlocklistEntry>> {
        identities::blocklist(self, tenant)
    }

    fn remove_from_blocklist(&self, tenant: &str, entry_id: &str) -> Result<()> {
        identities::remove_from_blocklist(self, tenant, entry_id)
    }

    fn identity_generation(&self, tenant: &str) -> Result<i64> {
        identities::generation(self, tenant)
    }

    fn identity_gallery(&self, tenant: &str, model_version: &str) -> Result<IdentityGallery> {
        identities::gallery(self, tenant, model_version)
    }

    fn append_audit(&self, tenant: &str, entry: &NewAuditEntry) -> Result<()> {
        audit::append(self, tenant, entry)
    }

    fn audit_log(&self, tenant: &str, limit: u32) -> Result<Vec<AuditRecord>> {
        audit::list(self, tenant, limit)
    }

    fn add_evidence(
        &self,
        tenant: &str,
        session_id: &str,
        segment_index: u32,
        kind: &str,
        bytes: &[u8],
    ) -> Result<EvidenceRecord> {
        evidence::add(self, tenant, session_id, segment_index, kind, bytes)
    }

    fn evidence(&self, tenant: &str, session_id: &str) -> Result<Vec<EvidenceRecord>> {
        evidence::list(self, tenant, session_id)
    }

    fn read_evidence(&self, tenant: &str, evidence_id: &str) -> Result<Vec<u8>> {
        evidence::read(self, tenant, evidence_id)
    }

    fn create_job(
        &self,
        tenant: &str,
        job_id: &str,
        settings_json: &str,
        created_at: i64,
    ) -> Result<()> {
        jobs::create(self, tenant, job_id, settings_json, created_at)
    }

    fn add_job_file(
        &self,
        tenant: &str,
        job_id: &str,
        path: &str,
        content_hash: &str,
        key: &str,
    ) -> Result<()> {
        jobs::add_file(self, tenant, job_id, path, content_hash, key)
    }

    fn job_file_done(&self, tenant: &str, job_id: &str, key: &str) -> Result<Option<String>> {
        jobs::file_done(self, tenant, job_id, key)
    }

    fn complete_job_file(
        &self,
        tenant: &str,
        job_id: &str,
        key: &str,
        outcome: &FileOutcome,
    ) -> Result<()> {
        jobs::complete_file(self, tenant, job_id, key, outcome)
    }

    fn job(&self, tenant: &str, job_id: &str) -> Result<JobRecord> {
        jobs::get(self, tenant, job_id)
    }

    fn list_jobs(&self, tenant: &str) -> Result<Vec<JobInfo>> {
        jobs::list(self, tenant)
    }

    fn open_jobs(&self) -> Result<Vec<OpenJob>> {
        jobs::open(self)
    }

    fn claim_job_file(
        &self,
        tenant: &str,
        job_id: &str,
        key: &str,
        worker: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<bool> {
        jobs::claim_file(self, tenant, job_id, key, worker, now_ms, lease_ms)
    }

    fn purge_session(&self, tenant: &str, session_id: &str) -> Result<PurgeReport> {
        retention::purge_session(self, tenant, session_id)
    }

    fn purge_candidate(&self, tenant: &str, candidate_ref: &str) -> Result<PurgeReport> {
        retention::purge_candidate(self, tenant, candidate_ref)
    }

    fn sweep_expired(&self, now_ms: i64) -> Result<SweepReport> {
        retention::sweep_expired(self, now_ms)
    }
}
