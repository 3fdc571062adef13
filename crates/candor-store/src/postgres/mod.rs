//! The PostgreSQL store, for several server nodes sharing one database.
//!
//! Opened with a URL (`postgres://user:password@host:5432/candor`); the schema is
//! migrated at open under an advisory lock, so nodes starting together migrate once.
//! Evidence bytes are kept in the database (no data directory), so every node serves
//! them. The retention sweep takes a session-level advisory lock first: while one node
//! sweeps, a sweep from another returns at once with nothing deleted.
//!
//! Connections come from a small pool ([`pool`]); each call is one transaction. Reads
//! run `REPEATABLE READ, READ ONLY` (one snapshot, as SQLite's read transactions);
//! writes run `READ COMMITTED` and are written so that concurrent writers of the same
//! key end in the same state as serial ones (`INSERT … ON CONFLICT`).
//!
//! TLS is not supported yet: connect over loopback, a private network or a socket.
//!
//! Code layout mirrors `sqlite/`: one module per record kind holds the SQL, `migrate`
//! and `rows` serve them, and [`temp_cluster`] starts a throwaway server for tests.

mod audit;
mod challenge_requests;
mod challenges;
mod changes;
mod enrolments;
mod evidence;
mod identities;
mod jobs;
mod migrate;
mod nodes;
mod pool;
mod retention;

mod rows;
pub mod schema;
mod segments;
mod sessions;
mod state_changes;
pub mod temp_cluster;
mod tenants;
mod tls;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use candor_core::RiskState;
use postgres::{Config, IsolationLevel, Transaction};

use crate::blobs::EvidenceBlobs;
use crate::error::{Result, StoreError};
use crate::store::{ChangeFeed, Store};
use crate::types::*;
use pool::Pool;
pub use retention::SWEEP_LOCK;

/// How long opening a connection may take before the call fails with `Backend`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `location` names a PostgreSQL database rather than a data directory.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// The PostgreSQL [`Store`].
pub struct PostgresStore {
    pool: Pool,
    /// The URL without its password, for messages.
    shown: String,
    /// Where evidence bytes go when not into their rows (shared object storage).
    blobs: Option<Arc<EvidenceBlobs>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.shown)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` and applies pending migrations. Fails with
    /// `Backend` if it cannot connect, or if the database was written by a newer build.
    pub fn open(url: &str) -> Result<Self> {
        let (client_url, root_cert) = tls::take_root_cert(url);
        let mut config = Config::from_str(&client_url)
            .map_err(|e| StoreError::Invalid(format!("bad PostgreSQL URL {}: {e}", redact(url))))?;
        let connector = tls::Connector::for_config(&config, root_cert.as_deref())?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("candor");
        }
        let store = Self {
            pool: Pool::new(config, connector),
            shown: redact(url),
            blobs: None,
        };
        let mut client = store.pool.get().map_err(|e| match e {
            StoreError::Backend(m) => {
                StoreError::Backend(format!("cannot connect to {}: {m}", store.shown))
            }
            other => other,
        })?;
        migrate::migrate(&mut client)?;
        drop(client);
        Ok(store)
    }

    /// Keeps evidence bytes in `blobs` instead of their rows.
    pub fn with_evidence_blobs(mut self, blobs: Arc<EvidenceBlobs>) -> Self {
        self.blobs = Some(blobs);
        self
    }

    /// The URL, without its password.
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// The schema version of the database (the highest applied migration).
    pub fn schema_version(&self) -> Result<i64> {
        let mut client = self.pool.get()?;
        migrate::current_version(&mut *client)
    }

    /// Runs `f` in one read-only transaction on one snapshot.
    fn read<T>(&self, f: impl FnOnce(&mut Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut client = self.pool.get()?;
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let out = f(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` in one write transaction, committed if `f` succeeds.
    fn write<T>(&self, f: impl FnOnce(&mut Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut client = self.pool.get()?;
        let mut tx = client.transaction()?;
        let out = f(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }
}

/// `url` with any password (before the host, or a `password=` parameter) replaced by
/// `***`.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (main, query) = match rest.split_once('?') {
        Some((main, query)) => (main, Some(query)),
        None => (rest, None),
    };
    let main = match main.rsplit_once('@') {
        Some((auth, host)) => match auth.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => main.to_owned(),
        },
        None => main.to_owned(),
    };
    let Some(query) = query else {
        return format!("{scheme}://{main}");
    };
    let query: Vec<&str> = query
        .split('&')
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***"
            } else {
                kv
            }
        })
        .collect();
    format!("{scheme}://{main}?{}", query.join("&"))
}

// ---------------------------------------------------------------------------------------
// The Store: each call goes to the module of its record kind.

impl Store for PostgresStore {
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

    fn change_feed(&self) -> Result<Option<Box<dyn ChangeFeed>>> {
        Ok(Some(Box::new(changes::Feed::listen(&self.pool)?)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("postgres://candor:s3cret@db:5432/candor"),
            "postgres://candor:***@db:5432/candor"
        );
        assert_eq!(redact("postgres://db/candor"), "postgres://db/candor");
        assert_eq!(
            redact("postgresql://u@db/c?sslmode=disable&password=s3cret"),
            "postgresql://u@db/c?sslmode=disable&password=***"
        );
        assert!(is_postgres_url("postgresql://db/x"));
        assert!(!is_postgres_url("./candor-data"));
    }
}
