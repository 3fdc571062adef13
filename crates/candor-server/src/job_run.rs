//! Scoring a batch job's files, on one node or shared by several: each file is claimed
//! in the store before it is scored (a lease the scorer renews while it works), so
//! nodes sharing a store score each file once, and a node that dies mid-file loses
//! that file to the others when its lease ends. Nodes on a shared store also take up
//! jobs submitted to others ([`share_out`]).

use std::collections::HashSet;
use std::path::{Component, Path};
use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

use candor_store::{JobFileStatus, StoreError};
use tokio::sync::OwnedSemaphorePermit;

use crate::scoring::{FileScorer, Prepared, Scored};
use crate::state::ServerState;

/// How often a node on a shared store looks for jobs with files left.
const SHARE_EVERY: Duration = Duration::from_secs(2);
/// How long a run waits before looking again at files other nodes hold.
const WAIT_FOR_OTHERS: Duration = Duration::from_secs(1);

/// One job being scored by this node, file after file, on its own thread.
pub struct JobRun {
    pub state: Arc<ServerState>,
    pub scorer: Arc<FileScorer>,
    pub tenant: String,
    pub job_id: String,
    pub files: Vec<Prepared>,
    pub force: bool,
    pub permit: OwnedSemaphorePermit,
}

/// What a claim found.
enum Claim {
    Mine,
    Done,
    /// Another node holds it (its lease runs).
    Elsewhere,
}

impl JobRun {
    /// Starts the run on a thread of its own; the job must already be in `state.jobs`.
    pub fn spawn(self) -> std::io::Result<()> {
        std::thread::Builder::new()
            .name("candor-job".into())
            .spawn(move || self.run())
            .map(drop)
    }

    fn run(self) {
        let span = tracing::info_span!("job", tenant = %self.tenant, job = %self.job_id);
        let _enter = span.enter();
        tracing::info!(files = self.files.len(), "job started");
        let started = candor_store::now_ms();
        let mut attempted: HashSet<&str> = HashSet::new();
        'rounds: loop {
            let mut held_elsewhere = false;
            for f in &self.files {
                if attempted.contains(f.key.as_str()) {
                    continue;
                }
                // Stop between files on shutdown; resubmitting the job finishes it.
                if *self.state.shutdown.borrow() {
                    tracing::info!("job paused by shutdown");
                    break 'rounds;
                }
                match self.claim(f, started) {
                    Ok(Claim::Mine) => {}
                    Ok(Claim::Done) => {
                        attempted.insert(&f.key);
                        continue;
                    }
                    Ok(Claim::Elsewhere) => {
                        held_elsewhere = true;
                        continue;
                    }
                    Err(e) => {
                        crate::metrics::METRICS.record_store_error(&e);
                        tracing::error!(error = %e, "job stopped: the store failed");
                        break 'rounds;
                    }
                }
                attempted.insert(&f.key);
                match self.score_holding(f) {
                    Ok(Scored::Failed(error)) => {
                        tracing::warn!(file = %f.name, %error, "file failed");
                    }
                    Ok(Scored::Done) => tracing::info!(file = %f.name, "file scored"),
                    Ok(Scored::AlreadyDone) => {}
                    Err(e) => {
                        crate::metrics::METRICS.record_store_error(&e);
                        tracing::error!(error = %e, "job stopped: the store failed");
                        break 'rounds;
                    }
                }
                self.state.jobs.advanced(&self.tenant, &self.job_id);
            }
            if !held_elsewhere {
                break;
            }
            // Files other nodes hold: they finish them, or their leases end and the
            // files come back to whoever claims them next.
            std::thread::sleep(WAIT_FOR_OTHERS);
        }
        self.state.jobs.remove(&self.tenant, &self.job_id);
        tracing::info!("job finished");
        // The job slot frees only now.
        drop(self.permit);
    }

    /// Claims `f` for this node. On a shared store, a file another node recorded as
    /// failed during this run counts as done: it is not scored twice. (That check
    /// reads the job's file list, a cost only nodes sharing a store pay; a file
    /// takes seconds to score, a list of thousands milliseconds to read.)
    fn claim(&self, f: &Prepared, run_started_ms: i64) -> Result<Claim, StoreError> {
        let store = &self.scorer.store;
        let lease = self.state.limits.job_file_lease;
        let now = candor_store::now_ms();
        if store.claim_job_file(
            &self.tenant,
            &self.job_id,
            &f.key,
            &self.state.worker_id,
            now,
            lease.as_millis() as i64,
        )? {
            let shared = (self.state.persistence.as_ref()).is_some_and(|p| p.shared_as.is_some());
            let failed_meanwhile = shared
                && store
                    .job(&self.tenant, &self.job_id)?
                    .files
                    .iter()
                    .any(|r| {
                        r.key == f.key
                            && r.status == JobFileStatus::Failed
                            && r.completed_at.is_some_and(|t| t >= run_started_ms)
                    });
            return Ok(if failed_meanwhile && !self.force {
                Claim::Done
            } else {
                Claim::Mine
            });
        }
        Ok(
            match store.job_file_done(&self.tenant, &self.job_id, &f.key)? {
                Some(_) => Claim::Done,
                None => Claim::Elsewhere,
            },
        )
    }

    /// Scores a claimed file, renewing its lease every third of it meanwhile.
    fn score_holding(&self, f: &Prepared) -> Result<Scored, StoreError> {
        let lease = self.state.limits.job_file_lease;
        let (done_tx, done_rx) = channel::<()>();
        std::thread::scope(|s| {
            s.spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = done_rx.recv_timeout(lease / 3) {
                    let renewed = self.scorer.store.claim_job_file(
                        &self.tenant,
                        &self.job_id,
                        &f.key,
                        &self.state.worker_id,
                        candor_store::now_ms(),
                        lease.as_millis() as i64,
                    );
                    if !matches!(renewed, Ok(true)) {
                        tracing::warn!(file = %f.name, ?renewed, "could not renew the file's lease");
                    }
                }
            });
            let scored = self
                .scorer
                .score(&self.tenant, &self.job_id, f, self.force, |_| {});
            drop(done_tx);
            scored
        })
    }
}

/// On a store that several nodes share: every [`SHARE_EVERY`], takes up jobs with
/// pending files that this node does not run yet and were submitted with the same
/// models and settings, as long as it has a free job slot. Runs until shutdown.
pub async fn share_out(state: Arc<ServerState>) {
    let mut shutdown = state.shutdown.clone();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(SHARE_EVERY) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let state = state.clone();
        let taken = tokio::task::spawn_blocking(move || take_up_open_jobs(&state)).await;
        if let Ok(Err(e)) = taken {
            crate::metrics::METRICS.record_store_error(&e);
            tracing::warn!(error = %e, "cannot look for jobs to share");
        }
    }
}

fn take_up_open_jobs(state: &Arc<ServerState>) -> Result<(), StoreError> {
    let (Some(p), Some(root), Ok(engine)) =
        (&state.persistence, &state.batch_root, state.engine_ready())
    else {
        return Ok(());
    };
    let scorer = Arc::new(FileScorer::new(
        p.store.clone(),
        engine,
        state.decode.clone(),
        state.analysis.clone(),
    ));
    for open in p.store.open_jobs()? {
        if open.settings_json != scorer.settings_json
            || state.jobs.is_running(&open.tenant, &open.job_id)
        {
            continue;
        }
        let Ok(permit) = state.jobs.permit() else {
            return Ok(()); // every job slot is busy
        };
        let record = p.store.job(&open.tenant, &open.job_id)?;
        let files: Vec<Prepared> = (record.files.into_iter())
            .filter(|f| f.status == JobFileStatus::Pending)
            .filter_map(|f| {
                let path = inside(root, &f.path)?;
                Some(Prepared {
                    path,
                    name: f.path,
                    content_hash: f.content_hash,
                    key: f.key,
                    read_error: None,
                })
            })
            .collect();
        if files.is_empty() || !state.jobs.insert(&open.tenant, &open.job_id) {
            continue;
        }
        tracing::info!(tenant = %open.tenant, job = %open.job_id, files = files.len(), "taking up a shared job");
        let run = JobRun {
            state: state.clone(),
            scorer: scorer.clone(),
            tenant: open.tenant.clone(),
            job_id: open.job_id.clone(),
            files,
            force: false,
            permit,
        };
        if let Err(e) = run.spawn() {
            state.jobs.remove(&open.tenant, &open.job_id);
            tracing::error!(error = %e, "cannot start a job thread");
        }
    }
    Ok(())
}

/// A job file's name as a path under the batch root, or `None` when it would leave
/// it (names were checked when the job was submitted; a store is not trusted more).
fn inside(root: &Path, name: &str) -> Option<std::path::PathBuf> {
    let rel = Path::new(name);
    (!name.is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_))))
        .then(|| root.join(rel))
}
