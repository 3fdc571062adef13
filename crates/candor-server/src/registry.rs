//! Open and recently finished sessions, per tenant: what GetSession and WatchSession
//! read. Each session keeps its segment results and latest summary, and broadcasts
//! every event to watchers.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::broadcast;

use crate::error::ServiceError;
use crate::proto::{self, analyze_response::Event};
use crate::values::{ChallengeStart, SessionMeta};

#[derive(Debug, Default)]
struct Snapshot {
    segments: Vec<proto::SegmentResult>,
    summary: Option<proto::SessionSummary>,
    complete: bool,
    /// The segments were let go once the store had them all: read the store.
    in_store: bool,
}

/// A watcher's start: the session so far, and its events from then on.
pub struct Watch {
    pub segments: Vec<proto::SegmentResult>,
    pub summary: Option<proto::SessionSummary>,
    pub complete: bool,
    pub events: broadcast::Receiver<proto::AnalyzeResponse>,
}

pub struct SessionEntry {
    pub meta: SessionMeta,
    /// Order of opening, so the latest session of an interview can be found.
    seq: u64,
    snapshot: Mutex<Snapshot>,
    events: broadcast::Sender<proto::AnalyzeResponse>,
    /// Where Challenge calls reach the session's analysis, while it runs.
    challenges: Mutex<Option<crossbeam_channel::Sender<ChallengeStart>>>,
}

/// Events a slow watcher may fall behind by before it skips ahead.
const WATCH_BUFFER: usize = 256;

impl SessionEntry {
    fn new(meta: SessionMeta, seq: u64) -> Self {
        Self {
            meta,
            seq,
            snapshot: Mutex::new(Snapshot::default()),
            events: broadcast::channel(WATCH_BUFFER).0,
            challenges: Mutex::new(None),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Snapshot> {
        // A panic while holding this lock cannot leave the snapshot half-written (each
        // update is one push or assignment), so a poisoned lock is still usable.
        self.snapshot.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens (Some) or closes (None) the way to the session's analysis for challenges.
    pub fn set_challenges(&self, tx: Option<crossbeam_channel::Sender<ChallengeStart>>) {
        *self.challenges.lock().unwrap_or_else(|p| p.into_inner()) = tx;
    }

    /// Hands a challenge to the running analysis; false when the session is not
    /// analysing any more.
    pub fn start_challenge(&self, c: ChallengeStart) -> bool {
        let guard = self.challenges.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().is_some_and(|tx| tx.send(c).is_ok())
    }

    /// Records an event and sends it to watchers.
    pub fn publish(&self, event: proto::AnalyzeResponse) {
        {
            let mut snap = self.lock();
            match &event.event {
                Some(Event::Segment(s)) => snap.segments.push(s.clone()),
                Some(Event::Summary(s)) => {
                    snap.complete = s.complete;
                    snap.summary = Some(s.clone());
                }
                _ => {}
            }
        }
        // No watcher is not an error.
        let _ = self.events.send(event);
    }

    /// Subscribes first, then copies the state, so no event falls between the two.
    /// `None` once the results left memory for the store (read them there).
    pub fn watch(&self) -> Option<Watch> {
        let events = self.events.subscribe();
        let snap = self.lock();
        (!snap.in_store).then(|| Watch {
            segments: snap.segments.clone(),
            summary: snap.summary.clone(),
            complete: snap.complete,
            events,
        })
    }

    pub fn snapshot(&self) -> (Vec<proto::SegmentResult>, Option<proto::SessionSummary>) {
        let snap = self.lock();
        (snap.segments.clone(), snap.summary.clone())
    }

    /// The session as GetSession answers for a session in memory; `None` once its
    /// results left memory for the store (read them there).
    pub fn as_response(&self) -> Option<proto::GetSessionResponse> {
        let (segments, summary) = {
            let snap = self.lock();
            if snap.in_store {
                return None;
            }
            (snap.segments.clone(), snap.summary.clone())
        };
        let m = &self.meta;
        Some(proto::GetSessionResponse {
            summary,
            segments,
            participant_id: m.participant_id.clone(),
            interview_ref: m.interview_ref.clone(),
            candidate_ref: m.candidate_ref.clone(),
            capture: Some(m.capture.clone()),
        })
    }

    pub fn is_complete(&self) -> bool {
        self.lock().complete
    }

    /// Whether its results are to be read from the store (they left memory).
    pub fn in_store(&self) -> bool {
        self.lock().in_store
    }
}

type Key = (String, String);

/// Segment results of finished sessions held in memory, all sessions together: about
/// 5 KB each, so about 30 MB, 3.3 hours of results. Beyond it the oldest finished
/// sessions leave memory early; GetSession and WatchSession then read them from the
/// store, which holds every segment.
pub const FINISHED_SEGMENTS_HELD: usize = 6_000;

pub struct Registry {
    inner: Mutex<Inner>,
    keep_finished: usize,
    segments_held: usize,
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<Key, Arc<SessionEntry>>,
    /// Finished sessions, oldest first, with their segment counts.
    finished: VecDeque<(Key, usize)>,
    finished_segments: usize,
    opened: u64,
}

impl Registry {
    /// Keeps up to `keep_finished` finished sessions readable, and their segments
    /// within [`FINISHED_SEGMENTS_HELD`] (oldest evicted first).
    pub fn new(keep_finished: usize) -> Self {
        Self::with_segment_budget(keep_finished, FINISHED_SEGMENTS_HELD)
    }

    fn with_segment_budget(keep_finished: usize, segments_held: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            keep_finished,
            segments_held,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new session. An id this tenant already used, live or finished, is
    /// refused: a session id names one session, as it does in the store, so that what
    /// GetSession answers does not depend on whether the server restarted.
    pub fn open(&self, meta: SessionMeta) -> Result<Arc<SessionEntry>, ServiceError> {
        let key = (meta.tenant.clone(), meta.session_id.clone());
        let mut inner = self.lock();
        if let Some(existing) = inner.sessions.get(&key) {
            let state = if existing.is_complete() {
                "has ended"
            } else {
                "is already open"
            };
            return Err(ServiceError::AlreadyExists(format!(
                "session {:?} {state}: use a new session id",
                meta.session_id
            )));
        }
        inner.opened += 1;
        let entry = Arc::new(SessionEntry::new(meta, inner.opened));
        inner.sessions.insert(key, entry.clone());
        Ok(entry)
    }

    /// Marks a session finished; it stays readable until evicted (see [`Self::release`]
    /// for when the store holds all of it).
    pub fn finished(&self, entry: &SessionEntry) {
        let key = (entry.meta.tenant.clone(), entry.meta.session_id.clone());
        let segments = entry.lock().segments.len();
        let mut inner = self.lock();
        inner.finished.push_back((key, segments));
        inner.finished_segments += segments;
        while inner.finished.len() > self.keep_finished
            || inner.finished_segments > self.segments_held
        {
            let Some((old, n)) = inner.finished.pop_front() else {
                break;
            };
            inner.finished_segments -= n;
            inner.sessions.remove(&old);
        }
    }

    /// Lets a finished session's segment results go once the store is known to hold
    /// them all: readers go to the store from now on.
    pub fn release(&self, entry: &SessionEntry) {
        {
            let mut snap = entry.lock();
            if !snap.complete || snap.in_store {
                return;
            }
            snap.segments = Vec::new();
            snap.in_store = true;
        }
        let key = (entry.meta.tenant.clone(), entry.meta.session_id.clone());
        let mut inner = self.lock();
        let Inner {
            finished,
            finished_segments,
            ..
        } = &mut *inner;
        if let Some((_, n)) = finished.iter_mut().find(|(k, _)| *k == key) {
            *finished_segments -= *n;
            *n = 0;
        }
    }

    /// The session `id` of `tenant`; another tenant's session is simply not found.
    pub fn get(&self, tenant: &str, id: &str) -> Result<Arc<SessionEntry>, ServiceError> {
        self.lock()
            .sessions
            .get(&(tenant.to_owned(), id.to_owned()))
            .cloned()
            .ok_or_else(|| ServiceError::NotFound(format!("no session {id:?}")))
    }

    /// A session in memory of `tenant` whose meta `matches`.
    pub fn find(
        &self,
        tenant: &str,
        matches: impl Fn(&SessionMeta) -> bool,
    ) -> Option<Arc<SessionEntry>> {
        self.lock()
            .sessions
            .values()
            .find(|s| s.meta.tenant == tenant && matches(&s.meta))
            .cloned()
    }

    /// The latest session in memory of `tenant` with this `interview_ref`.
    pub fn latest_of_interview(
        &self,
        tenant: &str,
        interview_ref: &str,
    ) -> Option<Arc<SessionEntry>> {
        self.lock()
            .sessions
            .values()
            .filter(|s| {
                s.meta.tenant == tenant && s.meta.interview_ref.as_deref() == Some(interview_ref)
            })
            .max_by_key(|s| s.seq)
            .cloned()
    }

    pub fn open_count(&self) -> usize {
        self.lock()
            .sessions
            .values()
            .filter(|s| !s.is_complete())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(tenant: &str, id: &str) -> SessionMeta {
        SessionMeta {
            tenant: tenant.into(),
            session_id: id.into(),
            participant_id: "p".into(),
            interview_ref: None,
            candidate_ref: None,
            capture: Default::default(),
        }
    }

    fn summary(complete: bool) -> proto::AnalyzeResponse {
        proto::AnalyzeResponse {
            event: Some(Event::Summary(proto::SessionSummary {
                complete,
                ..Default::default()
            })),
        }
    }

    #[test]
    fn tenants_are_isolated_and_live_ids_unique() {
        let r = Registry::new(10);
        let a = r.open(meta("a", "s1")).unwrap();
        assert!(matches!(
            r.open(meta("a", "s1")),
            Err(ServiceError::AlreadyExists(_))
        ));
        assert!(r.open(meta("b", "s1")).is_ok(), "same id, other tenant");
        assert!(matches!(r.get("c", "s1"), Err(ServiceError::NotFound(_))));
        a.publish(summary(true));
        r.finished(&a);
        assert!(
            matches!(r.open(meta("a", "s1")), Err(ServiceError::AlreadyExists(_))),
            "finished ids are not reused"
        );
    }

    #[test]
    fn the_latest_session_of_an_interview_is_found_in_its_tenant_only() {
        let r = Registry::new(10);
        let with_interview = |tenant: &str, id: &str| SessionMeta {
            interview_ref: Some("iv-1".into()),
            ..meta(tenant, id)
        };
        assert!(r.latest_of_interview("a", "iv-1").is_none());
        r.open(with_interview("a", "first")).unwrap();
        r.open(with_interview("a", "second")).unwrap();
        r.open(with_interview("b", "third")).unwrap();
        r.open(meta("a", "other")).unwrap();
        let found = r.latest_of_interview("a", "iv-1").unwrap();
        assert_eq!(found.meta.session_id, "second");
        assert!(r.latest_of_interview("c", "iv-1").is_none());
    }

    #[test]
    fn finished_sessions_are_evicted_oldest_first() {
        let r = Registry::new(1);
        for id in ["s1", "s2"] {
            let e = r.open(meta("a", id)).unwrap();
            e.publish(summary(true));
            r.finished(&e);
        }
        assert!(r.get("a", "s1").is_err());
        assert!(r.get("a", "s2").is_ok());
    }

    #[test]
    fn finished_sessions_leave_memory_when_their_segments_exceed_the_budget() {
        let r = Registry::with_segment_budget(100, 5);
        for (id, segments) in [("s1", 2), ("s2", 2), ("s3", 2)] {
            let e = r.open(meta("a", id)).unwrap();
            for _ in 0..segments {
                e.publish(proto::AnalyzeResponse {
                    event: Some(Event::Segment(proto::SegmentResult::default())),
                });
            }
            e.publish(summary(true));
            r.finished(&e);
        }
        // 6 segments held > 5: the oldest session went, the others stay.
        assert!(r.get("a", "s1").is_err());
        assert!(r.get("a", "s2").is_ok() && r.get("a", "s3").is_ok());
        // A session the store holds whole keeps no segments in memory.
        let stored = r.open(meta("a", "stored")).unwrap();
        stored.publish(proto::AnalyzeResponse {
            event: Some(Event::Segment(proto::SegmentResult::default())),
        });
        stored.publish(summary(true));
        r.finished(&stored);
        r.release(&stored);
        assert!(stored.in_store() && stored.snapshot().0.is_empty());
        // A reader that found it in memory just before is sent to the store.
        assert!(stored.watch().is_none() && stored.as_response().is_none());
        assert!(r.get("a", "s2").is_ok(), "it took none of the budget");
        // A live session is never evicted, however long.
        let live = r.open(meta("a", "live")).unwrap();
        for _ in 0..10 {
            live.publish(proto::AnalyzeResponse {
                event: Some(Event::Segment(proto::SegmentResult::default())),
            });
        }
        assert!(r.get("a", "live").is_ok());
    }

    #[test]
    fn watchers_see_state_then_events() {
        let r = Registry::new(1);
        let e = r.open(meta("a", "s")).unwrap();
        e.publish(proto::AnalyzeResponse {
            event: Some(Event::Segment(proto::SegmentResult::default())),
        });
        let Watch {
            segments,
            complete,
            events: mut rx,
            ..
        } = e.watch().unwrap();
        assert_eq!((segments.len(), complete), (1, false));
        e.publish(summary(true));
        assert!(matches!(
            rx.try_recv().unwrap().event,
            Some(Event::Summary(_))
        ));
    }
}
