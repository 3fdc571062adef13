//! Two `candor serve` nodes sharing one PostgreSQL store (a throwaway server), as the
//! real binary on loopback: any node answers for any session. A session streamed in
//! real time to node A is watched live, read and challenged from node B; an enrolment
//! made on A verifies a session on B; another tenant's key finds nothing; and when A is
//! killed mid-session, B closes its session as interrupted once A's lease runs out.
//!
//! PostgreSQL must be installed (`scripts/setup` does); `CANDOR_SKIP_POSTGRES=1` skips
//! this test with a message instead of failing it.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use candor_server::proto::{self, AnalyzeResponse, MediaFormat, analyze_response::Event};
use candor_store::postgres::temp_cluster::{SKIP_ENV, TempCluster};
use candor_store::{PostgresStore, Store, TenantSettings};
use support::server::*;
use support::{data, ffmpeg, repo_root};
use tonic::Code;

/// A heartbeat lease short enough for the test to wait out.
const LEASE_S: u64 = 2;

/// A `candor serve` child process on a shared store, on loopback ports of its own.
struct Node {
    child: Child,
    grpc: SocketAddr,
    log: PathBuf,
}

fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

impl Node {
    /// Starts `candor serve --store url --node-name name` with tenant A's and B's
    /// keys, and waits until /healthz says it is serving.
    async fn start(url: &str, name: &str, log: PathBuf) -> Self {
        let (grpc, metrics) = (free_port(), free_port());
        let key = |tenant: &str, key: &str| format!("{tenant}:{}", candor_server::hash_key(key));
        let child = Command::new(env!("CARGO_BIN_EXE_candor"))
            .arg("serve")
            .args(["--listen", &grpc.to_string()])
            .args(["--metrics-listen", &metrics.to_string()])
            .args(["--api-key", &key("tenant-a", KEY_A)])
            .args(["--api-key", &key("tenant-b", KEY_B)])
            .args(["--store", url])
            .args(["--node-name", name])
            .args(["--node-lease-s", &LEASE_S.to_string()])
            .current_dir(repo_root())
            .env("CANDOR_LOG", "info")
            .env_remove("CANDOR_STORE_URL")
            .env_remove("CANDOR_API_KEYS")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn candor serve");
        let mut node = Self { child, grpc, log };
        for _ in 0..1800 {
            if let Some(status) = node.child.try_wait().unwrap() {
                panic!("candor serve ended ({status}): {}", node.log_text());
            }
            if http_get(metrics, "/healthz")
                .await
                .is_some_and(|r| r.starts_with("HTTP/1.1 200"))
            {
                return node;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("candor serve not serving after 180 s: {}", node.log_text());
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no shutdown code runs, no heartbeat follows.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().unwrap();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn http_get(addr: SocketAddr, path: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).await.ok()?;
    Some(out)
}

/// Events as they arrive, with the time each arrived.
type Timed = Arc<Mutex<Vec<(Instant, AnalyzeResponse)>>>;

/// Reads `stream` into `into` until it ends; returns how it ended.
async fn read_timed(
    mut stream: tonic::Streaming<AnalyzeResponse>,
    into: Timed,
) -> Result<(), tonic::Status> {
    loop {
        match stream.message().await {
            Ok(Some(ev)) => into.lock().unwrap().push((Instant::now(), ev)),
            Ok(None) => return Ok(()),
            Err(status) => return Err(status),
        }
    }
}

fn segments(events: &[(Instant, AnalyzeResponse)]) -> Vec<(Instant, proto::SegmentResult)> {
    events
        .iter()
        .filter_map(|(at, e)| match &e.event {
            Some(Event::Segment(s)) => Some((*at, s.clone())),
            _ => None,
        })
        .collect()
}

fn count(events: &[(Instant, AnalyzeResponse)], what: fn(&Event) -> bool) -> usize {
    events
        .iter()
        .filter(|(_, e)| e.event.as_ref().is_some_and(what))
        .count()
}

fn challenge_of(events: &[(Instant, AnalyzeResponse)]) -> Option<proto::ChallengeResult> {
    events.iter().find_map(|(_, e)| match &e.event {
        Some(Event::Challenge(c)) => Some(c.clone()),
        _ => None,
    })
}

fn summary_of(events: &[(Instant, AnalyzeResponse)]) -> Option<proto::SessionSummary> {
    events.iter().find_map(|(_, e)| match &e.event {
        Some(Event::Summary(s)) => Some(s.clone()),
        _ => None,
    })
}

/// A segment as every node shows it: stage timings are the sending node's own.
fn without_timings(s: &proto::SegmentResult) -> proto::SegmentResult {
    proto::SegmentResult {
        timings: None,
        ..s.clone()
    }
}

/// Retries `call` while it answers NOT_FOUND (the session's first write is not
/// committed yet), for up to 5 s.
async fn once_stored<T, F, Fut>(mut call: F) -> Result<T, tonic::Status>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match call().await {
            Err(s) if s.code() == Code::NotFound && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            other => return other,
        }
    }
}

async fn watch(
    node: SocketAddr,
    id: &str,
    key: &str,
) -> Result<tonic::Streaming<AnalyzeResponse>, tonic::Status> {
    client(node)
        .await
        .watch_session(authed(
            proto::WatchSessionRequest {
                session_id: id.into(),
            },
            key,
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn challenge(
    node: SocketAddr,
    id: &str,
    key: &str,
) -> Result<proto::ChallengeResponse, tonic::Status> {
    client(node)
        .await
        .challenge(authed(
            proto::ChallengeRequest {
                session_id: id.into(),
                kind: proto::ChallengeKind::TurnHead as i32,
                window_ms: None,
            },
            key,
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// Sends `jpegs` as a camera does, one every 40 ms, then `finish` (unless stopped).
fn send_in_real_time(
    tx: tokio::sync::mpsc::Sender<proto::AnalyzeRequest>,
    jpegs: Vec<Vec<u8>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        for (i, j) in jpegs.into_iter().enumerate() {
            if tx.send(frame(i as i64 * 40_000, j, 0, 0)).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        let _ = tx.send(finish()).await;
    })
}

/// Waits (up to `within`) until `events` holds a segment.
async fn until_a_segment(events: &Timed, within: Duration) {
    let deadline = Instant::now() + within;
    while segments(&events.lock().unwrap()).is_empty() {
        assert!(Instant::now() < deadline, "no segment within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `later - earlier` in milliseconds, negative when `later` came first.
fn signed_ms(later: Instant, earlier: Instant) -> f64 {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    ms(later.saturating_duration_since(earlier)) - ms(earlier.saturating_duration_since(later))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// A clip of a head that turns, played `times` times over, as JPEG frames.
fn turning_head(times: u32, dir: &Path) -> Vec<Vec<u8>> {
    let long = dir.join("long.mp4");
    let clip = data("deepfake-samples/dfdcstyle_gl_real.mp4");
    let loops = (times - 1).to_string();
    ffmpeg(&[
        "-stream_loop",
        &loops,
        "-i",
        clip.to_str().unwrap(),
        "-an",
        "-c:v",
        "libx264",
        long.to_str().unwrap(),
    ]);
    let frames = dir.join("frames");
    std::fs::create_dir_all(&frames).unwrap();
    jpeg_frames(&long, &frames)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_node_answers_for_any_session() {
    if TempCluster::skipped() {
        eprintln!("{SKIP_ENV}=1: skipping the two-node test (it needs PostgreSQL)");
        return;
    }
    // The synchronous PostgreSQL client runs off the test's runtime.
    let (_cluster, url) = tokio::task::spawn_blocking(|| {
        let cluster = TempCluster::start()
            .unwrap_or_else(|e| panic!("the two-node test needs a throwaway PostgreSQL: {e}"));
        let url = cluster.create_database("nodes").unwrap();
        // Tenant A enrols candidates (its first rounds, and photos).
        let store = PostgresStore::open(&url).unwrap();
        let mut a = TenantSettings::new("tenant-a");
        a.enrolment_enabled = true;
        store.upsert_tenant(&a).unwrap();
        (cluster, url)
    })
    .await
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let jpegs = turning_head(2, tmp.path());
    let (mut a, b) = tokio::join!(
        Node::start(&url, "node-a", tmp.path().join("node-a.log")),
        Node::start(&url, "node-b", tmp.path().join("node-b.log")),
    );

    // ---- An enrolment made on A verifies a session on B.
    let enrolled = client(a.grpc)
        .await
        .enroll_candidate(authed(
            proto::EnrollCandidateRequest {
                candidate_ref: "cand-o".into(),
                photo: std::fs::read(data("faces/obama_2012_portrait.jpg")).unwrap(),
            },
            KEY_A,
        ))
        .await
        .expect("enrolled on A");
    assert_eq!(enrolled.into_inner().candidate_ref, "cand-o");
    let photo = std::fs::read(data("faces/obama_2009_congress.jpg")).unwrap();
    let mut on_b = vec![start_msg("round-2-on-b", MediaFormat::Jpeg)];
    if let Some(proto::analyze_request::Message::Start(s)) = &mut on_b[0].message {
        s.candidate_ref = Some("cand-o".into());
    }
    on_b.extend(frames_at_25fps(&vec![photo; 75]));
    on_b.push(finish());
    let verified = analyze(&mut client(b.grpc).await, KEY_A, on_b, Duration::ZERO).await;
    assert_eq!(verified.code(), Code::Ok, "{:?}", verified.status);
    let similarities: Vec<f32> = verified
        .segments()
        .iter()
        .filter_map(|s| s.signals.iter().find(|x| x.name == "candidate_similarity"))
        .map(|x| x.median)
        .collect();
    eprintln!("session on B against the enrolment made on A: {similarities:?}");
    assert!(!similarities.is_empty(), "not verified on B");

    // ---- A session streamed in real time to A, watched, read and challenged on B.
    let id = "interview-on-a";
    let (tx, call) = open_session(&client(a.grpc).await, id, MediaFormat::Jpeg).await;
    let sender = send_in_real_time(tx, jpegs.clone());
    let on_a: Timed = Arc::default();
    let reader_a = tokio::spawn(read_timed(
        call.expect("session accepted").into_inner(),
        on_a.clone(),
    ));
    let asked = once_stored(|| challenge(b.grpc, id, KEY_A))
        .await
        .expect("a challenge asked on B for A's session");
    eprintln!("challenge asked on B: {asked:?}");
    let watch_start = Instant::now();
    let on_b: Timed = Arc::default();
    let watcher = tokio::spawn(read_timed(
        once_stored(|| watch(b.grpc, id, KEY_A))
            .await
            .expect("watched on B"),
        on_b.clone(),
    ));
    until_a_segment(&on_a, Duration::from_secs(30)).await;
    let so_far = get_session(&mut client(b.grpc).await, id, KEY_A)
        .await
        .expect("read on B while it runs");
    assert!(!so_far.segments.is_empty(), "B sees A's committed segments");
    assert!(so_far.summary.is_none(), "{:?}", so_far.summary);
    // Another tenant's key finds nothing on B, as on A.
    for code in [
        get_session(&mut client(b.grpc).await, id, KEY_B)
            .await
            .map(drop)
            .unwrap_err()
            .code(),
        watch(b.grpc, id, KEY_B).await.map(drop).unwrap_err().code(),
        challenge(b.grpc, id, KEY_B)
            .await
            .map(drop)
            .unwrap_err()
            .code(),
    ] {
        assert_eq!(code, Code::NotFound);
    }
    let seen_by_b_while_live = loop {
        let n = segments(&on_b.lock().unwrap()).len();
        if n > 0 || reader_a.is_finished() {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        seen_by_b_while_live > 0 && !reader_a.is_finished(),
        "a segment reached B's watcher before A's session ended"
    );
    reader_a.await.unwrap().expect("A's session ends OK");
    sender.await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), watcher)
        .await
        .expect("B's watcher ends after the summary")
        .unwrap()
        .expect("B's watcher ends OK");

    let (a_events, b_events) = (on_a.lock().unwrap().clone(), on_b.lock().unwrap().clone());
    let (a_segs, b_segs) = (segments(&a_events), segments(&b_events));
    let strip = |v: &[(Instant, proto::SegmentResult)]| -> Vec<_> {
        v.iter().map(|(_, s)| without_timings(s)).collect()
    };
    assert!(a_segs.len() >= 6, "{} segments", a_segs.len());
    assert_eq!(
        strip(&b_segs),
        strip(&a_segs),
        "B's watcher saw what A sent"
    );
    let is_change: fn(&Event) -> bool = |e| matches!(e, Event::StateChange(_));
    assert_eq!(count(&b_events, is_change), count(&a_events, is_change));
    let on_a_challenge = challenge_of(&a_events).expect("the challenge result on A's stream");
    assert_eq!(on_a_challenge.challenge_id, asked.challenge_id);
    eprintln!("challenge outcome: {}", on_a_challenge.message);
    assert_eq!(challenge_of(&b_events), Some(on_a_challenge));
    let (a_sum, b_sum) = (
        summary_of(&a_events).unwrap(),
        summary_of(&b_events).unwrap(),
    );
    assert_eq!(b_sum.ended_by, a_sum.ended_by);
    assert_eq!(b_sum.segments, a_sum.segments);
    assert!(matches!(
        b_events.last().and_then(|(_, e)| e.event.as_ref()),
        Some(Event::Summary(_))
    ));
    let stored = get_session(&mut client(b.grpc).await, id, KEY_A)
        .await
        .expect("read on B after the end");
    let a_plain: Vec<_> = strip(&a_segs);
    let stored_plain: Vec<_> = stored.segments.iter().map(without_timings).collect();
    assert_eq!(
        stored_plain, a_plain,
        "GetSession on B: the segments A sent"
    );
    assert_eq!(stored.summary.unwrap().ended_by, a_sum.ended_by);

    // Lag: from A sending a segment to its client to B's watcher receiving it, for
    // segments made after the watcher started.
    let mut lags: Vec<f64> = a_segs
        .iter()
        .filter(|(at, _)| *at > watch_start)
        .filter_map(|(at_a, s)| {
            let (at_b, _) = b_segs.iter().find(|(_, t)| t.index == s.index)?;
            Some(signed_ms(*at_b, *at_a))
        })
        .collect();
    lags.sort_by(f64::total_cmp);
    assert!(!lags.is_empty());
    eprintln!(
        "WatchSession cross-node lag over {} segments: p50 {:.0} ms, p99 {:.0} ms (max {:.0} ms)",
        lags.len(),
        percentile(&lags, 0.5),
        percentile(&lags, 0.99),
        lags[lags.len() - 1]
    );

    // ---- A killed mid-session: B closes its session once A's lease runs out.
    let id = "interview-cut";
    let (tx, call) = open_session(&client(a.grpc).await, id, MediaFormat::Jpeg).await;
    let sender = send_in_real_time(tx, jpegs);
    let on_a: Timed = Arc::default();
    let reader_a = tokio::spawn(read_timed(
        call.expect("session accepted").into_inner(),
        on_a.clone(),
    ));
    until_a_segment(&on_a, Duration::from_secs(30)).await;
    let on_b: Timed = Arc::default();
    let watcher = tokio::spawn(read_timed(
        watch(b.grpc, id, KEY_A).await.expect("watched on B"),
        on_b.clone(),
    ));
    a.kill();
    let killed_at = Instant::now();
    // Before its lease runs out the session is still A's, and A does not answer.
    let unanswered = challenge(b.grpc, id, KEY_A).await.unwrap_err();
    assert_eq!(unanswered.code(), Code::Unavailable, "{unanswered:?}");
    assert!(
        unanswered.message().contains("node-a"),
        "{}",
        unanswered.message()
    );
    let _ = reader_a.await;
    sender.abort();
    let seen_by_client = segments(&on_a.lock().unwrap()).len();
    tokio::time::timeout(Duration::from_secs(30), watcher)
        .await
        .expect("B's watcher ends once the session is closed")
        .unwrap()
        .expect("B's watcher ends OK");
    let b_events = on_b.lock().unwrap().clone();
    assert_eq!(summary_of(&b_events).unwrap().ended_by, "interrupted");
    let (closed_at, _) = b_events.last().unwrap();
    eprintln!(
        "the killed node's session closed on B's watcher {:.1} s after the kill \
         (lease {LEASE_S} s)",
        closed_at.duration_since(killed_at).as_secs_f64()
    );
    let closed = get_session(&mut client(b.grpc).await, id, KEY_A)
        .await
        .expect("read on B after the kill");
    assert_eq!(closed.summary.unwrap().ended_by, "interrupted");
    assert!(
        closed.segments.len() >= seen_by_client,
        "{} stored, {seen_by_client} seen by A's client",
        closed.segments.len()
    );
    let log = b.log_text();
    assert!(log.contains("lease ran out"), "{log}");
    drop(b);
}
