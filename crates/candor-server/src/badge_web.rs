//! The recruiter's live badge page on the web port. `GET /badge?t=<token>` serves the
//! page (static HTML, CSS and JS built into the binary, nothing fetched from
//! elsewhere); the page follows `GET /badge/events?t=<token>`, Server-Sent Events fed
//! by the same broadcast WatchSession reads, and starts challenges with
//! `POST /badge/challenge?t=<token>&kind=turn_head`. A token that is forged, expired,
//! or names a session its tenant does not have gets a plain 403 and no data. Every
//! event stream opened and every challenge started is written to the tenant's audit
//! log with the link's id.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use crate::badge_feed::{self, SessionView};
use crate::convert;
use crate::error::ServiceError;
use crate::read_audit;
use crate::session_watch;
use crate::state::{Found, ServerState};
use crate::validate::DEFAULT_CHALLENGE_MS;
use crate::view_link::{Grant, Scope, unix_now};

const PAGE: &str = include_str!("../badge/index.html");
const CSS: &str = include_str!("../badge/badge.css");
const JS: &str = include_str!("../badge/badge.js");
const FORBIDDEN: &str = include_str!("../badge/forbidden.html");

/// A named event at least this often, so the page can tell a quiet session from a
/// dead connection (EventSource hides comment keep-alives from scripts).
const PING_EVERY: Duration = Duration::from_secs(5);
/// How often an interview link looks for its session while none has started.
const WAIT_STEP: Duration = Duration::from_secs(1);

/// The badge's routes; the caller serves them with `ConnectInfo<SocketAddr>`.
pub fn router(state: Arc<ServerState>) -> Router {
    Router::new()
        .route("/badge", get(page))
        .route("/badge/badge.css", get(css))
        .route("/badge/badge.js", get(js))
        .route("/badge/events", get(events))
        .route("/badge/challenge", post(challenge))
        .with_state(state)
}

/// The value of `name` in a query string. Tokens and kinds are plain URL-safe text, so
/// no percent-decoding is needed (an encoded token simply does not verify).
fn param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// The grant of the request's token, if it verifies now.
fn grant_of(state: &ServerState, query: Option<&str>) -> Option<Grant> {
    let token = param(query, "t")?;
    state
        .badge
        .keys
        .ring()
        .verify(token, unix_now())
        .inspect_err(|why| tracing::debug!(%why, "view link refused"))
        .ok()
}

/// The session a grant reaches now, with its id; `None` when there is none (yet).
async fn session_of(state: &ServerState, grant: &Grant) -> Option<(String, Found)> {
    match &grant.scope {
        Scope::Session(id) => state
            .find_session(grant.tenant.clone(), id)
            .await
            .ok()
            .map(|f| (id.clone(), f)),
        Scope::Interview(r) => {
            let id = (state.registry.latest_of_interview(&grant.tenant, r))?
                .meta
                .session_id
                .clone();
            let found = state.find_session(grant.tenant.clone(), &id).await.ok()?;
            Some((id, found))
        }
    }
}

/// A session-scoped link must reach its session in its own tenant; an interview link
/// may wait for its first session.
async fn reaches(state: &ServerState, grant: &Grant) -> bool {
    matches!(grant.scope, Scope::Interview(_)) || session_of(state, grant).await.is_some()
}

fn caller(peer: SocketAddr) -> String {
    format!("badge page from {}", peer.ip())
}

/// The plain 403 every refused link gets: no hint of what exists.
fn forbidden() -> Response {
    let mut r = (StatusCode::FORBIDDEN, FORBIDDEN).into_response();
    set_headers(&mut r, "text/html; charset=utf-8", "'none'", false);
    r
}

fn set_headers(r: &mut Response, content_type: &'static str, ancestors: &str, embed: bool) {
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The token is in the address: never send it on to another site.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
         img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"
    );
    // Sources were checked when the configuration was read; a bad one cannot get here.
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if !embed {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
}

async fn page(State(state): State<Arc<ServerState>>, RawQuery(query): RawQuery) -> Response {
    let query = query.as_deref();
    let Some(grant) = grant_of(&state, query) else {
        return forbidden();
    };
    if !reaches(&state, &grant).await {
        return forbidden();
    }
    // Embedded, only the tenant's own sites may frame it; full page, nobody may.
    let embed = param(query, "embed") == Some("1");
    let ancestors = if embed {
        state.badge.frame_ancestors.directive(&grant.tenant)
    } else {
        "'none'".to_owned()
    };
    let mut r = PAGE.into_response();
    set_headers(&mut r, "text/html; charset=utf-8", &ancestors, embed);
    r
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

async fn js() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}

async fn events(
    State(state): State<Arc<ServerState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(grant) = grant_of(&state, query.as_deref()) else {
        return forbidden();
    };
    if !reaches(&state, &grant).await {
        return forbidden();
    }
    read_audit::record_link(
        &state,
        &grant,
        read_audit::VIEW_LINK_VIEW,
        None,
        caller(peer),
    );
    let (tx, rx) = mpsc::channel::<SseEvent>(64);
    tokio::spawn(feed(state, grant, tx));
    let stream = ReceiverStream::new(rx).map(Ok::<_, Infallible>);
    let mut r = Sse::new(stream).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn sse(name: &'static str, data: &Value) -> SseEvent {
    SseEvent::default().event(name).data(data.to_string())
}

/// Feeds one page: who it may act as, the session once there is one, its events as
/// they happen, a ping every few seconds; it stops when the session ends, the link
/// expires, the server shuts down or the page goes away.
async fn feed(state: Arc<ServerState>, grant: Grant, tx: mpsc::Sender<SseEvent>) {
    let left = Duration::from_secs(grant.expires_at.saturating_sub(unix_now()).max(0) as u64);
    let expiry = tokio::time::sleep(left);
    tokio::pin!(expiry);
    let mut shutdown = state.shutdown.clone();
    // The guard `wait_for` answers is not Send: drop it inside this future.
    let stopping = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    tokio::pin!(stopping);
    let scope = match &grant.scope {
        Scope::Session(_) => "session",
        Scope::Interview(_) => "interview",
    };
    let hello = json!({
        "scope": scope,
        "challenges": grant.challenges,
        "expires_at": grant.expires_at,
    });
    if tx.send(sse("hello", &hello)).await.is_err() {
        return;
    }
    let (id, found) = loop {
        if let Some(found) = session_of(&state, &grant).await {
            break found;
        }
        if tx.send(sse("waiting", &json!({}))).await.is_err() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(WAIT_STEP) => {}
            _ = &mut expiry => {
                let _ = tx.send(sse("expired", &json!({}))).await;
                return;
            }
            _ = &mut stopping => return,
            _ = tx.closed() => return,
        }
    };
    let watch = |found: Found| {
        let view = view_of(id.clone(), &found);
        session_watch::events(found).map(|events| (view, events))
    };
    // Found in memory just as its results left for the store: read it there.
    let watched = match watch(found) {
        Some(w) => Some(w),
        None => state.read_session(&grant.tenant, &id, watch).await.ok(),
    };
    let Some((view, mut events)) = watched else {
        return;
    };
    if tx
        .send(sse("session", &badge_feed::session(&view)))
        .await
        .is_err()
    {
        return;
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    loop {
        tokio::select! {
            ev = events.next() => {
                let Some(Ok(ev)) = ev else {
                    // The session has ended (its summary was the last event).
                    let _ = tx.send(sse("end", &json!({}))).await;
                    return;
                };
                if let Some((name, data)) = badge_feed::message(&ev)
                    && tx.send(sse(name, &data)).await.is_err()
                {
                    return;
                }
            }
            _ = ping.tick() => {
                if tx.send(sse("ping", &json!({"at": unix_now()}))).await.is_err() {
                    return;
                }
            }
            _ = &mut expiry => {
                let _ = tx.send(sse("expired", &json!({}))).await;
                return;
            }
            _ = &mut stopping => return,
            _ = tx.closed() => return,
        }
    }
}

fn view_of(session_id: String, found: &Found) -> SessionView {
    match found {
        Found::Live(e) => SessionView {
            session_id,
            participant_id: e.meta.participant_id.clone(),
            interview_ref: e.meta.interview_ref.clone(),
            candidate_ref: e.meta.candidate_ref.clone(),
        },
        Found::Stored(s) => SessionView {
            session_id,
            participant_id: s.participant_id.clone(),
            interview_ref: s.interview_ref.clone(),
            candidate_ref: s.candidate_ref.clone(),
        },
        Found::Elsewhere(remote) => SessionView {
            session_id,
            participant_id: remote.response.participant_id.clone(),
            interview_ref: remote.response.interview_ref.clone(),
            candidate_ref: remote.response.candidate_ref.clone(),
        },
    }
}

/// The one table from the service's errors to HTTP statuses, for the page's calls.
fn http_status(e: &ServiceError) -> StatusCode {
    match e {
        ServiceError::InvalidArgument(_) => StatusCode::BAD_REQUEST,
        ServiceError::Unauthenticated(_) => StatusCode::FORBIDDEN,
        // For a link holder the session is there but not live any more.
        ServiceError::NotFound(_) | ServiceError::NotRunning(_) => StatusCode::CONFLICT,
        ServiceError::Overloaded(_) => StatusCode::TOO_MANY_REQUESTS,
        ServiceError::Unavailable(_) | ServiceError::IdleTimeout(_) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ServiceError::AlreadyExists(_) | ServiceError::TooLong(_) => StatusCode::CONFLICT,
        ServiceError::NotEnabled(_) | ServiceError::Backend(_) | ServiceError::Internal(_) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn refusal(status: StatusCode, message: &str) -> Response {
    json_response(status, &json!({ "error": message }))
}

async fn challenge(
    State(state): State<Arc<ServerState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.as_deref();
    let Some(grant) = grant_of(&state, query) else {
        return forbidden();
    };
    if !grant.challenges {
        return refusal(StatusCode::FORBIDDEN, "this link may not start challenges");
    }
    let Some(kind) = param(query, "kind").and_then(badge_feed::challenge_kind_from_name) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "kind must be turn_head, look_up, cover_face or blink",
        );
    };
    let Some((session_id, _)) = session_of(&state, &grant).await else {
        // A session link that reaches nothing is refused like any bad link; an
        // interview link may simply be early.
        return match grant.scope {
            Scope::Session(_) => forbidden(),
            Scope::Interview(_) => refusal(
                StatusCode::CONFLICT,
                "no session of this interview is running",
            ),
        };
    };
    // The name was one of the four kinds: it converts.
    let Some(core_kind) = convert::challenge_kind_from(kind as i32) else {
        return refusal(StatusCode::BAD_REQUEST, "unknown challenge kind");
    };
    let started = crate::challenge_relay::start(
        &state,
        &grant.tenant,
        &session_id,
        core_kind,
        DEFAULT_CHALLENGE_MS,
    )
    .await;
    match started {
        Ok(answer) => {
            let detail = json!({
                "challenge_id": answer.challenge_id,
                "kind": badge_feed::challenge_kind_name(kind as i32),
            });
            read_audit::record_link_with(
                &state,
                &grant,
                read_audit::VIEW_LINK_CHALLENGE,
                Some(&session_id),
                caller(peer),
                detail,
            );
            json_response(
                StatusCode::OK,
                &json!({
                    "challenge_id": answer.challenge_id,
                    "kind": badge_feed::challenge_kind_name(kind as i32),
                    "instruction": answer.instruction,
                    "window_ms": answer.window_ms,
                }),
            )
        }
        Err(e) => {
            crate::metrics::METRICS.record_error(e.code());
            refusal(http_status(&e), &e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters() {
        let q = Some("t=k1.abc.def&embed=1&kind=turn_head");
        assert_eq!(param(q, "t"), Some("k1.abc.def"));
        assert_eq!(param(q, "embed"), Some("1"));
        assert_eq!(param(q, "kind"), Some("turn_head"));
        assert_eq!(param(q, "x"), None);
        assert_eq!(param(None, "t"), None);
    }
}
