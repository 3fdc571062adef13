//! Identity across interview rounds, end to end on the real server and models: a
//! first round enrols the candidate, later rounds are verified against the enrolment
//! (or against a reference photo enrolled with EnrollCandidate), only within the
//! tenant, and only for tenants that turned enrolment on.

mod support;

use std::path::Path;
use std::time::Duration;

use candor_server::proto::{self, AnalyzeRequest, MediaFormat, analyze_request::Message};
use candor_server::{ApiKey, AuthMode, ServerSettings, hash_key};
use candor_store::{SqliteStore, Store, TenantSettings};
use support::data;
use support::server::*;
use tonic::Code;

const NO_GAP: Duration = Duration::ZERO;
const KEY_C: &str = "key-tenant-c";
/// SFace's same-person cosine, the default of `identity.candidate_mismatch_below`.
const SAME_PERSON: f32 = 0.363;

/// Test settings with a third tenant, and `tenants` given enrolment.
fn settings_with_enrolment(tenants: &[&str]) -> ServerSettings {
    let mut s = settings(limits());
    let AuthMode::Keys(keys) = &mut s.auth else {
        unreachable!("test settings use keys")
    };
    keys.push(ApiKey::parse(&format!("tenant-c:{}", hash_key(KEY_C))).unwrap());
    let store = SqliteStore::open(s.data_dir.as_ref().unwrap()).unwrap();
    for t in tenants {
        let mut settings = TenantSettings::new(*t);
        settings.enrolment_enabled = true;
        store.upsert_tenant(&settings).unwrap();
    }
    s
}

fn start_for(id: &str, candidate: &str, format: MediaFormat) -> AnalyzeRequest {
    AnalyzeRequest {
        message: Some(Message::Start(proto::SessionStart {
            session_id: id.into(),
            participant_id: "p1".into(),
            format: format as i32,
            candidate_ref: Some(candidate.into()),
            ..Default::default()
        })),
    }
}

/// One session: `start` for `candidate`, the JPEG frames at 25 fps, `finish`.
fn session(id: &str, candidate: &str, jpegs: &[Vec<u8>]) -> Vec<AnalyzeRequest> {
    let mut msgs = vec![start_for(id, candidate, MediaFormat::Jpeg)];
    msgs.extend(
        jpegs
            .iter()
            .enumerate()
            .map(|(i, j)| frame(i as i64 * 40_000, j.clone(), 0, 0)),
    );
    msgs.push(finish());
    msgs
}

fn clip_jpegs(name: &str) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    jpeg_frames(&data(&format!("talking-heads/{name}.mp4")), dir.path())
}

/// 3 s of one still photo, as a camera showing it would send it.
fn photo_jpegs(name: &str) -> Vec<Vec<u8>> {
    vec![std::fs::read(data(&format!("faces/{name}.jpg"))).unwrap(); 75]
}

/// Per-segment median similarities to the enrolment (empty when not verified).
fn candidate_medians(out: &Outcome) -> Vec<f32> {
    out.segments()
        .iter()
        .filter_map(|s| s.signals.iter().find(|x| x.name == "candidate_similarity"))
        .map(|x| x.median)
        .collect()
}

fn has_reason(out: &Outcome, code: &str) -> bool {
    out.segments()
        .iter()
        .any(|s| s.reasons.iter().any(|r| r.code == code))
}

async fn run(c: &mut Client, key: &str, msgs: Vec<AnalyzeRequest>) -> Outcome {
    let out = analyze(c, key, msgs, NO_GAP).await;
    assert_eq!(out.code(), Code::Ok, "{:?}", out.status);
    assert!(out.summary().is_some());
    out
}

type Client = proto::candor_client::CandorClient<tonic::transport::Channel>;

fn enrolled_from(store: &SqliteStore, tenant: &str, candidate: &str) -> Vec<String> {
    store
        .enrolments(tenant, candidate)
        .unwrap()
        .into_iter()
        .map(|e| e.source_session.unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_round_enrols_and_later_rounds_verify_the_candidate() {
    let settings = settings_with_enrolment(&["tenant-a", "tenant-b"]);
    let data_dir = settings.data_dir.clone().unwrap();
    let server = start(settings).await;
    let mut c = client(server.grpc_addr).await;
    let same = clip_jpegs("grid_bbaf2n");
    let other = clip_jpegs("grid_brbk7n");

    // Round 1: nothing to verify against yet; the session identity is enrolled.
    let r1 = run(&mut c, KEY_A, session("round-1", "cand-7", &same)).await;
    assert!(candidate_medians(&r1).is_empty());
    assert_eq!(r1.summary().unwrap().candidate_similarity, None);
    let store = SqliteStore::open(&data_dir).unwrap();
    assert_eq!(enrolled_from(&store, "tenant-a", "cand-7"), vec!["round-1"]);

    // Round 2, the same person, now as the H.264 stream of a meeting bot: verified on
    // every segment, no mismatch.
    let dir = tempfile::tempdir().unwrap();
    let h264 = annexb(&data("talking-heads/grid_bbaf2n.mp4"), dir.path(), "a.h264");
    let mut msgs = vec![start_for("round-2", "cand-7", MediaFormat::H264Annexb)];
    msgs.extend(chunks(&h264, 4096));
    msgs.push(finish());
    let r2 = run(&mut c, KEY_A, msgs).await;
    let sims = candidate_medians(&r2);
    eprintln!("same person, per-segment medians: {sims:?}");
    assert_eq!(sims.len(), r2.segments().len());
    assert!(sims.iter().all(|&s| s >= SAME_PERSON), "{sims:?}");
    assert!(!has_reason(&r2, "candidate_mismatch"));
    let summary_sim = r2.summary().unwrap().candidate_similarity.unwrap();
    assert!(summary_sim >= SAME_PERSON, "{summary_sim}");

    // Round 3, someone else under the candidate's name: an alert.
    let r3 = run(&mut c, KEY_A, session("round-3", "cand-7", &other)).await;
    let sims = candidate_medians(&r3);
    eprintln!("different person, per-segment medians: {sims:?}");
    assert!(!sims.is_empty());
    assert!(sims.iter().all(|&s| s < SAME_PERSON), "{sims:?}");
    assert!(has_reason(&r3, "candidate_mismatch"));
    assert_eq!(
        r3.summary().unwrap().worst_state,
        proto::RiskState::Alert as i32
    );
    // Verifying rounds do not replace the enrolment.
    assert_eq!(enrolled_from(&store, "tenant-a", "cand-7"), vec!["round-1"]);
    // The stored session's report shows the verification.
    let dir = data_dir.to_str().unwrap();
    let out = support::candor(&[
        "report",
        "round-3",
        "--tenant",
        "tenant-a",
        "--data-dir",
        dir,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(
        html.contains("similarity to the enrolled candidate "),
        "verdict line missing"
    );
    assert!(html.contains("candidate_mismatch") || html.contains("not the enrolled candidate"));

    // Another tenant with the same candidate ref neither sees nor uses tenant A's
    // enrolment: its session is its own first round.
    let b = run(&mut c, KEY_B, session("round-b", "cand-7", &other)).await;
    assert!(candidate_medians(&b).is_empty());
    assert!(!has_reason(&b, "candidate_mismatch"));
    assert_eq!(enrolled_from(&store, "tenant-b", "cand-7"), vec!["round-b"]);

    // A tenant without enrolment: no verification, nothing stored.
    let off = run(&mut c, KEY_C, session("round-c", "cand-7", &same)).await;
    assert!(candidate_medians(&off).is_empty());
    assert!(store.enrolments("tenant-c", "cand-7").unwrap().is_empty());

    // Deleting the candidate takes the enrolment with the sessions; the next round is
    // a first round again.
    let deleted = c
        .delete_candidate(authed(
            proto::DeleteCandidateRequest {
                candidate_ref: "cand-7".into(),
            },
            KEY_A,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((deleted.sessions, deleted.enrolments), (3, 1));
    assert!(store.enrolments("tenant-a", "cand-7").unwrap().is_empty());
    assert_eq!(enrolled_from(&store, "tenant-b", "cand-7"), vec!["round-b"]);
    server.shutdown().await.unwrap();

    // `candor admin purge --candidate` deletes the enrolment too.
    let out = support::candor(&[
        "admin",
        "purge",
        "--tenant",
        "tenant-b",
        "--candidate",
        "cand-7",
        "--data-dir",
        dir,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("enrolments      1\n"), "{printed}");
    assert!(store.enrolments("tenant-b", "cand-7").unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_photo_enrols_the_candidate() {
    let settings = settings_with_enrolment(&["tenant-a"]);
    let data_dir = settings.data_dir.clone().unwrap();
    let server = start(settings).await;
    let mut c = client(server.grpc_addr).await;
    let photo = |name: &str| std::fs::read(data(&format!("faces/{name}.jpg"))).unwrap();
    let enrol = |candidate: &str, photo: Vec<u8>| proto::EnrollCandidateRequest {
        candidate_ref: candidate.into(),
        photo,
    };

    let done = c
        .enroll_candidate(authed(enrol("cand-o", photo("obama_2012_portrait")), KEY_A))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.candidate_ref, "cand-o");
    assert_eq!(done.model.unwrap().name, "sface");
    let store = SqliteStore::open(&data_dir).unwrap();
    let info = store.enrolments("tenant-a", "cand-o").unwrap();
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].source_session, None);

    // Another photo of the same person, years apart, on camera: verified.
    let same = run(
        &mut c,
        KEY_A,
        session("photo-same", "cand-o", &photo_jpegs("obama_2009_congress")),
    )
    .await;
    let sims = candidate_medians(&same);
    eprintln!("same person (photos 2012 -> 2009), per-segment medians: {sims:?}");
    assert!(!sims.is_empty());
    assert!(sims.iter().all(|&s| s >= SAME_PERSON), "{sims:?}");
    assert!(!has_reason(&same, "candidate_mismatch"));

    // Someone else: a mismatch.
    let other = run(
        &mut c,
        KEY_A,
        session("photo-other", "cand-o", &photo_jpegs("biden_2010_blueroom")),
    )
    .await;
    let sims = candidate_medians(&other);
    eprintln!("different person (Obama 2012 -> Biden), per-segment medians: {sims:?}");
    assert!(has_reason(&other, "candidate_mismatch"));

    // Exactly one face, or INVALID_ARGUMENT saying what was wrong.
    let two = side_by_side(
        &data("faces/obama_2012_portrait.jpg"),
        &data("faces/collins_nasa.jpg"),
    );
    let blank = png(&image::RgbImage::from_pixel(
        320,
        240,
        image::Rgb([90, 90, 90]),
    ));
    for (bytes, says) in [
        (two, "2 faces"),
        (blank, "no face"),
        (b"GIF89a....".to_vec(), "JPEG or PNG"),
    ] {
        let err = c
            .enroll_candidate(authed(enrol("cand-x", bytes), KEY_A))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        assert!(err.message().contains(says), "{}", err.message());
    }
    assert!(store.enrolments("tenant-a", "cand-x").unwrap().is_empty());

    // Enrolment off for tenant B: refused, nothing stored.
    let err = c
        .enroll_candidate(authed(enrol("cand-o", photo("obama_2012_portrait")), KEY_B))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(store.enrolments("tenant-b", "cand-o").unwrap().is_empty());
    server.shutdown().await.unwrap();
}

/// Two photos next to each other in one PNG: two faces.
fn side_by_side(left: &Path, right: &Path) -> Vec<u8> {
    let (l, r) = (
        image::open(left).unwrap().to_rgb8(),
        image::open(right).unwrap().to_rgb8(),
    );
    let mut both = image::RgbImage::new(l.width() + r.width(), l.height().max(r.height()));
    image::imageops::replace(&mut both, &l, 0, 0);
    image::imageops::replace(&mut both, &r, i64::from(l.width()), 0);
    png(&both)
}

fn png(img: &image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}
