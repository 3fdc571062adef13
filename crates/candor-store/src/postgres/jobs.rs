//! Batch jobs and the outcome of each of their files.

use postgres::Transaction;

use super::PostgresStore;
use super::rows::{all, u32_col};
use crate::error::{Result, StoreError};
use crate::now_ms;
use crate::types::{
    FileOutcome, JobFileRecord, JobFileStatus, JobInfo, JobProgress, JobRecord, OpenJob,
};
use crate::validate::{self, long_text};

fn require_job(tx: &mut Transaction<'_>, tenant: &str, job_id: &str) -> Result<()> {
    let exists: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE tenant = $1 AND job_id = $2)",
            &[&tenant, &job_id],
        )?
        .try_get(0)?;
    if exists {
        Ok(())
    } else {
        Err(StoreError::not_found("job", job_id))
    }
}

pub(super) fn create(
    store: &PostgresStore,
    tenant: &str,
    job_id: &str,
    settings_json: &str,
    created_at: i64,
) -> Result<()> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("job id", job_id)?;
    validate::json("job settings", settings_json)?;
    store.write(|tx| {
        let inserted = tx.execute(
            "INSERT INTO jobs (tenant, job_id, settings_json, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant, job_id) DO NOTHING",
            &[&tenant, &job_id, &settings_json, &created_at],
        )?;
        if inserted == 1 {
            return Ok(());
        }
        let existing: String = tx
            .query_one(
                "SELECT settings_json FROM jobs WHERE tenant = $1 AND job_id = $2",
                &[&tenant, &job_id],
            )?
            .try_get(0)?;
        if existing == settings_json {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!(
                "job {job_id:?} already exists with different settings"
            )))
        }
    })
}

pub(super) fn add_file(
    store: &PostgresStore,
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
            .query_opt(
                "SELECT key FROM job_files WHERE tenant = $1 AND job_id = $2 AND path = $3",
                &[&tenant, &job_id, &path],
            )?
            .map(|r| r.try_get(0))
            .transpose()?;
        if existing.as_deref() == Some(key) {
            return Ok(());
        }
        // A file whose key already has a result in this job (a copy, or the same
        // file under another name) takes that result.
        let done = tx.query_opt(
            "SELECT result_json, completed_at FROM job_files
             WHERE tenant = $1 AND job_id = $2 AND key = $3 AND status = 'done' LIMIT 1",
            &[&tenant, &job_id, &key],
        )?;
        let (status, result, completed_at): (_, Option<String>, Option<i64>) = match done {
            Some(r) => (JobFileStatus::Done, r.try_get(0)?, r.try_get(1)?),
            None => (JobFileStatus::Pending, None, None),
        };
        tx.execute(
            "INSERT INTO job_files (tenant, job_id, path, content_hash, key, status,
                result_json, error, completed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8)
             ON CONFLICT (tenant, job_id, path) DO UPDATE SET
                content_hash = excluded.content_hash,
                key = excluded.key,
                status = excluded.status,
                result_json = excluded.result_json,
                error = NULL,
                completed_at = excluded.completed_at,
                claimed_by = NULL,
                claimed_until = NULL",
            &[
                &tenant,
                &job_id,
                &path,
                &content_hash,
                &key,
                &status.as_str(),
                &result,
                &completed_at,
            ],
        )?;
        Ok(())
    })
}

pub(super) fn file_done(
    store: &PostgresStore,
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
            .query_opt(
                "SELECT result_json FROM job_files
                 WHERE tenant = $1 AND job_id = $2 AND key = $3 AND status = 'done' LIMIT 1",
                &[&tenant, &job_id, &key],
            )?
            .map(|r| r.try_get(0))
            .transpose()?)
    })
}

pub(super) fn complete_file(
    store: &PostgresStore,
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
            "UPDATE job_files SET status = $4, result_json = $5, error = $6, completed_at = $7,
                claimed_by = NULL, claimed_until = NULL
             WHERE tenant = $1 AND job_id = $2 AND key = $3",
            &[
                &tenant,
                &job_id,
                &key,
                &status.as_str(),
                &result,
                &error,
                &now_ms(),
            ],
        )?;
        if n == 0 {
            return Err(StoreError::not_found("job file with key", key));
        }
        Ok(())
    })
}

pub(super) fn get(store: &PostgresStore, tenant: &str, job_id: &str) -> Result<JobRecord> {
    validate::path_id("tenant", tenant)?;
    validate::path_id("job id", job_id)?;
    store.read(|tx| {
        let job = tx
            .query_opt(
                "SELECT settings_json, created_at FROM jobs WHERE tenant = $1 AND job_id = $2",
                &[&tenant, &job_id],
            )?
            .ok_or_else(|| StoreError::not_found("job", job_id))?;
        let rows = tx.query(
            "SELECT path, content_hash, key, status, result_json, error, completed_at
             FROM job_files WHERE tenant = $1 AND job_id = $2 ORDER BY id",
            &[&tenant, &job_id],
        )?;
        let files = all(rows, |r| {
            Ok(JobFileRecord {
                path: r.try_get(0)?,
                content_hash: r.try_get(1)?,
                key: r.try_get(2)?,
                status: JobFileStatus::parse(r.try_get(3)?)?,
                result_json: r.try_get(4)?,
                error: r.try_get(5)?,
                completed_at: r.try_get(6)?,
            })
        })?;
        let mut progress = JobProgress::default();
        for f in &files {
            progress.total += 1;
            match f.status {
                JobFileStatus::Pending => progress.pending += 1,
                JobFileStatus::Done => progress.done += 1,
                JobFileStatus::Failed => progress.failed += 1,
            }
        }
        Ok(JobRecord {
            info: JobInfo {
                job_id: job_id.to_owned(),
                settings_json: job.try_get(0)?,
                created_at: job.try_get(1)?,
                progress,
            },
            files,
        })
    })
}

pub(super) fn list(store: &PostgresStore, tenant: &str) -> Result<Vec<JobInfo>> {
    validate::path_id("tenant", tenant)?;
    store.read(|tx| {
        let rows = tx.query(
            "SELECT j.job_id, j.settings_json, j.created_at,
                COUNT(f.id),
                COUNT(f.id) FILTER (WHERE f.status = 'pending'),
                COUNT(f.id) FILTER (WHERE f.status = 'done'),
                COUNT(f.id) FILTER (WHERE f.status = 'failed')
             FROM jobs j
             LEFT JOIN job_files f ON f.tenant = j.tenant AND f.job_id = j.job_id
             WHERE j.tenant = $1
             GROUP BY j.job_id, j.settings_json, j.created_at
             ORDER BY j.created_at DESC, j.job_id",
            &[&tenant],
        )?;
        all(rows, |r| {
            Ok(JobInfo {
                job_id: r.try_get(0)?,
                settings_json: r.try_get(1)?,
                created_at: r.try_get(2)?,
                progress: JobProgress {
                    total: u32_col(r, 3)?,
                    pending: u32_col(r, 4)?,
                    done: u32_col(r, 5)?,
                    failed: u32_col(r, 6)?,
                },
            })
        })
    })
}

pub(super) fn open(store: &PostgresStore) -> Result<Vec<OpenJob>> {
    store.read(|tx| {
        let rows = tx.query(
            "SELECT j.tenant, j.job_id, j.settings_json FROM jobs j
             WHERE EXISTS (SELECT 1 FROM job_files f WHERE f.tenant = j.tenant
                           AND f.job_id = j.job_id AND f.status = 'pending')
             ORDER BY j.created_at, j.tenant, j.job_id",
            &[],
        )?;
        all(rows, |r| {
            Ok(OpenJob {
                tenant: r.try_get(0)?,
                job_id: r.try_get(1)?,
                settings_json: r.try_get(2)?,
            })
        })
    })
}

/// Claims with `FOR UPDATE SKIP LOCKED`: a row another worker is claiming right now is
/// skipped, not waited for, so racing workers never both get a file.
pub(super) fn claim_file(
    store: &PostgresStore,
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
        let files: i64 = tx
            .query_one(
                "SELECT COUNT(*) FROM job_files WHERE tenant = $1 AND job_id = $2 AND key = $3",
                &[&tenant, &job_id, &key],
            )?
            .try_get(0)?;
        if files == 0 {
            return Err(StoreError::not_found("job file with key", key));
        }
        let claimed = tx.execute(
            "UPDATE job_files SET claimed_by = $4, claimed_until = $5 + $6
             WHERE id IN (
                SELECT id FROM job_files
                WHERE tenant = $1 AND job_id = $2 AND key = $3 AND status <> 'done'
                  AND (claimed_by IS NULL OR claimed_by = $4 OR claimed_until <= $5)
                FOR UPDATE SKIP LOCKED)",
            &[&tenant, &job_id, &key, &worker, &now_ms, &lease_ms],
        )?;
        Ok(claimed > 0)
    })
}
