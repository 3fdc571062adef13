//! Reads of stored results, written to the tenant's audit log: who read which session
//! or job, and when. Results about a candidate are personal data; a tenant must be
//! able to say who looked at them. Writing is off the request's path, and a failed
//! write is logged and counted, never a failed read.

use std::net::SocketAddr;

use candor_store::NewAuditEntry;

use crate::metrics::METRICS;
use crate::state::ServerState;
use crate::view_link::{Grant, Scope};

/// `GetSession` of a live or stored session.
pub const READ_SESSION: &str = "read_session";
/// `WatchSession` opened on a session.
pub const WATCH_SESSION: &str = "watch_session";
/// `GetJob` of a batch job (its files' results).
pub const READ_JOB: &str = "read_job";
/// `WatchJob` opened on a batch job.
pub const WATCH_JOB: &str = "watch_job";

/// A view link was minted (CreateViewLink).
pub const VIEW_LINK_CREATED: &str = "view_link_created";
/// The badge page's event stream was opened through a view link.
pub const VIEW_LINK_VIEW: &str = "view_link_view";
/// A challenge was started from the badge page through a view link.
pub const VIEW_LINK_CHALLENGE: &str = "view_link_challenge";

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
    append(
        state,
        tenant,
        NewAuditEntry::read(kind, session_id, job_id, caller),
    );
}

/// Writes a use of a view link to its tenant's audit log: the link's id and scope,
/// the session it reached (if any) and `extra` details (e.g. the challenge started).
pub fn record_link(
    state: &ServerState,
    grant: &Grant,
    kind: &str,
    session_id: Option<&str>,
    caller: String,
) {
    record_link_with(
        state,
        grant,
        kind,
        session_id,
        caller,
        serde_json::Value::Null,
    );
}

pub fn record_link_with(
    state: &ServerState,
    grant: &Grant,
    kind: &str,
    session_id: Option<&str>,
    caller: String,
    extra: serde_json::Value,
) {
    let (scope, of) = match &grant.scope {
        Scope::Session(id) => ("session", id),
        Scope::Interview(r) => ("interview", r),
    };
    let session_id = session_id.or(match &grant.scope {
        Scope::Session(id) => Some(id.as_str()),
        Scope::Interview(_) => None,
    });
    let detail = serde_json::json!({
        "link_id": grant.id,
        "scope": scope,
        "of": of,
        "challenges": grant.challenges,
        "expires_at": grant.expires_at,
        "extra": extra,
    });
    append(
        state,
        &grant.tenant,
        NewAuditEntry {
            kind: kind.to_owned(),
            session_id: session_id.map(str::to_owned),
            caller: Some(caller),
            detail_json: detail.to_string(),
        },
    );
}

/// Appends off the request's path; a failure is logged and counted.
fn append(state: &ServerState, tenant: &str, entry: NewAuditEntry) {
    let Ok(store) = state.store() else {
        return;
    };
    let tenant = tenant.to_owned();
    tokio::task::spawn_blocking(move || {
        if let Err(error) = store.append_audit(&tenant, &entry) {
            METRICS.store_errors.with_label_values(&["audit"]).inc();
            tracing::warn!(%tenant, kind = %entry.kind, %error, "read not written to the audit log");
        }
    });
}
