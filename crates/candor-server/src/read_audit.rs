//! Reads of stored results, written to the tenant's audit log: who read which session
//! or job, and when. Results about a candidate are personal data; a tenant must be
//! able to say who looked at them. Writing is off the request's path, and a failed
//! write is logged and counted, never a failed read.

use std::net::SocketAddr;

use candor_store::NewAuditEntry;

use crate::metrics::METRICS;
use crate::state::ServerState;

/// `GetSession` of a live or stored session.
pub const READ_SESSION: &str = "read_session";
/// `WatchSession` opened on a session.
pub const WATCH_SESSION: &str = "watch_session";
/// `GetJob` of a batch job (its files' results).
pub const READ_JOB: &str = "read_job";
/// `WatchJob` opened on a batch job.
pub const WATCH_JOB: &str = "watch_job";

/// Who read: the caller's address (an API key names only its tenant, which the line
/// carries already).
pub fn caller(peer: Option<SocketAddr>) -> String {
    peer.map_or_else(
        || "grpc from an unknown address".into(),
        |a| format!("grpc from {}", a.ip()),
    )
}

/// Writes one read to `tenant`'s audit log, when the server keeps data.
pub fn record(
    state: &ServerState,
    tenant: &str,
    kind: &'static str,
    session_id: Option<&str>,
    job_id: Option<&str>,
    caller: String,
) {
    let Ok(store) = state.store() else {
        return;
    };
    let tenant = tenant.to_owned();
    let entry = NewAuditEntry::read(kind, session_id, job_id, caller);
    tokio::task::spawn_blocking(move || {
        if let Err(error) = store.append_audit(&tenant, &entry) {
            METRICS.store_errors.with_label_values(&["audit"]).inc();
            tracing::warn!(%tenant, kind = entry.kind, %error, "read not written to the audit log");
        }
    });
}
