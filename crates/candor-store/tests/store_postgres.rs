//! The PostgreSQL store: the shared store suite (`suite/`) on a throwaway server (a
//! fresh database per test), and what only a shared database has to get right:
//! nodes migrating together, one sweeper at a time, racing writers of one key.
//!
//! PostgreSQL must be installed (`scripts/setup` does); `CANDOR_SKIP_POSTGRES=1`
//! skips these tests with a message instead of failing them.

mod suite;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier, OnceLock};

use candor_core::RiskState;
use candor_store::postgres::SWEEP_LOCK;
use candor_store::postgres::schema::{LATEST_VERSION, MIGRATIONS};
use candor_store::postgres::temp_cluster::{SKIP_ENV, TempCluster};
use candor_store::*;
use suite::*;

/// One server for the whole test binary; stopped when the process exits.
fn cluster() -> Option<&'static TempCluster> {
    static CLUSTER: OnceLock<Result<TempCluster, String>> = OnceLock::new();
    if TempCluster::skipped() {
        eprintln!("{SKIP_ENV}=1: skipping a PostgreSQL store test");
        return None;
    }
    match CLUSTER.get_or_init(TempCluster::start) {
        Ok(c) => Some(c),
        Err(e) => panic!("PostgreSQL store tests need a throwaway server: {e}"),
    }
}

/// A fresh, empty database on the shared server.
fn fresh_url() -> Option<String> {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "t{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    Some(cluster()?.create_database(&name).unwrap())
}

fn raw(url: &str) -> ::postgres::Client {
    ::postgres::Client::connect(url, ::postgres::NoTls).unwrap()
}

struct Postgres {
    url: String,
}

fn postgres_backend() -> Option<Box<dyn Backend>> {
    Some(Box::new(Postgres { url: fresh_url()? }))
}

impl Backend for Postgres {
    fn open(&self) -> Arc<dyn Store> {
        Arc::new(PostgresStore::open(&self.url).unwrap())
    }

    fn count(&self, table: &str, tenant: &str, session_id: &str) -> i64 {
        raw(&self.url)
            .query_one(
                &format!("SELECT COUNT(*) FROM {table} WHERE tenant = $1 AND session_id = $2"),
                &[&tenant, &session_id],
            )
            .unwrap()
            .get(0)
    }

    fn evidence_files(&self, _: &str, _: &str) -> Option<u64> {
        None
    }

    fn leave_orphan_file(&self, _: &str, _: &str) -> bool {
        false
    }

    fn bytes_at(&self, record: &EvidenceRecord) -> Vec<u8> {
        assert!(record.location.starts_with("postgres:evidence/"));
        raw(&self.url)
            .query_one("SELECT bytes FROM evidence WHERE id = $1", &[&record.id])
            .unwrap()
            .get(0)
    }
}

store_suite!(postgres_backend());

/// Nodes starting together on a fresh database: every one opens, and each migration
/// is applied (and recorded) once.
#[test]
fn nodes_opening_a_fresh_database_together_migrate_it_once() {
    let Some(url) = fresh_url() else { return };
    const NODES: usize = 6;
    let barrier = Barrier::new(NODES);
    std::thread::scope(|s| {
        for _ in 0..NODES {
            s.spawn(|| {
                barrier.wait();
                let store = PostgresStore::open(&url).unwrap();
                assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
            });
        }
    });
    let rows: Vec<(i64, String)> = raw(&url)
        .query(
            "SELECT version, name FROM schema_migrations ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let expected: Vec<(i64, String)> = MIGRATIONS
        .iter()
        .map(|m| (m.version, m.name.to_owned()))
        .collect();
    assert_eq!(rows, expected);
}

#[test]
fn a_database_from_a_newer_build_is_refused() {
    let Some(url) = fresh_url() else { return };
    drop(PostgresStore::open(&url).unwrap());
    raw(&url)
        .execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'future', 0)",
            &[&(LATEST_VERSION + 1)],
        )
        .unwrap();
    let err = PostgresStore::open(&url).unwrap_err();
    assert!(
        matches!(&err, StoreError::Backend(m) if m.contains("newer than this build")),
        "{err:?}"
    );
}

/// While one node sweeps (holds the sweep lock), another node's sweep deletes
/// nothing and returns at once; once the lock is free, it sweeps.
#[test]
fn one_node_sweeps_at_a_time() {
    let Some(url) = fresh_url() else { return };
    let store = PostgresStore::open(&url).unwrap();
    store
        .create_session(&new_session("acme", "old", None, NOW - 400 * DAY_MS))
        .unwrap();
    let mut other_node = raw(&url);
    other_node
        .execute("SELECT pg_advisory_lock($1)", &[&SWEEP_LOCK])
        .unwrap();
    assert_eq!(store.sweep_expired(NOW).unwrap(), SweepReport::default());
    store.get_session("acme", "old").unwrap();
    other_node
        .execute("SELECT pg_advisory_unlock($1)", &[&SWEEP_LOCK])
        .unwrap();
    assert_eq!(store.sweep_expired(NOW).unwrap().sessions, 1);
    assert!(matches!(
        store.get_session("acme", "old"),
        Err(StoreError::NotFound(_))
    ));
}

/// Two nodes writing the same session and segments at once (a retried stream):
/// every call succeeds and each is stored once.
#[test]
fn racing_replays_of_one_key_are_stored_once() {
    let Some(url) = fresh_url() else { return };
    let nodes: Vec<PostgresStore> = (0..4).map(|_| PostgresStore::open(&url).unwrap()).collect();
    let barrier = Barrier::new(nodes.len());
    std::thread::scope(|s| {
        for node in &nodes {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                node.create_session(&new_session("acme", "s", None, NOW))
                    .unwrap();
                for i in 0..20 {
                    node.append_segment("acme", "s", &seg(i, RiskState::Clear))
                        .unwrap();
                    node.append_challenge("acme", "s", &format!("c{i}"), "blink", "{}")
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(nodes[0].segments("acme", "s").unwrap().len(), 20);
    assert_eq!(nodes[0].challenges("acme", "s").unwrap().len(), 20);
    assert_eq!(nodes[1].get_session("acme", "s").unwrap().segments, 20);
}

#[test]
fn bad_and_unreachable_urls_fail_with_the_reason() {
    let err = PostgresStore::open("postgres://candor@127.0.0.1:notaport/x").unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    // Nothing listens on port 1.
    let err = PostgresStore::open("postgres://candor:pw@127.0.0.1:1/x").unwrap_err();
    match err {
        StoreError::Backend(m) => {
            assert!(m.contains("cannot connect"), "{m}");
            assert!(!m.contains("pw"), "password shown: {m}");
        }
        other => panic!("{other:?}"),
    }
}

/// Workers on several nodes racing through the same job's files: each file is claimed
/// by exactly one of them.
#[test]
fn racing_workers_claim_each_job_file_once() {
    let Some(url) = fresh_url() else { return };
    const FILES: usize = 40;
    let store = PostgresStore::open(&url).unwrap();
    store.create_job("acme", "job", "{}", NOW).unwrap();
    for i in 0..FILES {
        store
            .add_job_file("acme", "job", &format!("f{i}.mp4"), "h", &format!("k{i}"))
            .unwrap();
    }
    let workers: Vec<PostgresStore> = (0..6).map(|_| PostgresStore::open(&url).unwrap()).collect();
    let barrier = Barrier::new(workers.len());
    let claimed: Vec<Vec<usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = workers
            .iter()
            .enumerate()
            .map(|(w, node)| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    (0..FILES)
                        .filter(|i| {
                            node.claim_job_file(
                                "acme",
                                "job",
                                &format!("k{i}"),
                                &format!("worker-{w}"),
                                NOW,
                                60_000,
                            )
                            .unwrap()
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<usize> = claimed.concat();
    all.sort_unstable();
    assert_eq!(all, (0..FILES).collect::<Vec<_>>());
}

/// A server drops its store (the last `Arc`) at shutdown on an async runtime's thread,
/// where closing a synchronous client would panic; the store closes them elsewhere.
#[test]
fn a_store_can_be_dropped_on_an_async_runtime_thread() {
    let Some(url) = fresh_url() else { return };
    let store: Arc<dyn Store> = Arc::new(PostgresStore::open(&url).unwrap());
    store.tenant_settings("acme").unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async move { drop(store) });
}

/// What another node's feed reports, as each write commits: a session's segments,
/// state changes, challenge results and end, and challenge requests and answers.
#[test]
fn a_change_feed_reports_each_write_other_nodes_wait_for() {
    use std::time::Duration;
    let Some(url) = fresh_url() else { return };
    let writer = PostgresStore::open(&url).unwrap();
    let reader = PostgresStore::open(&url).unwrap();
    let mut feed = reader
        .change_feed()
        .unwrap()
        .expect("PostgreSQL pushes changes");
    let wait = Duration::from_secs(5);
    assert_eq!(feed.next(Duration::from_millis(50)).unwrap(), None);
    let session = Change::Session {
        tenant: "acme".into(),
        session_id: "s".into(),
    };
    writer
        .create_session(&new_session("acme", "s", None, NOW))
        .unwrap();
    writer
        .append_segment("acme", "s", &seg(0, RiskState::Clear))
        .unwrap();
    assert_eq!(feed.next(wait).unwrap(), Some(session.clone()));
    writer
        .append_state_change("acme", "s", 0, None, RiskState::Alert, "why")
        .unwrap();
    assert_eq!(feed.next(wait).unwrap(), Some(session.clone()));
    writer
        .append_challenge("acme", "s", "c1", "blink", "{}")
        .unwrap();
    assert_eq!(feed.next(wait).unwrap(), Some(session.clone()));
    let request = NewChallengeRequest {
        tenant: "acme".into(),
        session_id: "s".into(),
        request_id: "r1".into(),
        node: "node-a".into(),
        kind: "blink".into(),
        window_ms: 5000,
        requested_at: NOW,
    };
    let asked = Change::ChallengeRequest {
        tenant: "acme".into(),
        request_id: "r1".into(),
        node: "node-a".into(),
    };
    writer.request_challenge(&request).unwrap();
    assert_eq!(feed.next(wait).unwrap(), Some(asked.clone()));
    writer
        .answer_challenge_request("acme", "r1", "{}", NOW)
        .unwrap();
    assert_eq!(feed.next(wait).unwrap(), Some(asked));
    writer.finish_session("acme", "s", "{}", NOW).unwrap();
    assert_eq!(feed.next(wait).unwrap(), Some(session));
    assert_eq!(feed.next(Duration::from_millis(50)).unwrap(), None);
}
