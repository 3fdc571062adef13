//! WatchSession: a session's results so far, then its events as they happen, until its
//! summary. A session no longer in memory is replayed from the store; one another node
//! runs is followed through the store (`session_follow`).

use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::proto::{AnalyzeResponse, analyze_response::Event};
use crate::state::Found;
use crate::values::EventStream;

/// The events a watcher of `found` receives; `None` when a session found in memory has
/// since left it for the store (look it up again: the store has it whole).
pub fn events(found: Found) -> Option<EventStream> {
    let entry = match found {
        Found::Live(entry) => entry,
        // A session that ended before this server started: its stored segments, then
        // its summary, as a finished session is watched.
        Found::Stored(stored) => {
            let events: Vec<Result<AnalyzeResponse, Status>> = stored
                .segments
                .into_iter()
                .map(Event::Segment)
                .chain(stored.summary.map(Event::Summary))
                .map(|e| Ok(AnalyzeResponse { event: Some(e) }))
                .collect();
            return Some(Box::pin(tokio_stream::iter(events)));
        }
        Found::Elsewhere(remote) => return Some(crate::session_follow::follow(*remote)),
    };
    let crate::registry::Watch {
        segments,
        summary,
        complete,
        mut events,
    } = entry.watch()?;
    let (tx, rx) = mpsc::channel(32);
    tokio::spawn(async move {
        let mut last_index = None;
        for s in segments {
            last_index = Some(s.index);
            let msg = AnalyzeResponse {
                event: Some(Event::Segment(s)),
            };
            if tx.send(Ok(msg)).await.is_err() {
                return;
            }
        }
        if complete {
            let _ = tx
                .send(Ok(AnalyzeResponse {
                    event: summary.map(Event::Summary),
                }))
                .await;
            return;
        }
        loop {
            let ev = match events.recv().await {
                Ok(ev) => ev,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "watcher fell behind");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let (skip, done) = match &ev.event {
                // Already sent from the snapshot.
                Some(Event::Segment(s)) => (last_index.is_some_and(|i| s.index <= i), false),
                Some(Event::Accepted(_)) => (true, false),
                Some(Event::Summary(s)) => (false, s.complete),
                _ => (false, false),
            };
            if !skip && tx.send(Ok(ev)).await.is_err() {
                return;
            }
            if done {
                return;
            }
        }
    });
    Some(Box::pin(ReceiverStream::new(rx)))
}
