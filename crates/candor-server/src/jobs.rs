//! Batch jobs over gRPC: SubmitJob checks the paths (they must stay inside the batch
//! root), records the job and its files, and scores them on a dedicated thread (with
//! other nodes, on a shared store: see `job_run`); GetJob and WatchJob read the store,
//! scoped to the caller's tenant. Store calls run
//! through `spawn_blocking`, scoring on its own OS thread.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::blocking;
use crate::convert;
use crate::error::ServiceError;
use crate::job_run::JobRun;
use crate::proto;
use crate::scoring::{FileScorer, Prepared, media_in};
use crate::state::ServerState;

/// How often WatchJob reads a job that other nodes are scoring.
const OTHER_NODES_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// `SubmitJob` (validated): records the job and its files and starts scoring them.
pub async fn submit(
    state: &Arc<ServerState>,
    tenant: &str,
    req: proto::SubmitJobRequest,
) -> Result<proto::JobStatus, ServiceError> {
    let (Some(p), Some(root)) = (&state.persistence, &state.batch_root) else {
        return Err(ServiceError::NotEnabled(
            "batch jobs are off: start the server with --batch-root (and a --data-dir)".into(),
        ));
    };
    let engine = state.engine_ready()?;
    let job_id = req.job_id.unwrap_or_else(candor_store::new_id);
    let already_running =
        || ServiceError::AlreadyExists(format!("job {job_id:?} is already running"));
    if state.jobs.is_running(tenant, &job_id) {
        return Err(already_running());
    }
    let permit = state.jobs.permit().map_err(|_| {
        ServiceError::Overloaded(format!(
            "server is at its limit of {} running jobs",
            state.jobs.max()
        ))
    })?;

    let scorer = Arc::new(FileScorer::new(
        p.store.clone(),
        engine,
        state.decode.clone(),
        state.analysis.clone(),
    ));
    let root = root.clone();
    let (t, j, s) = (tenant.to_owned(), job_id.clone(), scorer.clone());
    let files = blocking::run(
        "job set-up",
        move || -> Result<Vec<Prepared>, ServiceError> {
            let files = resolve(&root, &req.paths)?;
            s.store
                .create_job(&t, &j, &s.settings_json, candor_store::now_ms())?;
            let prepared: Vec<Prepared> = files
                .iter()
                .map(|(path, name)| s.prepare(path, name.clone()))
                .collect();
            for f in &prepared {
                s.register(&t, &j, f)?;
            }
            Ok(prepared)
        },
    )
    .await?;
    if !state.jobs.insert(tenant, &job_id) {
        return Err(already_running());
    }
    let run = JobRun {
        state: state.clone(),
        scorer,
        tenant: tenant.to_owned(),
        job_id: job_id.clone(),
        files,
        force: req.force,
        permit,
    };
    if let Err(e) = run.spawn() {
        state.jobs.remove(tenant, &job_id);
        return Err(ServiceError::Internal(format!(
            "cannot start the job thread: {e}"
        )));
    }
    get(state, tenant, &job_id).await
}

/// The job's status from the store.
pub async fn get(
    state: &Arc<ServerState>,
    tenant: &str,
    job_id: &str,
) -> Result<proto::JobStatus, ServiceError> {
    let Some(p) = &state.persistence else {
        return Err(ServiceError::NotFound(format!("no job {job_id:?}")));
    };
    let store = p.store.clone();
    let (t, j) = (tenant.to_owned(), job_id.to_owned());
    let record = blocking::run("store read", move || {
        store.job(&t, &j).map_err(|e| match e {
            candor_store::StoreError::NotFound(_) => {
                ServiceError::NotFound(format!("no job {j:?}"))
            }
            other => other.into(),
        })
    })
    .await?;
    // On a shared store another node may be scoring it: pending files mean running.
    let running = state.jobs.progress(tenant, job_id).is_some()
        || (p.shared_as.is_some() && record.info.progress.pending > 0);
    Ok(convert::job_status(&record, running))
}

/// Sends the status now and after each file until the job stops running.
pub async fn watch(
    state: Arc<ServerState>,
    tenant: String,
    job_id: String,
    tx: tokio::sync::mpsc::Sender<Result<proto::JobStatus, tonic::Status>>,
) {
    let mut progress = state.jobs.progress(&tenant, &job_id);
    loop {
        let status = get(&state, &tenant, &job_id).await;
        let last = match &status {
            Ok(s) => !s.running,
            Err(_) => true,
        };
        if tx.send(status.map_err(Into::into)).await.is_err() || last {
            return;
        }
        match progress.as_mut() {
            // A closed channel means the job stopped: one more status, then the end.
            Some(rx) => {
                if rx.changed().await.is_err() {
                    progress = None;
                }
            }
            // Running on other nodes (a shared store): read it again shortly.
            None => tokio::time::sleep(OTHER_NODES_EVERY).await,
        }
    }
}

/// Checks and expands the submitted paths: relative, inside the root, existing;
/// folders become their media files. Each file comes with its name in the job (the
/// path relative to the root).
fn resolve(root: &Path, paths: &[String]) -> Result<Vec<(PathBuf, String)>, ServiceError> {
    let root = root
        .canonicalize()
        .map_err(|e| ServiceError::Internal(format!("batch root {}: {e}", root.display())))?;
    let mut files = Vec::new();
    for p in paths {
        let rel = Path::new(p);
        if p.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(ServiceError::InvalidArgument(format!(
                "path {p:?} must be relative to the batch root, without '..'"
            )));
        }
        let full = root
            .join(rel)
            .canonicalize()
            .map_err(|e| ServiceError::InvalidArgument(format!("path {p:?}: {e}")))?;
        // A symbolic link may still point outside.
        if !full.starts_with(&root) {
            return Err(ServiceError::InvalidArgument(format!(
                "path {p:?} leaves the batch root"
            )));
        }
        let found = if full.is_dir() {
            media_in(&full)
                .map_err(|e| ServiceError::InvalidArgument(format!("path {p:?}: {e}")))?
        } else {
            vec![full]
        };
        for f in found {
            let name = f.strip_prefix(&root).unwrap_or(&f).display().to_string();
            if !files.iter().any(|(_, n)| n == &name) {
                files.push((f, name));
            }
        }
    }
    if files.is_empty() {
        return Err(ServiceError::InvalidArgument(
            "no video or image files in the given paths".into(),
        ));
    }
    Ok(files)
}
