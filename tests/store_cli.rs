//! The stored results from the command line: live sessions are recorded by the real
//! server (in-process, real models, real media), then `candor admin purge` and
//! `candor report` run on its data directory as the real binary.

mod support;

use std::path::Path;
use std::process::Output;

use candor_server::proto::{MediaFormat, analyze_request::Message};
use candor_store::{SessionFilter, SqliteStore, Store};
use support::server::*;
use support::{data, screen_replay};
use tonic::Code;

/// Streams `clip` as JPEG frames into each (key, session id, candidate) session on a
/// server storing into `data_dir`, and returns how many segments each got.
async fn live_sessions(
    data_dir: &Path,
    sessions: &[(&str, &str, &str)],
    clip: &Path,
) -> Vec<usize> {
    let mut s = settings(limits());
    s.data_dir = Some(data_dir.to_owned());
    live_sessions_on(s, sessions, clip).await
}

/// As `live_sessions`, on a server with settings `s`.
async fn live_sessions_on(
    s: candor_server::ServerSettings,
    sessions: &[(&str, &str, &str)],
    clip: &Path,
) -> Vec<usize> {
    let server = start(s).await;
    let dir = tempfile::tempdir().unwrap();
    let jpegs = jpeg_frames(clip, dir.path());
    let mut c = client(server.grpc_addr).await;
    let mut counts = Vec::new();
    for (key, id, candidate) in sessions {
        let mut start = start_msg(id, MediaFormat::Jpeg);
        if let Some(Message::Start(s)) = &mut start.message {
            s.candidate_ref = Some((*candidate).to_owned());
        }
        let mut msgs = vec![start];
        msgs.extend(frames_at_25fps(&jpegs));
        msgs.push(finish());
        let out = analyze(&mut c, key, msgs, std::time::Duration::ZERO).await;
        assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
        counts.push(out.segments().len());
    }
    server.shutdown().await.unwrap();
    counts
}

fn candor_in(data_dir: &Path, args: &[&str]) -> Output {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--data-dir", data_dir.to_str().unwrap()]);
    support::candor(&all)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Purging a session deletes exactly that session of that tenant and prints the
/// counts; purging a candidate deletes all their sessions; another tenant's session
/// with the same id stays; purging what is not there is a clear error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_purge_deletes_exactly_what_it_names() {
    let data_dir = support::server::data_dir();
    let clip = data("talking-heads/grid_bbaf2n.mp4");
    let segs = live_sessions(
        &data_dir,
        &[
            (KEY_A, "call-1", "cand-1"),
            (KEY_A, "call-2", "cand-2"),
            (KEY_A, "call-3", "cand-2"),
            (KEY_B, "call-1", "cand-1"),
        ],
        &clip,
    )
    .await;

    let purge = |what: &str, id: &str| {
        candor_in(
            &data_dir,
            &["admin", "purge", "--tenant", "tenant-a", what, id],
        )
    };
    for (what, id, sessions, segments) in [
        ("--session", "call-1", 1, segs[0]),
        ("--candidate", "cand-2", 2, segs[1] + segs[2]),
    ] {
        // Prints what it deleted: exactly that session, or all the candidate's.
        let out = purge(what, id);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let printed = text(&out.stdout);
        assert!(
            printed.contains(&format!("sessions        {sessions}\n")),
            "{printed}"
        );
        assert!(
            printed.contains(&format!("segments        {segments}\n")),
            "{printed}"
        );
    }
    let again = purge("--session", "call-1");
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("not found"),
        "{}",
        text(&again.stderr)
    );

    let store = SqliteStore::open(&data_dir).unwrap();
    let a = store
        .list_sessions("tenant-a", &SessionFilter::default(), 10)
        .unwrap();
    assert!(a.is_empty(), "{a:?}");
    let b = store
        .list_sessions("tenant-b", &SessionFilter::default(), 10)
        .unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].session_id, "call-1");
    assert_eq!(store.segments("tenant-b", "call-1").unwrap().len(), segs[3]);
}

/// The HTML report of a stored session (a replayed screen photo: every segment is an
/// alert) holds the score chart, one timeline row and one chart band per segment with
/// its state, the state change, and the models; another tenant gets no report. The
/// read is in the tenant's audit log, and only there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_shows_the_chart_and_every_segment_state() {
    let data_dir = support::server::data_dir();
    let dir = tempfile::tempdir().unwrap();
    let replay = screen_replay(dir.path(), 5, 25);
    let segs = live_sessions(&data_dir, &[(KEY_A, "screen-replay", "cand-9")], &replay).await;
    assert!(segs[0] >= 2, "{segs:?}");

    let html_path = dir.path().join("report.html");
    let out = candor_in(
        &data_dir,
        &[
            "report",
            "screen-replay",
            "--tenant",
            "tenant-a",
            "--out",
            html_path.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg").count(), 1);
    assert!(html.contains("class=\"liveness-mean\""), "{html}");
    assert_eq!(
        html.matches("class=\"segment\" data-state=\"alert\"")
            .count(),
        segs[0],
        "{html}"
    );
    assert_eq!(html.matches("class=\"segment\"").count(), segs[0]);
    assert_eq!(html.matches("<rect class=\"state-alert\"").count(), segs[0]);
    assert!(html.contains("presentation attack likely"), "{html}");
    // How long the attack lasted: every segment of the replay.
    assert!(
        html.contains("<b>liveness_low</b>: 100% of the time"),
        "{html}"
    );
    assert!(html.contains("<h2>State changes</h2>"));
    assert!(html.contains("<span class=\"state alert\">alert</span></td><td>"));
    for model in ["yunet_s", "minifasnet_v2+v1se"] {
        assert!(html.contains(&format!("<td>{model}</td>")), "{model}");
    }

    let other = candor_in(
        &data_dir,
        &["report", "screen-replay", "--tenant", "tenant-b"],
    );
    assert_eq!(other.status.code(), Some(1));
    assert!(
        text(&other.stderr).contains("no session or batch job"),
        "{}",
        text(&other.stderr)
    );

    let audit = |tenant: &str| {
        let out = candor_in(&data_dir, &["admin", "audit", "--tenant", tenant]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let lines = audit("tenant-a");
    let reads: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["kind"] == "report_session")
        .collect();
    assert_eq!(reads.len(), 1, "{lines}");
    assert!(
        reads[0]["caller"]
            .as_str()
            .unwrap()
            .starts_with("candor report")
    );
    assert!(
        reads[0]["session_id"]
            .as_str()
            .unwrap()
            .contains("screen-replay")
    );
    assert!(
        !audit("tenant-b").contains("report_"),
        "another tenant's read"
    );
}

/// The server stores into PostgreSQL when given a URL instead of a data directory: a
/// live session (a real clip through the real models) is read back whole from the
/// database, and `candor admin purge --store URL` deletes it there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_store_keeps_live_sessions_and_the_cli_purges_them() {
    use candor_store::postgres::temp_cluster::{SKIP_ENV, TempCluster};
    use candor_store::{PostgresStore, PostgresUrl, StoreError};
    if TempCluster::skipped() {
        eprintln!("{SKIP_ENV}=1: skipping the PostgreSQL server test");
        return;
    }
    // The PostgreSQL client is synchronous: off the runtime, as the server calls it.
    let (cluster, url) = tokio::task::spawn_blocking(|| {
        let cluster = TempCluster::start().expect("a throwaway PostgreSQL server");
        let url = cluster.create_database("serve").unwrap();
        (cluster, url)
    })
    .await
    .unwrap();
    let mut s = settings(limits());
    s.data_dir = None;
    s.store_url = Some(PostgresUrl::new(url.clone()).unwrap());
    let clip = data("talking-heads/grid_bbaf2n.mp4");
    let segs = live_sessions_on(s, &[(KEY_A, "pg-call-1", "cand-1")], &clip).await;
    assert!(segs[0] > 0);

    tokio::task::spawn_blocking(move || {
        let store = PostgresStore::open(&url).unwrap();
        let session = store.get_session("tenant-a", "pg-call-1").unwrap();
        assert_eq!(session.candidate_ref.as_deref(), Some("cand-1"));
        assert_eq!(session.segments as usize, segs[0]);
        assert!(session.ended_at.is_some());
        let summary = session.summary().unwrap().expect("a summary");
        assert_eq!(summary.segments as usize, segs[0]);
        let stored = store.segments("tenant-a", "pg-call-1").unwrap();
        assert_eq!(stored.len(), segs[0]);
        assert!(stored.iter().all(|seg| seg.report().is_ok()));
        assert!(matches!(
            store.get_session("tenant-b", "pg-call-1"),
            Err(StoreError::NotFound(_))
        ));

        let out = support::candor(&[
            "admin",
            "purge",
            "--tenant",
            "tenant-a",
            "--session",
            "pg-call-1",
            "--store",
            &url,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("sessions        1\n"));
        assert!(matches!(
            store.get_session("tenant-a", "pg-call-1"),
            Err(StoreError::NotFound(_))
        ));
        drop(cluster);
    })
    .await
    .unwrap();
}
