//! Store reads and writes, model calls and file I/O block: they run on tokio's blocking
//! pool, never on a runtime thread, and a task that died becomes one internal error.

use crate::error::ServiceError;

/// Runs `f` on the blocking pool. `what` names the work in the error, should its task
/// die (a panic inside `f`).
pub async fn run<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServiceError::Internal(format!("{what} task: {e}")))?
}
