//! A `Challenge` call for a session another node runs: this node leaves a request in
//! the shared store, the node that runs the session (which hears of it through the
//! store's change feed, else polls every [`ANSWER_POLL`]) starts the challenge exactly
//! as a local call would and writes its answer, and this node returns that answer
//! (heard of the same way), or UNAVAILABLE when none comes within [`ANSWER_WAIT`].

use std::sync::Arc;
use std::time::Duration;

use candor_core::challenge::ChallengeKind;
use candor_store::{ChallengeRequest, Change, NewChallengeRequest, Store};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::error::ServiceError;
use crate::persist::storage_id;
use crate::proto;
use crate::state::{Elsewhere, Found, ServerState};
use crate::store_changes::Waiter;

/// How long the asking node waits for the answer.
pub const ANSWER_WAIT: Duration = Duration::from_secs(3);
/// How often a node that hears of no changes looks for requests addressed to it.
pub const ANSWER_POLL: Duration = Duration::from_millis(100);
/// How often the asking node that hears of no changes looks for the answer.
const ASK_POLL: Duration = Duration::from_millis(50);
/// How often either looks anyway when it hears of changes (one may go unheard).
const FALLBACK_POLL: Duration = Duration::from_secs(1);

/// What the node that runs the session answers, as stored with the request.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Started {
        challenge_id: String,
    },
    /// The session is not in memory there (it has just ended and been evicted).
    NotFound {
        message: String,
    },
    /// The session is there but no longer analysing video.
    NotRunning {
        message: String,
    },
}

/// Starts a challenge on a live session of `tenant`, on this node or, through the
/// store, on the node that runs it.
pub async fn start(
    state: &ServerState,
    tenant: &str,
    session_id: &str,
    kind: ChallengeKind,
    window_ms: u32,
) -> Result<proto::ChallengeResponse, ServiceError> {
    let local = state.start_challenge(tenant, session_id, kind, window_ms);
    let Err(ServiceError::NotFound(not_here)) = local else {
        return local;
    };
    match state.find_session(tenant.to_owned(), session_id).await {
        Ok(Found::Elsewhere(remote)) => ask(*remote, kind, window_ms).await,
        // Ended, or live nowhere: as a session not in memory always answered.
        Ok(_) => Err(ServiceError::NotFound(not_here)),
        Err(e) => Err(e),
    }
}

/// Leaves the request for the node that runs the session and waits for its answer.
async fn ask(
    remote: Elsewhere,
    kind: ChallengeKind,
    window_ms: u32,
) -> Result<proto::ChallengeResponse, ServiceError> {
    let Elsewhere {
        store,
        tenant,
        session_id,
        node,
        mut changes,
        ..
    } = remote;
    let request = NewChallengeRequest {
        tenant: tenant.clone(),
        session_id: storage_id(&session_id),
        request_id: candor_store::new_id(),
        node: node.clone(),
        kind: kind.as_str().to_owned(),
        window_ms,
        requested_at: candor_store::now_ms(),
    };
    let (tenant, request_id) = (request.tenant.clone(), request.request_id.clone());
    {
        let store = store.clone();
        crate::blocking::run(
            "store write",
            move || Ok(store.request_challenge(&request)?),
        )
        .await?;
    }
    let poll_every = if changes.hears() {
        FALLBACK_POLL
    } else {
        ASK_POLL
    };
    let answered = |c: &Change| match c {
        Change::ChallengeRequest {
            tenant: t,
            request_id: r,
            ..
        } => *t == tenant && *r == request_id,
        Change::Session { .. } => false,
    };
    let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
    while tokio::time::Instant::now() < deadline {
        tokio::select! {
            _ = tokio::time::sleep(poll_every) => {}
            _ = changes.next(answered) => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
        let (store, tenant, id) = (store.clone(), tenant.clone(), request_id.clone());
        let stored = crate::blocking::run("store read", move || {
            Ok(store.challenge_request(&tenant, &id)?)
        })
        .await?;
        let Some(json) = stored.answer_json else {
            continue;
        };
        let answer: Answer = serde_json::from_str(&json)
            .map_err(|e| ServiceError::Internal(format!("unreadable challenge answer: {e}")))?;
        return match answer {
            Answer::Started { challenge_id } => Ok(proto::ChallengeResponse {
                challenge_id,
                instruction: kind.instruction().to_owned(),
                window_ms,
            }),
            Answer::NotFound { message } => Err(ServiceError::NotFound(message)),
            Answer::NotRunning { message } => Err(ServiceError::NotRunning(message)),
        };
    }
    Err(ServiceError::Unavailable(format!(
        "node {node:?}, which runs session {session_id:?}, did not answer the challenge \
         within {} s",
        ANSWER_WAIT.as_secs()
    )))
}

/// Answers the requests addressed to `node` until shutdown.
pub async fn answer_requests(
    state: Arc<ServerState>,
    store: Arc<dyn Store>,
    node: String,
    mut changes: Waiter,
    mut shutdown: watch::Receiver<bool>,
) {
    let poll_every = if changes.hears() {
        FALLBACK_POLL
    } else {
        ANSWER_POLL
    };
    let for_me = |c: &Change| match c {
        Change::ChallengeRequest { node: n, .. } => *n == node,
        Change::Session { .. } => false,
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(poll_every) => {}
            _ = changes.next(for_me) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let (state, store, node) = (state.clone(), store.clone(), node.clone());
        let answered = tokio::task::spawn_blocking(move || answer_pending(&state, &*store, &node));
        match answered.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                crate::metrics::METRICS.record_store_error(&e);
                tracing::warn!(error = %e, "cannot answer challenge requests from other nodes");
            }
            Err(e) => tracing::warn!(error = %e, "challenge request task failed"),
        }
    }
}

/// Starts and answers every pending request for `node`. Requests older than the asker
/// waits are left: nobody waits for their answer any more. Blocking.
fn answer_pending(
    state: &ServerState,
    store: &dyn Store,
    node: &str,
) -> Result<(), candor_store::StoreError> {
    let since = candor_store::now_ms() - ANSWER_WAIT.as_millis() as i64;
    for r in store.pending_challenge_requests(node, since)? {
        let answer = answer_one(state, &r);
        let json = serde_json::to_string(&answer).unwrap_or_else(|_| "{}".into());
        store.answer_challenge_request(&r.tenant, &r.request_id, &json, candor_store::now_ms())?;
    }
    Ok(())
}

fn answer_one(state: &ServerState, r: &ChallengeRequest) -> Answer {
    let kind = serde_json::from_value::<ChallengeKind>(serde_json::Value::from(r.kind.as_str()));
    let Ok(kind) = kind else {
        return Answer::NotRunning {
            message: format!("unknown challenge kind {:?}", r.kind),
        };
    };
    match state.start_challenge_stored(&r.tenant, &r.session_id, kind, r.window_ms) {
        Ok(started) => Answer::Started {
            challenge_id: started.challenge_id,
        },
        Err(ServiceError::NotRunning(message)) => Answer::NotRunning { message },
        Err(e) => Answer::NotFound {
            message: e.to_string(),
        },
    }
}
