//! Jobs being scored on this server, each with a counter bumped after every file, so
//! that WatchJob can wake on progress.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError, watch};

type Key = (String, String);

pub struct RunningJobs {
    running: Mutex<HashMap<Key, watch::Sender<u32>>>,
    permits: Arc<Semaphore>,
    max: usize,
}

impl RunningJobs {
    pub fn new(max_jobs: usize) -> Self {
        Self {
            running: Mutex::new(HashMap::new()),
            permits: Arc::new(Semaphore::new(max_jobs)),
            max: max_jobs,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, watch::Sender<u32>>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Most jobs scored at once.
    pub fn max(&self) -> usize {
        self.max
    }

    /// A place for one more job, if the server is below its limit.
    pub fn permit(&self) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.permits.clone().try_acquire_owned()
    }

    pub fn is_running(&self, tenant: &str, job: &str) -> bool {
        self.lock()
            .contains_key(&(tenant.to_owned(), job.to_owned()))
    }

    /// Marks the job running; false when it already was.
    pub fn insert(&self, tenant: &str, job: &str) -> bool {
        let mut running = self.lock();
        let key = (tenant.to_owned(), job.to_owned());
        if running.contains_key(&key) {
            return false;
        }
        running.insert(key, watch::channel(0).0);
        true
    }

    /// One more file of the job is done.
    pub fn advanced(&self, tenant: &str, job: &str) {
        if let Some(tx) = self.lock().get(&(tenant.to_owned(), job.to_owned())) {
            tx.send_modify(|n| *n += 1);
        }
    }

    /// The job stopped; dropping its sender ends every watcher after one last status.
    pub fn remove(&self, tenant: &str, job: &str) {
        self.lock().remove(&(tenant.to_owned(), job.to_owned()));
    }

    /// Wakes on each finished file while the job runs; `None` when it is not running.
    pub fn progress(&self, tenant: &str, job: &str) -> Option<watch::Receiver<u32>> {
        self.lock()
            .get(&(tenant.to_owned(), job.to_owned()))
            .map(|tx| tx.subscribe())
    }
}
