//! Identity across interview rounds, end to end on the real server and models: a
//! first round enrols the candidate, later rounds are verified against the enrolment
//! (or against a reference photo enrolled with EnrollCandidate), only within the
//! tenant, and only for tenants that turned enrolment on. With duplicate search, one
//! face under several candidate names is found, and the blocklist catches a blocked
//! person's next session until the entry is removed or the candidate purged.

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
    msgs.extend(frames_at_25fps(jpegs));
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

/// The first message of a segment reason with `code`, if any.
fn reason_message(out: &Outcome, code: &str) -> Option<String> {
    out.segments()
        .iter()
        .flat_map(|s| &s.reasons)
        .find(|r| r.code == code)
        .map(|r| r.message.clone())
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

// ---- one face, many personas ----

const DUPLICATE: &str = "duplicate_identity";
const BLOCKLISTED: &str = "blocklisted_identity";
/// The model version identities are kept under.
const SFACE: &str = "sface@2021dec-dequant-fp32";

/// Enrolment for A, B and C; duplicate search for A and B only.
fn settings_with_search() -> ServerSettings {
    let s = settings_with_enrolment(&["tenant-a", "tenant-b", "tenant-c"]);
    let store = SqliteStore::open(s.data_dir.as_ref().unwrap()).unwrap();
    for t in ["tenant-a", "tenant-b"] {
        let mut settings = store.tenant_settings(t).unwrap();
        settings.duplicate_search = true;
        store.upsert_tenant(&settings).unwrap();
    }
    s
}

/// A session of `candidate` (or of nobody named) from JPEG frames at 25 fps.
fn named_session(id: &str, candidate: Option<&str>, jpegs: &[Vec<u8>]) -> Vec<AnalyzeRequest> {
    let mut msgs = session(id, candidate.unwrap_or("-"), jpegs);
    if candidate.is_none()
        && let Some(Message::Start(s)) = &mut msgs[0].message
    {
        s.candidate_ref = None;
    }
    msgs
}

/// 3.2 s of one GRID clip's 8 face crops (train-faces), each held for 10 frames.
fn crop_jpegs(clip: &str) -> Vec<Vec<u8>> {
    (0..8)
        .flat_map(|i| {
            let j = std::fs::read(data(&format!("train-faces/grid_spk02_{clip}_{i}.jpg"))).unwrap();
            std::iter::repeat_n(j, 10)
        })
        .collect()
}

fn enrol_req(candidate: &str, photo: &str) -> proto::EnrollCandidateRequest {
    proto::EnrollCandidateRequest {
        candidate_ref: candidate.into(),
        photo: std::fs::read(data(&format!("faces/{photo}.jpg"))).unwrap(),
    }
}

fn block_req(
    source: proto::add_to_blocklist_request::Source,
    label: &str,
) -> proto::AddToBlocklistRequest {
    proto::AddToBlocklistRequest {
        source: Some(source),
        label: label.into(),
        reason: "applied under several names".into(),
    }
}

async fn blocklist_of(c: &mut Client, key: &str) -> Vec<proto::BlocklistEntry> {
    c.list_blocklist(authed(proto::ListBlocklistRequest {}, key))
        .await
        .unwrap()
        .into_inner()
        .entries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_face_under_another_name_is_a_duplicate_only_within_the_tenant() {
    let settings = settings_with_search();
    let data_dir = settings.data_dir.clone().unwrap();
    let server = start(settings).await;
    let mut c = client(server.grpc_addr).await;
    let store = SqliteStore::open(&data_dir).unwrap();

    // Candidate A enrols from a photo; nobody else is enrolled yet.
    let done = c
        .enroll_candidate(authed(enrol_req("cand-a", "obama_2012_portrait"), KEY_A))
        .await
        .unwrap()
        .into_inner();
    assert!(done.matches.is_empty(), "{:?}", done.matches);

    // Candidate B's first round shows A's face, from another photo three years older.
    let b = run(
        &mut c,
        KEY_A,
        session("persona-b", "cand-b", &photo_jpegs("obama_2009_congress")),
    )
    .await;
    let message = reason_message(&b, DUPLICATE).expect("duplicate_identity");
    eprintln!("duplicate: {message}");
    assert!(message.contains("\"cand-a\""), "{message}");
    assert!(message.contains("similarity 0."), "{message}");
    let summary = b.summary().unwrap();
    assert_eq!(summary.worst_state, proto::RiskState::Alert as i32);
    assert!(summary.reasons.iter().any(|r| r.code == DUPLICATE));
    // The match is in the audit log: the session, the reference, the similarity.
    let audit = store.audit_log("tenant-a", 10).unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].kind, "identity_match");
    assert_eq!(audit[0].session_id.as_deref(), Some("persona-b"));
    assert!(audit[0].detail_json.contains("\"cand-a\""));
    // The stored report carries it too.
    let out = support::candor(&[
        "report",
        "persona-b",
        "--tenant",
        "tenant-a",
        "--data-dir",
        data_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(DUPLICATE));

    // A different person raises nothing (and is not their own duplicate).
    let other = run(
        &mut c,
        KEY_A,
        session("persona-c", "cand-c", &photo_jpegs("biden_2010_blueroom")),
    )
    .await;
    assert!(!has_reason(&other, DUPLICATE));
    assert!(!has_reason(&other, BLOCKLISTED));

    // Enrolling A's face under yet another name answers with the matches at once.
    let alias = c
        .enroll_candidate(authed(
            enrol_req("cand-alias", "obama_2009_congress"),
            KEY_A,
        ))
        .await
        .unwrap()
        .into_inner();
    let refs: Vec<&str> = alias.matches.iter().map(|m| m.reference.as_str()).collect();
    assert!(
        refs.contains(&"cand-a") && refs.contains(&"cand-b"),
        "{refs:?}"
    );
    assert!(alias.matches.iter().all(|m| m.similarity >= 0.62));

    // Tenant B has duplicate search too, but never sees tenant A's candidates.
    let b_side = run(
        &mut c,
        KEY_B,
        session("persona-b2", "cand-b2", &photo_jpegs("obama_2009_congress")),
    )
    .await;
    assert!(!has_reason(&b_side, DUPLICATE));
    assert!(store.audit_log("tenant-b", 10).unwrap().is_empty());

    // Tenant C (enrolment on, duplicate search off) searches and keeps nothing.
    c.enroll_candidate(authed(enrol_req("cand-a", "obama_2012_portrait"), KEY_C))
        .await
        .unwrap();
    let off = run(
        &mut c,
        KEY_C,
        session("persona-off", "cand-z", &photo_jpegs("obama_2009_congress")),
    )
    .await;
    assert!(!has_reason(&off, DUPLICATE));
    assert!(store.audit_log("tenant-c", 10).unwrap().is_empty());
    assert!(
        store
            .session_identity("tenant-c", "persona-off", SFACE)
            .is_err()
    );
    let err = c
        .add_to_blocklist(authed(
            block_req(
                proto::add_to_blocklist_request::Source::CandidateRef("cand-a".into()),
                "x",
            ),
            KEY_C,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blocklist_catches_a_blocked_face_until_removed_or_purged() {
    use proto::add_to_blocklist_request::Source;
    let settings = settings_with_search();
    let data_dir = settings.data_dir.clone().unwrap();
    let server = start(settings).await;
    let mut c = client(server.grpc_addr).await;
    let store = SqliteStore::open(&data_dir).unwrap();

    // An operator's session under one name; the tenant blocklists it from the session.
    let first = crop_jpegs("pwij3p");
    run(&mut c, KEY_A, session("fraud-1", "cand-f", &first)).await;
    let entry = c
        .add_to_blocklist(authed(
            block_req(Source::SessionId("fraud-1".into()), "ring #3"),
            KEY_A,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(entry.candidate_ref.as_deref(), Some("cand-f"));
    assert_eq!(entry.source_session.as_deref(), Some("fraud-1"));
    assert_eq!(blocklist_of(&mut c, KEY_A).await.len(), 1);
    assert!(blocklist_of(&mut c, KEY_B).await.is_empty());

    // The same speaker in another recording, with no candidate named: caught.
    let second = crop_jpegs("id2_vcd_swwp2s");
    let caught = run(&mut c, KEY_A, named_session("fraud-2", None, &second)).await;
    let message = reason_message(&caught, BLOCKLISTED).expect("blocklisted_identity");
    eprintln!("blocklisted: {message}");
    assert!(message.contains("ring #3"), "{message}");
    let audit = store.audit_log("tenant-a", 10).unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.session_id.as_deref() == Some("fraud-2")
                && a.detail_json.contains(&entry.entry_id)),
        "{audit:?}"
    );
    // Another tenant never sees the entry.
    let elsewhere = run(&mut c, KEY_B, named_session("fraud-b", None, &second)).await;
    assert!(!has_reason(&elsewhere, BLOCKLISTED));
    // Someone else is not caught.
    let stranger = run(
        &mut c,
        KEY_A,
        named_session("stranger", None, &photo_jpegs("biden_2010_blueroom")),
    )
    .await;
    assert!(!has_reason(&stranger, BLOCKLISTED));

    // Removed: forgotten.
    c.remove_from_blocklist(authed(
        proto::RemoveFromBlocklistRequest {
            entry_id: entry.entry_id.clone(),
        },
        KEY_A,
    ))
    .await
    .unwrap();
    assert!(blocklist_of(&mut c, KEY_A).await.is_empty());
    let after = run(&mut c, KEY_A, named_session("fraud-3", None, &second)).await;
    assert!(!has_reason(&after, BLOCKLISTED));
    // Still the enrolled cand-f's face, though: a session without a name matches
    // enrolled candidates.
    assert!(has_reason(&after, DUPLICATE));
    let err = c
        .remove_from_blocklist(authed(
            proto::RemoveFromBlocklistRequest {
                entry_id: entry.entry_id,
            },
            KEY_A,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    // Blocklisted again from the enrolment; purging the candidate erases them from
    // every list, and the next session finds nothing.
    c.add_to_blocklist(authed(
        block_req(Source::CandidateRef("cand-f".into()), "ring #3 again"),
        KEY_A,
    ))
    .await
    .unwrap();
    let deleted = c
        .delete_candidate(authed(
            proto::DeleteCandidateRequest {
                candidate_ref: "cand-f".into(),
            },
            KEY_A,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((deleted.enrolments, deleted.blocklist_entries), (1, 1));
    assert!(blocklist_of(&mut c, KEY_A).await.is_empty());
    assert!(
        store
            .session_identity("tenant-a", "fraud-1", SFACE)
            .is_err()
    );
    let purged = run(&mut c, KEY_A, named_session("fraud-4", None, &second)).await;
    assert!(!has_reason(&purged, BLOCKLISTED));
    assert!(!has_reason(&purged, DUPLICATE));

    // Validation first: a request without a source is INVALID_ARGUMENT.
    let err = c
        .add_to_blocklist(authed(
            proto::AddToBlocklistRequest {
                source: None,
                label: "x".into(),
                reason: "y".into(),
            },
            KEY_A,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    server.shutdown().await.unwrap();
}
