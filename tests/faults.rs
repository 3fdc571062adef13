//! Faults of the live service, with the real binary as a child process: a `kill -9` in
//! the middle of live sessions, and a result store that refuses writes (a full disk).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use candor_server::proto::{self, MediaFormat, analyze_response::Event};
use candor_store::Store;
use support::process::{Serve, http_get};
use support::server::*;
use support::{data, ffmpeg};
use tonic::Code;
use tonic::transport::Channel;

/// The value of a gauge without labels of its own (only the `node` label every
/// metric carries) in a Prometheus text page.
fn gauge(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?;
        let rest = match rest.strip_prefix("{node=") {
            Some(labelled) => labelled.split_once("} ")?.1,
            None => rest.strip_prefix(' ')?,
        };
        rest.trim().parse().ok()
    })
}

/// Every frame of `clip` as JPEG frame messages, 40 ms apart, after a start message.
fn jpeg_session(id: &str, jpegs: &[Vec<u8>]) -> Vec<proto::AnalyzeRequest> {
    let mut msgs = vec![start_msg(id, MediaFormat::Jpeg)];
    msgs.extend(frames_at_25fps(jpegs));
    msgs.push(finish());
    msgs
}

/// Reads a session's answers until its first segment, keeping the segments.
async fn until_a_segment(
    stream: &mut tonic::Streaming<proto::AnalyzeResponse>,
    seen: &mut Vec<proto::SegmentResult>,
) {
    while seen.is_empty() {
        match stream.message().await.expect("no error before the kill") {
            Some(proto::AnalyzeResponse {
                event: Some(Event::Segment(s)),
            }) => seen.push(s),
            Some(proto::AnalyzeResponse {
                event: Some(Event::Summary(s)),
            }) => panic!("summary before the kill: {s:?}"),
            Some(_) => {}
            None => panic!("stream ended before the kill"),
        }
    }
}

/// What a client sees of a dead server: any segment already in flight (kept in
/// `seen`), then an error status, never OK or a summary.
async fn until_the_error(
    stream: &mut tonic::Streaming<proto::AnalyzeResponse>,
    seen: &mut Vec<proto::SegmentResult>,
) -> tonic::Status {
    loop {
        match stream.message().await {
            Ok(Some(proto::AnalyzeResponse {
                event: Some(Event::Segment(s)),
            })) => seen.push(s),
            Ok(Some(proto::AnalyzeResponse {
                event: Some(Event::Summary(s)),
            })) => panic!("summary from a killed server: {s:?}"),
            Ok(Some(_)) => {}
            Ok(None) => panic!("the stream of a killed server ended with OK"),
            Err(status) => return status,
        }
    }
}

/// Two live sessions streamed in real time are cut by `kill -9` once each has a
/// segment result. Each client gets a status meaning UNAVAILABLE, and new calls get
/// UNAVAILABLE while the server is down. A server restarted on the same data
/// directory returns each session with every segment its client saw, whole, marked
/// `interrupted` with a summary of them (GetSession and WatchSession); the store has
/// them closed; and a new session works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_leaves_interrupted_sessions_with_their_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    // 9 s of video (the 3 s clip three times): the kill lands well before its end.
    let long = tmp.path().join("long.mp4");
    let clip = data("talking-heads/grid_bbaf2n.mp4");
    let (clip_s, long_s) = (clip.to_str().unwrap(), long.to_str().unwrap());
    ffmpeg(&[
        "-stream_loop",
        "2",
        "-i",
        clip_s,
        "-an",
        "-c:v",
        "libx264",
        long_s,
    ]);
    let jpegs = jpeg_frames(&long, &mkdir(tmp.path().join("frames")));
    assert!(jpegs.len() >= 200, "{} frames", jpegs.len());

    let mut server = Serve::start(&data_dir, tmp.path().join("serve-1.log")).await;
    let c = client(server.grpc).await;
    let ids = ["call-killed-1", "call-killed-2"];
    let (tx1, call1) = open_session(&c, ids[0], MediaFormat::Jpeg).await;
    let (tx2, call2) = open_session(&c, ids[1], MediaFormat::Jpeg).await;
    // Real time: one frame every 40 ms to each session, as cameras send them.
    let sender = tokio::spawn(async move {
        for (i, j) in jpegs.into_iter().enumerate() {
            let pts = i as i64 * 40_000;
            let sent1 = tx1.send(frame(pts, j.clone(), 0, 0)).await;
            let sent2 = tx2.send(frame(pts, j, 0, 0)).await;
            if sent1.is_err() || sent2.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    });
    let mut streams = [
        call1.expect("session accepted").into_inner(),
        call2.expect("session accepted").into_inner(),
    ];
    let mut seen: [Vec<proto::SegmentResult>; 2] = Default::default();
    for (stream, seen) in streams.iter_mut().zip(seen.iter_mut()) {
        until_a_segment(stream, seen).await;
    }
    server.kill();
    for (stream, seen) in streams.iter_mut().zip(seen.iter_mut()) {
        // A dead server sends no status: the client's library makes one from the
        // broken connection. tonic says UNKNOWN with the connection reset as its
        // source, which `lost_connection` (and `candor stream`) recognise.
        let status = until_the_error(stream, seen).await;
        eprintln!("client status after the kill: {status:?}");
        assert!(
            status.code() == Code::Unavailable || candor_server::lost_connection(&status),
            "{status:?}"
        );
    }
    sender.abort();
    // While it is down, a new call is refused with UNAVAILABLE: retry elsewhere.
    let down = Channel::from_shared(format!("http://{}", server.grpc))
        .unwrap()
        .connect_lazy();
    let refused = get_session(
        &mut proto::candor_client::CandorClient::new(down),
        ids[0],
        KEY_A,
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");

    // The dead process left the sessions open; a restart closes them.
    for id in ids {
        let open = candor_store::SqliteStore::open(&data_dir)
            .unwrap()
            .get_session("tenant-a", id)
            .expect("the session was stored when it opened");
        assert_eq!(
            open.ended_at, None,
            "nothing closed {id} before the restart"
        );
    }

    let server = Serve::start(&data_dir, tmp.path().join("serve-2.log")).await;
    let log = server.log_text();
    assert_eq!(log.matches("closed as interrupted").count(), 2, "{log}");
    for (id, seen) in ids.into_iter().zip(&seen) {
        let stored = get_session(&mut client(server.grpc).await, id, KEY_A)
            .await
            .expect("the session survives the kill");
        // Every segment the client saw is stored, whole and equal to what was sent;
        // the server may have committed one more just before it died.
        assert!(
            stored.segments.len() >= seen.len() && stored.segments.len() <= seen.len() + 1,
            "{id}: {} stored, {} seen",
            stored.segments.len(),
            seen.len()
        );
        for (s, l) in stored.segments.iter().zip(seen) {
            let mut l = l.clone();
            l.timings = s.timings;
            assert_eq!(s, &l);
        }
        let summary = stored.summary.clone().expect("a summary");
        assert_eq!(summary.ended_by, "interrupted");
        assert_eq!(
            summary.segments as usize,
            stored.segments.len(),
            "{summary:?}"
        );
        let closed = candor_store::SqliteStore::open(&data_dir)
            .unwrap()
            .get_session("tenant-a", id)
            .unwrap();
        assert!(closed.ended_at.is_some(), "{closed:?}");
        assert!(closed.summary_json.unwrap().contains("\"interrupted\""));

        // Watching it replays the stored segments, then the interrupted summary.
        let mut watch = client(server.grpc)
            .await
            .watch_session(authed(
                proto::WatchSessionRequest {
                    session_id: id.into(),
                },
                KEY_A,
            ))
            .await
            .expect("watch a stored session")
            .into_inner();
        let mut events = Vec::new();
        while let Some(ev) = watch.message().await.unwrap() {
            events.push(ev.event.unwrap());
        }
        assert_eq!(events.len(), stored.segments.len() + 1, "{events:?}");
        assert!(
            matches!(events.last(), Some(Event::Summary(s)) if s.ended_by == "interrupted"),
            "{events:?}"
        );
    }

    // The client reconnects and opens a new session on the restarted server.
    let short = jpeg_frames(&clip, &mkdir(tmp.path().join("frames-short")));
    let mut c = client(server.grpc).await;
    let next = analyze(
        &mut c,
        KEY_A,
        jpeg_session("call-next", &short),
        Duration::ZERO,
    )
    .await;
    assert_eq!(next.code(), Code::Ok, "{:?}", next.status);
    assert_eq!(next.segments().len(), 2);
    assert_eq!(next.summary().unwrap().ended_by, "finished");
}

fn mkdir(dir: PathBuf) -> PathBuf {
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Polls `check` every 50 ms until it holds; fails the test after `what` has not
/// happened in 60 s (a bound for a hung server, not a timing assertion).
async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    mut check: impl FnMut() -> F,
) {
    for _ in 0..1200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within 60 s");
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// `None` (with the reason printed) unless this process may mount file systems.
    fn mount(at: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Self(at.to_owned())),
            Ok(o) => {
                eprintln!(
                    "skipped: cannot mount a tmpfs ({}): needs root",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("skipped: no mount command: {e}");
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Fills the file system holding `dir` with one file until the disk is full.
fn fill_disk(dir: &Path) -> PathBuf {
    use std::io::Write;
    let filler = dir.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let block = vec![0u8; 64 * 1024];
    loop {
        if let Err(e) = f.write_all(&block) {
            assert_eq!(e.raw_os_error(), Some(28), "ENOSPC expected: {e}");
            break;
        }
    }
    filler
}

/// The data directory on a small tmpfs that fills up mid-run (skipped, with the
/// reason printed, where the test cannot mount one). A session before the disk fills
/// is stored; a session while it is full is analysed and answered in full, metrics and
/// /healthz say results are not being stored, the log says why, and the stored session
/// stays readable; once space is free again, sessions are stored again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_storing_but_not_analysing() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let Some(_tmpfs) = Tmpfs::mount(&data_dir, "8m") else {
        return;
    };
    let clip = data("talking-heads/grid_bbaf2n.mp4");
    let jpegs = jpeg_frames(&clip, &mkdir(tmp.path().join("frames")));

    let server = Serve::start(&data_dir, tmp.path().join("serve.log")).await;
    let c = client(server.grpc).await;
    let run = |id: &'static str| {
        let mut c = c.clone();
        let msgs = jpeg_session(id, &jpegs);
        async move { analyze(&mut c, KEY_A, msgs, Duration::ZERO).await }
    };
    let before = run("before-full").await;
    assert_eq!(before.code(), Code::Ok, "{:?}", before.status);
    assert_eq!(
        gauge(&server.metrics().await, "candor_store_writable"),
        Some(1.0)
    );

    let filler = fill_disk(&data_dir);
    let during = run("while-full").await;
    assert_eq!(during.code(), Code::Ok, "{:?}", during.status);
    assert_eq!(during.segments().len(), 2, "analysis goes on");
    assert_eq!(during.summary().unwrap().ended_by, "finished");
    let metrics = server.metrics().await;
    assert_eq!(
        gauge(&metrics, "candor_store_writable"),
        Some(0.0),
        "{metrics}"
    );
    assert!(
        metrics.contains("candor_store_errors_total{kind=\"backend\""),
        "{metrics}"
    );
    let health = http_get(server.metrics, "/healthz").await.unwrap();
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("results are not being stored"), "{health}");
    assert!(
        server.log_text().contains("results are not being stored"),
        "{}",
        server.log_text()
    );
    // Nothing stored before the disk filled is lost.
    let stored = get_session(&mut client(server.grpc).await, "before-full", KEY_A)
        .await
        .unwrap();
    assert_eq!(stored.segments.len(), before.segments().len());
    assert_eq!(stored.summary.as_ref(), before.summary());

    // Space again: the next session is stored (its writes follow the session, so
    // wait for them rather than race them).
    std::fs::remove_file(filler).unwrap();
    let after = run("after-full").await;
    assert_eq!(after.code(), Code::Ok, "{:?}", after.status);
    eventually("the store writable again", || async {
        gauge(&server.metrics().await, "candor_store_writable") == Some(1.0)
    })
    .await;
    let data = data_dir.clone();
    eventually("the session after the full disk stored", move || {
        let data = data.clone();
        async move {
            let store = candor_store::SqliteStore::open(&data).unwrap();
            store
                .get_session("tenant-a", "after-full")
                .is_ok_and(|s| s.summary_json.is_some() && s.segments == 2)
        }
    })
    .await;
    let stored = get_session(&mut client(server.grpc).await, "after-full", KEY_A)
        .await
        .unwrap();
    assert_eq!(stored.segments.len(), 2);
    assert_eq!(stored.summary.unwrap().ended_by, "finished");
}

/// A data directory on a file system mounted read-only (skipped, saying why, where
/// the test cannot mount one): the server starts, says from the start that results
/// are not being stored, analyses and answers a session in full, and still returns
/// the session stored before the file system went read-only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_data_directory_is_served_without_storing() {
    let tmp = tempfile::tempdir().unwrap();
    let mount = tmp.path().join("mnt");
    let Some(_tmpfs) = Tmpfs::mount(&mount, "8m") else {
        return;
    };
    let data_dir = mount.join("data");
    let clip = data("talking-heads/grid_bbaf2n.mp4");
    let jpegs = jpeg_frames(&clip, &mkdir(tmp.path().join("frames")));

    // A session stored while the file system was writable.
    let mut server = Serve::start(&data_dir, tmp.path().join("serve-1.log")).await;
    let mut c = client(server.grpc).await;
    let before = analyze(
        &mut c,
        KEY_A,
        jpeg_session("stored", &jpegs),
        Duration::ZERO,
    )
    .await;
    assert_eq!(before.code(), Code::Ok, "{:?}", before.status);
    let data = data_dir.clone();
    eventually("the first session stored", move || {
        let data = data.clone();
        async move {
            candor_store::SqliteStore::open(&data)
                .unwrap()
                .get_session("tenant-a", "stored")
                .is_ok_and(|s| s.summary_json.is_some())
        }
    })
    .await;
    server.kill();
    let ro = Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(&mount)
        .status()
        .unwrap();
    assert!(ro.success(), "remount read-only");

    let server = Serve::start(&data_dir, tmp.path().join("serve-2.log")).await;
    let metrics = server.metrics().await;
    assert_eq!(
        gauge(&metrics, "candor_store_writable"),
        Some(0.0),
        "{metrics}"
    );
    let health = http_get(server.metrics, "/healthz").await.unwrap();
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("results are not being stored"), "{health}");
    assert!(
        server.log_text().contains("not writable"),
        "{}",
        server.log_text()
    );
    let mut c = client(server.grpc).await;
    let live = analyze(
        &mut c,
        KEY_A,
        jpeg_session("unstored", &jpegs),
        Duration::ZERO,
    )
    .await;
    assert_eq!(live.code(), Code::Ok, "{:?}", live.status);
    assert_eq!(live.segments().len(), 2);
    assert_eq!(live.summary().unwrap().ended_by, "finished");
    let stored = get_session(&mut client(server.grpc).await, "stored", KEY_A)
        .await
        .unwrap();
    assert_eq!(stored.segments.len(), before.segments().len());
    assert_eq!(stored.summary.as_ref(), before.summary());
}

/// A storm of clients that vanish mid-stream: 24 sessions, each on its own connection,
/// dropped without a finish message after 0 to 30 frames (some before the server's
/// first answer, some refused when the node is full). The server stays healthy,
/// closes every one of them (`candor_sessions_open` back to 0, nothing left holding a
/// slot), logs no panic, and a new session afterwards runs to its summary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_vanishing_clients_leaves_no_session_open() {
    let tmp = tempfile::tempdir().unwrap();
    let clip = data("talking-heads/grid_bbaf2n.mp4");
    let jpegs = jpeg_frames(&clip, &mkdir(tmp.path().join("frames")));
    let server = Serve::start(&tmp.path().join("data"), tmp.path().join("serve.log")).await;
    let mut storm = Vec::new();
    for i in 0..24usize {
        let c = client(server.grpc).await;
        let jpegs = jpegs.clone();
        storm.push(tokio::spawn(async move {
            let (tx, call) = open_session(&c, &format!("storm-{i}"), MediaFormat::Jpeg).await;
            let id = format!("storm-{i}");
            let Ok(response) = call else {
                return None;
            };
            for (k, j) in jpegs.into_iter().take(i * 7 % 31).enumerate() {
                if tx.send(frame(k as i64 * 40_000, j, 0, 0)).await.is_err() {
                    break;
                }
            }
            // Gone: the answer stream, the request stream and the connection, with no
            // finish message.
            drop(response);
            drop(tx);
            drop(c);
            Some(id)
        }));
    }
    let mut accepted = Vec::new();
    for client in storm {
        accepted.extend(client.await.unwrap());
    }
    // The storm reached the analysis, not only the front door.
    assert!(
        accepted.len() >= 4,
        "{} of 24 sessions accepted",
        accepted.len()
    );
    eventually("every vanished session closed", || async {
        gauge(&server.metrics().await, "candor_sessions_open") == Some(0.0)
    })
    .await;
    // Each one ended, with a summary saying how, not left open.
    for id in &accepted {
        let ended = get_session(&mut client(server.grpc).await, id, KEY_A)
            .await
            .ok()
            .and_then(|s| s.summary)
            .map(|s| s.ended_by);
        assert!(
            ended.as_deref().is_some_and(|e| !e.is_empty()),
            "{id}: {ended:?}"
        );
        eprintln!("{id}: ended by {}", ended.unwrap_or_default());
    }
    assert!(
        http_get(server.metrics, "/healthz")
            .await
            .is_some_and(|r| r.starts_with("HTTP/1.1 200")),
        "{}",
        server.log_text()
    );

    let c = client(server.grpc).await;
    let (tx, call) = open_session(&c, "after-the-storm", MediaFormat::Jpeg).await;
    let mut stream = call
        .expect("a session after the storm is accepted")
        .into_inner();
    for (k, j) in jpegs.into_iter().enumerate() {
        tx.send(frame(k as i64 * 40_000, j, 0, 0)).await.unwrap();
    }
    tx.send(finish()).await.unwrap();
    drop(tx);
    let mut segments = 0;
    loop {
        match stream.message().await.expect("no error after the storm") {
            Some(proto::AnalyzeResponse {
                event: Some(Event::Segment(_)),
            }) => segments += 1,
            Some(proto::AnalyzeResponse {
                event: Some(Event::Summary(_)),
            }) => break,
            Some(_) => {}
            None => panic!("the stream ended without a summary"),
        }
    }
    assert!(segments >= 1);
    assert!(
        !server.log_text().contains("panicked"),
        "{}",
        server.log_text()
    );
}
