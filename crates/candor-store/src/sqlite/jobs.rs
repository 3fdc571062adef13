//! Batch jobs and the outcome of each of their files.

use rusqlite::{OptionalExtension, Transaction, params};

use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::now_ms;
use crate::types::{
    FileOutcome, JobFileRecord, JobFileStatus, JobInfo, JobProgress, JobRecord, OpenJob,
};
use crate::validate::{self, long_text};

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

pub(super) fn create(
    store: &SqliteStore,
    tenant: &str,
    job_id: &str,
    settings_json: &str,
    created_at: i64,
) -> Result<()> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("job id", job_id)?;
    validate::json("job settings", settings_json)?;
    store.write(|tx| {
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

pub(super) fn add_file(
    store: &SqliteStore,
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
    store.write(|tx| {
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
                completed_at = excluded.completed_at,
                claimed_by = NULL,
                claimed_until = NULL",
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

pub(super) fn file_done(
    store: &SqliteStore,
    tenant: &str,
    job_id: &str,
    key: &str,
) -> Result<Option<String>> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("job id", job_id)?;
    validate::text("job file key", key)?;
    store.read(|tx| {
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

pub(super) fn complete_file(
    store: &SqliteStore,
    tenant: &str,
    job_id: &str,
    key: &str,
    outcome: &FileOutcome,
) -> Result<()> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("job id", job_id)?;
    validate::text("job file key", key)?;
    let (status, result, error) = validate::file_outcome(outcome)?;
    store.write(|tx| {
        require_job(tx, tenant, job_id)?;
        let n = tx.execute(
            "UPDATE job_files SET status = ?4, result_json = ?5, error = ?6, completed_at = ?7,
                claimed_by = NULL, claimed_until = NULL
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

pub(super) fn get(store: &SqliteStore, tenant: &str, job_id: &str) -> Result<JobRecord> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("job id", job_id)?;
    store.read(|tx| {
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

pub(super) fn list(store: &SqliteStore, tenant: &str) -> Result<Vec<JobInfo>> {
    validate::path_id("tenant", tenant)?;
    store.read(|tx| {
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

pub(super) fn open(store: &SqliteStore) -> Result<Vec<OpenJob>> {
    store.read(|tx| {
        let mut stmt = tx.prepare_cached(
            "SELECT j.tenant, j.job_id, j.settings_json FROM jobs j
             WHERE EXISTS (SELECT 1 FROM job_files f WHERE f.tenant = j.tenant
                           AND f.job_id = j.job_id AND f.status = 'pending')
             ORDER BY j.created_at, j.tenant, j.job_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(OpenJob {
                tenant: r.get(0)?,
                job_id: r.get(1)?,
                settings_json: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    })
}

/// The key's files, claimed in one `BEGIN IMMEDIATE` transaction: one claimer at a time.
pub(super) fn claim_file(
    store: &SqliteStore,
    tenant: &str,
    job_id: &str,
    key: &str,
    worker: &str,
    now_ms: i64,
    lease_ms: i64,
) -> Result<bool> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("job id", job_id)?;
    validate::text("job file key", key)?;
    validate::text("worker", worker)?;
    store.write(|tx| {
        require_job(tx, tenant, job_id)?;
        let files: i64 = tx.query_row(
            "SELECT COUNT(*) FROM job_files WHERE tenant = ?1 AND job_id = ?2 AND key = ?3",
            params![tenant, job_id, key],
            |r| r.get(0),
        )?;
        if files == 0 {
            return Err(StoreError::not_found("job file with key", key));
        }
        let claimed = tx.execute(
            "UPDATE job_files SET claimed_by = ?4, claimed_until = ?5 + ?6
             WHERE tenant = ?1 AND job_id = ?2 AND key = ?3 AND status <> 'done'
               AND (claimed_by IS NULL OR claimed_by = ?4 OR claimed_until <= ?5)",
            params![tenant, job_id, key, worker, now_ms, lease_ms],
        )?;
        Ok(claimed > 0)
    })
}
