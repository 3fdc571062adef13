//! Live sessions written to the store as they run: the session when it opens, each
//! segment and state change as it is judged, the summary when it ends. Writes go to one
//! dedicated writer thread through an unbounded channel, so a session task never waits
//! on the disk; each write is its own transaction, so a crash loses at most the write
//! in flight. A segment is sent to the client only once its write is committed (or
//! has failed), so a `kill -9` never loses a result the client has seen. Sessions a
//! crash left open are closed as `interrupted` when the next server starts (on a
//! shared store, by any node once the dead node's lease runs out: `nodes`). Reads for
//! GetSession run through `spawn_blocking`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use candor_core::{RiskState, SegmentReport, Summary};
use candor_store::{NewSession, SessionRecord, Store, StoreError};
use crossbeam_channel::{Receiver, Sender};
use serde::{Deserialize, Serialize};

use crate::convert;
use crate::error::ServiceError;
use crate::identity_index::IdentityIndex;
use crate::proto;
use crate::values::SessionMeta;

/// What a session's summary is stored as: the core summary plus how the session ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredSummary {
    #[serde(flatten)]
    pub summary: Summary,
    pub ended_by: String,
}

/// Session context kept in `settings_json`: what the session record has no column for.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct StoredContext {
    /// The client's session id, when the store had to use another (see `storage_id`).
    session_id: String,
    device_label: String,
    platform: String,
    client_version: String,
    settings: serde_json::Value,
}

/// The id a session is stored under. Client ids may hold `:` or start with `.`, which
/// the store refuses (its ids name directories); those are stored under a hash of the
/// id, and the client's id is kept in the record.
pub fn storage_id(session_id: &str) -> String {
    if candor_store::validate::path_id("session id", session_id).is_ok() {
        session_id.to_owned()
    } else {
        format!(
            "sid-{}",
            &candor_store::digest::sha256_hex(session_id.as_bytes())[..32]
        )
    }
}

/// Evidence kind of the face key frames of alerting segments (JPEG).
pub const EVIDENCE_KIND: &str = "face_keyframe";

enum Write {
    Open(Box<NewSession>),
    Segment {
        tenant: String,
        session_id: String,
        report: Box<SegmentReport>,
    },
    StateChange {
        tenant: String,
        session_id: String,
        at_us: i64,
        from: Option<RiskState>,
        to: RiskState,
        reason: String,
    },
    Finish {
        tenant: String,
        session_id: String,
        summary: Option<Box<Summary>>,
        ended_by: String,
        ended_at: i64,
    },
    Challenge {
        tenant: String,
        session_id: String,
        challenge_id: String,
        kind: String,
        result_json: String,
    },
    Evidence {
        tenant: String,
        session_id: String,
        segment_index: u32,
        jpegs: Vec<Vec<u8>>,
    },
    /// A first round's session identity, unless the candidate got enrolled meanwhile.
    Enrol {
        tenant: String,
        session_id: String,
        candidate_ref: String,
        embedding: Vec<f32>,
        model_version: String,
    },
    /// The session identity of a tenant with duplicate search, kept so the session
    /// can be blocklisted later.
    SessionIdentity {
        tenant: String,
        session_id: String,
        embedding: Vec<f32>,
        model_version: String,
    },
    /// Answers once every write sent before it is done.
    Flush(Sender<()>),
    /// The same, for async callers.
    Committed(tokio::sync::oneshot::Sender<()>),
}

/// How long a session waits for its segment's commit before sending it anyway: a slow
/// or stalled disk must not hold live results back for long.
const COMMIT_WAIT: Duration = Duration::from_secs(1);

/// The handle sessions write through. Cheap to clone; never blocks.
#[derive(Clone)]
pub struct SessionWriter {
    tx: Sender<Write>,
    /// False while the store refuses writes (disk full, read-only, locked): results
    /// are still analysed and sent, but not kept.
    writable: Arc<AtomicBool>,
    /// This server's node name, recorded with every session it opens.
    node: Option<String>,
    /// Sessions (tenant, id) one of whose writes failed: the store holds them in part.
    partial: Arc<Mutex<HashSet<(String, String)>>>,
}

impl SessionWriter {
    /// Starts the writer thread. Enrolments it writes go into `index` too. `writable`:
    /// whether the store is expected to take writes (a data directory found read-only
    /// at start is not); the first write that succeeds says so anyway. `node`: this
    /// server's name, recorded as the node that runs each session it opens.
    pub fn spawn(
        store: Arc<dyn Store>,
        index: Arc<IdentityIndex>,
        writable: bool,
        node: Option<String>,
    ) -> std::io::Result<Self> {
        let (tx, rx) = crossbeam_channel::unbounded();
        crate::metrics::METRICS
            .store_writable
            .set(i64::from(writable));
        if !writable {
            tracing::error!(
                "the data directory is not writable: sessions are analysed and answered, \
                 but their results are not being stored"
            );
        }
        let writable = Arc::new(AtomicBool::new(writable));
        let partial = Arc::new(Mutex::new(HashSet::new()));
        let (flag, failed) = (writable.clone(), partial.clone());
        std::thread::Builder::new()
            .name("candor-store-writer".into())
            .spawn(move || write_loop(store.as_ref(), &index, &flag, &failed, rx))?;
        Ok(Self {
            tx,
            writable,
            node,
            partial,
        })
    }

    /// Whether every write of the session so far reached the store (ask once they are
    /// committed). Answering forgets the session's failures: it is asked once, at the
    /// session's end.
    pub fn stored_whole(&self, meta: &SessionMeta) -> bool {
        let key = (meta.tenant.clone(), storage_id(&meta.session_id));
        let failed = (self.partial.lock())
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&key);
        self.writable() && !failed
    }

    /// Whether the last write that reached the disk succeeded.
    pub fn writable(&self) -> bool {
        self.writable.load(Ordering::Acquire)
    }

    /// Waits until every write sent so far is committed (or has failed), at most
    /// `COMMIT_WAIT`; at once while the store refuses writes, since waiting would only
    /// delay results that cannot be kept.
    pub async fn committed(&self) {
        if !self.writable() {
            return;
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Write::Committed(tx));
        if tokio::time::timeout(COMMIT_WAIT, rx).await.is_err() {
            tracing::warn!(
                wait_ms = COMMIT_WAIT.as_millis() as u64,
                "store write slow: result sent before it was committed"
            );
        }
    }

    fn send(&self, w: Write) {
        if self.tx.send(w).is_err() {
            tracing::error!("store writer thread is gone: session results are not persisted");
        }
    }

    pub fn open(
        &self,
        meta: &SessionMeta,
        settings: serde_json::Value,
        models: &[proto::ModelInfo],
    ) {
        let context = StoredContext {
            session_id: meta.session_id.clone(),
            device_label: meta.capture.device_label.clone(),
            platform: meta.capture.platform.clone(),
            client_version: meta.capture.client_version.clone(),
            settings,
        };
        let models: Vec<serde_json::Value> = models
            .iter()
            .map(|m| serde_json::json!({"name": m.name, "version": m.version}))
            .collect();
        self.send(Write::Open(Box::new(NewSession {
            tenant: meta.tenant.clone(),
            session_id: storage_id(&meta.session_id),
            participant_id: meta.participant_id.clone(),
            interview_ref: meta.interview_ref.clone(),
            candidate_ref: meta.candidate_ref.clone(),
            source: "grpc".into(),
            settings_json: serde_json::to_string(&context).unwrap_or_else(|_| "{}".into()),
            models_json: serde_json::Value::from(models).to_string(),
            started_at: candor_store::now_ms(),
            node: self.node.clone(),
        })));
    }

    pub fn segment(&self, meta: &SessionMeta, report: &SegmentReport) {
        self.send(Write::Segment {
            tenant: meta.tenant.clone(),
            session_id: storage_id(&meta.session_id),
            report: Box::new(report.clone()),
        });
    }

    pub fn state_change(
        &self,
        meta: &SessionMeta,
        at_us: i64,
        from: Option<RiskState>,
        to: RiskState,
        reason: &str,
    ) {
        self.send(Write::StateChange {
            tenant: meta.tenant.clone(),
            session_id: storage_id(&meta.session_id),
            at_us,
            from,
            to,
            reason: reason.to_owned(),
        });
    }

    /// Records a challenge's result.
    pub fn challenge(
        &self,
        meta: &SessionMeta,
        challenge_id: &str,
        result: &candor_core::challenge::ChallengeResult,
    ) {
        self.send(Write::Challenge {
            tenant: meta.tenant.clone(),
            session_id: storage_id(&meta.session_id),
            challenge_id: challenge_id.to_owned(),
            kind: result.kind.as_str().to_owned(),
            result_json: serde_json::to_string(result).unwrap_or_else(|_| "{}".into()),
        });
    }

    /// Keeps JPEG face key frames of one segment (the tenant's evidence capture).
    pub fn evidence(&self, meta: &SessionMeta, segment_index: u32, jpegs: Vec<Vec<u8>>) {
        self.send(Write::Evidence {
            tenant: meta.tenant.clone(),
            session_id: storage_id(&meta.session_id),
            segment_index,
            jpegs,
        });
    }

    /// Enrols the session identity as the candidate's (the tenant's enrolment setting
    /// is checked again by the store). An enrolment made meanwhile, e.g. from a
    /// reference photo, is kept.
    pub fn enrol(&self, meta: &SessionMeta, embedding: Vec<f32>, model_version: String) {
        let Some(candidate_ref) = meta.candidate_ref.clone() else {
            return;
        };
        self.send(Write::Enrol {
            tenant: meta.tenant.clone(),
            session_id: storage_id(&meta.session_id),
            candidate_ref,
            embedding,
            model_version,
        });
    }

    /// Keeps the session identity (duplicate search on; the store checks the setting
    /// again).
    pub fn session_identity(&self, meta: &SessionMeta, embedding: Vec<f32>, model_version: String) {
        self.send(Write::SessionIdentity {
            tenant: meta.tenant.clone(),
            session_id: storage_id(&meta.session_id),
            embedding,
            model_version,
        });
    }

    /// Records how the session ended. Without a summary (the client left before the
    /// analysis finished) one is built from the stored segments.
    pub fn finish(&self, meta: &SessionMeta, summary: Option<Summary>, ended_by: &str) {
        self.send(Write::Finish {
            tenant: meta.tenant.clone(),
            session_id: storage_id(&meta.session_id),
            summary: summary.map(Box::new),
            ended_by: ended_by.to_owned(),
            ended_at: candor_store::now_ms(),
        });
    }

    /// Waits until every write sent so far is committed. Blocking: call it from
    /// `spawn_blocking`.
    pub fn flush_blocking(&self) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.send(Write::Flush(tx));
        let _ = rx.recv();
    }
}

fn write_loop(
    store: &dyn Store,
    index: &IdentityIndex,
    writable: &AtomicBool,
    partial: &Mutex<HashSet<(String, String)>>,
    rx: Receiver<Write>,
) {
    // Sessions whose record could not be created (e.g. an id reused while the old
    // session is still stored): their later writes would land on the old record.
    let mut refused: HashSet<(String, String)> = HashSet::new();
    for w in rx {
        let result = match w {
            Write::Open(s) => {
                let r = store.create_session(&s);
                if r.is_err() {
                    refused.insert((s.tenant.clone(), s.session_id.clone()));
                } else {
                    refused.remove(&(s.tenant.clone(), s.session_id.clone()));
                }
                r.map(|()| Done::Written)
                    .map_err(|e| (s.tenant, s.session_id, e))
            }
            Write::Segment {
                tenant,
                session_id,
                report,
            } => skip_or(&refused, tenant, session_id, |t, s| {
                store.append_report(t, s, &report)
            }),
            Write::StateChange {
                tenant,
                session_id,
                at_us,
                from,
                to,
                reason,
            } => skip_or(&refused, tenant, session_id, |t, s| {
                store.append_state_change(t, s, at_us, from, to, &reason)
            }),
            Write::Finish {
                tenant,
                session_id,
                summary,
                ended_by,
                ended_at,
            } => skip_or(&refused, tenant, session_id, |t, s| {
                let summary = match summary {
                    Some(s) => *s,
                    None => summary_of(&store.segments(t, s)?),
                };
                let stored = StoredSummary { summary, ended_by };
                let json = serde_json::to_string(&stored)
                    .map_err(|e| StoreError::Invalid(format!("summary: {e}")))?;
                store.finish_session(t, s, &json, ended_at)
            }),
            Write::Challenge {
                tenant,
                session_id,
                challenge_id,
                kind,
                result_json,
            } => skip_or(&refused, tenant, session_id, |t, s| {
                store.append_challenge(t, s, &challenge_id, &kind, &result_json)
            }),
            Write::Evidence {
                tenant,
                session_id,
                segment_index,
                jpegs,
            } => skip_or(&refused, tenant, session_id, |t, s| {
                jpegs.iter().try_for_each(|j| {
                    store
                        .add_evidence(t, s, segment_index, EVIDENCE_KIND, j)
                        .map(|_| ())
                })
            }),
            Write::Enrol {
                tenant,
                session_id,
                candidate_ref,
                embedding,
                model_version,
            } => skip_or(&refused, tenant, session_id, |t, s| {
                match store.enrolment(t, &candidate_ref, &model_version) {
                    Ok(_) => Ok(()),
                    Err(StoreError::NotFound(_)) => {
                        store.enrol(t, &candidate_ref, &embedding, &model_version, Some(s))?;
                        index.enrolled(t, &model_version, &candidate_ref, &embedding);
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }),
            Write::SessionIdentity {
                tenant,
                session_id,
                embedding,
                model_version,
            } => skip_or(&refused, tenant, session_id, |t, s| {
                store.save_session_identity(t, s, &embedding, &model_version)
            }),
            Write::Flush(done) => {
                let _ = done.send(());
                Ok(Done::Skipped)
            }
            Write::Committed(done) => {
                let _ = done.send(());
                Ok(Done::Skipped)
            }
        };
        note_writability(writable, &result);
        if let Err((tenant, session, error)) = result {
            crate::metrics::METRICS.record_store_error(&error);
            tracing::warn!(%tenant, %session, %error, "session result not persisted");
            (partial.lock())
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert((tenant, session));
        }
    }
}

/// Follows whether the store takes writes: a backend failure (disk full, read-only
/// file system, lock held elsewhere) marks it unwritable until a write succeeds again.
/// Refusals of one record (conflict, invalid, not found) say nothing about the disk.
fn note_writability(writable: &AtomicBool, result: &WriteResult) {
    let now = match result {
        Ok(Done::Written) => true,
        Ok(Done::Skipped) => return,
        Err((_, _, StoreError::Backend(_))) => false,
        Err(_) => return,
    };
    if writable.swap(now, Ordering::AcqRel) != now {
        crate::metrics::METRICS.store_writable.set(i64::from(now));
        if now {
            tracing::info!("result store writable again: results are being stored");
        } else {
            tracing::error!(
                "result store refuses writes: sessions are analysed and answered, \
                 but their results are not being stored"
            );
        }
    }
}

/// Closes the sessions an earlier process left open (it crashed or was killed): each
/// gets `ended_by = "interrupted"` and a summary built from its stored segments, so
/// it reads like any ended session. Run at start, before any session opens; returns
/// how many were closed. Blocking.
pub fn close_interrupted(store: &dyn Store) -> Result<usize, StoreError> {
    let open = store.unfinished_sessions()?;
    close_as_interrupted(
        store,
        &open,
        "session left open by an earlier run closed as interrupted",
    )
}

/// Closes each of `open` as `interrupted`, with a summary of its stored segments, and
/// logs `why` for each. Returns how many were closed. Blocking.
pub fn close_as_interrupted(
    store: &dyn Store,
    open: &[SessionRecord],
    why: &str,
) -> Result<usize, StoreError> {
    for s in open {
        let summary = summary_of(&store.segments(&s.tenant, &s.session_id)?);
        let stored = StoredSummary {
            summary,
            ended_by: INTERRUPTED.to_owned(),
        };
        let json = serde_json::to_string(&stored)
            .map_err(|e| StoreError::Invalid(format!("summary: {e}")))?;
        store.finish_session(&s.tenant, &s.session_id, &json, candor_store::now_ms())?;
        tracing::warn!(
            tenant = %s.tenant,
            session = %s.session_id,
            node = s.node.as_deref().unwrap_or(""),
            segments = s.segments,
            "{why}"
        );
    }
    Ok(open.len())
}

/// How a session the server did not see to its end is marked.
pub const INTERRUPTED: &str = "interrupted";

/// Whether a write reached the store (only those say whether it takes writes).
enum Done {
    Written,
    Skipped,
}

type WriteResult = Result<Done, (String, String, StoreError)>;

fn skip_or(
    refused: &HashSet<(String, String)>,
    tenant: String,
    session_id: String,
    write: impl FnOnce(&str, &str) -> Result<(), StoreError>,
) -> WriteResult {
    if refused.contains(&(tenant.clone(), session_id.clone())) {
        return Ok(Done::Skipped);
    }
    write(&tenant, &session_id)
        .map(|()| Done::Written)
        .map_err(|e| (tenant, session_id, e))
}

/// The summary event of an ended stored session, as the client's `session_id` shows it.
pub fn stored_summary(session_id: &str, record: &SessionRecord) -> proto::SessionSummary {
    match record
        .summary_json
        .as_deref()
        .and_then(|j| serde_json::from_str::<StoredSummary>(j).ok())
    {
        Some(s) => convert::summary(
            session_id,
            &s.summary,
            s.summary.counts.decoded,
            true,
            &s.ended_by,
        ),
        None => {
            let s = Summary::from_reports(std::iter::empty());
            convert::summary(session_id, &s, 0, true, INTERRUPTED)
        }
    }
}

fn summary_of(segments: &[candor_store::SegmentRecord]) -> Summary {
    let reports: Vec<SegmentReport> = segments
        .iter()
        .filter_map(|s| {
            s.report()
                .map_err(
                    |e| tracing::warn!(index = s.index, error = %e, "stored segment unreadable"),
                )
                .ok()
        })
        .collect();
    Summary::from_reports(&reports)
}

/// A stored session as GetSession returns it, and the node that runs it when that is
/// another node of a shared store (the session is open there).
pub struct StoredSession {
    pub response: proto::GetSessionResponse,
    pub running_on: Option<String>,
    /// No end recorded: open somewhere, interrupted, or its end not yet written.
    pub open: bool,
}

/// A stored session as GetSession returns it, read off the async runtime.
/// `own_node`: this node's name when the store is shared with other nodes.
pub async fn get_session(
    store: Arc<dyn Store>,
    tenant: String,
    session_id: String,
    own_node: Option<String>,
) -> Result<StoredSession, ServiceError> {
    crate::blocking::run("store read", move || {
        load_session(store.as_ref(), &tenant, &session_id, own_node.as_deref())
    })
    .await
}

/// A stored session as GetSession returns it. Blocking.
pub fn load_session(
    store: &dyn Store,
    tenant: &str,
    session_id: &str,
    own_node: Option<&str>,
) -> Result<StoredSession, ServiceError> {
    let sid = storage_id(session_id);
    let record = store.get_session(tenant, &sid).map_err(|e| match e {
        // The store's message names the storage id; answer with the client's.
        StoreError::NotFound(_) => ServiceError::NotFound(format!("no session {session_id:?}")),
        other => other.into(),
    })?;
    let reports: Vec<SegmentReport> = store
        .segments(tenant, &sid)?
        .iter()
        .map(|s| s.report())
        .collect::<Result<_, _>>()
        .map_err(|e| ServiceError::Internal(format!("stored segment unreadable: {e}")))?;
    // Open, and another node's: it runs there (or that node died and its lease has
    // not run out yet), so it has no summary yet.
    let running_on = match (record.ended_at, &record.node, own_node) {
        (None, Some(node), Some(own)) if node != own => Some(node.clone()),
        _ => None,
    };
    Ok(StoredSession {
        response: stored_response(session_id, &record, &reports, running_on.is_some()),
        running_on,
        open: record.ended_at.is_none(),
    })
}

fn stored_response(
    session_id: &str,
    record: &SessionRecord,
    reports: &[SegmentReport],
    running: bool,
) -> proto::GetSessionResponse {
    let context: StoredContext = serde_json::from_str(&record.settings_json).unwrap_or_default();
    let stored: Option<StoredSummary> = record
        .summary_json
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok());
    let segments: Vec<proto::SegmentResult> = reports
        .iter()
        .map(|r| convert::segment(session_id, r, r.segment.counts.decoded, Default::default()))
        .collect();
    let summary = match stored {
        None if running => None,
        Some(s) => Some(convert::summary(
            session_id,
            &s.summary,
            s.summary.counts.decoded,
            true,
            &s.ended_by,
        )),
        // Never finished: the server stopped (or crashed) while it ran.
        None => {
            let s = Summary::from_reports(reports);
            Some(convert::summary(
                session_id,
                &s,
                s.counts.decoded,
                true,
                INTERRUPTED,
            ))
        }
    };
    proto::GetSessionResponse {
        summary,
        segments,
        participant_id: record.participant_id.clone(),
        interview_ref: record.interview_ref.clone(),
        candidate_ref: record.candidate_ref.clone(),
        capture: Some(proto::CaptureInfo {
            device_label: context.device_label,
            platform: context.platform,
            client_version: context.client_version,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_ids_are_store_safe_and_stable() {
        assert_eq!(storage_id("call-42_a.b"), "call-42_a.b");
        let odd = storage_id("zoom:123:alice");
        assert!(odd.starts_with("sid-") && odd.len() == 36, "{odd}");
        assert_eq!(odd, storage_id("zoom:123:alice"));
        assert_ne!(odd, storage_id("zoom:123:bob"));
        assert!(storage_id(".hidden").starts_with("sid-"));
    }
}
