//! The live service end to end: the real server started in-process on 127.0.0.1 (port
//! 0) through the same `start` that `candor serve` uses, with the real models.

mod support;

use std::path::Path;
use std::time::Duration;

use candor_pipeline::Fault;
use candor_server::Limits;
use candor_server::proto::{self, MediaFormat, analyze_response::Event};
use support::server::*;
use support::{data, ffmpeg, frozen_video, still_frame};
use tonic::Code;

const NO_GAP: Duration = Duration::ZERO;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_serving_after_models_load_and_info_lists_them() {
    let mut server = candor_server::start(settings(limits())).await.unwrap();
    let ch = channel(server.grpc_addr).await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(ch);
    server.ready().await.unwrap();
    // Health is outside authentication.
    let status = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "candor.v1.Candor".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(
        status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    let http = reqwest_like_get(server.metrics_addr.unwrap(), "/healthz").await;
    assert!(http.starts_with("HTTP/1.1 200"), "{http}");

    let mut c = client(server.grpc_addr).await;
    let info = c
        .info(authed(proto::InfoRequest {}, KEY_A))
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = info.models.iter().map(|m| m.name.as_str()).collect();
    assert!(
        names.contains(&"yunet_s") && names.contains(&"minifasnet_v2+v1se"),
        "{names:?}"
    );
    assert_eq!(info.execution_provider, "cpu");
    assert!(
        info.max_message_bytes as usize >= 1920 * 1080 * 3,
        "a raw 1080p RGB frame must fit"
    );
    server.shutdown().await.unwrap();
}

/// `candor health`, the image's health check, exits 0 with SERVING for a serving node
/// and 1 for an address where nothing answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_command_answers_for_container_checks() {
    let server = start(settings(limits())).await;
    let check = |addr: String| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_candor"))
            .args(["health", "--server", &addr, "--timeout-s", "5"])
            .output()
    };
    let ok = check(format!("http://{}", server.grpc_addr)).await.unwrap();
    assert!(ok.status.success(), "{ok:?}");
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "SERVING");
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    let down = check(closed).await.unwrap();
    assert_eq!(down.status.code(), Some(1), "{down:?}");
    server.shutdown().await.unwrap();
}

/// A node told to run its models on a GPU it cannot use fails at start with a message
/// that says so, never serving on CPU unnoticed (this ONNX Runtime is the CPU build).
#[tokio::test]
async fn a_gpu_that_cannot_be_used_fails_the_start() {
    let mut s = settings(limits());
    s.engine.runtime.execution_provider = candor_vision::ExecutionProvider::Cuda { device_id: 0 };
    let err = candor_server::run(s, std::future::pending())
        .await
        .expect_err("CUDA is not available here");
    let msg = format!("{err:#}");
    assert!(
        msg.contains("cuda:0") && msg.contains("scripts/setup --gpu"),
        "{msg}"
    );
}

/// A model worker that dies and cannot be rebuilt takes the node out of rotation: gRPC
/// health and /healthz both say NOT_SERVING (test builds can stop a worker on request).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_follows_the_model_workers() {
    use tonic_health::pb::health_check_response::ServingStatus;
    let server = start(settings(limits())).await;
    let ch = channel(server.grpc_addr).await;
    let health = tonic_health::pb::health_client::HealthClient::new(ch);
    let status = || {
        let mut health = health.clone();
        async move {
            health
                .check(tonic_health::pb::HealthCheckRequest {
                    service: "candor.v1.Candor".into(),
                })
                .await
                .unwrap()
                .into_inner()
                .status
        }
    };
    assert_eq!(status().await, ServingStatus::Serving as i32);
    let engine = server.engine().expect("models loaded");
    assert!(!engine.inject_fault("no_such_model", Fault::StopOneWorker));
    assert!(engine.inject_fault("yunet_s", Fault::StopOneWorker));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while status().await != ServingStatus::NotServing as i32 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "health still SERVING with a dead detector worker"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let http = reqwest_like_get(server.metrics_addr.unwrap(), "/healthz").await;
    assert!(http.starts_with("HTTP/1.1 503"), "{http}");
    let metrics = reqwest_like_get(server.metrics_addr.unwrap(), "/metrics").await;
    assert!(
        metrics.contains("candor_model_workers_alive{model=\"yunet_s\",node=\"test-node\"}"),
        "{metrics}"
    );
    let short: Vec<_> = engine
        .pool_health()
        .into_iter()
        .filter(|p| !p.serving())
        .collect();
    assert_eq!(short.len(), 1, "{short:?}");
    assert_eq!((short[0].model.as_str(), short[0].alive), ("yunet_s", 0));
    server.shutdown().await.unwrap();
}

/// Sums one field of the segments' frame accounting.
fn frame_sum(out: &Outcome, field: fn(&proto::FrameAccounting) -> u32) -> u32 {
    out.segments()
        .iter()
        .map(|s| field(s.frames.as_ref().unwrap()))
        .sum()
}

/// A model that panics on one input loses that frame only: the worker rebuilds its
/// model, the session goes on to its summary, the frame counts as dropped, the pool
/// stays whole and health stays SERVING.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_panic_loses_only_its_frame() {
    let server = start(settings(limits())).await;
    let dir = tempfile::tempdir().unwrap();
    let jpegs = jpeg_frames(&data("talking-heads/grid_bbaf2n.mp4"), dir.path());
    let mut c = client(server.grpc_addr).await;
    let session = |id: &str| {
        let mut msgs = vec![start_msg(id, MediaFormat::Jpeg)];
        msgs.extend(frames_at_25fps(&jpegs));
        msgs.push(finish());
        msgs
    };
    let reference = analyze(&mut c, KEY_A, session("before-panic"), NO_GAP).await;
    assert_eq!(reference.code(), Code::Ok, "{:?}", reference.status);
    assert_eq!(frame_sum(&reference, |f| f.dropped), 0);

    // Every analysed frame runs the detector: its next run panics.
    let engine = server.engine().expect("models loaded");
    assert!(engine.inject_fault("yunet_s", Fault::PanicOnNextRun));
    let hit = analyze(&mut c, KEY_A, session("with-panic"), NO_GAP).await;
    assert_eq!(hit.code(), Code::Ok, "{:?}", hit.status);
    assert!(hit.summary().is_some(), "the session reached its summary");
    assert_eq!(hit.segments().len(), reference.segments().len());
    assert_eq!(
        frame_sum(&hit, |f| f.dropped),
        1,
        "only the one frame is lost"
    );
    assert_eq!(
        frame_sum(&hit, |f| f.analysed),
        frame_sum(&reference, |f| f.analysed) - 1
    );
    let detector = engine
        .pool_health()
        .into_iter()
        .find(|p| p.model == "yunet_s")
        .unwrap();
    assert_eq!((detector.alive, detector.panics), (detector.workers, 1));
    // The health loop feeds the metric from the pools every second or so.
    let line = "candor_model_panics_total{model=\"yunet_s\",node=\"test-node\"} 1";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = reqwest_like_get(server.metrics_addr.unwrap(), "/metrics").await;
        if metrics.contains(line) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let healthz = reqwest_like_get(server.metrics_addr.unwrap(), "/healthz").await;
    assert!(healthz.starts_with("HTTP/1.1 200"), "{healthz}");
    // And the next session is whole again.
    let after = analyze(&mut c, KEY_A, session("after-panic"), NO_GAP).await;
    assert_eq!(
        frame_sum(&after, |f| f.analysed),
        frame_sum(&reference, |f| f.analysed)
    );
    server.shutdown().await.unwrap();
}

/// Server reflection answers in both versions tools speak: v1 (grpcurl) and v1alpha
/// (grpcio's Python client, older tools), outside authentication.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_the_service_in_v1_and_v1alpha() {
    let server = start(settings(limits())).await;
    let ch = channel(server.grpc_addr).await;
    macro_rules! services {
        ($version:ident) => {{
            use tonic_reflection::pb::$version::{
                ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
                server_reflection_request::MessageRequest,
                server_reflection_response::MessageResponse,
            };
            let request = ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::ListServices(String::new())),
            };
            let mut replies = ServerReflectionClient::new(ch.clone())
                .server_reflection_info(tokio_stream::iter([request]))
                .await
                .unwrap()
                .into_inner();
            match replies.message().await.unwrap().unwrap().message_response {
                Some(MessageResponse::ListServicesResponse(list)) => {
                    list.service.into_iter().map(|s| s.name).collect::<Vec<_>>()
                }
                other => panic!("unexpected reflection reply: {other:?}"),
            }
        }};
    }
    for names in [services!(v1), services!(v1alpha)] {
        assert!(names.iter().any(|n| n == "candor.v1.Candor"), "{names:?}");
    }
    server.shutdown().await.unwrap();
}

/// A minimal HTTP GET over a raw socket (no HTTP client dependency for two checks).
async fn reqwest_like_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h264_chunks_and_jpeg_frames_give_the_same_segments() {
    let server = start(settings(limits())).await;
    let dir = tempfile::tempdir().unwrap();
    let clip = data("talking-heads/grid_bbaf2n.mp4");
    let h264 = annexb(&clip, dir.path(), "c.h264");
    let jpegs = jpeg_frames(&clip, dir.path());
    assert_eq!(jpegs.len(), 75);
    let mut c = client(server.grpc_addr).await;

    let mut msgs = vec![start_msg("chunks", MediaFormat::H264Annexb)];
    msgs.extend(chunks(&h264, 4096));
    msgs.push(finish());
    let a = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
    assert_eq!(a.code(), Code::Ok, "{:?}", a.status);

    let mut msgs = vec![start_msg("jpeg", MediaFormat::Jpeg)];
    msgs.extend(
        jpegs
            .into_iter()
            .enumerate()
            .map(|(i, j)| frame(1_000_000_000 + i as i64 * 40_000, j, 0, 0)),
    );
    msgs.push(finish());
    let b = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
    assert_eq!(b.code(), Code::Ok, "{:?}", b.status);

    let (sa, sb) = (a.segments(), b.segments());
    assert_eq!(sa.len(), 2);
    assert_eq!(sa.len(), sb.len());
    for (x, y) in sa.iter().zip(&sb) {
        assert_eq!(
            (x.index, x.start_us, x.end_us),
            (y.index, y.start_us, y.end_us)
        );
        let (fx, fy) = (x.frames.unwrap(), y.frames.unwrap());
        assert_eq!(
            (fx.decoded, fx.analysed, fx.one_face),
            (fy.decoded, fy.analysed, fy.one_face)
        );
        assert_eq!(fx.dropped, 0);
        assert!(
            (liveness(x) - liveness(y)).abs() < 0.1,
            "{} vs {}",
            liveness(x),
            liveness(y)
        );
        assert_eq!(x.state, y.state);
        assert_eq!(x.state, proto::RiskState::Clear as i32, "{x:?}");
        // A real face: the fused confidence is present, agrees across transports (JPEG
        // re-encoding moves the forgery model a little) and stays below the alert point.
        let alert_at = candor_core::AnalysisConfig::default().synthetic.alert_at;
        let (cx, cy) = (x.attack_score.unwrap(), y.attack_score.unwrap());
        // The old field still carries the same value, for one release.
        #[allow(deprecated)]
        let old = x.synthetic_confidence;
        assert_eq!(old, x.attack_score);
        assert!(x.synthetic_face_confidence.is_some(), "{x:?}");
        assert!(
            (cx - cy).abs() < 0.15 && cx < alert_at && cy < alert_at,
            "{cx} {cy}"
        );
    }
    let summary = a.summary().unwrap();
    assert!(summary.complete);
    assert_eq!(summary.ended_by, "finished");
    assert_eq!(summary.frames.unwrap().decoded, 75);
    assert!(matches!(a.events[0].event, Some(Event::Accepted(_))));
    server.shutdown().await.unwrap();
}

/// The same recording sent as H.264, WebM, JPEG frames and raw I420 frames gets the
/// same state in every segment: a live score near a threshold (this real clip hovers
/// at the suspicious line) must not flip with the transport, and a screen replay
/// alerts every way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transport_gives_the_same_states() {
    let server = start(settings(limits())).await;
    let mut c = client(server.grpc_addr).await;
    let dir = tempfile::tempdir().unwrap();
    let real = data("deepfake-samples/lp_d19_real.mp4");
    let replay = support::screen_replay(dir.path(), 6, 25);
    for (name, clip, (w, h), fps) in [
        ("real", &real, (480, 480), 30),
        ("replay", &replay, (480, 640), 25),
    ] {
        let sub = dir.path().join(name);
        std::fs::create_dir_all(&sub).unwrap();
        // Exact presentation times, as a camera's clock gives them (i / fps seconds).
        let pts = move |i: usize| i as i64 * 1_000_000 / fps;
        let frames = |format, data: Vec<Vec<u8>>, w, h| {
            let mut msgs = vec![start_msg(&format!("{name}-{format:?}"), format)];
            msgs.extend(
                data.into_iter()
                    .enumerate()
                    .map(|(i, d)| frame(pts(i), d, w, h)),
            );
            msgs.push(finish());
            msgs
        };
        let chunked = |format, bytes: Vec<u8>| {
            let mut msgs = vec![start_msg(&format!("{name}-{format:?}"), format)];
            msgs.extend(chunks(&bytes, 8192));
            msgs.push(finish());
            msgs
        };
        let sessions = [
            chunked(MediaFormat::H264Annexb, annexb(clip, &sub, "c.h264")),
            chunked(MediaFormat::Webm, webm(clip, &sub)),
            frames(MediaFormat::Jpeg, jpeg_frames(clip, &sub), 0, 0),
            frames(MediaFormat::RawI420, i420_frames(clip, &sub, w, h), w, h),
        ];
        let mut states = Vec::new();
        for msgs in sessions {
            let out = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
            assert_eq!(out.code(), Code::Ok, "{name}: {:?}", out.status);
            let segs: Vec<(i32, f32)> = out
                .segments()
                .iter()
                .map(|s| (s.state, liveness(s)))
                .collect();
            states.push(segs);
        }
        let first: Vec<i32> = states[0].iter().map(|s| s.0).collect();
        for other in &states[1..] {
            let these: Vec<i32> = other.iter().map(|s| s.0).collect();
            assert_eq!(
                first, these,
                "{name}: states (and live scores) by transport: {states:?}"
            );
        }
        if name == "replay" {
            let alert = proto::RiskState::Alert as i32;
            assert!(first.iter().all(|s| *s == alert), "{states:?}");
        }
    }
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_i420_and_rgb24_frames_work() {
    let server = start(settings(limits())).await;
    let dir = tempfile::tempdir().unwrap();
    let clip = data("talking-heads/grid_lbax4n.mp4");
    let frames = i420_frames(&clip, dir.path(), 360, 288);
    assert_eq!(frames.len(), 75);
    let mut c = client(server.grpc_addr).await;
    let mut msgs = vec![start_msg("raw", MediaFormat::RawI420)];
    msgs.extend(
        frames
            .into_iter()
            .enumerate()
            .map(|(i, f)| frame(i as i64 * 40_000, f, 360, 288)),
    );
    msgs.push(finish());
    let out = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
    assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
    let segs = out.segments();
    assert_eq!(segs.len(), 2);
    assert!(
        segs.iter()
            .all(|s| s.frames.unwrap().one_face == s.frames.unwrap().analysed)
    );
    assert!(
        segs.iter()
            .all(|s| s.state == proto::RiskState::Clear as i32)
    );

    // RGB24 with a padded stride, rotated 90 degrees clockwise by the client's flag.
    let (w, h, stride) = (64u32, 48u32, 200u32);
    let rgb = vec![128u8; (stride * h) as usize];
    let mut m = frame(0, rgb, w, h);
    if let Some(proto::analyze_request::Message::Frame(f)) = &mut m.message {
        f.stride = stride;
        f.rotation = 90;
    }
    let out = analyze(
        &mut c,
        KEY_A,
        vec![start_msg("rgb", MediaFormat::RawRgb24), m, finish()],
        NO_GAP,
    )
    .await;
    assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
    let s = &out.segments()[0];
    assert_eq!(
        s.state,
        proto::RiskState::Inconclusive as i32,
        "a grey picture has no face"
    );
    assert_eq!(s.abstain, proto::AbstainCode::NoFace as i32);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sessions_all_complete_and_a_watcher_sees_the_same_segments() {
    let server = start(settings(limits())).await;
    let dir = tempfile::tempdir().unwrap();
    let clips = ["grid_bbaf2n.mp4", "grid_brbk7n.mp4", "grid_swiz3n.mp4"];
    let streams: Vec<Vec<u8>> = clips
        .iter()
        .map(|c| {
            annexb(
                &data(&format!("talking-heads/{c}")),
                dir.path(),
                &format!("{c}.h264"),
            )
        })
        .collect();
    let mut tasks = Vec::new();
    for (i, bytes) in streams.into_iter().enumerate() {
        let addr = server.grpc_addr;
        tasks.push(tokio::spawn(async move {
            let mut c = client(addr).await;
            let mut msgs = vec![start_msg(&format!("s{i}"), MediaFormat::H264Annexb)];
            msgs.extend(chunks(&bytes, 8192));
            msgs.push(finish());
            // Paced so the watcher below joins while session 0 is still running.
            analyze(&mut c, KEY_A, msgs, Duration::from_millis(30)).await
        }));
    }
    // A recruiter's badge follows session 0 from a second connection.
    let mut w = client(server.grpc_addr).await;
    let watched = loop {
        let r = w
            .watch_session(authed(
                proto::WatchSessionRequest {
                    session_id: "s0".into(),
                },
                KEY_A,
            ))
            .await;
        match r {
            Err(s) if s.code() == Code::NotFound => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            other => break collect(other).await,
        }
    };
    let results: Vec<Outcome> = futures_join(tasks).await;
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.code(), Code::Ok, "session {i}: {:?}", r.status);
        assert_eq!(r.segments().len(), 2, "session {i}");
        assert!(r.summary().unwrap().complete);
    }
    assert_eq!(watched.code(), Code::Ok);
    let idx = |o: &Outcome| {
        o.segments()
            .iter()
            .map(|s| (s.index, s.state, s.frames.unwrap().analysed))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        idx(&watched),
        idx(&results[0]),
        "watched: {:?}",
        watched.events
    );
    assert!(watched.summary().unwrap().complete);
    // GetSession after the end returns the same.
    let got = get_session(&mut client(server.grpc_addr).await, "s1", KEY_A)
        .await
        .unwrap();
    assert_eq!(got.segments.len(), 2);
    assert_eq!(got.candidate_ref.as_deref(), Some("cand-1"));
    server.shutdown().await.unwrap();
}

/// A reader that asks for a session just as it opens finds it open, never ended: the
/// session enters memory just before its row is written, so a lookup that misses memory
/// can find the row of a session running here, which reads as interrupted unless the
/// lookup looks at memory again. A recruiter who opens the badge as the interview starts
/// must not see it as over. A stress check: the window is narrow (the store read must
/// outlast the row's commit), so it catches the race only under load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_read_as_it_opens_is_never_read_as_interrupted() {
    let server = start(settings(limits())).await;
    let dir = tempfile::tempdir().unwrap();
    let bytes = annexb(
        &data("talking-heads/grid_bbaf2n.mp4"),
        dir.path(),
        "clip.h264",
    );
    let addr = server.grpc_addr;
    for round in 0..8 {
        let id = format!("opening-{round}");
        // Readers poll as fast as they can while the session opens.
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..3 {
            let (id, done) = (id.clone(), done.clone());
            readers.push(tokio::spawn(async move {
                let mut c = client(addr).await;
                let mut seen = Vec::new();
                while !done.load(std::sync::atomic::Ordering::Acquire) {
                    let r = get_session(&mut c, &id, KEY_A).await;
                    if let Ok(r) = r {
                        seen.push(r.summary.map(|s| s.ended_by));
                    }
                }
                seen
            }));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut c = client(addr).await;
        let mut msgs = vec![start_msg(&id, MediaFormat::H264Annexb)];
        msgs.extend(chunks(&bytes, 8192));
        msgs.push(finish());
        let out = analyze(&mut c, KEY_A, msgs, Duration::ZERO).await;
        assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
        done.store(true, std::sync::atomic::Ordering::Release);
        for r in readers {
            for ended_by in r.await.unwrap() {
                assert!(
                    ended_by.as_deref().is_none_or(|e| e == "finished"),
                    "{id}: a reader saw the session as {ended_by:?}"
                );
            }
        }
    }
    server.shutdown().await.unwrap();
}

/// A node that keeps no finished session in memory (as under load, when the budget of
/// finished results is spent) lets a session go the moment it ends, possibly before its
/// writer stored the end. Here the store's write lock is held from outside while the
/// session ends, so its end waits to be written: read then, the session must still read
/// as finished and whole, never interrupted (the lookup that finds it open in the store,
/// run by no other node, waits for this node's writes and reads again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_evicted_before_its_end_is_stored_reads_as_finished() {
    let s = settings(Limits {
        keep_finished: 0,
        ..limits()
    });
    let db = s.data_dir.clone().unwrap().join("candor.db");
    let server = start(s).await;
    let dir = tempfile::tempdir().unwrap();
    let bytes = annexb(
        &data("talking-heads/grid_bbaf2n.mp4"),
        dir.path(),
        "clip.h264",
    );
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let mut c = client(server.grpc_addr).await;
    let session = tokio::spawn(async move {
        collect(
            c.analyze(authed(
                tokio_stream::wrappers::ReceiverStream::new(rx),
                KEY_A,
            ))
            .await,
        )
        .await
    });
    tx.send(start_msg("evicted", MediaFormat::H264Annexb))
        .await
        .unwrap();
    for m in chunks(&bytes, 8192) {
        tx.send(m).await.unwrap();
    }
    // Once the session's row is stored, hold the write lock: its end will wait.
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (locked_tx, locked) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let stored = || -> bool {
            conn.query_row(
                "SELECT count(*) FROM sessions WHERE session_id = 'evicted'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap_or(0)
                > 0
        };
        while !stored() {
            std::thread::sleep(Duration::from_millis(5));
        }
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked_tx.send(()).unwrap();
        released.recv().unwrap();
        conn.execute_batch("COMMIT").unwrap();
    });
    tokio::task::spawn_blocking(move || locked.recv().unwrap())
        .await
        .unwrap();
    tx.send(finish()).await.unwrap();
    let out = session.await.unwrap();
    assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
    // The end is still waiting for the lock; let it go shortly after the read starts.
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let _ = release.send(());
    });
    let got = get_session(&mut client(server.grpc_addr).await, "evicted", KEY_A)
        .await
        .unwrap();
    holder.join().unwrap();
    assert_eq!(got.summary.unwrap().ended_by, "finished");
    assert_eq!(got.segments.len(), out.segments().len());
    server.shutdown().await.unwrap();
}

async fn futures_join(tasks: Vec<tokio::task::JoinHandle<Outcome>>) -> Vec<Outcome> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolution_change_mid_stream_is_handled() {
    let server = start(settings(limits())).await;
    let dir = tempfile::tempdir().unwrap();
    let clip = data("talking-heads/grid_swiz3n.mp4");
    let small = dir.path().join("small.h264");
    let big = dir.path().join("big.h264");
    for (out, size) in [(&small, "360x288"), (&big, "720x576")] {
        ffmpeg(&[
            "-i",
            clip.to_str().unwrap(),
            "-an",
            "-s",
            size,
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-f",
            "h264",
            out.to_str().unwrap(),
        ]);
    }
    let mut bytes = std::fs::read(&small).unwrap();
    bytes.extend(std::fs::read(&big).unwrap());
    let mut c = client(server.grpc_addr).await;
    let mut msgs = vec![start_msg("resize", MediaFormat::H264Annexb)];
    msgs.extend(chunks(&bytes, 16384));
    msgs.push(finish());
    let out = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
    assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
    let total: u32 = out
        .segments()
        .iter()
        .map(|s| s.frames.unwrap().decoded)
        .sum();
    assert_eq!(total, 150);
    assert!(
        out.segments()
            .iter()
            .all(|s| s.frames.unwrap().no_face == 0)
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_client_times_out_and_a_disconnect_frees_the_session() {
    let limits = Limits {
        idle_timeout: Duration::from_secs(1),
        max_sessions: 1,
        ..limits()
    };
    let server = start(settings(limits)).await;
    let dir = tempfile::tempdir().unwrap();
    let h264 = annexb(&data("talking-heads/grid_bbaf2n.mp4"), dir.path(), "c.h264");
    let mut c = client(server.grpc_addr).await;

    // Stalled: sends the start and some media, then nothing, without closing.
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    tx.send(start_msg("stalled", MediaFormat::H264Annexb))
        .await
        .unwrap();
    tx.send(chunk(&h264[..h264.len() / 2])).await.unwrap();
    let started = std::time::Instant::now();
    let out = collect(
        c.analyze(authed(
            tokio_stream::wrappers::ReceiverStream::new(rx),
            KEY_A,
        ))
        .await,
    )
    .await;
    assert_eq!(out.code(), Code::DeadlineExceeded, "{:?}", out.status);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(out.summary().unwrap().ended_by, "idle_timeout");
    drop(tx);

    // A slowloris: messages keep coming, but not one byte of media in them.
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    tx.send(start_msg("trickle", MediaFormat::H264Annexb))
        .await
        .unwrap();
    tokio::spawn(async move {
        while tx.send(chunk(&[])).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let out = collect(
        c.analyze(authed(
            tokio_stream::wrappers::ReceiverStream::new(rx),
            KEY_A,
        ))
        .await,
    )
    .await;
    assert_eq!(out.code(), Code::DeadlineExceeded, "{:?}", out.status);
    assert_eq!(out.summary().unwrap().ended_by, "idle_timeout");

    // Disconnect: the client process goes away mid-stream (its runtime, and with it the
    // connection, is dropped while the request stream is still open); the only session
    // slot frees up.
    let addr = server.grpc_addr;
    let half = h264[..h264.len() / 2].to_vec();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let tx = rt.block_on(async move {
            let mut c = client(addr).await;
            let (tx, rx) = tokio::sync::mpsc::channel(8);
            tx.send(start_msg("gone", MediaFormat::H264Annexb))
                .await
                .unwrap();
            tx.send(chunk(&half)).await.unwrap();
            let mut stream = c
                .analyze(authed(
                    tokio_stream::wrappers::ReceiverStream::new(rx),
                    KEY_A,
                ))
                .await
                .unwrap()
                .into_inner();
            assert!(stream.message().await.unwrap().is_some(), "accepted");
            tx
        });
        drop(rt); // closes the connection without ending the request stream
        drop(tx);
    })
    .join()
    .unwrap();
    let mut ok = None;
    for _ in 0..50 {
        let mut msgs = vec![start_msg("after", MediaFormat::H264Annexb)];
        msgs.extend(chunks(&h264, 8192));
        msgs.push(finish());
        let o = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
        if o.code() != Code::ResourceExhausted {
            ok = Some(o);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ok = ok.expect("the slot was freed");
    assert_eq!(ok.code(), Code::Ok, "{:?}", ok.status);
    let gone = get_session(&mut c, "gone", KEY_A).await.unwrap();
    assert_eq!(gone.summary.unwrap().ended_by, "client_gone");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_invalid_argument_and_the_next_session_still_works() {
    let limits = Limits {
        max_message_bytes: 512 * 1024,
        ..limits()
    };
    let server = start(settings(limits)).await;
    let dir = tempfile::tempdir().unwrap();
    let h264 = annexb(&data("talking-heads/grid_bbaf2n.mp4"), dir.path(), "c.h264");
    let mut c = client(server.grpc_addr).await;
    let garbage: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let mut unknown_format = start_msg("x", MediaFormat::Jpeg);
    if let Some(proto::analyze_request::Message::Start(s)) = &mut unknown_format.message {
        s.format = 99;
    }
    let mut long_participant = start_msg("long", MediaFormat::Jpeg);
    if let Some(proto::analyze_request::Message::Start(s)) = &mut long_participant.message {
        s.participant_id = "p".repeat(100_000);
    }
    let mut huge_start = start_msg("huge", MediaFormat::Jpeg);
    if let Some(proto::analyze_request::Message::Start(s)) = &mut huge_start.message {
        s.participant_id = "p".repeat(2 << 20);
    }
    let cases: Vec<(&str, Vec<proto::AnalyzeRequest>, &str)> = vec![
        (
            "first message not start",
            vec![chunk(b"abc")],
            "first message must be `start`",
        ),
        (
            "unknown format",
            vec![unknown_format],
            "format is missing or unknown",
        ),
        (
            "empty session id",
            vec![start_msg("", MediaFormat::Jpeg)],
            "session_id",
        ),
        (
            "undecodable media",
            vec![
                start_msg("g", MediaFormat::H264Annexb),
                chunk(&garbage),
                finish(),
            ],
            "media",
        ),
        (
            "frame over the size limit",
            vec![
                start_msg("big", MediaFormat::Jpeg),
                frame(0, vec![0; 600 * 1024], 0, 0),
            ],
            "exceeds the limit",
        ),
        (
            "raw frame of the wrong size",
            vec![
                start_msg("raw", MediaFormat::RawI420),
                frame(0, vec![0; 1000], 640, 480),
            ],
            "needs 460800 bytes, got 1000",
        ),
        (
            "chunk in a frame session",
            vec![start_msg("mix", MediaFormat::Png), chunk(b"x")],
            "takes `frame` messages",
        ),
        (
            "frame in a chunk session",
            vec![
                start_msg("mix2", MediaFormat::Webm),
                frame(0, vec![1], 0, 0),
            ],
            "takes `chunk` messages",
        ),
        (
            "second start",
            vec![
                start_msg("twice", MediaFormat::Jpeg),
                start_msg("twice", MediaFormat::Jpeg),
            ],
            "only once",
        ),
        (
            "start over the transport limit",
            vec![huge_start],
            "exceeds the limit of 524288 bytes",
        ),
        (
            "participant id longer than the store keeps",
            vec![long_participant],
            "participant_id must be 1-512 bytes",
        ),
        (
            "raw frame longer than its size needs",
            vec![
                start_msg("raw-long", MediaFormat::RawI420),
                frame(0, vec![0; 16 * 16 * 3 / 2 + 1], 16, 16),
            ],
            "longer data is refused",
        ),
    ];
    for (what, msgs, words) in cases {
        let out = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
        let status = out.status.as_ref().expect_err(what);
        assert_eq!(status.code(), Code::InvalidArgument, "{what}: {status:?}");
        assert!(
            status.message().contains(words),
            "{what}: {:?} should contain {words:?}",
            status.message()
        );
    }
    let mut msgs = vec![start_msg("good", MediaFormat::H264Annexb)];
    msgs.extend(chunks(&h264, 8192));
    msgs.push(finish());
    let out = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
    assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
    assert_eq!(out.segments().len(), 2);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_and_tenants_are_enforced() {
    let limits = Limits {
        max_sessions: 1,
        ..limits()
    };
    let server = start(settings(limits)).await;
    let mut c = client(server.grpc_addr).await;
    for key in ["wrong-key", ""] {
        let r = c
            .info(authed(proto::InfoRequest {}, key))
            .await
            .unwrap_err();
        assert_eq!(r.code(), Code::Unauthenticated, "{key:?}");
    }
    let r = c
        .info(tonic::Request::new(proto::InfoRequest {}))
        .await
        .unwrap_err();
    assert_eq!(r.code(), Code::Unauthenticated);
    let out = analyze(
        &mut c,
        "wrong-key",
        vec![start_msg("s", MediaFormat::Jpeg)],
        NO_GAP,
    )
    .await;
    assert_eq!(out.code(), Code::Unauthenticated);

    // Tenant A opens a session and keeps it open; tenant B cannot see it.
    let (tx, call) = open_session(&c, "mine", MediaFormat::Jpeg).await;
    let mut stream = call.unwrap().into_inner();
    stream.message().await.unwrap();
    let get = get_session(&mut c, "mine", KEY_B).await.unwrap_err();
    assert_eq!(get.code(), Code::NotFound);
    let watch = c
        .watch_session(authed(
            proto::WatchSessionRequest {
                session_id: "mine".into(),
            },
            KEY_B,
        ))
        .await
        .unwrap_err();
    assert_eq!(watch.code(), Code::NotFound);
    assert!(get_session(&mut c, "mine", KEY_A).await.is_ok());
    // The only session slot is taken: a second session is refused, for any tenant.
    let out = analyze(
        &mut c,
        KEY_B,
        vec![start_msg("other", MediaFormat::Jpeg)],
        NO_GAP,
    )
    .await;
    assert_eq!(out.code(), Code::ResourceExhausted, "{:?}", out.status);
    drop(tx);
    while stream.message().await.ok().flatten().is_some() {}
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_open_sessions_with_a_summary_and_metrics_count() {
    let server = start(settings(limits())).await;
    let dir = tempfile::tempdir().unwrap();
    let jpegs = jpeg_frames(&data("talking-heads/grid_bbaf2n.mp4"), dir.path());
    let c = client(server.grpc_addr).await;
    let (tx, call) = open_session(&c, "open", MediaFormat::Jpeg).await;
    for (i, j) in jpegs.into_iter().take(60).enumerate() {
        tx.send(frame(i as i64 * 40_000, j, 0, 0)).await.unwrap();
    }
    let call = tokio::spawn(collect(call));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let metrics = reqwest_like_get(server.metrics_addr.unwrap(), "/metrics").await;
    // The gauge is process-wide: other tests' sessions may be open at the same time.
    let open: u32 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("candor_sessions_open{node=\"test-node\"} "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no open-sessions gauge: {metrics}"));
    assert!(open >= 1, "{metrics}");
    assert!(
        metrics.contains("candor_inference_seconds_bucket{model=\"yunet_s\""),
        "{metrics}"
    );
    server.shutdown().await.unwrap();
    let out = call.await.unwrap();
    assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
    let summary = out.summary().expect("a summary before the stream closes");
    assert_eq!(summary.ended_by, "server_shutdown");
    assert_eq!(summary.frames.unwrap().decoded, 60);
    drop(tx);
}

/// The reference client against the in-process server: it streams a real file and
/// its exit code reflects the worst state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_client_streams_a_file() {
    let server = start(settings(limits())).await;
    let url = format!("http://{}", server.grpc_addr);
    let clip = data("talking-heads/grid_brbk7n.mp4");
    for mode in ["chunks", "jpeg"] {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_candor"))
            .args([
                "stream",
                clip.to_str().unwrap(),
                "--server",
                &url,
                "--api-key",
                KEY_A,
                "--fast",
                "--mode",
                mode,
            ])
            .output()
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{mode}: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            text.lines().filter(|l| l.starts_with("seg ")).count(),
            2,
            "{mode}: {text}"
        );
        assert!(text.contains("summary: worst clear"), "{mode}: {text}");
    }
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_candor"))
        .args([
            "stream",
            clip.to_str().unwrap(),
            "--server",
            &url,
            "--api-key",
            "bad",
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid API key"));
    server.shutdown().await.unwrap();
}

/// The benchmark's load generator against the in-process server: two concurrent
/// real-time sessions of a real 3 s clip, every segment's latency measured, and the
/// server's CPU and memory read from /proc (the server is this test process). Only
/// counts are checked: timings on a shared machine are figures, not assertions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_generator_runs_concurrent_real_time_sessions() {
    let server = start(settings(limits())).await;
    let url = format!("http://{}", server.grpc_addr);
    let clip = data("talking-heads/grid_bbaf2n.mp4");
    let pid = std::process::id().to_string();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_candor"))
        .args(["load", clip.to_str().unwrap(), "--server", &url])
        .args(["--api-key", KEY_A, "--sessions", "2", "--server-pid", &pid])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["sessions"], 2, "{report}");
    assert_eq!(report["failed_sessions"], 0, "{report}");
    assert_eq!(report["sample_fps"], 2.0, "{report}");
    // 3 s in 2 s windows: 2 segments per session, each with a latency.
    assert_eq!(report["segments"], 4, "{report}");
    for s in report["per_session"].as_array().unwrap() {
        assert_eq!(s["decoded"], 75, "{report}");
        assert!(s["analysed"].as_u64().unwrap() >= 5, "{report}");
        assert_eq!(s["ended_by"], "finished", "{report}");
    }
    assert!(report["latency_p99_s"].as_f64().unwrap() >= 0.0, "{report}");
    let server_figures = &report["server"];
    assert!(server_figures["cpu_s"].as_f64().unwrap() > 0.0, "{report}");
    assert!(
        server_figures["rss_peak_mib"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    server.shutdown().await.unwrap();
}

/// A live session's segments and summary are written to the store as they are
/// produced: after a restart on the same data directory, GetSession returns exactly
/// what the live session sent, and only to the session's tenant. The id holds ':',
/// which the store cannot use as is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_readable_after_a_restart() {
    let settings = settings(limits());
    let data_dir = settings.data_dir.clone().unwrap();
    let server = start(settings.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let jpegs = jpeg_frames(&data("talking-heads/grid_bbaf2n.mp4"), dir.path());
    let id = "zoom:call-7:alice";
    let mut msgs = vec![start_msg(id, MediaFormat::Jpeg)];
    msgs.extend(
        jpegs
            .into_iter()
            .enumerate()
            .map(|(i, j)| frame(i as i64 * 40_000, j, 0, 0)),
    );
    msgs.push(finish());
    let mut c = client(server.grpc_addr).await;
    let live = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
    assert_eq!(live.code(), Code::Ok, "{:?}", live.status);
    assert_eq!(live.segments().len(), 2);
    // A session id names one session: reusing it after the session ended is refused
    // at the start, not shown live and then refused by the store.
    let again = vec![start_msg(id, MediaFormat::Jpeg)];
    let reused = analyze(&mut c, KEY_A, again.clone(), NO_GAP).await;
    assert_eq!(reused.code(), Code::AlreadyExists, "{:?}", reused.status);
    server.shutdown().await.unwrap();

    // A new server on the same data directory: nothing of the session is in memory.
    let server = start(settings).await;
    let mut c = client(server.grpc_addr).await;
    let get = |key| {
        let mut c = c.clone();
        async move { get_session(&mut c, id, key).await }
    };
    let stored = get(KEY_A).await.expect("stored session");
    assert_eq!(stored.participant_id, "p1");
    // Only in the store now: still refused, and the stored run is the one kept.
    let reused = analyze(&mut c.clone(), KEY_A, again, NO_GAP).await;
    assert_eq!(reused.code(), Code::AlreadyExists, "{:?}", reused.status);
    assert_eq!(stored.candidate_ref.as_deref(), Some("cand-1"));
    assert_eq!(stored.segments.len(), live.segments().len());
    for (s, l) in stored.segments.iter().zip(live.segments()) {
        // Stage timings describe the live run; everything else is the same result.
        let mut l = l.clone();
        l.timings = s.timings;
        assert_eq!(s, &l);
    }
    assert_eq!(stored.summary.as_ref(), live.summary());
    assert_eq!(get(KEY_B).await.unwrap_err().code(), Code::NotFound);

    // Watching it replays the stored segments, then the summary.
    let watch = |key| {
        let mut c = c.clone();
        async move {
            c.watch_session(authed(
                proto::WatchSessionRequest {
                    session_id: id.into(),
                },
                key,
            ))
            .await
        }
    };
    let mut stream = watch(KEY_A)
        .await
        .expect("watch stored session")
        .into_inner();
    let mut watched = Vec::new();
    while let Some(ev) = stream.message().await.unwrap() {
        watched.push(ev.event.unwrap());
    }
    assert_eq!(watched.len(), stored.segments.len() + 1);
    for (ev, seg) in watched.iter().zip(&stored.segments) {
        assert!(matches!(ev, Event::Segment(s) if s == seg), "{ev:?}");
    }
    assert!(
        matches!(watched.last(), Some(Event::Summary(s)) if Some(s) == stored.summary.as_ref())
    );
    assert_eq!(watch(KEY_B).await.unwrap_err().code(), Code::NotFound);
    let other = get_session(&mut c, "never-seen", KEY_A).await.unwrap_err();
    assert_eq!(other.code(), Code::NotFound);
    server.shutdown().await.unwrap();

    // Every successful read is in the reader's tenant's audit log, with the caller's
    // address; failed reads (another tenant's, an unknown id) are not reads.
    let store = candor_store::SqliteStore::open(&data_dir).unwrap();
    let kinds = |tenant: &str| -> Vec<(String, Option<String>, Option<String>)> {
        candor_store::Store::audit_log(&store, tenant, 50)
            .unwrap()
            .into_iter()
            .map(|a| (a.kind, a.session_id, a.caller))
            .collect()
    };
    // Written off the request's path: wait (bounded) for the two reads.
    let mut audit = kinds("tenant-a");
    for _ in 0..100 {
        if audit.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        audit = kinds("tenant-a");
    }
    let reads: Vec<&str> = audit.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(reads, ["watch_session", "read_session"], "{audit:?}");
    for (_, session, caller) in &audit {
        assert!(
            session.as_deref().is_some_and(|s| s.contains("call-7")),
            "{audit:?}"
        );
        assert_eq!(caller.as_deref(), Some("grpc from 127.0.0.1"), "{audit:?}");
    }
    assert!(kinds("tenant-b").is_empty());
}

/// Batch jobs over gRPC: the files of a folder under the batch root (a live clip, a
/// screen photo and a corrupt file) are scored in the background and WatchJob follows
/// the job to its end; resubmitting resumes with the same results; another tenant sees
/// NOT_FOUND and has jobs of its own; paths that leave the root are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submitted_jobs_are_scored_and_isolated_by_tenant() {
    let root = tempfile::tempdir().unwrap();
    let clips = root.path().join("clips");
    std::fs::create_dir(&clips).unwrap();
    std::fs::copy(
        data("talking-heads/grid_bbaf2n.mp4"),
        clips.join("grid_bbaf2n.mp4"),
    )
    .unwrap();
    std::fs::copy(
        data("spoof-samples/image_F2.jpg"),
        clips.join("image_F2.jpg"),
    )
    .unwrap();
    std::fs::write(clips.join("corrupt.mp4"), b"\0\0\0\x18ftypmp42 not a video").unwrap();
    let mut s = settings(limits());
    s.batch_root = Some(root.path().to_owned());
    let server = start(s).await;
    let c = client(server.grpc_addr).await;
    let submit = |key, paths: &[&str], job: &str| {
        let mut c = c.clone();
        let req = proto::SubmitJobRequest {
            paths: paths.iter().map(|p| p.to_string()).collect(),
            job_id: Some(job.into()),
            force: false,
        };
        async move { c.submit_job(authed(req, key)).await.map(|r| r.into_inner()) }
    };
    let watch = |key, job: &str| {
        let mut c = c.clone();
        let req = proto::WatchJobRequest { job_id: job.into() };
        async move {
            let mut stream = c.watch_job(authed(req, key)).await?.into_inner();
            let mut seen = Vec::new();
            while let Some(s) = stream.message().await? {
                seen.push(s);
            }
            Ok::<_, tonic::Status>(seen)
        }
    };

    let first = submit(KEY_A, &["clips"], "job-1").await.expect("submitted");
    assert_eq!(first.total, 3, "{first:?}");
    let seen = watch(KEY_A, "job-1").await.expect("watch");
    let finished: Vec<u32> = seen.iter().map(|s| s.done + s.failed).collect();
    assert!(finished.windows(2).all(|w| w[0] <= w[1]), "{finished:?}");
    let last = seen.last().unwrap();
    assert!(last.complete && !last.running, "{last:?}");
    assert_eq!(
        (last.done, last.failed, last.pending),
        (2, 1, 0),
        "{last:?}"
    );
    let file = |s: &proto::JobStatus, name: &str| {
        s.files
            .iter()
            .find(|f| f.path == format!("clips/{name}"))
            .unwrap_or_else(|| panic!("{name} in {s:?}"))
            .clone()
    };
    let grid = file(last, "grid_bbaf2n.mp4");
    assert_eq!(grid.status, proto::JobFileStatus::Done as i32);
    assert_eq!(grid.worst_state, proto::RiskState::Clear as i32);
    assert_eq!(grid.segments, 2);
    let screen = file(last, "image_F2.jpg");
    assert_eq!(screen.worst_state, proto::RiskState::Alert as i32);
    assert!(screen.mean_liveness.is_some_and(|l| l < 0.5), "{screen:?}");
    let corrupt = file(last, "corrupt.mp4");
    assert_eq!(corrupt.status, proto::JobFileStatus::Failed as i32);
    assert!(corrupt.error.contains("input"), "{corrupt:?}");

    // Resubmitting resumes the same job: nothing changes for the files done.
    submit(KEY_A, &["clips"], "job-1")
        .await
        .expect("resubmitted");
    let again = watch(KEY_A, "job-1").await.unwrap();
    let again = again.last().unwrap();
    assert_eq!(file(again, "grid_bbaf2n.mp4"), grid);
    assert_eq!(file(again, "image_F2.jpg"), screen);

    // Tenant B: not A's job, but a job of its own under the same id.
    let mut cb = c.clone();
    let get_b = cb
        .get_job(authed(
            proto::GetJobRequest {
                job_id: "job-1".into(),
            },
            KEY_B,
        ))
        .await
        .unwrap_err();
    assert_eq!(get_b.code(), Code::NotFound);
    assert_eq!(
        watch(KEY_B, "job-1").await.unwrap_err().code(),
        Code::NotFound
    );
    let own = submit(KEY_B, &["clips/image_F2.jpg"], "job-1")
        .await
        .unwrap();
    assert_eq!(own.total, 1);
    let own = watch(KEY_B, "job-1").await.unwrap();
    assert_eq!(own.last().unwrap().done, 1);

    for bad in [
        &["../etc"][..],
        &["/etc/passwd"],
        &["clips/missing.mp4"],
        &[],
    ] {
        let err = submit(KEY_A, bad, "job-2").await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{bad:?}: {err:?}");
    }
    server.shutdown().await.unwrap();
}

/// Segments reach the store while the session still runs, not only at its end: once
/// the client has a segment result, the store has it too (or gets it right after, from
/// the writer thread), before any summary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_are_stored_while_the_session_runs() {
    let settings = settings(limits());
    let data_dir = settings.data_dir.clone().unwrap();
    let server = start(settings).await;
    let dir = tempfile::tempdir().unwrap();
    let jpegs = jpeg_frames(&data("talking-heads/grid_bbaf2n.mp4"), dir.path());
    let c = client(server.grpc_addr).await;
    let (tx, call) = open_session(&c, "in-flight", MediaFormat::Jpeg).await;
    // 2.4 s of video: the first 2-second segment closes, the session stays open.
    for (i, j) in jpegs.into_iter().take(60).enumerate() {
        tx.send(frame(i as i64 * 40_000, j, 0, 0)).await.unwrap();
    }
    let mut stream = call.unwrap().into_inner();
    loop {
        match stream.message().await.unwrap().and_then(|m| m.event) {
            Some(Event::Segment(_)) => break,
            Some(Event::Summary(s)) => panic!("summary before the first segment: {s:?}"),
            Some(_) => continue,
            None => panic!("stream ended without a segment"),
        }
    }
    let store = candor_store::SqliteStore::open(&data_dir).unwrap();
    // The writer thread commits it independently of the reply: wait for it, bounded
    // so that a write that never comes fails the test instead of hanging it.
    let mut tries = 0;
    let stored = loop {
        use candor_store::Store;
        let segs = store.segments("tenant-a", "in-flight").unwrap_or_default();
        if !segs.is_empty() {
            break store.get_session("tenant-a", "in-flight").unwrap();
        }
        tries += 1;
        assert!(tries < 3000, "the segment never reached the store");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(stored.ended_at, None, "the session is still open");
    assert!(stored.summary_json.is_none());
    drop(tx);
    while stream.message().await.ok().flatten().is_some() {}
    server.shutdown().await.unwrap();
}

/// Evidence is off by default and kept only for alerting segments of tenants that
/// turned it on: a few JPEG face crops per segment, never for clear segments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_is_kept_only_for_alerts_of_tenants_that_turned_it_on() {
    use candor_store::{SqliteStore, Store, TenantSettings};
    let settings = settings(limits());
    let data_dir = settings.data_dir.clone().unwrap();
    {
        let store = SqliteStore::open(&data_dir).unwrap();
        let mut a = TenantSettings::new("tenant-a");
        a.evidence_capture = true;
        store.upsert_tenant(&a).unwrap();
    }
    let server = start(settings).await;
    let mut c = client(server.grpc_addr).await;
    // A tablet-screen still sent as 4 s of frames: a presentation attack, `alert`.
    let screen = std::fs::read(data("spoof-samples/image_F2.jpg")).unwrap();
    let replay = |id: &str| {
        let mut msgs = vec![start_msg(id, MediaFormat::Jpeg)];
        msgs.extend((0..20).map(|i| frame(i * 200_000, screen.clone(), 0, 0)));
        msgs.push(finish());
        msgs
    };
    for (id, key) in [("ev-a", KEY_A), ("ev-b", KEY_B)] {
        let out = analyze(&mut c, key, replay(id), NO_GAP).await;
        assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
        assert!(
            out.segments()
                .iter()
                .all(|s| s.state == proto::RiskState::Alert as i32)
        );
    }
    // A real face for tenant A: clear, so nothing is kept.
    let dir = tempfile::tempdir().unwrap();
    let jpegs = jpeg_frames(&data("talking-heads/grid_bbaf2n.mp4"), dir.path());
    let mut msgs = vec![start_msg("ev-real", MediaFormat::Jpeg)];
    msgs.extend(
        jpegs
            .into_iter()
            .enumerate()
            .map(|(i, j)| frame(i as i64 * 40_000, j, 0, 0)),
    );
    msgs.push(finish());
    let out = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
    assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
    server.shutdown().await.unwrap();

    let store = SqliteStore::open(&data_dir).unwrap();
    let kept = store.evidence("tenant-a", "ev-a").unwrap();
    assert!(!kept.is_empty());
    let mut per_segment = std::collections::BTreeMap::new();
    for e in &kept {
        assert_eq!(e.kind, "face_keyframe");
        *per_segment.entry(e.segment_index).or_insert(0) += 1;
        let bytes = store.read_evidence("tenant-a", &e.id).unwrap();
        assert_eq!(&bytes[..2], &[0xFF, 0xD8], "a JPEG");
        let img = image::load_from_memory(&bytes).unwrap();
        // A face region, not the whole 480x640 picture.
        assert!(
            img.width() < 480 && img.height() < 640,
            "{}x{}",
            img.width(),
            img.height()
        );
    }
    assert_eq!(per_segment.keys().copied().collect::<Vec<_>>(), vec![0, 1]);
    assert!(per_segment.values().all(|&n| n <= 3), "{per_segment:?}");
    assert!(store.evidence("tenant-b", "ev-b").unwrap().is_empty());
    assert!(store.evidence("tenant-a", "ev-real").unwrap().is_empty());
}

/// TLS (rustls) with a certificate the test makes: the reference client streams over
/// https trusting that certificate, and a plaintext client is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_the_reference_client_and_refuses_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_pem, cert.cert.pem()).unwrap();
    std::fs::write(&key_pem, cert.signing_key.serialize_pem()).unwrap();
    let mut settings = settings(limits());
    settings.tls = Some(candor_server::TlsFiles {
        cert: cert_pem.clone(),
        key: key_pem,
    });
    let server = start(settings).await;
    let port = server.grpc_addr.port();

    let clip = data("talking-heads/grid_brbk7n.mp4");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_candor"))
        .args([
            "stream",
            clip.to_str().unwrap(),
            "--api-key",
            KEY_A,
            "--fast",
        ])
        .args(["--server", &format!("https://localhost:{port}")])
        .args(["--ca-cert", cert_pem.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("accepted") && stdout.contains("summary:"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The same port without TLS: no gRPC answer.
    let plain = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await;
    if let Ok(ch) = plain {
        let mut c = proto::candor_client::CandorClient::new(ch);
        assert!(c.info(authed(proto::InfoRequest {}, KEY_A)).await.is_err());
    }
    server.shutdown().await.unwrap();
}

/// A virtual camera named in the capture information is context on every segment
/// (a `clear`-level reason, first in a clear segment's reasons), never an alert.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_virtual_camera_is_context_not_an_alert() {
    let server = start(settings(limits())).await;
    let dir = tempfile::tempdir().unwrap();
    let h264 = annexb(&data("talking-heads/grid_bbaf2n.mp4"), dir.path(), "c.h264");
    let mut c = client(server.grpc_addr).await;
    let mut start = start_msg("obs", MediaFormat::H264Annexb);
    if let Some(proto::analyze_request::Message::Start(s)) = &mut start.message {
        s.capture = Some(proto::CaptureInfo {
            device_label: "OBS Virtual Camera".into(),
            platform: "browser".into(),
            client_version: "1".into(),
        });
    }
    let mut msgs = vec![start];
    msgs.extend(chunks(&h264, 8192));
    msgs.push(finish());
    let out = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
    assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
    let segs = out.segments();
    assert_eq!(segs.len(), 2);
    for s in segs {
        assert_eq!(s.state, proto::RiskState::Clear as i32, "{s:?}");
        let r = &s.reasons[0];
        assert_eq!(r.code, "virtual_camera");
        assert_eq!(r.state, proto::RiskState::Clear as i32);
        assert!(r.message.contains("OBS Virtual Camera"), "{}", r.message);
    }
    server.shutdown().await.unwrap();
}

/// A blink challenge raises the session's glances at the eyes for its window: it passes
/// on a real clip whose subject blinks four times in 10 s (seen at 30 frames a
/// second: 1.0, 5.1, 7.5 and 8.3 s) and fails on the same face frozen, where the eyes were
/// read as often but never closed. The server's own glance rate is 0 here, so every
/// reading beyond the 2 analysed frames a second comes from the challenge; raw frames
/// (as LiveKit agents send them) are glanced at like encoded video.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blink_challenge_passes_on_blinks_and_fails_on_a_frozen_face() {
    let server = start(settings(limits())).await;
    let dir = tempfile::tempdir().unwrap();
    let clip = data("deepfake-samples/ffpp_style_real_cyshih704.mp4");
    let still = dir.path().join("still.png");
    let frozen = dir.path().join("frozen.mp4");
    still_frame(&clip, 3.0, &still);
    frozen_video(&still, 10, 30, &frozen);
    let c = client(server.grpc_addr).await;
    let h264 =
        |src: &Path, id: &str| chunks(&annexb(src, dir.path(), &format!("{id}.h264")), 16 * 1024);
    let raw: Vec<_> = i420_frames(&clip, dir.path(), 640, 480)
        .into_iter()
        .enumerate()
        .map(|(i, f)| frame(i as i64 * 40_000, f, 640, 480))
        .collect();
    for (id, format, media, want) in [
        (
            "blinking",
            MediaFormat::H264Annexb,
            h264(&clip, "blinking"),
            proto::ChallengeOutcome::Pass,
        ),
        (
            "frozen",
            MediaFormat::H264Annexb,
            h264(&frozen, "frozen"),
            proto::ChallengeOutcome::Fail,
        ),
        (
            "blinking-raw",
            MediaFormat::RawI420,
            raw,
            proto::ChallengeOutcome::Pass,
        ),
    ] {
        let (tx, call) = open_session(&c, id, format).await;
        let asked = ask_challenge(
            server.grpc_addr,
            id,
            proto::ChallengeKind::Blink,
            Some(10_000),
        )
        .await;
        assert!(asked.instruction.contains("blink twice"), "{asked:?}");
        // About real time, as a live call sends it: analysis keeps up, nothing is
        // dropped even on a busy machine.
        let gap = Duration::from_millis(9_000 / media.len().max(1) as u64);
        for m in media {
            tx.send(m).await.unwrap();
            tokio::time::sleep(gap).await;
        }
        tx.send(finish()).await.unwrap();
        drop(tx);
        let out = collect(call).await;
        assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
        let result = out
            .challenge()
            .expect("a challenge result on the Analyze stream");
        let measure = |name: &str| measurement(&result, name);
        eprintln!("{id}: {}", result.message);
        assert_eq!(result.outcome, want as i32, "{id}: {result:?}");
        // Far more readings than 2 analysed frames a second could give.
        assert!(measure("eye_readings") > 40.0, "{id}: {result:?}");
        if want == proto::ChallengeOutcome::Fail {
            assert_eq!(measure("blinks"), 0.0, "{result:?}");
        }
        // The summary counts the blinks the glances found, and says how long the
        // frozen picture lasted.
        let summary = out.summary().expect("summary");
        assert!(summary.blinks.is_some(), "{summary:?}");
        if id == "frozen" {
            let frozen = summary.reasons.iter().find(|r| r.code == "frozen_video");
            assert!(frozen.is_some_and(|r| r.time_share > 0.9), "{summary:?}");
        }
    }
    server.shutdown().await.unwrap();
}

/// A head-turn challenge asked by a second client while a session runs: it passes on a
/// clip where the head turns and fails on a still face, and the result reaches the
/// Analyze stream. Bad requests get clear codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenges_pass_on_a_turning_head_and_fail_on_a_still() {
    let server = start(settings(limits())).await;
    let dir = tempfile::tempdir().unwrap();
    let turning = annexb(
        &data("deepfake-samples/dfdcstyle_gl_real.mp4"),
        dir.path(),
        "t.h264",
    );
    let still = jpeg_frames(&data("talking-heads/grid_bbaf2n.mp4"), dir.path()).swap_remove(10);
    let c = client(server.grpc_addr).await;
    let cases: [(
        &str,
        MediaFormat,
        Vec<proto::AnalyzeRequest>,
        proto::ChallengeOutcome,
    ); 2] = [
        (
            "turning",
            MediaFormat::H264Annexb,
            chunks(&turning, 16 * 1024),
            proto::ChallengeOutcome::Pass,
        ),
        (
            "still",
            MediaFormat::Jpeg,
            (0..30)
                .map(|i| frame(i * 200_000, still.clone(), 0, 0))
                .collect(),
            proto::ChallengeOutcome::Fail,
        ),
    ];
    for (id, format, media, want) in cases {
        let (tx, call) = open_session(&c, id, format).await;
        // The recruiter's side, on another connection.
        let asked = ask_challenge(server.grpc_addr, id, proto::ChallengeKind::TurnHead, None).await;
        assert!(asked.instruction.contains("turn your head"), "{asked:?}");
        assert_eq!(asked.window_ms, 5000);
        for m in media {
            tx.send(m).await.unwrap();
        }
        tx.send(finish()).await.unwrap();
        drop(tx);
        let out = collect(call).await;
        assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
        let result = out
            .challenge()
            .expect("a challenge result on the Analyze stream");
        assert_eq!(result.challenge_id, asked.challenge_id);
        assert_eq!(result.outcome, want as i32, "{id}: {result:?}");
        let yaw = measurement(&result, "yaw_change_deg");
        eprintln!("{id}: {} ({yaw})", result.message);
        assert!(result.end_us - result.start_us <= 5_000_000);
    }

    // Bad requests: unknown kind, another tenant's or an unknown session, an ended one.
    let ask = |session: &str, kind: proto::ChallengeKind, key: &'static str| {
        let mut c = c.clone();
        let session = session.to_owned();
        async move {
            c.challenge(authed(
                proto::ChallengeRequest {
                    session_id: session,
                    kind: kind as i32,
                    window_ms: None,
                },
                key,
            ))
            .await
            .map(|r| r.into_inner())
        }
    };
    let code = |r: Result<proto::ChallengeResponse, tonic::Status>| r.unwrap_err().code();
    assert_eq!(
        code(ask("still", proto::ChallengeKind::Unspecified, KEY_A).await),
        Code::InvalidArgument
    );
    assert_eq!(
        code(ask("still", proto::ChallengeKind::TurnHead, KEY_B).await),
        Code::NotFound
    );
    assert_eq!(
        code(ask("nobody", proto::ChallengeKind::TurnHead, KEY_A).await),
        Code::NotFound
    );
    assert_eq!(
        code(ask("still", proto::ChallengeKind::TurnHead, KEY_A).await),
        Code::FailedPrecondition
    );
    server.shutdown().await.unwrap();
}

/// Hostile frame streams on one server: a client clock that steps back, wraps and
/// leaps; one undecodable JPEG; then a stream of nothing but undecodable pictures,
/// which ends once it passes the bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_timestamps_and_a_bad_picture_do_not_end_a_session() {
    let server = start(settings(limits())).await;
    let dir = tempfile::tempdir().unwrap();
    let jpegs = jpeg_frames(&data("talking-heads/grid_bbaf2n.mp4"), dir.path());
    let n = jpegs.len();
    let mut c = client(server.grpc_addr).await;
    let reference = {
        let mut msgs = vec![start_msg("clean", MediaFormat::Jpeg)];
        msgs.extend(frames_at_25fps(&jpegs));
        msgs.push(finish());
        analyze(&mut c, KEY_A, msgs, NO_GAP).await
    };
    assert_eq!(reference.code(), Code::Ok, "{:?}", reference.status);

    // -2^63 first (then 0: a step that does not fit in 64 bits), a frame 1 us back,
    // and a leap of 10^12 us half way: each survived, the media time kept.
    let mut msgs = vec![start_msg("clock", MediaFormat::Jpeg)];
    for (i, j) in jpegs.iter().enumerate() {
        let mut pts = i as i64 * 40_000;
        if i == 0 {
            pts = i64::MIN;
        }
        if i >= n / 2 {
            pts += 1_000_000_000_000;
        }
        msgs.push(frame(pts, j.clone(), 0, 0));
        if i == 10 {
            msgs.push(frame(pts - 1, j.clone(), 0, 0));
        }
    }
    msgs.push(finish());
    let clock = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
    assert_eq!(clock.code(), Code::Ok, "{:?}", clock.status);
    assert_eq!(clock.segments().len(), reference.segments().len());
    for s in clock.segments() {
        assert!(s.index < 10 && s.end_us > s.start_us, "{s:?}");
    }

    // The first frame (always analysed) does not decode: counted as undecodable.
    let mut msgs = vec![start_msg("one-bad", MediaFormat::Jpeg)];
    msgs.push(frame(0, vec![0xFF, 0xD8, 0xFF, 0, 1, 2], 0, 0));
    msgs.extend(
        (jpegs.iter().enumerate().skip(1)).map(|(i, j)| frame(i as i64 * 40_000, j.clone(), 0, 0)),
    );
    msgs.push(finish());
    let one_bad = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
    assert_eq!(one_bad.code(), Code::Ok, "{:?}", one_bad.status);
    assert_eq!(one_bad.segments().len(), reference.segments().len());
    assert_eq!(frame_sum(&one_bad, |f| f.undecodable), 1, "the bad frame");
    assert_eq!(frame_sum(&one_bad, |f| f.dropped), 0);
    assert_eq!(
        frame_sum(&one_bad, |f| f.decoded),
        frame_sum(&reference, |f| f.decoded) - 1
    );

    // Nothing but bad pictures for longer than the bound: a clear error.
    let mut msgs = vec![start_msg("all-bad", MediaFormat::Jpeg)];
    msgs.extend((0..60).map(|i| frame(i * 200_000, vec![0xFF, 0xD8, 0xFF, 0, 1, 2], 0, 0)));
    msgs.push(finish());
    let all_bad = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
    assert_eq!(
        all_bad.code(),
        Code::InvalidArgument,
        "{:?}",
        all_bad.status
    );
    let message = all_bad.status.unwrap_err().message().to_owned();
    assert!(message.contains("in a row failed to decode"), "{message}");
    server.shutdown().await.unwrap();
}

/// A live H.264 stream hit by a burst of damage after good frames (40 coded slices of
/// noise, more than the 8 failures tolerated before the first frame) goes on from its
/// next good frame: the session ends with its summary, and the segment where the burst
/// fell says how many packets it lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_stream_damage_is_counted_in_its_segment_and_survived() {
    let server = start(settings(limits())).await;
    let dir = tempfile::tempdir().unwrap();
    let good = annexb(&data("talking-heads/grid_bbaf2n.mp4"), dir.path(), "c.h264");
    let mut bytes = good.clone();
    let mut noise = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..40 {
        bytes.extend_from_slice(&[0, 0, 0, 1, 0x65, 0x88]);
        bytes.extend((0..400).map(|_| {
            // xorshift: reproducible noise; odd bytes keep start codes out of it.
            noise ^= noise << 13;
            noise ^= noise >> 7;
            noise ^= noise << 17;
            (noise as u8) | 1
        }));
    }
    bytes.extend_from_slice(&good);
    let mut c = client(server.grpc_addr).await;
    let mut msgs = vec![start_msg("damaged", MediaFormat::H264Annexb)];
    msgs.extend(chunks(&bytes, 4096));
    msgs.push(finish());
    let out = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
    assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
    let summary = out.summary().expect("the session reached its summary");
    let lost = frame_sum(&out, |f| f.undecodable);
    assert!((9..=40).contains(&lost), "packets counted: {lost}");
    assert_eq!(summary.frames.as_ref().unwrap().undecodable, lost);
    // The clip is 75 frames (3 s) long: the burst falls at 3 s, in segment 1, and the
    // second copy's frames are decoded after it.
    let at_burst = out.segments().into_iter().find(|s| s.index == 1).unwrap();
    assert_eq!(at_burst.frames.as_ref().unwrap().undecodable, lost);
    assert!(frame_sum(&out, |f| f.decoded) > 140, "{:?}", out.segments());
    assert!(out.segments().iter().any(|s| s.index == 2));
    server.shutdown().await.unwrap();
}

/// A session that reaches the longest a session may run (its memory grows with its
/// length) ends with its summary and OUT_OF_RANGE; the results before stand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_longer_than_the_limit_ends_with_its_summary() {
    let limits = Limits {
        max_session: Duration::from_secs(4),
        ..limits()
    };
    let server = start(settings(limits)).await;
    let dir = tempfile::tempdir().unwrap();
    let good = annexb(&data("talking-heads/grid_bbaf2n.mp4"), dir.path(), "c.h264");
    // 3 s, three times: 9 s of media against a 4 s limit.
    let bytes = [good.as_slice(), &good, &good].concat();
    let mut c = client(server.grpc_addr).await;
    let mut msgs = vec![start_msg("long", MediaFormat::H264Annexb)];
    msgs.extend(chunks(&bytes, 4096));
    msgs.push(finish());
    let out = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
    assert_eq!(out.code(), Code::OutOfRange, "{:?}", out.status);
    let message = out.status.as_ref().unwrap_err().message().to_owned();
    assert!(message.contains("open a new session"), "{message}");
    let summary = out.summary().expect("the summary is sent");
    assert_eq!(summary.ended_by, "max_length");
    // Media already queued when the limit is reached may still be judged.
    let last = out.segments().last().unwrap().end_us;
    assert!(last >= 4_000_000, "{last}");
    server.shutdown().await.unwrap();
}

/// A message over the transport's limit (not only over `max_message_bytes`) ends the
/// call with INVALID_ARGUMENT naming the limit; the segments of the frames before it
/// are sent, summarised and stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_is_refused_and_what_came_before_is_kept() {
    let limits = Limits {
        max_message_bytes: 512 * 1024,
        ..limits()
    };
    let server = start(settings(limits)).await;
    let dir = tempfile::tempdir().unwrap();
    let jpegs = jpeg_frames(&data("talking-heads/grid_bbaf2n.mp4"), dir.path());
    let mut c = client(server.grpc_addr).await;
    let mut msgs = vec![start_msg("huge", MediaFormat::Jpeg)];
    msgs.extend(frames_at_25fps(&jpegs));
    // Beyond the transport limit (the message limit plus 1 MiB of headroom).
    msgs.push(frame(10_000_000, vec![0; 4 << 20], 0, 0));
    let out = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
    assert_eq!(out.code(), Code::InvalidArgument, "{:?}", out.status);
    let message = out.status.as_ref().unwrap_err().message().to_owned();
    assert!(message.contains("limit of 524288 bytes"), "{message}");
    assert_eq!(
        out.segments().len(),
        2,
        "the frames before it were analysed"
    );
    let summary = out.summary().expect("the summary is sent");
    assert_eq!(summary.ended_by, "message_too_large");
    let stored = get_session(&mut c, "huge", KEY_A).await.unwrap();
    assert_eq!(stored.segments.len(), 2);
    assert_eq!(stored.summary.unwrap().ended_by, "message_too_large");
    server.shutdown().await.unwrap();
}

/// The gRPC side of the fuzzing: random message sequences (starts out of place or
/// twice, reused and malformed session ids, every format, chunks and frames of real
/// and random bytes, edge timestamps, sizes, strides and rotations, empty messages,
/// early ends). Every call ends with a status a client can act on, never INTERNAL or
/// UNKNOWN, and no session is left open afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_message_sequences_end_cleanly_and_leave_no_session_open() {
    use proto::analyze_request::Message;
    let limits = Limits {
        max_message_bytes: 256 * 1024,
        ..limits()
    };
    let server = start(settings(limits)).await;
    let dir = tempfile::tempdir().unwrap();
    let clip = data("talking-heads/grid_bbaf2n.mp4");
    let h264 = annexb(&clip, dir.path(), "c.h264");
    let jpeg = jpeg_frames(&clip, dir.path()).swap_remove(0);
    let mut c = client(server.grpc_addr).await;
    let mut state = 0x5EED_u64;
    let mut rand = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n.max(1)
    };
    let formats = [
        MediaFormat::H264Annexb,
        MediaFormat::Webm,
        MediaFormat::FragmentedMp4,
        MediaFormat::Jpeg,
        MediaFormat::Png,
        MediaFormat::RawI420,
        MediaFormat::RawRgb24,
        MediaFormat::Unspecified,
    ];
    let ids = ["s0", "s1", "s2", "zoom:1:a", "", ".hidden", "a/b", "x y"];
    let edge_pts = [0, -1, 1, i64::MIN, i64::MAX, 1_000_000_000_000, 40_000];
    let mut codes = std::collections::BTreeSet::new();
    for round in 0..150 {
        let format = formats[rand(formats.len() as u64) as usize];
        let id = format!("{}{}", ids[rand(ids.len() as u64) as usize], rand(3));
        let mut msgs = Vec::new();
        if rand(8) != 0 {
            msgs.push(start_msg(&id, format));
        }
        for _ in 0..rand(12) {
            msgs.push(match rand(7) {
                0 => start_msg(&id, format),
                1 => finish(),
                2 => proto::AnalyzeRequest { message: None },
                3 => {
                    let at = rand(h264.len() as u64) as usize;
                    let len = rand(300_000) as usize;
                    chunk(&h264[at..(at + len).min(h264.len())])
                }
                4 => chunk(&(0..rand(5000)).map(|_| rand(256) as u8).collect::<Vec<_>>()),
                _ => {
                    let data = match rand(3) {
                        0 => jpeg.clone(),
                        1 => vec![rand(256) as u8; rand(70_000) as usize],
                        _ => jpeg[..rand(jpeg.len() as u64) as usize].to_vec(),
                    };
                    let (w, h) = (rand(700) as u32, rand(500) as u32);
                    let mut f = frame(edge_pts[rand(7) as usize], data, w, h);
                    if let Some(Message::Frame(v)) = &mut f.message {
                        v.stride = [0, w, w * 3, u32::MAX][rand(4) as usize];
                        v.rotation = [0, 90, 45, u32::MAX][rand(4) as usize];
                    }
                    f
                }
            });
        }
        let out = analyze(&mut c, KEY_A, msgs, NO_GAP).await;
        assert!(
            !matches!(out.code(), Code::Internal | Code::Unknown),
            "round {round}: {:?}",
            out.status
        );
        codes.insert(format!("{:?}", out.code()));
    }
    eprintln!("status codes seen: {codes:?}");
    for code in ["Ok", "InvalidArgument", "AlreadyExists"] {
        assert!(codes.contains(code), "no {code} in {codes:?}");
    }
    // Sessions close after their last answer: give them a moment, then none is open.
    let mut open = u32::MAX;
    for _ in 0..100 {
        let info = c.info(authed(proto::InfoRequest {}, KEY_A)).await.unwrap();
        open = info.into_inner().open_sessions;
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(open, 0, "sessions left open");
    server.shutdown().await.unwrap();
}

/// Guessing keys: after ten failures from one address within a minute, that address
/// is refused with RESOURCE_EXHAUSTED and a time to retry, even with a right key (a
/// right key must not be told apart from a wrong one while refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_authentication_is_rate_limited_per_address() {
    let server = start(settings(limits())).await;
    let mut c = client(server.grpc_addr).await;
    assert!(c.info(authed(proto::InfoRequest {}, KEY_A)).await.is_ok());
    for i in 0..candor_server::failed_auth::MAX_FAILURES {
        let e = c
            .info(authed(proto::InfoRequest {}, &format!("guess-{i}")))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "attempt {i}");
    }
    for key in ["guess-next", KEY_A] {
        let e = c
            .info(authed(proto::InfoRequest {}, key))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::ResourceExhausted, "{key}: {e:?}");
        assert!(e.message().contains("retry in"), "{}", e.message());
    }
    server.shutdown().await.unwrap();
}

/// `--log-format json`: every line `candor serve` writes is one JSON object, and every
/// line about a session carries its tenant and session id (from the session's span),
/// so a log collector can follow one interview.
#[test]
fn json_logs_parse_and_carry_the_session_ids() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let bin = env!("CARGO_BIN_EXE_candor");
    let data = tempfile::tempdir().unwrap();
    let mut server = Command::new(bin)
        .args(["serve", "--insecure-no-auth", "--log-format", "json"])
        .args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let mut seen: Vec<serde_json::Value> = Vec::new();
    let mut next = |seen: &mut Vec<serde_json::Value>| -> serde_json::Value {
        let line = lines
            .next()
            .expect("the server logs until stopped")
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        seen.push(v.clone());
        v
    };
    // The port it bound, from its own log line.
    let grpc = loop {
        let v = next(&mut seen);
        if v["fields"]["message"] == "listening" {
            break v["fields"]["grpc"].as_str().unwrap().to_owned();
        }
    };
    loop {
        if next(&mut seen)["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("models loaded"))
        {
            break;
        }
    }
    let sent = Command::new(bin)
        .args([
            "stream",
            "--server",
            &format!("http://{grpc}"),
            "--session-id",
            "logged-1",
        ])
        .arg(support::data("talking-heads/grid_bbaf2n.mp4"))
        .output()
        .unwrap();
    assert!(sent.status.success(), "{sent:?}");
    let closed = loop {
        let v = next(&mut seen);
        if v["fields"]["message"] == "session closed" {
            break v;
        }
    };
    server.kill().unwrap();
    server.wait().unwrap();
    let session = closed["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "session")
        .unwrap_or_else(|| panic!("no session span: {closed}"));
    assert_eq!(session["tenant"], "default", "{closed}");
    assert_eq!(session["session"], "logged-1", "{closed}");
    let opened = seen
        .iter()
        .find(|v| v["fields"]["message"] == "session opened")
        .expect("a session opened line");
    assert!(opened["spans"].to_string().contains("logged-1"), "{opened}");
}

/// What a pod runs: `candor serve` with `--node-name` (the pod's name) puts a `node`
/// label on every metric of /metrics; and ONNX Runtime's own logging stays at warnings
/// even when the log filter lets everything at INFO through (`CANDOR_LOG=info`, not
/// the default `info,ort=warn`): it once wrote about 1,200 INFO lines at start.
#[test]
fn serve_labels_metrics_by_node_and_keeps_onnx_runtime_quiet() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};
    let data = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_candor"))
        .args(["serve", "--insecure-no-auth", "--log-format", "json"])
        .args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
        .args(["--node-name", "candor-5d8f-abcde"])
        .arg("--data-dir")
        .arg(data.path())
        .env("CANDOR_LOG", "info")
        .env_remove("CANDOR_NODE_NAME")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let (mut metrics, mut seen) = (None, Vec::new());
    loop {
        let line = lines
            .next()
            .expect("the server logs until serving")
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        if v["fields"]["message"] == "listening" {
            // `Some(127.0.0.1:PORT)`
            let m = v["fields"]["metrics"].as_str().unwrap();
            metrics = Some(
                m.trim_start_matches("Some(")
                    .trim_end_matches(')')
                    .to_owned(),
            );
        }
        let done = v["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("models loaded"));
        seen.push(v);
        if done {
            break;
        }
    }
    let from_ort: Vec<_> = seen
        .iter()
        .filter(|v| v["target"] == "ort::logging")
        .collect();
    assert!(
        from_ort.len() <= 5,
        "{} lines from ONNX Runtime: {:?}",
        from_ort.len(),
        &from_ort[..from_ort.len().min(5)]
    );
    assert!(seen.len() < 30, "{} lines at start", seen.len());

    let mut http = std::net::TcpStream::connect(metrics.expect("a metrics address")).unwrap();
    http.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    http.read_to_string(&mut text).unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    let samples: Vec<_> = body.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(!samples.is_empty(), "{text}");
    for line in samples {
        assert!(line.contains("node=\"candor-5d8f-abcde\""), "{line}");
    }
    assert!(
        body.contains("candor_models_serving{node=\"candor-5d8f-abcde\"} 1"),
        "{body}"
    );
}
