//! Following a session another node runs, through the shared store: its segments as
//! that node commits them, with the state changes they made and challenge results,
//! then its summary once it ends (or once it is closed as interrupted because its node
//! died). The store is read when the node hears that the session changed (the store's
//! change feed: PostgreSQL `LISTEN`/`NOTIFY`), and at least every [`FALLBACK_POLL`]
//! in case a change went unheard; where no changes are heard, every [`POLL_EVERY`].

use std::collections::VecDeque;
use std::time::Duration;

use candor_core::challenge::ChallengeResult;
use candor_core::{SegmentReport, StateChange};
use candor_store::{Change, Store};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::convert;
use crate::error::ServiceError;
use crate::persist;
use crate::proto::{self, AnalyzeResponse, analyze_response::Event};
use crate::state::Elsewhere;
use crate::values::EventStream;

/// How often a follower that hears of no changes reads the store.
pub const POLL_EVERY: Duration = Duration::from_millis(200);
/// How often a follower that hears of changes reads the store anyway.
pub const FALLBACK_POLL: Duration = Duration::from_secs(1);

/// Recent reports kept to describe the state changes that follow them (a change is
/// committed just after its segment).
const RECENT_REPORTS: usize = 16;

/// The events of a session another node runs, from the first stored segment on.
pub fn follow(remote: Elsewhere) -> EventStream {
    let (tx, rx) = mpsc::channel(32);
    tokio::spawn(run(remote, tx));
    Box::pin(ReceiverStream::new(rx))
}

async fn run(remote: Elsewhere, tx: mpsc::Sender<Result<AnalyzeResponse, Status>>) {
    let Elsewhere {
        store,
        tenant,
        session_id,
        mut shutdown,
        mut changes,
        ..
    } = remote;
    let sid = persist::storage_id(&session_id);
    let poll_every = if changes.hears() {
        FALLBACK_POLL
    } else {
        POLL_EVERY
    };
    let this_session = |c: &Change| match c {
        Change::Session {
            tenant: t,
            session_id: s,
        } => *t == tenant && *s == sid,
        Change::ChallengeRequest { .. } => false,
    };
    let mut seen = Seen::default();
    loop {
        let poll = {
            let (store, tenant, session_id) = (store.clone(), tenant.clone(), session_id.clone());
            crate::blocking::run("store read", move || {
                let news = news(store.as_ref(), &tenant, &session_id, &mut seen);
                news.map(|n| (n, seen))
            })
            .await
        };
        let (news, ended) = match poll {
            Ok(((events, ended), s)) => {
                seen = s;
                (events, ended)
            }
            Err(e) => {
                let _ = tx.send(Err(e.into())).await;
                return;
            }
        };
        for event in news {
            if tx
                .send(Ok(AnalyzeResponse { event: Some(event) }))
                .await
                .is_err()
            {
                return;
            }
        }
        if ended {
            return;
        }
        let stopping = tokio::select! {
            _ = tokio::time::sleep(poll_every) => false,
            _ = changes.next(this_session) => false,
            _ = shutdown.wait_for(|s| *s) => true,
            _ = tx.closed() => return,
        };
        if stopping {
            let stopping = ServiceError::Unavailable("server shutting down".into());
            let _ = tx.send(Err(stopping.into())).await;
            return;
        }
    }
}

/// What a follower has sent so far.
#[derive(Default)]
struct Seen {
    next_segment: u32,
    state_changes: usize,
    challenges: usize,
    recent: VecDeque<SegmentReport>,
}

/// The events stored since the last read, and whether the session has ended (its
/// summary is then the last event). Blocking.
fn news(
    store: &dyn Store,
    tenant: &str,
    session_id: &str,
    seen: &mut Seen,
) -> Result<(Vec<Event>, bool), ServiceError> {
    let sid = persist::storage_id(session_id);
    // The record first: once it shows the end, everything written before is visible.
    let record = store.get_session(tenant, &sid).map_err(|e| match e {
        candor_store::StoreError::NotFound(_) => {
            ServiceError::NotFound(format!("session {session_id:?} was deleted"))
        }
        other => other.into(),
    })?;
    let mut events = Vec::new();
    let mut reports = Vec::new();
    for s in store.segments_from(tenant, &sid, seen.next_segment)? {
        let report = s
            .report()
            .map_err(|e| ServiceError::Internal(format!("stored segment unreadable: {e}")))?;
        let timings = proto::StageTimings::default();
        let decoded = report.segment.counts.decoded;
        events.push(Event::Segment(convert::segment(
            session_id, &report, decoded, timings,
        )));
        seen.next_segment = s.index + 1;
        reports.push(report);
    }
    let changes = store.state_changes(tenant, &sid)?;
    let latest = reports.last().or(seen.recent.back());
    let latest_start = latest.map_or(i64::MIN, |r| r.segment.start_us);
    for c in changes.iter().skip(seen.state_changes) {
        // A change is committed just after its segment: one past the segments read so
        // far waits for the next read.
        if c.at_us > latest_start {
            break;
        }
        seen.state_changes += 1;
        let report = reports
            .iter()
            .chain(seen.recent.iter())
            .find(|r| r.segment.start_us == c.at_us);
        let change = StateChange {
            from: c.from,
            to: c.to,
        };
        match report {
            Some(r) => events.push(Event::StateChange(convert::state_change(
                session_id, r, change,
            ))),
            None => tracing::warn!(at_us = c.at_us, "state change without its segment"),
        }
    }
    for r in reports {
        if seen.recent.len() == RECENT_REPORTS {
            seen.recent.pop_front();
        }
        seen.recent.push_back(r);
    }
    let challenges = store.challenges(tenant, &sid)?;
    for c in challenges.iter().skip(seen.challenges) {
        seen.challenges += 1;
        match serde_json::from_str::<ChallengeResult>(&c.result_json) {
            Ok(r) => events.push(Event::Challenge(convert::challenge(
                session_id,
                &c.challenge_id,
                &r,
            ))),
            Err(e) => {
                let id = &c.challenge_id;
                tracing::warn!(challenge = %id, error = %e, "stored challenge unreadable")
            }
        }
    }
    let ended = record.ended_at.is_some();
    if ended {
        events.push(Event::Summary(persist::stored_summary(session_id, &record)));
    }
    Ok((events, ended))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use candor_core::challenge::{ChallengeKind, ChallengeOutcome};
    use candor_core::segment::{FrameCounts, Segment};
    use candor_core::{AnalysisConfig, Fusion, RiskState, Summary};
    use candor_store::{NewSession, SqliteStore};

    use super::*;
    use crate::persist::StoredSummary;

    fn report(index: u32) -> SegmentReport {
        let segment = Segment {
            index,
            start_us: i64::from(index) * 2_000_000,
            end_us: i64::from(index + 1) * 2_000_000,
            counts: FrameCounts {
                decoded: 50,
                ..FrameCounts::default()
            },
            main_track: None,
            other_tracks: 0,
            signals: vec![],
            quality: vec![],
            unusable: BTreeMap::new(),
        };
        let assessment = Fusion::from_config(&AnalysisConfig::default()).assess(&segment);
        SegmentReport {
            segment,
            assessment,
        }
    }

    /// What each read shows, as (kind, segment index) pairs.
    fn read(store: &SqliteStore, seen: &mut Seen) -> (Vec<(&'static str, u32)>, bool) {
        let (events, ended) = news(store, "acme", "s", seen).unwrap();
        let shown = events
            .iter()
            .map(|e| match e {
                Event::Segment(s) => ("segment", s.index),
                Event::StateChange(c) => ("state_change", c.segment_index),
                Event::Challenge(_) => ("challenge", 0),
                Event::Summary(_) => ("summary", 0),
                Event::Accepted(_) => ("accepted", 0),
            })
            .collect();
        (shown, ended)
    }

    /// A follower reads each segment once, every state change after its segment (one
    /// committed first waits for it), challenge results, then the summary, which ends
    /// it; one that joins late reads it all at once.
    #[test]
    fn a_follower_reads_each_event_once_in_order_until_the_summary() {
        let store = SqliteStore::open_in_memory().unwrap();
        store
            .create_session(&NewSession {
                tenant: "acme".into(),
                session_id: "s".into(),
                participant_id: "p".into(),
                interview_ref: None,
                candidate_ref: None,
                source: "grpc".into(),
                settings_json: "{}".into(),
                models_json: "[]".into(),
                started_at: 1,
                node: Some("node-a".into()),
            })
            .unwrap();
        let change = |index: u32, from: Option<RiskState>, to: RiskState| {
            let at = i64::from(index) * 2_000_000;
            store
                .append_state_change("acme", "s", at, from, to, "why")
                .unwrap();
        };
        let (s, a) = (RiskState::Suspicious, RiskState::Alert);
        let mut seen = Seen::default();

        store.append_report("acme", "s", &report(0)).unwrap();
        change(0, None, s);
        let expect = vec![("segment", 0), ("state_change", 0)];
        assert_eq!(read(&store, &mut seen), (expect, false));
        assert_eq!(read(&store, &mut seen), (vec![], false));

        // The change of segment 1 is committed after it, on the next read.
        store.append_report("acme", "s", &report(1)).unwrap();
        assert_eq!(read(&store, &mut seen), (vec![("segment", 1)], false));
        change(1, Some(s), a);
        assert_eq!(read(&store, &mut seen), (vec![("state_change", 1)], false));

        // A change ahead of its segment waits for it.
        change(2, Some(a), s);
        assert_eq!(read(&store, &mut seen), (vec![], false));
        store.append_report("acme", "s", &report(2)).unwrap();
        let expect = vec![("segment", 2), ("state_change", 2)];
        assert_eq!(read(&store, &mut seen), (expect, false));

        let result = ChallengeResult {
            kind: ChallengeKind::TurnHead,
            outcome: ChallengeOutcome::Pass,
            start_us: 0,
            end_us: 5_000_000,
            measurements: vec![("yaw_change_deg".into(), 40.0)],
            message: "turned".into(),
        };
        let json = serde_json::to_string(&result).unwrap();
        store
            .append_challenge("acme", "s", "c1", "turn_head", &json)
            .unwrap();
        assert_eq!(read(&store, &mut seen), (vec![("challenge", 0)], false));

        let reports = [report(0), report(1), report(2)];
        let stored = StoredSummary {
            summary: Summary::from_reports(&reports),
            ended_by: "finished".into(),
        };
        let json = serde_json::to_string(&stored).unwrap();
        store.finish_session("acme", "s", &json, 2).unwrap();
        assert_eq!(read(&store, &mut seen), (vec![("summary", 0)], true));

        let (all, ended) = read(&store, &mut Seen::default());
        assert!(ended);
        assert_eq!(
            all,
            [
                ("segment", 0),
                ("segment", 1),
                ("segment", 2),
                ("state_change", 0),
                ("state_change", 1),
                ("state_change", 2),
                ("challenge", 0),
                ("summary", 0),
            ]
        );
        let (events, _) = news(&store, "acme", "s", &mut Seen::default()).unwrap();
        let Some(Event::Summary(summary)) = events.last() else {
            panic!("{events:?}")
        };
        assert_eq!(
            (summary.ended_by.as_str(), summary.session_id.as_str()),
            ("finished", "s")
        );

        store.purge_session("acme", "s").unwrap();
        assert!(matches!(
            news(&store, "acme", "s", &mut Seen::default()),
            Err(ServiceError::NotFound(_))
        ));
    }
}
