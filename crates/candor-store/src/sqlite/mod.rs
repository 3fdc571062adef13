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

mod files;
mod migrate;
mod rows;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use candor_core::RiskState;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};
use rusqlite::{params, params_from_iter};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};
use crate::now_ms;
use crate::store::Store;
use crate::types::*;
use crate::validate::{self, long_text, opt_text};
use files::{remove_dir_counting, write_file_durably};
use migrate::{current_version, migrate};
use rows::{
    EVIDENCE_COLUMNS, SESSION_COLUMNS, blob_to_embedding, embedding_to_blob, evidence_row,
    opt_state_col, session_row, state_col,
};

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
const DAY_MS: i64 = 86_400_000;

/// The SQLite [`Store`].
pub struct SqliteStore {
    writer: Mutex<Connection>,
    /// Idle read-only connections; `None` for an in-memory database, whose only
    /// connection is the writer.
    readers: Option<Mutex<Vec<Connection>>>,
    db_path: Option<PathBuf>,
    data_dir: Option<PathBuf>,
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

    fn session_dir(&self, tenant: &str, session_id: &str) -> Option<PathBuf> {
        self.data_dir
            .as_ref()
            .map(|d| d.join(EVIDENCE_DIR).join(tenant).join(session_id))
    }

    /// Deletes one session's rows (in `tx`) and then its evidence directory. The
    /// session must exist. Files go before the commit: if removing them fails the rows
    /// stay and the purge can be retried.
    fn purge_session_tx(
        &self,
        tx: &Transaction<'_>,
        tenant: &str,
        session_id: &str,
    ) -> Result<PurgeReport> {
        let del = |table: &str| -> Result<u64> {
            let n = tx.execute(
                &format!("DELETE FROM {table} WHERE tenant = ?1 AND session_id = ?2"),
                params![tenant, session_id],
            )?;
            Ok(n as u64)
        };
        let mut r = PurgeReport {
            segments: del("segments")?,
            state_changes: del("state_changes")?,
            challenges: del("challenges")?,
            evidence: del("evidence")?,
            ..PurgeReport::default()
        };
        tx.execute(
            "UPDATE enrolments SET source_session = NULL WHERE tenant = ?1 AND source_session = ?2",
            params![tenant, session_id],
        )?;
        r.sessions = del("sessions")?;
        if let Some(dir) = self.session_dir(tenant, session_id) {
            r.evidence_files = remove_dir_counting(&dir)?;
            // Tidy the tenant folder if that was its last session (fails if not empty).
            if let Some(parent) = dir.parent() {
                let _ = fs::remove_dir(parent);
            }
        }
        Ok(r)
    }
}

// ---------------------------------------------------------------------------------------
// Helpers

fn session_exists(tx: &Transaction<'_>, tenant: &str, session_id: &str) -> Result<bool> {
    Ok(tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sessions WHERE tenant = ?1 AND session_id = ?2)",
        params![tenant, session_id],
        |r| r.get(0),
    )?)
}

fn require_session(tx: &Transaction<'_>, tenant: &str, session_id: &str) -> Result<()> {
    if session_exists(tx, tenant, session_id)? {
        Ok(())
    } else {
        Err(StoreError::not_found("session", session_id))
    }
}

fn require_job(tx: &Transaction<'_>, tenant: &str, job_id: &str) -> Result<()> {
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM jobs WHERE tenant = ?1 AND job_id = ?2)",
        params![tenant, job_id],
        |r| r.get(0),
    )?;
    if exists {
        Ok(())
    } else {
        Err(StoreError::not_found("job", job_id))
    }
}

fn settings_tx(tx: &Transaction<'_>, tenant: &str) -> Result<TenantSettings> {
    let row = tx
        .query_row(
            "SELECT retention_days, evidence_capture, enrolment_enabled FROM tenants WHERE tenant = ?1",
            params![tenant],
            |r| Ok((r.get::<_, u32>(0)?, r.get::<_, bool>(1)?, r.get::<_, bool>(2)?)),
        )
        .optional()?;
    Ok(match row {
        Some((retention_days, evidence_capture, enrolment_enabled)) => TenantSettings {
            tenant: tenant.to_owned(),
            retention_days,
            evidence_capture,
            enrolment_enabled,
        },
        None => TenantSettings::new(tenant),
    })
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

// ---------------------------------------------------------------------------------------
// The Store

impl Store for SqliteStore {
    fn upsert_tenant(&self, s: &TenantSettings) -> Result<()> {
        validate::path_id("tenant", &s.tenant)?;
        validate::retention_days(s.retention_days)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO tenants (tenant, retention_days, evidence_capture, enrolment_enabled)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (tenant) DO UPDATE SET
                    retention_days = excluded.retention_days,
                    evidence_capture = excluded.evidence_capture,
                    enrolment_enabled = excluded.enrolment_enabled",
                params![
                    s.tenant,
                    s.retention_days,
                    s.evidence_capture,
                    s.enrolment_enabled
                ],
            )?;
            Ok(())
        })
    }

    fn tenant_settings(&self, tenant: &str) -> Result<TenantSettings> {
        validate::path_id("tenant", tenant)?;
        self.read(|tx| settings_tx(tx, tenant))
    }

    fn create_session(&self, s: &NewSession) -> Result<()> {
        validate::path_id("tenant", &s.tenant)?;
        validate::path_id("session id", &s.session_id)?;
        validate::text("participant id", &s.participant_id)?;
        opt_text("interview ref", s.interview_ref.as_deref())?;
        opt_text("candidate ref", s.candidate_ref.as_deref())?;
        validate::text("source", &s.source)?;
        validate::json("settings", &s.settings_json)?;
        validate::json("models", &s.models_json)?;
        self.write(|tx| {
            let existing = tx
                .query_row(
                    &format!(
                        "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.tenant = ?1 AND s.session_id = ?2"
                    ),
                    params![s.tenant, s.session_id],
                    session_row,
                )
                .optional()?;
            if let Some(e) = existing {
                let same = e.participant_id == s.participant_id
                    && e.interview_ref == s.interview_ref
                    && e.candidate_ref == s.candidate_ref
                    && e.source == s.source
                    && e.settings_json == s.settings_json
                    && e.models_json == s.models_json
                    && e.started_at == s.started_at;
                return if same {
                    Ok(())
                } else {
                    Err(StoreError::Conflict(format!(
                        "session {:?} already exists",
                        s.session_id
                    )))
                };
            }
            tx.execute(
                "INSERT INTO sessions (tenant, session_id, participant_id, interview_ref,
                    candidate_ref, source, settings_json, models_json, started_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    s.tenant,
                    s.session_id,
                    s.participant_id,
                    s.interview_ref,
                    s.candidate_ref,
                    s.source,
                    s.settings_json,
                    s.models_json,
                    s.started_at
                ],
            )?;
            Ok(())
        })
    }

    fn finish_session(
        &self,
        tenant: &str,
        session_id: &str,
        summary_json: &str,
        ended_at: i64,
    ) -> Result<()> {
        validate::path_id("tenant", tenant)?;
        validate::path_id("session id", session_id)?;
        validate::json("summary", summary_json)?;
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE sessions SET summary_json = ?3, ended_at = ?4
                 WHERE tenant = ?1 AND session_id = ?2",
                params![tenant, session_id, summary_json, ended_at],
            )?;
            if n == 0 {
                return Err(StoreError::not_found("session", session_id));
            }
            Ok(())
        })
    }

    fn get_session(&self, tenant: &str, session_id: &str) -> Result<SessionRecord> {
        validate::path_id("tenant", tenant)?;
        validate::path_id("session id", session_id)?;
        self.read(|tx| {
            tx.query_row(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.tenant = ?1 AND s.session_id = ?2"
                ),
                params![tenant, session_id],
                session_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::not_found("session", session_id))
        })
    }

    fn list_sessions(
        &self,
        tenant: &str,
        filter: &SessionFilter,
        limit: u32,
    ) -> Result<Vec<SessionRecord>> {
        validate::path_id("tenant", tenant)?;
        opt_text("candidate ref", filter.candidate_ref.as_deref())?;
        opt_text("interview ref", filter.interview_ref.as_deref())?;
        let mut sql = format!("SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.tenant = ?");
        let mut args: Vec<&str> = vec![tenant];
        if let Some(c) = &filter.candidate_ref {
            sql.push_str(" AND s.candidate_ref = ?");
            args.push(c);
        }
        if let Some(i) = &filter.interview_ref {
            sql.push_str(" AND s.interview_ref = ?");
            args.push(i);
        }
        sql.push_str(&format!(
            " ORDER BY s.started_at DESC, s.session_id LIMIT {limit}"
        ));
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map(params_from_iter(args.iter()), session_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn append_segment(&self, tenant: &str, session_id: &str, seg: &NewSegment) -> Result<()> {
        validate::path_id("tenant", tenant)?;
        validate::path_id("session id", session_id)?;
        validate::span(seg.start_us, seg.end_us)?;
        validate::json("segment report", &seg.report_json)?;
        self.write(|tx| {
            require_session(tx, tenant, session_id)?;
            let existing = tx
                .query_row(
                    "SELECT state, start_us, end_us, report_json FROM segments
                     WHERE tenant = ?1 AND session_id = ?2 AND idx = ?3",
                    params![tenant, session_id, seg.index],
                    |r| {
                        Ok((
                            state_col(r, 0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, String>(3)?,
                        ))
                    },
                )
                .optional()?;
            if let Some((state, start_us, end_us, report_json)) = existing {
                let same = state == seg.state
                    && start_us == seg.start_us
                    && end_us == seg.end_us
                    && report_json == seg.report_json;
                return if same {
                    Ok(())
                } else {
                    Err(StoreError::Conflict(format!(
                        "segment {} of session {session_id:?} already stored with different content",
                        seg.index
                    )))
                };
            }
            tx.prepare_cached(
                "INSERT INTO segments (tenant, session_id, idx, state, start_us, end_us, report_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                tenant,
                session_id,
                seg.index,
                seg.state.as_str(),
                seg.start_us,
                seg.end_us,
                seg.report_json
            ])?;
            Ok(())
        })
    }

    fn segments(&self, tenant: &str, session_id: &str) -> Result<Vec<SegmentRecord>> {
        validate::path_id("tenant", tenant)?;
        validate::path_id("session id", session_id)?;
        self.read(|tx| {
            require_session(tx, tenant, session_id)?;
            let mut stmt = tx.prepare_cached(
                "SELECT idx, state, start_us, end_us, report_json FROM segments
                 WHERE tenant = ?1 AND session_id = ?2 ORDER BY idx",
            )?;
            let rows = stmt.query_map(params![tenant, session_id], |r| {
                Ok(SegmentRecord {
                    index: r.get(0)?,
                    state: state_col(r, 1)?,
                    start_us: r.get(2)?,
                    end_us: r.get(3)?,
                    report_json: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
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
        validate::path_id("tenant", tenant)?;
        validate::path_id("session id", session_id)?;
        long_text("reason", reason)?;
        self.write(|tx| {
            require_session(tx, tenant, session_id)?;
            tx.execute(
                "INSERT INTO state_changes (tenant, session_id, at_us, from_state, to_state, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    tenant,
                    session_id,
                    at_us,
                    from.map(RiskState::as_str),
                    to.as_str(),
                    reason
                ],
            )?;
            Ok(())
        })
    }

    fn state_changes(&self, tenant: &str, session_id: &str) -> Result<Vec<StateChangeRecord>> {
        validate::path_id("tenant", tenant)?;
        validate::path_id("session id", session_id)?;
        self.read(|tx| {
            require_session(tx, tenant, session_id)?;
            let mut stmt = tx.prepare_cached(
                "SELECT at_us, from_state, to_state, reason FROM state_changes
                 WHERE tenant = ?1 AND session_id = ?2 ORDER BY at_us, id",
            )?;
            let rows = stmt.query_map(params![tenant, session_id], |r| {
                Ok(StateChangeRecord {
                    at_us: r.get(0)?,
                    from: opt_state_col(r, 1)?,
                    to: state_col(r, 2)?,
                    reason: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn append_challenge(
        &self,
        tenant: &str,
        session_id: &str,
        challenge_id: &str,
        kind: &str,
        result_json: &str,
    ) -> Result<()> {
        validate::path_id("tenant", tenant)?;
        validate::path_id("session id", session_id)?;
        validate::text("challenge id", challenge_id)?;
        validate::text("challenge kind", kind)?;
        validate::json("challenge result", result_json)?;
        self.write(|tx| {
            require_session(tx, tenant, session_id)?;
            let existing = tx
                .query_row(
                    "SELECT kind, result_json FROM challenges
                     WHERE tenant = ?1 AND session_id = ?2 AND challenge_id = ?3",
                    params![tenant, session_id, challenge_id],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
                )
                .optional()?;
            if let Some((k, res)) = existing {
                return if k == kind && res == result_json {
                    Ok(())
                } else {
                    Err(StoreError::Conflict(format!(
                        "challenge {challenge_id:?} already recorded with a different result"
                    )))
                };
            }
            tx.execute(
                "INSERT INTO challenges (tenant, session_id, challenge_id, kind, result_json, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![tenant, session_id, challenge_id, kind, result_json, now_ms()],
            )?;
            Ok(())
        })
    }

    fn challenges(&self, tenant: &str, session_id: &str) -> Result<Vec<ChallengeRecord>> {
        validate::path_id("tenant", tenant)?;
        validate::path_id("session id", session_id)?;
        self.read(|tx| {
            require_session(tx, tenant, session_id)?;
            let mut stmt = tx.prepare_cached(
                "SELECT challenge_id, kind, result_json, recorded_at FROM challenges
                 WHERE tenant = ?1 AND session_id = ?2 ORDER BY rowid",
            )?;
            let rows = stmt.query_map(params![tenant, session_id], |r| {
                Ok(ChallengeRecord {
                    challenge_id: r.get(0)?,
                    kind: r.get(1)?,
                    result_json: r.get(2)?,
                    recorded_at: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn enrol(
        &self,
        tenant: &str,
        candidate_ref: &str,
        embedding: &[f32],
        model_version: &str,
        source_session: Option<&str>,
    ) -> Result<()> {
        validate::path_id("tenant", tenant)?;
        validate::text("candidate ref", candidate_ref)?;
        validate::text("model version", model_version)?;
        validate::embedding(embedding)?;
        if let Some(s) = source_session {
            validate::path_id("source session", s)?;
        }
        self.write(|tx| {
            if !settings_tx(tx, tenant)?.enrolment_enabled {
                return Err(StoreError::Invalid(
                    "enrolment is not enabled for this tenant".into(),
                ));
            }
            if let Some(s) = source_session {
                require_session(tx, tenant, s)?;
            }
            tx.execute(
                "INSERT INTO enrolments (tenant, candidate_ref, model_version, dims, embedding,
                    source_session, enrolled_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (tenant, candidate_ref, model_version) DO UPDATE SET
                    dims = excluded.dims,
                    embedding = excluded.embedding,
                    source_session = excluded.source_session,
                    enrolled_at = excluded.enrolled_at",
                params![
                    tenant,
                    candidate_ref,
                    model_version,
                    embedding.len() as u32,
                    embedding_to_blob(embedding),
                    source_session,
                    now_ms()
                ],
            )?;
            Ok(())
        })
    }

    fn enrolment(
        &self,
        tenant: &str,
        candidate_ref: &str,
        model_version: &str,
    ) -> Result<Enrolment> {
        validate::path_id("tenant", tenant)?;
        validate::text("candidate ref", candidate_ref)?;
        validate::text("model version", model_version)?;
        let row = self.read(|tx| {
            Ok(tx
                .query_row(
                    "SELECT dims, embedding, source_session, enrolled_at FROM enrolments
                     WHERE tenant = ?1 AND candidate_ref = ?2 AND model_version = ?3",
                    params![tenant, candidate_ref, model_version],
                    |r| {
                        Ok((
                            r.get::<_, u32>(0)?,
                            r.get::<_, Vec<u8>>(1)?,
                            r.get::<_, Option<String>>(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    },
                )
                .optional()?)
        })?;
        let (dims, blob, source_session, enrolled_at) =
            row.ok_or_else(|| StoreError::not_found("enrolment of candidate", candidate_ref))?;
        Ok(Enrolment {
            candidate_ref: candidate_ref.to_owned(),
            model_version: model_version.to_owned(),
            embedding: blob_to_embedding(&blob, dims)?,
            source_session,
            enrolled_at,
        })
    }

    fn enrolments(&self, tenant: &str, candidate_ref: &str) -> Result<Vec<EnrolmentInfo>> {
        validate::path_id("tenant", tenant)?;
        validate::text("candidate ref", candidate_ref)?;
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT candidate_ref, model_version, dims, source_session, enrolled_at
                 FROM enrolments WHERE tenant = ?1 AND candidate_ref = ?2 ORDER BY model_version",
            )?;
            let rows = stmt.query_map(params![tenant, candidate_ref], |r| {
                Ok(EnrolmentInfo {
                    candidate_ref: r.get(0)?,
                    model_version: r.get(1)?,
                    dims: r.get(2)?,
                    source_session: r.get(3)?,
                    enrolled_at: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn add_evidence(
        &self,
        tenant: &str,
        session_id: &str,
        segment_index: u32,
        kind: &str,
        bytes: &[u8],
    ) -> Result<EvidenceRecord> {
        validate::path_id("tenant", tenant)?;
        validate::path_id("session id", session_id)?;
        validate::path_id("evidence kind", kind)?;
        if bytes.is_empty() {
            return Err(StoreError::Invalid("evidence is empty".into()));
        }
        let mut conn = self.lock_writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !settings_tx(&tx, tenant)?.evidence_capture {
            return Err(StoreError::Invalid(
                "evidence capture is not enabled for this tenant".into(),
            ));
        }
        require_session(&tx, tenant, session_id)?;
        let Some(data_dir) = &self.data_dir else {
            return Err(StoreError::Invalid(
                "an in-memory store keeps no evidence".into(),
            ));
        };
        let id = uuid::Uuid::new_v4().to_string();
        let location =
            format!("{EVIDENCE_DIR}/{tenant}/{session_id}/{segment_index:08}-{kind}-{id}.bin");
        let path = data_dir.join(&location);
        let record = EvidenceRecord {
            id,
            session_id: session_id.to_owned(),
            segment_index,
            kind: kind.to_owned(),
            size_bytes: bytes.len() as u64,
            sha256: hex(&Sha256::digest(bytes)),
            location,
            created_at: now_ms(),
        };
        write_file_durably(&path, bytes)
            .map_err(|e| StoreError::Backend(format!("cannot write {}: {e}", path.display())))?;
        let committed = tx
            .execute(
                &format!(
                    "INSERT INTO evidence ({EVIDENCE_COLUMNS}, tenant) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ),
                params![
                    record.id,
                    record.session_id,
                    record.segment_index,
                    record.kind,
                    record.size_bytes as i64,
                    record.sha256,
                    record.location,
                    record.created_at,
                    tenant
                ],
            )
            .and_then(|_| tx.commit());
        if let Err(e) = committed {
            let _ = fs::remove_file(&path);
            return Err(e.into());
        }
        Ok(record)
    }

    fn evidence(&self, tenant: &str, session_id: &str) -> Result<Vec<EvidenceRecord>> {
        validate::path_id("tenant", tenant)?;
        validate::path_id("session id", session_id)?;
        self.read(|tx| {
            require_session(tx, tenant, session_id)?;
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE tenant = ?1 AND session_id = ?2
                 ORDER BY segment_index, created_at, rowid"
            ))?;
            let rows = stmt.query_map(params![tenant, session_id], evidence_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn read_evidence(&self, tenant: &str, evidence_id: &str) -> Result<Vec<u8>> {
        validate::path_id("tenant", tenant)?;
        validate::text("evidence id", evidence_id)?;
        let location: String = self
            .read(|tx| {
                Ok(tx
                    .query_row(
                        "SELECT location FROM evidence WHERE tenant = ?1 AND id = ?2",
                        params![tenant, evidence_id],
                        |r| r.get(0),
                    )
                    .optional()?)
            })?
            .ok_or_else(|| StoreError::not_found("evidence", evidence_id))?;
        let data_dir = self
            .data_dir
            .as_ref()
            .ok_or_else(|| StoreError::not_found("evidence", evidence_id))?;
        let path = data_dir.join(location);
        fs::read(&path).map_err(|e| {
            StoreError::Backend(format!("cannot read evidence {}: {e}", path.display()))
        })
    }

    fn create_job(
        &self,
        tenant: &str,
        job_id: &str,
        settings_json: &str,
        created_at: i64,
    ) -> Result<()> {
        validate::path_id("tenant", tenant)?;
        validate::path_id("job id", job_id)?;
        validate::json("job settings", settings_json)?;
        self.write(|tx| {
            let existing: Option<String> = tx
                .query_row(
                    "SELECT settings_json FROM jobs WHERE tenant = ?1 AND job_id = ?2",
                    params![tenant, job_id],
                    |r| r.get(0),
                )
                .optional()?;
            match existing {
                Some(s) if s == settings_json => Ok(()),
                Some(_) => Err(StoreError::Conflict(format!(
                    "job {job_id:?} already exists with different settings"
                ))),
                None => {
                    tx.execute(
                        "INSERT INTO jobs (tenant, job_id, settings_json, created_at)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![tenant, job_id, settings_json, created_at],
                    )?;
                    Ok(())
                }
            }
        })
    }

    fn add_job_file(
        &self,
        tenant: &str,
        job_id: &str,
        path: &str,
        content_hash: &str,
        key: &str,
    ) -> Result<()> {
        validate::path_id("tenant", tenant)?;
        validate::path_id("job id", job_id)?;
        if path.is_empty() {
            return Err(StoreError::Invalid("job file path is empty".into()));
        }
        long_text("job file path", path)?;
        validate::text("content hash", content_hash)?;
        validate::text("job file key", key)?;
        self.write(|tx| {
            require_job(tx, tenant, job_id)?;
            let existing: Option<String> = tx
                .query_row(
                    "SELECT key FROM job_files WHERE tenant = ?1 AND job_id = ?2 AND path = ?3",
                    params![tenant, job_id, path],
                    |r| r.get(0),
                )
                .optional()?;
            if existing.as_deref() == Some(key) {
                return Ok(());
            }
            // A file whose key already has a result in this job (a copy, or the same
            // file under another name) takes that result.
            let done: Option<(String, Option<i64>)> = tx
                .query_row(
                    "SELECT result_json, completed_at FROM job_files
                     WHERE tenant = ?1 AND job_id = ?2 AND key = ?3 AND status = 'done' LIMIT 1",
                    params![tenant, job_id, key],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (status, result, completed_at) = match done {
                Some((result, at)) => (JobFileStatus::Done, Some(result), at),
                None => (JobFileStatus::Pending, None, None),
            };
            tx.execute(
                "INSERT INTO job_files (tenant, job_id, path, content_hash, key, status,
                    result_json, error, completed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8)
                 ON CONFLICT (tenant, job_id, path) DO UPDATE SET
                    content_hash = excluded.content_hash,
                    key = excluded.key,
                    status = excluded.status,
                    result_json = excluded.result_json,
                    error = NULL,
                    completed_at = excluded.completed_at",
                params![
                    tenant,
                    job_id,
                    path,
                    content_hash,
                    key,
                    status.as_str(),
                    result,
                    completed_at
                ],
            )?;
            Ok(())
        })
    }

    fn job_file_done(&self, tenant: &str, job_id: &str, key: &str) -> Result<Option<String>> {
        validate::path_id("tenant", tenant)?;
        validate::path_id("job id", job_id)?;
        validate::text("job file key", key)?;
        self.read(|tx| {
            require_job(tx, tenant, job_id)?;
            Ok(tx
                .query_row(
                    "SELECT result_json FROM job_files
                     WHERE tenant = ?1 AND job_id = ?2 AND key = ?3 AND status = 'done' LIMIT 1",
                    params![tenant, job_id, key],
                    |r| r.get(0),
                )
                .optional()?)
        })
    }

    fn complete_job_file(
        &self,
        tenant: &str,
        job_id: &str,
        key: &str,
        outcome: &FileOutcome,
    ) -> Result<()> {
        validate::path_id("tenant", tenant)?;
        validate::path_id("job id", job_id)?;
        validate::text("job file key", key)?;
        let (status, result, error) = match outcome {
            FileOutcome::Done { result_json } => {
                validate::json("job file result", result_json)?;
                (JobFileStatus::Done, Some(result_json.as_str()), None)
            }
            FileOutcome::Failed { error } => {
                long_text("job file error", error)?;
                (JobFileStatus::Failed, None, Some(error.as_str()))
            }
        };
        self.write(|tx| {
            require_job(tx, tenant, job_id)?;
            let n = tx.execute(
                "UPDATE job_files SET status = ?4, result_json = ?5, error = ?6, completed_at = ?7
                 WHERE tenant = ?1 AND job_id = ?2 AND key = ?3",
                params![
                    tenant,
                    job_id,
                    key,
                    status.as_str(),
                    result,
                    error,
                    now_ms()
                ],
            )?;
            if n == 0 {
                return Err(StoreError::not_found("job file with key", key));
            }
            Ok(())
        })
    }

    fn job(&self, tenant: &str, job_id: &str) -> Result<JobRecord> {
        validate::path_id("tenant", tenant)?;
        validate::path_id("job id", job_id)?;
        self.read(|tx| {
            let (settings_json, created_at): (String, i64) = tx
                .query_row(
                    "SELECT settings_json, created_at FROM jobs WHERE tenant = ?1 AND job_id = ?2",
                    params![tenant, job_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or_else(|| StoreError::not_found("job", job_id))?;
            let mut stmt = tx.prepare_cached(
                "SELECT path, content_hash, key, status, result_json, error, completed_at
                 FROM job_files WHERE tenant = ?1 AND job_id = ?2 ORDER BY id",
            )?;
            let rows = stmt.query_map(params![tenant, job_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                ))
            })?;
            let mut progress = JobProgress::default();
            let mut files = Vec::new();
            for row in rows {
                let (path, content_hash, key, status, result_json, error, completed_at) = row?;
                let status = JobFileStatus::parse(&status)?;
                progress.total += 1;
                match status {
                    JobFileStatus::Pending => progress.pending += 1,
                    JobFileStatus::Done => progress.done += 1,
                    JobFileStatus::Failed => progress.failed += 1,
                }
                files.push(JobFileRecord {
                    path,
                    content_hash,
                    key,
                    status,
                    result_json,
                    error,
                    completed_at,
                });
            }
            Ok(JobRecord {
                info: JobInfo {
                    job_id: job_id.to_owned(),
                    settings_json,
                    created_at,
                    progress,
                },
                files,
            })
        })
    }

    fn list_jobs(&self, tenant: &str) -> Result<Vec<JobInfo>> {
        validate::path_id("tenant", tenant)?;
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT j.job_id, j.settings_json, j.created_at,
                    COUNT(f.id),
                    COALESCE(SUM(f.status = 'pending'), 0),
                    COALESCE(SUM(f.status = 'done'), 0),
                    COALESCE(SUM(f.status = 'failed'), 0)
                 FROM jobs j
                 LEFT JOIN job_files f ON f.tenant = j.tenant AND f.job_id = j.job_id
                 WHERE j.tenant = ?1
                 GROUP BY j.job_id
                 ORDER BY j.created_at DESC, j.job_id",
            )?;
            let rows = stmt.query_map(params![tenant], |r| {
                Ok(JobInfo {
                    job_id: r.get(0)?,
                    settings_json: r.get(1)?,
                    created_at: r.get(2)?,
                    progress: JobProgress {
                        total: r.get(3)?,
                        pending: r.get(4)?,
                        done: r.get(5)?,
                        failed: r.get(6)?,
                    },
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn purge_session(&self, tenant: &str, session_id: &str) -> Result<PurgeReport> {
        validate::path_id("tenant", tenant)?;
        validate::path_id("session id", session_id)?;
        self.write(|tx| {
            require_session(tx, tenant, session_id)?;
            self.purge_session_tx(tx, tenant, session_id)
        })
    }

    fn purge_candidate(&self, tenant: &str, candidate_ref: &str) -> Result<PurgeReport> {
        validate::path_id("tenant", tenant)?;
        validate::text("candidate ref", candidate_ref)?;
        self.write(|tx| {
            let ids: Vec<String> = tx
                .prepare(
                    "SELECT session_id FROM sessions WHERE tenant = ?1 AND candidate_ref = ?2",
                )?
                .query_map(params![tenant, candidate_ref], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut report = PurgeReport::default();
            for id in ids {
                report.add(&self.purge_session_tx(tx, tenant, &id)?);
            }
            report.enrolments = tx.execute(
                "DELETE FROM enrolments WHERE tenant = ?1 AND candidate_ref = ?2",
                params![tenant, candidate_ref],
            )? as u64;
            Ok(report)
        })
    }

    fn sweep_expired(&self, now_ms: i64) -> Result<SweepReport> {
        // Expired: older than the retention period, i.e. now - started_at > retention.
        let expired: Vec<(String, String)> = self.read(|tx| {
            let mut stmt = tx.prepare(
                "SELECT s.tenant, s.session_id FROM sessions s
                 LEFT JOIN tenants t ON t.tenant = s.tenant
                 WHERE s.started_at < ?1 - COALESCE(t.retention_days, ?2) * ?3",
            )?;
            let rows = stmt.query_map(params![now_ms, DEFAULT_RETENTION_DAYS, DAY_MS], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        let mut report = SweepReport::default();
        // One transaction per session, so a long sweep never holds the write lock for
        // long; a session purged meanwhile is skipped.
        for (tenant, session_id) in expired {
            let r = self.write(|tx| {
                if session_exists(tx, &tenant, &session_id)? {
                    self.purge_session_tx(tx, &tenant, &session_id)
                } else {
                    Ok(PurgeReport::default())
                }
            })?;
            report.add(&r);
        }
        let (job_files, jobs) = self.write(|tx| {
            const EXPIRED_JOBS: &str = "SELECT j.tenant, j.job_id FROM jobs j
                 LEFT JOIN tenants t ON t.tenant = j.tenant
                 WHERE j.created_at < ?1 - COALESCE(t.retention_days, ?2) * ?3";
            let p = params![now_ms, DEFAULT_RETENTION_DAYS, DAY_MS];
            let files = tx.execute(
                &format!("DELETE FROM job_files WHERE (tenant, job_id) IN ({EXPIRED_JOBS})"),
                p,
            )?;
            let jobs = tx.execute(
                &format!("DELETE FROM jobs WHERE (tenant, job_id) IN ({EXPIRED_JOBS})"),
                p,
            )?;
            Ok((files as u64, jobs as u64))
        })?;
        report.job_files = job_files;
        report.jobs = jobs;
        Ok(report)
    }
}
