//! Real `candor serve` processes sharing one PostgreSQL store: a batch job submitted
//! to node A is scored by both nodes, each file once, and when node B is killed
//! (SIGKILL) while it scores a file, A takes that file up after B's lease and
//! finishes; and a node cannot start under the name of a live one.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use candor_server::proto;
use candor_store::postgres::temp_cluster::{SKIP_ENV, TempCluster};
use support::data;
use support::process::Serve;
use support::server::*;

/// Lease of a job file in this test: short, so the takeover comes quickly.
const LEASE_S: &str = "3";

const CLIPS: [&str; 8] = [
    "talking-heads/grid_bbaf2n.mp4",
    "talking-heads/grid_brbk7n.mp4",
    "talking-heads/grid_lbax4n.mp4",
    "talking-heads/grid_swiz3n.mp4",
    "deepfake-samples/dfdcstyle_gl_real.mp4",
    "deepfake-samples/dfdcstyle_gl_fake.mp4",
    "deepfake-samples/lp_d18_real.mp4",
    "deepfake-samples/sadtalker_res_camera_fake.mp4",
];

async fn node(name: &str, url: &str, root: &Path, tmp: &Path) -> Serve {
    Serve::start_with(
        &tmp.join(format!("data-{name}")),
        tmp.join(format!("{name}.log")),
        &[
            "--store",
            url,
            "--batch-root",
            root.to_str().unwrap(),
            "--node-name",
            name,
            "--job-file-lease-s",
            LEASE_S,
            "--log-format",
            "json",
        ],
    )
    .await
}

/// Files a node's log (JSON lines) says it scored.
fn scored_by(serve: &Serve) -> Vec<String> {
    scored_in(&serve.log_text())
}

fn scored_in(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "file scored")
        .filter_map(|v| v["fields"]["file"].as_str().map(str::to_owned))
        .collect()
}

/// The file node B holds a live claim on, if any.
fn held_by_b(admin: &mut postgres::Client) -> Option<String> {
    admin
        .query_opt(
            "SELECT path FROM job_files WHERE status = 'pending'
             AND claimed_by LIKE 'node-b/%'
             AND claimed_until > (extract(epoch from now()) * 1000)::bigint
             LIMIT 1",
            &[],
        )
        .unwrap()
        .map(|r| r.get(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_shared_by_two_nodes_and_survives_one_being_killed() {
    if TempCluster::skipped() {
        eprintln!("PostgreSQL skipped ({SKIP_ENV}=1)");
        return;
    }
    // The PostgreSQL client blocks: set-up off the async threads.
    let (_cluster, url) = tokio::task::spawn_blocking(|| {
        let cluster = TempCluster::start().expect("throwaway PostgreSQL");
        let url = cluster.create_database("shared_jobs").unwrap();
        (cluster, url)
    })
    .await
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("clips")).unwrap();
    for clip in CLIPS {
        let name = Path::new(clip).file_name().unwrap();
        std::fs::copy(data(clip), root.join("clips").join(name)).unwrap();
    }
    let a = node("node-a", &url, &root, tmp.path()).await;
    let mut b = node("node-b", &url, &root, tmp.path()).await;

    let mut on_a = client(a.grpc).await;
    let submitted = on_a
        .submit_job(authed(
            proto::SubmitJobRequest {
                paths: vec!["clips".into()],
                job_id: Some("shared-1".into()),
                force: false,
            },
            KEY_A,
        ))
        .await
        .expect("submitted")
        .into_inner();
    assert_eq!(submitted.total, CLIPS.len() as u32);
    // Node B answers for it too, before it has scored anything.
    let on_b = client(b.grpc)
        .await
        .get_job(authed(
            proto::GetJobRequest {
                job_id: "shared-1".into(),
            },
            KEY_A,
        ))
        .await
        .expect("GetJob on node B")
        .into_inner();
    assert_eq!(on_b.total, CLIPS.len() as u32);
    assert!(on_b.running, "{on_b:?}");

    // Node B takes the job up, scores a file, and is killed while it holds another.
    // The store is watched from a plain thread (the PostgreSQL client blocks).
    let watch_url = url.clone();
    let b_log = b.log.clone();
    let holding = tokio::task::spawn_blocking(move || {
        let mut admin = postgres::Client::connect(&watch_url, postgres::NoTls).unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            let b_scored = scored_in(&std::fs::read_to_string(&b_log).unwrap_or_default());
            if let Some(path) = held_by_b(&mut admin).filter(|_| !b_scored.is_empty()) {
                return Some(path);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    })
    .await
    .unwrap();
    let Some(b_was_scoring) = holding else {
        panic!(
            "node B never held a file; A scored {:?}; B's log: {}",
            scored_by(&a),
            b.log_text()
        );
    };
    b.kill();
    let by_b_before_kill = scored_by(&b);

    // A finishes the job, B's file included, once B's lease has run out.
    let mut on_a_watch = client(a.grpc).await;
    let mut stream = on_a_watch
        .watch_job(authed(
            proto::WatchJobRequest {
                job_id: "shared-1".into(),
            },
            KEY_A,
        ))
        .await
        .expect("watch")
        .into_inner();
    let mut last = None;
    while let Some(s) = tokio::time::timeout(Duration::from_secs(300), stream.message())
        .await
        .expect("the job finishes")
        .unwrap()
    {
        last = Some(s);
    }
    let last = last.expect("a status");
    assert!(last.complete && !last.running, "{last:?}");
    assert_eq!(
        (last.done, last.failed),
        (CLIPS.len() as u32, 0),
        "{last:?}"
    );

    // Each file scored exactly once, by one node or the other.
    let mut times: BTreeMap<String, u32> = BTreeMap::new();
    for f in scored_by(&a)
        .into_iter()
        .chain(by_b_before_kill.iter().cloned())
    {
        *times.entry(f).or_default() += 1;
    }
    assert_eq!(times.len(), CLIPS.len(), "{times:?}");
    assert!(times.values().all(|&n| n == 1), "{times:?}");
    assert!(
        !by_b_before_kill.is_empty(),
        "node B scored files before it died"
    );
    // The file B was scoring when it died went to A, after B's lease.
    assert!(
        scored_by(&a).contains(&b_was_scoring),
        "{b_was_scoring} not taken over"
    );
    assert!(!by_b_before_kill.contains(&b_was_scoring));
    eprintln!(
        "shared job: node A scored {}, node B {} before it was killed scoring {b_was_scoring}",
        scored_by(&a).len(),
        by_b_before_kill.len()
    );
}

/// A second node started under a live node's name would close that node's sessions
/// as its own leftovers: it refuses to start instead, saying why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_cannot_take_the_name_of_a_live_one() {
    if TempCluster::skipped() {
        eprintln!("PostgreSQL skipped ({SKIP_ENV}=1)");
        return;
    }
    let (_cluster, url) = tokio::task::spawn_blocking(|| {
        let cluster = TempCluster::start().expect("throwaway PostgreSQL");
        let url = cluster.create_database("names").unwrap();
        (cluster, url)
    })
    .await
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let live = node("twin", &url, &root, tmp.path()).await;
    let ports = (support::process::free_port(), support::process::free_port());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_candor"))
            .arg("serve")
            .args(["--listen", &ports.0.to_string()])
            .args(["--metrics-listen", &ports.1.to_string()])
            .args(["--insecure-no-auth", "--store", &url, "--node-name", "twin"])
            .current_dir(support::repo_root())
            .env_remove("CANDOR_API_KEYS")
            .output()
            .expect("run candor serve")
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("is in use by a live node"), "{stderr}");
    assert!(
        live.metrics().await.contains("candor_sessions_open"),
        "the live node still serves"
    );
}
