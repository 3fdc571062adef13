//! Nodes sharing one store (PostgreSQL). Each records the sessions it runs under its
//! name and beats a heartbeat into the store; a node whose last heartbeat is older than
//! the lease is taken for dead, and whichever node sees that first closes its open
//! sessions as `interrupted`, as a restart does with a data directory. At start a node
//! also closes what it left open itself before it restarted.

use std::sync::Arc;
use std::time::Duration;

use candor_store::{Store, StoreError};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::metrics::METRICS;
use crate::persist::close_as_interrupted;
use crate::state::ServerState;
use crate::store_changes::Waiter;

/// How long a node may go without a heartbeat before its sessions are closed.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// How often a node beats and looks for dead nodes' sessions: a sixth of the lease,
/// so that a few missed beats (a slow database) do not make a live node look dead.
pub fn beat_every(lease: Duration) -> Duration {
    (lease / 6).clamp(Duration::from_millis(100), Duration::from_secs(5))
}

/// What a node on a shared store runs beside its sessions, until shutdown: its
/// heartbeat (which also closes dead nodes' sessions), the answering of challenges
/// other nodes relay to it, and taking up shared batch jobs. Nothing on a store of its
/// own.
pub fn spawn_tasks(
    state: &Arc<ServerState>,
    lease: Duration,
    shutdown: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let Some(p) = &state.persistence else {
        return Vec::new();
    };
    let Some(node) = &p.shared_as else {
        return Vec::new();
    };
    let changes = p
        .changes
        .as_ref()
        .map_or_else(Waiter::deaf, |c| c.subscribe());
    let mut tasks = vec![
        tokio::spawn(beat(p.store.clone(), node.clone(), lease, shutdown.clone())),
        tokio::spawn(crate::challenge_relay::answer_requests(
            state.clone(),
            p.store.clone(),
            node.clone(),
            changes,
            shutdown.clone(),
        )),
    ];
    // Batch jobs submitted to any node are every node's to score.
    if state.batch_root.is_some() {
        tasks.push(tokio::spawn(crate::job_run::share_out(state.clone())));
    }
    tasks
}

/// Whether another live process beats under `node`. A start closes what its name left
/// open, which would end a live namesake's sessions; so a heartbeat under this name
/// younger than the lease is watched for two beats, and if it moves, the name is
/// taken. (A predecessor of this node that died stops moving: its start goes on, at
/// most two beats later.) Blocking.
pub fn name_in_use(store: &dyn Store, node: &str, lease: Duration) -> Result<bool, StoreError> {
    let Some(seen) = store.last_heartbeat(node)? else {
        return Ok(false);
    };
    if candor_store::now_ms() - seen > lease.as_millis() as i64 {
        return Ok(false);
    }
    std::thread::sleep(beat_every(lease) * 2 + Duration::from_millis(500));
    Ok(store
        .last_heartbeat(node)?
        .is_some_and(|later| later > seen))
}

/// At start, before this node opens sessions: beats, then closes the sessions it left
/// open itself and those of dead nodes. Returns how many were closed. Blocking.
pub fn start(store: &dyn Store, node: &str, lease: Duration) -> Result<usize, StoreError> {
    let now = candor_store::now_ms();
    store.heartbeat(node, now)?;
    let orphans = store.orphaned_sessions(now - lease.as_millis() as i64, Some(node))?;
    close_as_interrupted(
        store,
        &orphans,
        "session of a stopped node (this one before a restart, or one past its lease) \
         closed as interrupted",
    )
}

/// Beats every [`beat_every`] until shutdown, closing dead nodes' sessions each time.
pub async fn beat(
    store: Arc<dyn Store>,
    node: String,
    lease: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(beat_every(lease));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let (store, node) = (store.clone(), node.clone());
        let beaten = tokio::task::spawn_blocking(move || beat_once(&*store, &node, lease)).await;
        match beaten {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::warn!(sessions = n, "closed sessions of nodes that stopped"),
            Ok(Err(e)) => {
                METRICS.record_store_error(&e);
                tracing::warn!(error = %e, "node heartbeat failed");
            }
            Err(e) => tracing::warn!(error = %e, "node heartbeat task failed"),
        }
    }
}

fn beat_once(store: &dyn Store, node: &str, lease: Duration) -> Result<usize, StoreError> {
    let now = candor_store::now_ms();
    store.heartbeat(node, now)?;
    // This node has just beaten, so its own sessions are never among these.
    let orphans = store.orphaned_sessions(now - lease.as_millis() as i64, None)?;
    close_as_interrupted(
        store,
        &orphans,
        "session of a node whose lease ran out closed as interrupted",
    )
}

#[cfg(test)]
mod tests {
    use candor_store::{NewSession, SqliteStore};

    use super::*;
    use crate::persist::StoredSummary;

    fn session_on(store: &SqliteStore, id: &str, node: &str) {
        store
            .create_session(&NewSession {
                tenant: "acme".into(),
                session_id: id.into(),
                participant_id: "p".into(),
                interview_ref: None,
                candidate_ref: None,
                source: "grpc".into(),
                settings_json: "{}".into(),
                models_json: "[]".into(),
                started_at: 1,
                node: Some(node.into()),
            })
            .unwrap();
    }

    fn ended_by(store: &SqliteStore, id: &str) -> Option<String> {
        let record = store.get_session("acme", id).unwrap();
        let json = record.summary_json?;
        Some(
            serde_json::from_str::<StoredSummary>(&json)
                .unwrap()
                .ended_by,
        )
    }

    /// A beat closes the sessions of nodes that stopped beating, never a live node's
    /// nor its own; at start a node closes its own leftovers too.
    #[test]
    fn dead_nodes_sessions_are_closed_as_interrupted_and_live_ones_kept() {
        let store = SqliteStore::open_in_memory().unwrap();
        let lease = Duration::from_secs(30);
        store.heartbeat("alive", candor_store::now_ms()).unwrap();
        store
            .heartbeat("dead", candor_store::now_ms() - 60_000)
            .unwrap();
        for (id, node) in [
            ("a", "alive"),
            ("d", "dead"),
            ("n", "never-beat"),
            ("m", "me"),
        ] {
            session_on(&store, id, node);
        }
        assert_eq!(beat_once(&store, "me", lease).unwrap(), 2);
        for (id, closed) in [("a", false), ("d", true), ("n", true), ("m", false)] {
            let by = ended_by(&store, id);
            assert_eq!(by.is_some(), closed, "{id}: {by:?}");
        }
        assert_eq!(ended_by(&store, "d").as_deref(), Some("interrupted"));
        assert_eq!(start(&store, "me", lease).unwrap(), 1);
        assert_eq!(ended_by(&store, "m").as_deref(), Some("interrupted"));
        assert_eq!(ended_by(&store, "a"), None);
    }

    #[test]
    fn beats_come_several_times_a_lease_within_bounds() {
        assert_eq!(beat_every(DEFAULT_LEASE), Duration::from_secs(5));
        assert_eq!(
            beat_every(Duration::from_secs(3)),
            Duration::from_millis(500)
        );
        assert_eq!(
            beat_every(Duration::from_millis(10)),
            Duration::from_millis(100)
        );
        assert_eq!(beat_every(Duration::from_secs(600)), Duration::from_secs(5));
    }
}
