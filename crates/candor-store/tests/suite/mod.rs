//! The store test suite every backend runs: round trips, idempotent replays, tenancy,
//! privacy (purges, the retention sweep), enrolments, evidence, jobs, duplicate search
//! and concurrent writers. Each test is a function of a [`Backend`]; `store_suite!`
//! turns them into `#[test]`s for one backend.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use candor_core::{
    AnalysisConfig, FrameCounts, Fusion, RiskState, Segment, SegmentReport, SummaryBuilder,
};
use candor_store::*;

/// One backend under test: a fresh, empty store of its own, opened as often as a test
/// likes (a reopen is a new instance on the same data).
pub trait Backend {
    fn open(&self) -> Arc<dyn Store>;
    /// Rows of `table` for one session, counted behind the store's back.
    fn count(&self, table: &str, tenant: &str, session_id: &str) -> i64;
    /// Files of a session's evidence on disk; `None` where evidence is not kept in
    /// files (PostgreSQL keeps the bytes in the row).
    fn evidence_files(&self, tenant: &str, session_id: &str) -> Option<u64>;
    /// Leaves a file beside a session's evidence as a crash between writing it and
    /// committing its row would; `false` where evidence is not kept in files.
    fn leave_orphan_file(&self, tenant: &str, session_id: &str) -> bool;
    /// The bytes found at an evidence record's location, read behind the store's back.
    fn bytes_at(&self, record: &EvidenceRecord) -> Vec<u8>;
}

impl dyn Backend + '_ {
    /// How many evidence files a purge of `n` recorded pieces reports.
    pub fn files(&self, n: u64) -> u64 {
        if self.keeps_files() { n } else { 0 }
    }

    pub fn keeps_files(&self) -> bool {
        self.evidence_files("-", "-").is_some()
    }
}

/// `#[test]`s that run every suite test against the backend `fresh()` makes
/// (`Option<Box<dyn Backend>>`; `None` skips, having said why).
#[macro_export]
macro_rules! store_suite {
    ($fresh:expr) => {
        $crate::store_suite!(@tests $fresh;
            sessions_segments_and_events_round_trip_and_survive_reopening,
            listing_filters_orders_and_limits,
            replays_are_idempotent_and_different_data_conflicts,
            bad_input_is_invalid,
            a_tenant_never_sees_or_touches_another_tenants_rows,
            retention_sweep_deletes_exactly_the_expired_sessions,
            purge_session_removes_every_row_and_file_of_that_session_only,
            purge_candidate_removes_their_sessions_and_enrolments_only,
            enrolment_is_refused_unless_enabled_and_round_trips_when_enabled,
            evidence_is_refused_unless_capture_is_on,
            jobs_resume_by_key_not_path_and_record_failures,
            concurrent_writers_all_land,
            blocklist_and_session_identities_are_refused_unless_duplicate_search_is_on,
            blocklist_round_trips_without_embeddings_and_stays_in_its_tenant,
            gallery_holds_every_enrolment_and_generations_follow_enrolments,
            purging_a_candidate_removes_their_blocklist_entries_and_session_identities,
            blocklist_entries_and_audit_lines_expire_with_the_tenant_retention,
            unfinished_sessions_are_those_of_every_tenant_without_an_end,
            a_job_file_is_one_workers_until_its_lease_ends_or_it_is_done,
            orphaned_sessions_are_the_open_ones_of_silent_nodes,
            segments_from_an_index_are_the_tail_in_order,
            challenge_requests_wait_for_their_node_and_keep_the_first_answer,
            open_jobs_are_those_of_every_tenant_with_pending_files,
            a_nodes_last_heartbeat_is_its_latest,
        );
    };
    (@tests $fresh:expr; $($name:ident,)*) => {
        $(
            #[test]
            fn $name() {
                if let Some(backend) = $fresh {
                    suite::$name(&*backend);
                }
            }
        )*
    };
}

pub const DAY_MS: i64 = 86_400_000;
pub const NOW: i64 = 1_760_000_000_000;

pub fn new_session(tenant: &str, id: &str, candidate: Option<&str>, started_at: i64) -> NewSession {
    NewSession {
        tenant: tenant.into(),
        session_id: id.into(),
        participant_id: format!("participant-of-{id}"),
        interview_ref: Some("interview-1".into()),
        candidate_ref: candidate.map(Into::into),
        source: "grpc".into(),
        settings_json: r#"{"sample_fps":2}"#.into(),
        models_json: r#"[{"name":"yunet_s","version":"2023mar-s"}]"#.into(),
        started_at,
        node: None,
    }
}

pub fn seg(index: u32, state: RiskState) -> NewSegment {
    NewSegment {
        index,
        state,
        start_us: i64::from(index) * 2_000_000,
        end_us: i64::from(index + 1) * 2_000_000,
        report_json: format!(r#"{{"index":{index},"state":"{state}"}}"#),
    }
}

/// A real report: the segment judged by the built-in fusion rules.
pub fn report(index: u32) -> SegmentReport {
    let segment = Segment {
        index,
        start_us: i64::from(index) * 2_000_000,
        end_us: i64::from(index + 1) * 2_000_000,
        counts: FrameCounts {
            decoded: 50,
            analysed: 4,
            one_face: 4,
            usable: 4,
            ..FrameCounts::default()
        },
        main_track: Some(1),
        other_tracks: 0,
        signals: vec![],
        quality: vec![],
        unusable: BTreeMap::new(),
    };
    let assessment = Fusion::from_config(&AnalysisConfig::default()).assess(&segment);
    SegmentReport {
        segment,
        assessment,
    }
}

pub fn settings(
    tenant: &str,
    retention_days: u32,
    evidence: bool,
    enrolment: bool,
) -> TenantSettings {
    TenantSettings {
        tenant: tenant.into(),
        retention_days,
        evidence_capture: evidence,
        enrolment_enabled: enrolment,
        duplicate_search: false,
    }
}

pub fn is_not_found<T: std::fmt::Debug>(r: Result<T>) -> bool {
    matches!(r, Err(StoreError::NotFound(_)))
}

pub trait IntoRecord {
    fn into_record(self) -> SegmentRecord;
}

impl IntoRecord for NewSegment {
    fn into_record(self) -> SegmentRecord {
        SegmentRecord {
            index: self.index,
            state: self.state,
            start_us: self.start_us,
            end_us: self.end_us,
            report_json: self.report_json,
        }
    }
}

pub fn searching(tenant: &str, retention_days: u32) -> TenantSettings {
    TenantSettings {
        duplicate_search: true,
        ..settings(tenant, retention_days, false, true)
    }
}

pub fn unit(i: usize) -> Vec<f32> {
    let mut v = vec![0.0; 128];
    v[i] = 1.0;
    v
}

pub fn block(embedding: Vec<f32>, candidate: Option<&str>) -> NewBlocklistEntry {
    NewBlocklistEntry {
        model_version: "sface@1".into(),
        embedding,
        label: "ring #3".into(),
        reason: "applied under four names".into(),
        candidate_ref: candidate.map(Into::into),
        source_session: None,
    }
}

pub fn sessions_segments_and_events_round_trip_and_survive_reopening(backend: &dyn Backend) {
    let store = backend.open();
    let new = new_session("acme", "s-1", Some("cand-1"), NOW);
    store.create_session(&new).unwrap();

    // Segments arrive out of order; reads come back in index order.
    store
        .append_segment("acme", "s-1", &seg(2, RiskState::Alert))
        .unwrap();
    store
        .append_segment("acme", "s-1", &seg(0, RiskState::Clear))
        .unwrap();
    let typed = report(1);
    store.append_report("acme", "s-1", &typed).unwrap();
    store
        .append_state_change("acme", "s-1", 0, None, RiskState::Clear, "first segment")
        .unwrap();
    store
        .append_state_change(
            "acme",
            "s-1",
            4_000_000,
            Some(RiskState::Suspicious),
            RiskState::Alert,
            "liveness_low",
        )
        .unwrap();
    store
        .append_state_change(
            "acme",
            "s-1",
            2_000_000,
            Some(RiskState::Clear),
            RiskState::Suspicious,
            "liveness_borderline",
        )
        .unwrap();
    store
        .append_challenge("acme", "s-1", "ch-1", "turn_head", r#"{"passed":true}"#)
        .unwrap();
    store
        .append_challenge("acme", "s-1", "ch-2", "blink", r#"{"passed":false}"#)
        .unwrap();

    let s = store.get_session("acme", "s-1").unwrap();
    assert_eq!(
        (s.ended_at, s.summary_json.clone(), s.segments),
        (None, None, 3)
    );

    let mut builder = SummaryBuilder::default();
    builder.add(&typed);
    let summary = builder.build();
    let summary_json = serde_json::to_string(&summary).unwrap();
    store
        .finish_session("acme", "s-1", &summary_json, NOW + 6_000)
        .unwrap();
    drop(store);

    let store = backend.open();
    let s = store.get_session("acme", "s-1").unwrap();
    assert_eq!(s.tenant, "acme");
    assert_eq!(s.participant_id, new.participant_id);
    assert_eq!(s.interview_ref, new.interview_ref);
    assert_eq!(s.candidate_ref.as_deref(), Some("cand-1"));
    assert_eq!(s.source, "grpc");
    assert_eq!(s.settings_json, new.settings_json);
    assert_eq!(s.models_json, new.models_json);
    assert_eq!(
        (s.started_at, s.ended_at, s.segments),
        (NOW, Some(NOW + 6_000), 3)
    );
    assert_eq!(s.summary().unwrap(), Some(summary));

    let segs = store.segments("acme", "s-1").unwrap();
    assert_eq!(segs.iter().map(|s| s.index).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(segs[0], seg(0, RiskState::Clear).into_record());
    assert_eq!(segs[2], seg(2, RiskState::Alert).into_record());
    assert_eq!(segs[1].state, typed.assessment.state);
    assert_eq!(segs[1].report().unwrap(), typed);

    let changes = store.state_changes("acme", "s-1").unwrap();
    let order: Vec<_> = changes.iter().map(|c| (c.at_us, c.from, c.to)).collect();
    assert_eq!(
        order,
        [
            (0, None, RiskState::Clear),
            (2_000_000, Some(RiskState::Clear), RiskState::Suspicious),
            (4_000_000, Some(RiskState::Suspicious), RiskState::Alert),
        ]
    );
    assert_eq!(changes[2].reason, "liveness_low");

    let ch = store.challenges("acme", "s-1").unwrap();
    assert_eq!(ch.len(), 2);
    assert_eq!(
        (ch[0].challenge_id.as_str(), ch[0].kind.as_str()),
        ("ch-1", "turn_head")
    );
    assert_eq!(ch[1].result_json, r#"{"passed":false}"#);

    // A later summary replaces the earlier one.
    store
        .finish_session("acme", "s-1", r#"{"segments":0}"#, NOW + 9_000)
        .unwrap();
    let s = store.get_session("acme", "s-1").unwrap();
    assert_eq!(
        (s.summary_json.as_deref(), s.ended_at),
        (Some(r#"{"segments":0}"#), Some(NOW + 9_000))
    );
}

pub fn listing_filters_orders_and_limits(backend: &dyn Backend) {
    let store = backend.open();
    for (i, cand) in ["c1", "c2", "c1", "c1"].iter().enumerate() {
        let mut s = new_session("acme", &format!("s-{i}"), Some(cand), NOW + i as i64);
        if i == 3 {
            s.interview_ref = Some("interview-2".into());
        }
        store.create_session(&s).unwrap();
    }
    let ids = |v: Vec<SessionRecord>| v.into_iter().map(|s| s.session_id).collect::<Vec<_>>();
    let all = store
        .list_sessions("acme", &SessionFilter::default(), 100)
        .unwrap();
    assert_eq!(ids(all), ["s-3", "s-2", "s-1", "s-0"]);
    let c1 = store
        .list_sessions("acme", &SessionFilter::candidate("c1"), 100)
        .unwrap();
    assert_eq!(ids(c1), ["s-3", "s-2", "s-0"]);
    let c1_limited = store
        .list_sessions("acme", &SessionFilter::candidate("c1"), 2)
        .unwrap();
    assert_eq!(ids(c1_limited), ["s-3", "s-2"]);
    let both = SessionFilter {
        candidate_ref: Some("c1".into()),
        interview_ref: Some("interview-1".into()),
    };
    assert_eq!(
        ids(store.list_sessions("acme", &both, 100).unwrap()),
        ["s-2", "s-0"]
    );
    assert!(
        store
            .list_sessions("acme", &SessionFilter::candidate("nobody"), 100)
            .unwrap()
            .is_empty()
    );
}

pub fn replays_are_idempotent_and_different_data_conflicts(backend: &dyn Backend) {
    let store = backend.open();
    let s = new_session("acme", "s-1", None, NOW);
    store.create_session(&s).unwrap();
    store.create_session(&s).unwrap();
    let mut other = s.clone();
    other.participant_id = "someone-else".into();
    assert!(matches!(
        store.create_session(&other),
        Err(StoreError::Conflict(_))
    ));

    store
        .append_segment("acme", "s-1", &seg(0, RiskState::Clear))
        .unwrap();
    store
        .append_segment("acme", "s-1", &seg(0, RiskState::Clear))
        .unwrap();
    assert!(matches!(
        store.append_segment("acme", "s-1", &seg(0, RiskState::Alert)),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.segments("acme", "s-1").unwrap().len(), 1);
    assert_eq!(
        store.segments("acme", "s-1").unwrap()[0].state,
        RiskState::Clear
    );

    store
        .append_challenge("acme", "s-1", "c", "blink", "{}")
        .unwrap();
    store
        .append_challenge("acme", "s-1", "c", "blink", "{}")
        .unwrap();
    assert!(matches!(
        store.append_challenge("acme", "s-1", "c", "blink", r#"{"x":1}"#),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.challenges("acme", "s-1").unwrap().len(), 1);
}

pub fn bad_input_is_invalid(backend: &dyn Backend) {
    let store = backend.open();
    let invalid = |r: Result<()>| matches!(r, Err(StoreError::Invalid(_)));
    for bad_id in ["", "..", "a/b", "../etc", ".hidden"] {
        assert!(
            invalid(store.create_session(&new_session(bad_id, "s", None, NOW))),
            "{bad_id:?}"
        );
        assert!(
            invalid(store.create_session(&new_session("t", bad_id, None, NOW))),
            "{bad_id:?}"
        );
    }
    let mut s = new_session("t", "s", None, NOW);
    s.settings_json = "{not json".into();
    assert!(invalid(store.create_session(&s)));
    store
        .create_session(&new_session("t", "s", None, NOW))
        .unwrap();
    let mut backwards = seg(0, RiskState::Clear);
    backwards.end_us = -1;
    assert!(invalid(store.append_segment("t", "s", &backwards)));
    let mut not_json = seg(0, RiskState::Clear);
    not_json.report_json = "segment".into();
    assert!(invalid(store.append_segment("t", "s", &not_json)));
    assert!(invalid(store.finish_session("t", "s", "", NOW)));
    assert!(invalid(
        store.upsert_tenant(&settings("t", 0, false, false))
    ));
    assert!(is_not_found(store.append_segment(
        "t",
        "missing",
        &seg(0, RiskState::Clear)
    )));
    assert!(is_not_found(
        store.finish_session("t", "missing", "{}", NOW)
    ));
}

pub fn a_tenant_never_sees_or_touches_another_tenants_rows(backend: &dyn Backend) {
    let store = backend.open();
    store.upsert_tenant(&settings("a", 30, true, true)).unwrap();
    store.upsert_tenant(&settings("b", 30, true, true)).unwrap();
    store
        .create_session(&new_session("a", "s-a", Some("cand"), NOW))
        .unwrap();
    store
        .append_segment("a", "s-a", &seg(0, RiskState::Clear))
        .unwrap();
    store
        .append_challenge("a", "s-a", "ch", "blink", "{}")
        .unwrap();
    let ev = store.add_evidence("a", "s-a", 0, "jpeg", b"frame").unwrap();
    store
        .enrol("a", "cand", &[1.0, 2.0], "m1", Some("s-a"))
        .unwrap();
    store.create_job("a", "job-a", "{}", NOW).unwrap();
    store.add_job_file("a", "job-a", "x.mp4", "h", "k").unwrap();
    store
        .complete_job_file(
            "a",
            "job-a",
            "k",
            &FileOutcome::Done {
                result_json: "{}".into(),
            },
        )
        .unwrap();

    // Reads.
    assert!(is_not_found(store.get_session("b", "s-a")));
    assert!(
        store
            .list_sessions("b", &SessionFilter::default(), 100)
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_sessions("b", &SessionFilter::candidate("cand"), 100)
            .unwrap()
            .is_empty()
    );
    assert!(is_not_found(store.segments("b", "s-a")));
    assert!(is_not_found(store.state_changes("b", "s-a")));
    assert!(is_not_found(store.challenges("b", "s-a")));
    assert!(is_not_found(store.evidence("b", "s-a")));
    assert!(is_not_found(store.read_evidence("b", &ev.id)));
    assert!(is_not_found(store.enrolment("b", "cand", "m1")));
    assert!(store.enrolments("b", "cand").unwrap().is_empty());
    assert!(is_not_found(store.job("b", "job-a")));
    assert!(store.list_jobs("b").unwrap().is_empty());
    assert!(is_not_found(store.job_file_done("b", "job-a", "k")));

    // Writes.
    assert!(is_not_found(store.append_segment(
        "b",
        "s-a",
        &seg(1, RiskState::Alert)
    )));
    assert!(is_not_found(store.append_state_change(
        "b",
        "s-a",
        0,
        None,
        RiskState::Alert,
        "x"
    )));
    assert!(is_not_found(
        store.append_challenge("b", "s-a", "ch2", "blink", "{}")
    ));
    assert!(is_not_found(store.finish_session("b", "s-a", "{}", NOW)));
    assert!(is_not_found(
        store.add_evidence("b", "s-a", 0, "jpeg", b"x")
    ));
    assert!(is_not_found(store.enrol(
        "b",
        "cand",
        &[1.0],
        "m1",
        Some("s-a")
    )));
    assert!(is_not_found(
        store.add_job_file("b", "job-a", "y.mp4", "h", "k2")
    ));
    assert!(is_not_found(store.complete_job_file(
        "b",
        "job-a",
        "k",
        &FileOutcome::Failed { error: "x".into() }
    )));
    assert!(is_not_found(store.purge_session("b", "s-a")));
    assert_eq!(
        store.purge_candidate("b", "cand").unwrap(),
        PurgeReport::default()
    );

    // The same ids are free in tenant b and stay separate.
    store
        .create_session(&new_session("b", "s-a", Some("cand"), NOW))
        .unwrap();
    store
        .create_job("b", "job-a", r#"{"other":true}"#, NOW)
        .unwrap();
    assert_eq!(store.job_file_done("b", "job-a", "k").unwrap(), None);
    assert_eq!(store.segments("b", "s-a").unwrap(), vec![]);
    store.purge_candidate("b", "cand").unwrap();

    // Tenant a is untouched by all of it.
    let s = store.get_session("a", "s-a").unwrap();
    assert_eq!((s.segments, s.summary_json), (1, None));
    assert_eq!(store.challenges("a", "s-a").unwrap().len(), 1);
    assert!(store.state_changes("a", "s-a").unwrap().is_empty());
    assert_eq!(store.read_evidence("a", &ev.id).unwrap(), b"frame");
    assert_eq!(
        store.enrolment("a", "cand", "m1").unwrap().embedding,
        [1.0, 2.0]
    );
    assert_eq!(
        store.job_file_done("a", "job-a", "k").unwrap().as_deref(),
        Some("{}")
    );
    assert_eq!(store.job("a", "job-a").unwrap().files.len(), 1);
}

pub fn retention_sweep_deletes_exactly_the_expired_sessions(backend: &dyn Backend) {
    let store = backend.open();
    store
        .upsert_tenant(&settings("short", 7, true, false))
        .unwrap();
    store
        .upsert_tenant(&settings("long", 30, true, false))
        .unwrap();
    // "implicit" has no settings row: the default 30 days apply.
    let cases = [
        ("short", "inside", NOW - 7 * DAY_MS + 1, false),
        ("short", "boundary", NOW - 7 * DAY_MS, false),
        ("short", "outside", NOW - 7 * DAY_MS - 1, true),
        ("short", "ancient", NOW - 400 * DAY_MS, true),
        ("long", "inside", NOW - 30 * DAY_MS + 1, false),
        ("long", "mid", NOW - 8 * DAY_MS, false),
        ("long", "outside", NOW - 30 * DAY_MS - 1, true),
        ("implicit", "inside", NOW - 30 * DAY_MS + 1, false),
        ("implicit", "outside", NOW - 30 * DAY_MS - 1, true),
    ];
    for (tenant, id, started, _) in cases {
        store
            .create_session(&new_session(tenant, id, None, started))
            .unwrap();
        store
            .append_segment(tenant, id, &seg(0, RiskState::Clear))
            .unwrap();
        store
            .append_segment(tenant, id, &seg(1, RiskState::Clear))
            .unwrap();
        store
            .append_state_change(tenant, id, 0, None, RiskState::Clear, "start")
            .unwrap();
        if tenant != "implicit" {
            store
                .add_evidence(tenant, id, 1, "jpeg", id.as_bytes())
                .unwrap();
        }
    }
    store
        .create_job("short", "old-job", "{}", NOW - 7 * DAY_MS - 1)
        .unwrap();
    store
        .add_job_file("short", "old-job", "a.mp4", "h", "k")
        .unwrap();
    store
        .create_job("short", "new-job", "{}", NOW - DAY_MS)
        .unwrap();

    let report = store.sweep_expired(NOW).unwrap();
    assert_eq!(
        report,
        SweepReport {
            sessions: 4,
            segments: 8,
            state_changes: 4,
            challenges: 0,
            evidence: 3,
            evidence_files: backend.files(3),
            enrolments: 0,
            jobs: 1,
            job_files: 1,
            ..SweepReport::default()
        }
    );
    for (tenant, id, _, expired) in cases {
        if expired {
            assert!(is_not_found(store.get_session(tenant, id)), "{tenant}/{id}");
            assert_eq!(backend.count("segments", tenant, id), 0);
            assert_eq!(backend.count("state_changes", tenant, id), 0);
            assert_eq!(backend.count("evidence", tenant, id), 0);
            assert!(
                matches!(backend.evidence_files(tenant, id), None | Some(0)),
                "{tenant}/{id}"
            );
        } else {
            assert_eq!(
                store.get_session(tenant, id).unwrap().segments,
                2,
                "{tenant}/{id}"
            );
            if tenant != "implicit" {
                let ev = store.evidence(tenant, id).unwrap();
                assert_eq!(
                    store.read_evidence(tenant, &ev[0].id).unwrap(),
                    id.as_bytes()
                );
            }
        }
    }
    assert!(is_not_found(store.job("short", "old-job")));
    store.job("short", "new-job").unwrap();
    // A second sweep at the same time finds nothing.
    assert_eq!(store.sweep_expired(NOW).unwrap(), SweepReport::default());
}

pub fn purge_session_removes_every_row_and_file_of_that_session_only(backend: &dyn Backend) {
    let store = backend.open();
    store
        .upsert_tenant(&settings("acme", 30, true, true))
        .unwrap();
    for id in ["gone", "kept"] {
        store
            .create_session(&new_session("acme", id, Some("cand"), NOW))
            .unwrap();
        for i in 0..3 {
            store
                .append_segment("acme", id, &seg(i, RiskState::Clear))
                .unwrap();
        }
        store
            .append_state_change("acme", id, 0, None, RiskState::Clear, "start")
            .unwrap();
        store
            .append_state_change("acme", id, 1, Some(RiskState::Clear), RiskState::Alert, "x")
            .unwrap();
        store
            .append_challenge("acme", id, "ch", "blink", "{}")
            .unwrap();
        store.add_evidence("acme", id, 0, "jpeg", b"one").unwrap();
        store.add_evidence("acme", id, 2, "png", b"two").unwrap();
    }
    store
        .enrol("acme", "cand", &[0.1; 8], "m1", Some("gone"))
        .unwrap();
    // An unrecorded file (as a crash between write and commit would leave) goes too.
    let orphans = u64::from(backend.leave_orphan_file("acme", "gone"));

    let report = store.purge_session("acme", "gone").unwrap();
    assert_eq!(
        report,
        PurgeReport {
            sessions: 1,
            segments: 3,
            state_changes: 2,
            challenges: 1,
            evidence: 2,
            evidence_files: backend.files(2) + orphans,
            ..PurgeReport::default()
        }
    );
    assert!(is_not_found(store.get_session("acme", "gone")));
    for table in [
        "sessions",
        "segments",
        "state_changes",
        "challenges",
        "evidence",
    ] {
        assert_eq!(backend.count(table, "acme", "gone"), 0, "{table}");
        assert!(backend.count(table, "acme", "kept") > 0, "{table}");
    }
    assert!(matches!(
        backend.evidence_files("acme", "gone"),
        None | Some(0)
    ));
    let kept = store.evidence("acme", "kept").unwrap();
    assert_eq!(kept.len(), 2);
    for e in &kept {
        assert!(!backend.bytes_at(e).is_empty());
    }
    assert_eq!(store.segments("acme", "kept").unwrap().len(), 3);
    // The enrolment belongs to the candidate, not the session: kept, unlinked.
    let enrolment = store.enrolment("acme", "cand", "m1").unwrap();
    assert_eq!(enrolment.source_session, None);
    // Purging again: it no longer exists.
    assert!(is_not_found(store.purge_session("acme", "gone")));
}

pub fn purge_candidate_removes_their_sessions_and_enrolments_only(backend: &dyn Backend) {
    let store = backend.open();
    store
        .upsert_tenant(&settings("acme", 30, true, true))
        .unwrap();
    store
        .upsert_tenant(&settings("other", 30, true, true))
        .unwrap();
    for (tenant, id, cand) in [
        ("acme", "c1-a", Some("c1")),
        ("acme", "c1-b", Some("c1")),
        ("acme", "c2-a", Some("c2")),
        ("acme", "anon", None),
        ("other", "c1-x", Some("c1")),
    ] {
        store
            .create_session(&new_session(tenant, id, cand, NOW))
            .unwrap();
        store
            .append_segment(tenant, id, &seg(0, RiskState::Clear))
            .unwrap();
        store.add_evidence(tenant, id, 0, "jpeg", b"img").unwrap();
    }
    store
        .enrol("acme", "c1", &[1.0; 4], "m1", Some("c1-a"))
        .unwrap();
    store.enrol("acme", "c1", &[2.0; 4], "m2", None).unwrap();
    store.enrol("acme", "c2", &[3.0; 4], "m1", None).unwrap();
    store.enrol("other", "c1", &[4.0; 4], "m1", None).unwrap();

    let report = store.purge_candidate("acme", "c1").unwrap();
    assert_eq!(
        report,
        PurgeReport {
            sessions: 2,
            segments: 2,
            evidence: 2,
            evidence_files: backend.files(2),
            enrolments: 2,
            ..PurgeReport::default()
        }
    );
    assert!(is_not_found(store.get_session("acme", "c1-a")));
    assert!(is_not_found(store.get_session("acme", "c1-b")));
    assert!(store.enrolments("acme", "c1").unwrap().is_empty());
    assert!(is_not_found(store.enrolment("acme", "c1", "m1")));
    for (tenant, id) in [("acme", "c2-a"), ("acme", "anon"), ("other", "c1-x")] {
        assert_eq!(store.get_session(tenant, id).unwrap().segments, 1);
        assert_eq!(store.evidence(tenant, id).unwrap().len(), 1);
    }
    assert_eq!(
        store.enrolment("acme", "c2", "m1").unwrap().embedding,
        [3.0; 4]
    );
    assert_eq!(
        store.enrolment("other", "c1", "m1").unwrap().embedding,
        [4.0; 4]
    );
    let left = store
        .list_sessions("acme", &SessionFilter::default(), 10)
        .unwrap();
    assert_eq!(left.len(), 2);
}

pub fn enrolment_is_refused_unless_enabled_and_round_trips_when_enabled(backend: &dyn Backend) {
    let store = backend.open();
    let e: Vec<f32> = (0..512).map(|i| (i as f32 * 0.37).sin()).collect();
    // Unknown tenant: defaults, enrolment off.
    assert_eq!(
        store.tenant_settings("acme").unwrap(),
        TenantSettings::new("acme")
    );
    assert!(matches!(
        store.enrol("acme", "c", &e, "m1", None),
        Err(StoreError::Invalid(_))
    ));
    store
        .upsert_tenant(&settings("acme", 30, false, false))
        .unwrap();
    assert!(matches!(
        store.enrol("acme", "c", &e, "m1", None),
        Err(StoreError::Invalid(_))
    ));
    assert!(is_not_found(store.enrolment("acme", "c", "m1")));

    store
        .upsert_tenant(&settings("acme", 30, false, true))
        .unwrap();
    store.enrol("acme", "c", &e, "m1", None).unwrap();
    let got = store.enrolment("acme", "c", "m1").unwrap();
    assert_eq!(got.embedding, e);
    assert_eq!(
        (got.candidate_ref.as_str(), got.model_version.as_str()),
        ("c", "m1")
    );
    // Re-enrolling replaces.
    store.enrol("acme", "c", &[9.0, 8.0], "m1", None).unwrap();
    assert_eq!(
        store.enrolment("acme", "c", "m1").unwrap().embedding,
        [9.0, 8.0]
    );
    let infos = store.enrolments("acme", "c").unwrap();
    assert_eq!(infos.len(), 1);
    assert_eq!(infos[0].dims, 2);
    assert!(!serde_json::to_string(&infos).unwrap().contains("embedding"));

    for bad in [&[][..], &[f32::NAN][..], &[f32::INFINITY][..]] {
        assert!(matches!(
            store.enrol("acme", "c", bad, "m1", None),
            Err(StoreError::Invalid(_))
        ));
    }
    assert!(is_not_found(store.enrol(
        "acme",
        "c",
        &e,
        "m1",
        Some("no-such-session")
    )));
    // Turning enrolment off stops new enrolments; existing ones stay until purged.
    store
        .upsert_tenant(&settings("acme", 30, false, false))
        .unwrap();
    assert!(matches!(
        store.enrol("acme", "d", &e, "m1", None),
        Err(StoreError::Invalid(_))
    ));
    store.enrolment("acme", "c", "m1").unwrap();
}

pub fn evidence_is_refused_unless_capture_is_on(backend: &dyn Backend) {
    let store = backend.open();
    store
        .create_session(&new_session("acme", "s", None, NOW))
        .unwrap();
    assert!(matches!(
        store.add_evidence("acme", "s", 0, "jpeg", b"img"),
        Err(StoreError::Invalid(_))
    ));
    store
        .upsert_tenant(&settings("acme", 30, false, true))
        .unwrap();
    assert!(matches!(
        store.add_evidence("acme", "s", 0, "jpeg", b"img"),
        Err(StoreError::Invalid(_))
    ));
    assert!(store.evidence("acme", "s").unwrap().is_empty());
    assert!(matches!(
        backend.evidence_files("acme", "s"),
        None | Some(0)
    ));

    store
        .upsert_tenant(&settings("acme", 30, true, false))
        .unwrap();
    let rec = store.add_evidence("acme", "s", 3, "jpeg", b"abc").unwrap();
    assert_eq!(
        (rec.segment_index, rec.kind.as_str(), rec.size_bytes),
        (3, "jpeg", 3)
    );
    assert_eq!(
        rec.sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(backend.bytes_at(&rec), b"abc");
    assert_eq!(store.evidence("acme", "s").unwrap(), vec![rec.clone()]);
    assert_eq!(store.read_evidence("acme", &rec.id).unwrap(), b"abc");
    assert!(matches!(
        store.add_evidence("acme", "s", 0, "../x", b"img"),
        Err(StoreError::Invalid(_))
    ));
    assert!(is_not_found(
        store.add_evidence("acme", "nope", 0, "jpeg", b"img")
    ));
}

pub fn jobs_resume_by_key_not_path_and_record_failures(backend: &dyn Backend) {
    let store = backend.open();
    store
        .create_job("acme", "job", r#"{"fps":2}"#, NOW)
        .unwrap();
    store
        .add_job_file("acme", "job", "in/a.mp4", "ha", "key-a")
        .unwrap();
    store
        .add_job_file("acme", "job", "in/b.mp4", "hb", "key-b")
        .unwrap();
    store
        .add_job_file("acme", "job", "in/c.mp4", "hc", "key-c")
        .unwrap();
    store
        .complete_job_file(
            "acme",
            "job",
            "key-a",
            &FileOutcome::Done {
                result_json: r#"{"worst":"clear"}"#.into(),
            },
        )
        .unwrap();
    store
        .complete_job_file(
            "acme",
            "job",
            "key-b",
            &FileOutcome::Failed {
                error: "input is truncated".into(),
            },
        )
        .unwrap();
    assert!(is_not_found(store.complete_job_file(
        "acme",
        "job",
        "in/c.mp4",
        &FileOutcome::Failed { error: "x".into() }
    )));

    let job = store.job("acme", "job").unwrap();
    assert_eq!(
        job.info.progress,
        JobProgress {
            total: 3,
            pending: 1,
            done: 1,
            failed: 1
        }
    );
    assert_eq!(
        job.files
            .iter()
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>(),
        ["in/a.mp4", "in/b.mp4", "in/c.mp4"]
    );
    let b = &job.files[1];
    assert_eq!(
        (b.status, b.error.as_deref(), b.result_json.as_deref()),
        (JobFileStatus::Failed, Some("input is truncated"), None)
    );
    assert!(b.completed_at.is_some());
    assert_eq!(job.files[2].status, JobFileStatus::Pending);
    drop(store);

    // Resume after a restart.
    let store = backend.open();
    store
        .create_job("acme", "job", r#"{"fps":2}"#, NOW + 1)
        .unwrap();
    assert!(matches!(
        store.create_job("acme", "job", r#"{"fps":5}"#, NOW),
        Err(StoreError::Conflict(_))
    ));
    // Looked up by key: a path is not a key.
    assert_eq!(
        store
            .job_file_done("acme", "job", "key-a")
            .unwrap()
            .as_deref(),
        Some(r#"{"worst":"clear"}"#)
    );
    assert_eq!(
        store.job_file_done("acme", "job", "in/a.mp4").unwrap(),
        None
    );
    // Failed and pending files are not done: they are retried.
    assert_eq!(store.job_file_done("acme", "job", "key-b").unwrap(), None);
    assert_eq!(store.job_file_done("acme", "job", "key-c").unwrap(), None);
    // The same content under a new name is found by its key and counts as done.
    store
        .add_job_file("acme", "job", "moved/a.mp4", "ha", "key-a")
        .unwrap();
    assert!(
        store
            .job_file_done("acme", "job", "key-a")
            .unwrap()
            .is_some()
    );
    // Re-adding a path with the same key keeps its status.
    store
        .add_job_file("acme", "job", "in/a.mp4", "ha", "key-a")
        .unwrap();
    // A path whose content (or models, settings) changed has a new key: pending again.
    store
        .add_job_file("acme", "job", "in/c.mp4", "hc2", "key-c2")
        .unwrap();
    assert_eq!(store.job_file_done("acme", "job", "key-c2").unwrap(), None);
    // A retried failure that now succeeds.
    store
        .complete_job_file(
            "acme",
            "job",
            "key-b",
            &FileOutcome::Done {
                result_json: "{}".into(),
            },
        )
        .unwrap();

    let job = store.job("acme", "job").unwrap();
    assert_eq!(job.info.created_at, NOW);
    assert_eq!(
        job.info.progress,
        JobProgress {
            total: 4,
            pending: 1,
            done: 3,
            failed: 0
        }
    );
    let moved = job.files.iter().find(|f| f.path == "moved/a.mp4").unwrap();
    assert_eq!(moved.status, JobFileStatus::Done);
    let c = job.files.iter().find(|f| f.path == "in/c.mp4").unwrap();
    assert_eq!(
        (c.key.as_str(), c.content_hash.as_str(), c.status),
        ("key-c2", "hc2", JobFileStatus::Pending)
    );
    let b = job.files.iter().find(|f| f.path == "in/b.mp4").unwrap();
    assert_eq!(b.error, None);

    store.create_job("acme", "job-2", "{}", NOW + 5).unwrap();
    let jobs = store.list_jobs("acme").unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].job_id, "job-2");
    assert_eq!(jobs[0].progress, JobProgress::default());
    assert_eq!(jobs[1].progress, job.info.progress);
    assert!(is_not_found(
        store.add_job_file("acme", "no-job", "p", "h", "k")
    ));
}

pub fn concurrent_writers_all_land(backend: &dyn Backend) {
    const THREADS: u32 = 4;
    const PER_THREAD: u32 = 50;
    let store = backend.open();
    store
        .create_session(&new_session("acme", "shared", None, NOW))
        .unwrap();
    for t in 0..THREADS {
        store
            .create_session(&new_session("acme", &format!("own-{t}"), None, NOW))
            .unwrap();
    }
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let store = store.clone();
            scope.spawn(move || {
                let own = format!("own-{t}");
                for i in 0..PER_THREAD {
                    store
                        .append_segment("acme", &own, &seg(i, RiskState::Clear))
                        .unwrap();
                    // Interleaved indices in one shared session.
                    let shared = seg(i * THREADS + t, RiskState::Suspicious);
                    store.append_segment("acme", "shared", &shared).unwrap();
                }
            });
        }
        // A reader alongside the writers always sees a consistent, growing prefix.
        let store = store.clone();
        scope.spawn(move || {
            let mut last = 0;
            for _ in 0..50 {
                let n = store.segments("acme", "shared").unwrap().len();
                assert!(n >= last);
                last = n;
            }
        });
    });
    let shared = store.segments("acme", "shared").unwrap();
    assert_eq!(shared.len(), (THREADS * PER_THREAD) as usize);
    assert!(shared.iter().enumerate().all(|(i, s)| s.index == i as u32));
    for t in 0..THREADS {
        assert_eq!(
            store
                .get_session("acme", &format!("own-{t}"))
                .unwrap()
                .segments,
            PER_THREAD
        );
    }
    drop(store);
    let reopened = backend.open();
    assert_eq!(
        reopened.get_session("acme", "shared").unwrap().segments,
        THREADS * PER_THREAD
    );
}

pub fn blocklist_and_session_identities_are_refused_unless_duplicate_search_is_on(
    backend: &dyn Backend,
) {
    let store = backend.open();
    store
        .upsert_tenant(&settings("acme", 30, false, true))
        .unwrap();
    store
        .create_session(&new_session("acme", "s1", None, NOW))
        .unwrap();
    assert!(matches!(
        store.add_to_blocklist("acme", &block(unit(0), None)),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.save_session_identity("acme", "s1", &unit(0), "sface@1"),
        Err(StoreError::Invalid(_))
    ));
    assert!(store.blocklist("acme").unwrap().is_empty());
}

pub fn blocklist_round_trips_without_embeddings_and_stays_in_its_tenant(backend: &dyn Backend) {
    let store = backend.open();
    store.upsert_tenant(&searching("acme", 30)).unwrap();
    store.upsert_tenant(&searching("other", 30)).unwrap();
    let g0 = store.identity_generation("acme").unwrap();
    let added = store
        .add_to_blocklist("acme", &block(unit(3), None))
        .unwrap();
    assert!(store.identity_generation("acme").unwrap() > g0);
    assert_eq!(store.identity_generation("other").unwrap(), 0);
    let listed = store.blocklist("acme").unwrap();
    assert_eq!(listed, vec![added.clone()]);
    assert!(store.blocklist("other").unwrap().is_empty());
    assert!(is_not_found(
        store.remove_from_blocklist("other", &added.entry_id)
    ));

    let gallery = store.identity_gallery("acme", "sface@1").unwrap();
    assert_eq!(gallery.blocked.len(), 1);
    assert_eq!(gallery.blocked[0].1, unit(3));
    assert_eq!(
        gallery.generation,
        store.identity_generation("acme").unwrap()
    );
    assert!(
        store
            .identity_gallery("acme", "sface@2")
            .unwrap()
            .blocked
            .is_empty()
    );
    assert!(
        store
            .identity_gallery("other", "sface@1")
            .unwrap()
            .blocked
            .is_empty()
    );

    let g1 = store.identity_generation("acme").unwrap();
    store
        .remove_from_blocklist("acme", &added.entry_id)
        .unwrap();
    assert!(store.identity_generation("acme").unwrap() > g1);
    assert!(store.blocklist("acme").unwrap().is_empty());
    assert!(is_not_found(
        store.remove_from_blocklist("acme", &added.entry_id)
    ));
}

pub fn gallery_holds_every_enrolment_and_generations_follow_enrolments(backend: &dyn Backend) {
    let store = backend.open();
    store.upsert_tenant(&searching("acme", 30)).unwrap();
    store
        .enrol("acme", "cand-a", &unit(0), "sface@1", None)
        .unwrap();
    let g1 = store.identity_generation("acme").unwrap();
    store
        .enrol("acme", "cand-b", &unit(1), "sface@1", None)
        .unwrap();
    let g2 = store.identity_generation("acme").unwrap();
    assert!(g2 > g1 && g1 > 0);
    let gallery = store.identity_gallery("acme", "sface@1").unwrap();
    assert_eq!(
        gallery.enrolled,
        vec![
            ("cand-a".to_owned(), unit(0)),
            ("cand-b".to_owned(), unit(1))
        ]
    );
    // Debug output never carries the vectors.
    assert!(!format!("{gallery:?}").contains("1.0"));
    store.purge_candidate("acme", "cand-a").unwrap();
    assert!(store.identity_generation("acme").unwrap() > g2);
    assert_eq!(
        store
            .identity_gallery("acme", "sface@1")
            .unwrap()
            .enrolled
            .len(),
        1
    );
}

pub fn purging_a_candidate_removes_their_blocklist_entries_and_session_identities(
    backend: &dyn Backend,
) {
    let store = backend.open();
    store.upsert_tenant(&searching("acme", 30)).unwrap();
    store
        .create_session(&new_session("acme", "s1", Some("cand-a"), NOW))
        .unwrap();
    store
        .save_session_identity("acme", "s1", &unit(5), "sface@1")
        .unwrap();
    assert_eq!(
        store.session_identity("acme", "s1", "sface@1").unwrap(),
        unit(5)
    );
    assert!(is_not_found(
        store.session_identity("other", "s1", "sface@1")
    ));
    store
        .add_to_blocklist("acme", &block(unit(5), Some("cand-a")))
        .unwrap();
    let kept = store
        .add_to_blocklist("acme", &block(unit(6), None))
        .unwrap();

    let r = store.purge_candidate("acme", "cand-a").unwrap();
    assert_eq!((r.sessions, r.session_identities, r.blocklist), (1, 1, 1));
    assert!(is_not_found(
        store.session_identity("acme", "s1", "sface@1")
    ));
    assert_eq!(store.blocklist("acme").unwrap(), vec![kept]);
}

pub fn blocklist_entries_and_audit_lines_expire_with_the_tenant_retention(backend: &dyn Backend) {
    let store = backend.open();
    store.upsert_tenant(&searching("acme", 7)).unwrap();
    store.upsert_tenant(&searching("long", 365)).unwrap();
    store
        .add_to_blocklist("acme", &block(unit(0), None))
        .unwrap();
    store
        .add_to_blocklist("long", &block(unit(0), None))
        .unwrap();
    let line = NewAuditEntry {
        kind: "identity_match".into(),
        session_id: Some("s1".into()),
        caller: Some("acme".into()),
        detail_json: r#"{"reference":"cand-a","similarity":0.9}"#.into(),
    };
    store.append_audit("acme", &line).unwrap();
    store.append_audit("long", &line).unwrap();
    let audit = store.audit_log("acme", 10).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].kind, "identity_match");
    assert_eq!(audit[0].detail_json, line.detail_json);

    // Nothing expires a day later.
    let r = store.sweep_expired(now_ms() + DAY_MS).unwrap();
    assert_eq!((r.blocklist, r.audit_log), (0, 0));
    let r = store.sweep_expired(now_ms() + 8 * DAY_MS).unwrap();
    assert_eq!((r.blocklist, r.audit_log), (1, 1));
    assert!(store.blocklist("acme").unwrap().is_empty());
    assert!(store.audit_log("acme", 10).unwrap().is_empty());
    assert_eq!(store.blocklist("long").unwrap().len(), 1);
    assert_eq!(store.audit_log("long", 10).unwrap().len(), 1);
}

/// What a server closes at start after a crash: the sessions of every tenant with no
/// end recorded, oldest first, with their segment counts; finished ones are left out.
pub fn unfinished_sessions_are_those_of_every_tenant_without_an_end(backend: &dyn Backend) {
    let store = backend.open();
    store
        .create_session(&new_session("t1", "late", None, NOW))
        .unwrap();
    store
        .create_session(&new_session("t2", "early", None, NOW - 1000))
        .unwrap();
    store
        .create_session(&new_session("t1", "done", None, NOW - 2000))
        .unwrap();
    store
        .append_segment("t2", "early", &seg(0, RiskState::Clear))
        .unwrap();
    store.finish_session("t1", "done", "{}", NOW).unwrap();
    let open: Vec<(String, String, u32)> = store
        .unfinished_sessions()
        .unwrap()
        .into_iter()
        .map(|s| (s.tenant, s.session_id, s.segments))
        .collect();
    assert_eq!(
        open,
        [
            ("t2".to_owned(), "early".to_owned(), 1),
            ("t1".to_owned(), "late".to_owned(), 0)
        ]
    );
    store.finish_session("t2", "early", "{}", NOW).unwrap();
    store.finish_session("t1", "late", "{}", NOW).unwrap();
    assert!(store.unfinished_sessions().unwrap().is_empty());
}

/// Several workers on one job: a file is one worker's while its lease runs (renewed by
/// that worker), anyone's once it ends, and no one's once done; a failure ends the
/// claim too, so the file can be retried.
pub fn a_job_file_is_one_workers_until_its_lease_ends_or_it_is_done(backend: &dyn Backend) {
    const LEASE: i64 = 60_000;
    let store = backend.open();
    store.create_job("acme", "job", "{}", NOW).unwrap();
    store
        .add_job_file("acme", "job", "a.mp4", "ha", "key-a")
        .unwrap();
    store
        .add_job_file("acme", "job", "b.mp4", "hb", "key-b")
        .unwrap();
    let claim = |key: &str, worker: &str, at: i64| {
        store
            .claim_job_file("acme", "job", key, worker, at, LEASE)
            .unwrap()
    };
    assert!(claim("key-a", "w1", NOW));
    assert!(!claim("key-a", "w2", NOW + 1_000));
    // Renewed by its holder: the lease now ends at NOW + 1_000 + LEASE.
    assert!(claim("key-a", "w1", NOW + 1_000));
    assert!(!claim("key-a", "w2", NOW + LEASE + 999));
    assert!(claim("key-a", "w2", NOW + LEASE + 1_000));
    assert!(!claim("key-a", "w1", NOW + LEASE + 2_000));
    // The other file is free all along.
    assert!(claim("key-b", "w1", NOW + 2_000));

    let done = FileOutcome::Done {
        result_json: "{}".into(),
    };
    store
        .complete_job_file("acme", "job", "key-a", &done)
        .unwrap();
    assert!(!claim("key-a", "w3", NOW + 3_000));
    let failed = FileOutcome::Failed {
        error: "truncated".into(),
    };
    store
        .complete_job_file("acme", "job", "key-b", &failed)
        .unwrap();
    assert!(claim("key-b", "w3", NOW + 3_000));

    assert!(matches!(
        store.claim_job_file("acme", "job", "key-x", "w1", NOW, LEASE),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.claim_job_file("other", "job", "key-b", "w1", NOW, LEASE),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.claim_job_file("acme", "job", "key-b", "", NOW, LEASE),
        Err(StoreError::Invalid(_))
    ));
}

fn on_node(tenant: &str, id: &str, node: Option<&str>, started_at: i64) -> NewSession {
    NewSession {
        node: node.map(Into::into),
        ..new_session(tenant, id, None, started_at)
    }
}

fn ids(sessions: Vec<SessionRecord>) -> Vec<String> {
    sessions.into_iter().map(|s| s.session_id).collect()
}

/// What a node closes as interrupted: open sessions whose node's heartbeat is older
/// than the lease (or that never beat), its own at start only, never those no node
/// runs, never ended ones.
pub fn orphaned_sessions_are_the_open_ones_of_silent_nodes(backend: &dyn Backend) {
    const LEASE: i64 = 30_000;
    let store = backend.open();
    store.heartbeat("node-a", NOW).unwrap();
    store.heartbeat("node-b", NOW - 2 * LEASE).unwrap();
    for (tenant, id, node, at) in [
        ("t1", "on-a", Some("node-a"), NOW - 5),
        ("t2", "on-b", Some("node-b"), NOW - 4),
        ("t1", "on-c", Some("node-c"), NOW - 3),
        ("t1", "no-node", None, NOW - 2),
        ("t2", "ended-on-b", Some("node-b"), NOW - 1),
    ] {
        store
            .create_session(&on_node(tenant, id, node, at))
            .unwrap();
    }
    store.finish_session("t2", "ended-on-b", "{}", NOW).unwrap();
    let on_a = store.get_session("t1", "on-a").unwrap();
    assert_eq!(on_a.node.as_deref(), Some("node-a"));

    let alive_since = NOW - LEASE;
    assert_eq!(
        ids(store.orphaned_sessions(alive_since, None).unwrap()),
        ["on-b", "on-c"]
    );
    // A node starting again takes back what it left open itself.
    assert_eq!(
        ids(store
            .orphaned_sessions(alive_since, Some("node-a"))
            .unwrap()),
        ["on-a", "on-b", "on-c"]
    );
    // A heartbeat brings a node back; a late one never moves its time back.
    store.heartbeat("node-b", NOW).unwrap();
    store.heartbeat("node-b", NOW - 3 * LEASE).unwrap();
    assert_eq!(
        ids(store.orphaned_sessions(alive_since, None).unwrap()),
        ["on-c"]
    );
    // Replaying a session from another node keeps the first node.
    store
        .create_session(&on_node("t1", "on-a", Some("node-b"), NOW - 5))
        .unwrap();
    assert_eq!(
        store.get_session("t1", "on-a").unwrap().node.as_deref(),
        Some("node-a")
    );
    assert!(matches!(
        store.heartbeat("", NOW),
        Err(StoreError::Invalid(_))
    ));
}

/// What a reader following a running session fetches: only what it has not seen.
pub fn segments_from_an_index_are_the_tail_in_order(backend: &dyn Backend) {
    let store = backend.open();
    store
        .create_session(&new_session("acme", "s", None, NOW))
        .unwrap();
    for i in [2, 0, 3, 1] {
        store
            .append_segment("acme", "s", &seg(i, RiskState::Clear))
            .unwrap();
    }
    let indexes = |from| -> Vec<u32> {
        store
            .segments_from("acme", "s", from)
            .unwrap()
            .iter()
            .map(|s| s.index)
            .collect()
    };
    assert_eq!(indexes(0), [0, 1, 2, 3]);
    assert_eq!(indexes(2), [2, 3]);
    assert!(indexes(4).is_empty());
    assert!(matches!(
        store.segments_from("other", "s", 0),
        Err(StoreError::NotFound(_))
    ));
}

/// A Challenge call on one node for another node's session: the request waits for
/// that node only, in its tenant only, and its first answer stays.
pub fn challenge_requests_wait_for_their_node_and_keep_the_first_answer(backend: &dyn Backend) {
    let store = backend.open();
    store
        .create_session(&on_node("acme", "s", Some("node-a"), NOW))
        .unwrap();
    let request = NewChallengeRequest {
        tenant: "acme".into(),
        session_id: "s".into(),
        request_id: "r1".into(),
        node: "node-a".into(),
        kind: "turn_head".into(),
        window_ms: 5000,
        requested_at: NOW,
    };
    store.request_challenge(&request).unwrap();
    store.request_challenge(&request).unwrap();
    assert!(matches!(
        store.request_challenge(&NewChallengeRequest {
            kind: "blink".into(),
            ..request.clone()
        }),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.request_challenge(&NewChallengeRequest {
            session_id: "missing".into(),
            request_id: "r2".into(),
            ..request.clone()
        }),
        Err(StoreError::NotFound(_))
    ));
    let pending = store.pending_challenge_requests("node-a", NOW).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (
            pending[0].request_id.as_str(),
            pending[0].window_ms,
            pending[0].answer_json.as_deref()
        ),
        ("r1", 5000, None)
    );
    assert!(
        store
            .pending_challenge_requests("node-b", NOW)
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .pending_challenge_requests("node-a", NOW + 1)
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store.challenge_request("other", "r1"),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.answer_challenge_request("other", "r1", "{}", NOW),
        Err(StoreError::NotFound(_))
    ));

    store
        .answer_challenge_request("acme", "r1", r#"{"challenge_id":"c1"}"#, NOW + 10)
        .unwrap();
    store
        .answer_challenge_request("acme", "r1", r#"{"challenge_id":"c2"}"#, NOW + 20)
        .unwrap();
    let answered = store.challenge_request("acme", "r1").unwrap();
    assert_eq!(
        (answered.answer_json.as_deref(), answered.answered_at),
        (Some(r#"{"challenge_id":"c1"}"#), Some(NOW + 10))
    );
    assert!(
        store
            .pending_challenge_requests("node-a", 0)
            .unwrap()
            .is_empty()
    );

    assert_eq!(backend.count("challenge_requests", "acme", "s"), 1);
    store.purge_session("acme", "s").unwrap();
    assert_eq!(backend.count("challenge_requests", "acme", "s"), 0);
}

/// The work nodes share out: jobs of any tenant with a pending file, oldest first; a
/// job whose files are all done or failed is not open.
pub fn open_jobs_are_those_of_every_tenant_with_pending_files(backend: &dyn Backend) {
    let store = backend.open();
    assert!(store.open_jobs().unwrap().is_empty());
    store
        .create_job("t2", "later", r#"{"n":2}"#, NOW + 10)
        .unwrap();
    store.create_job("t1", "first", r#"{"n":1}"#, NOW).unwrap();
    store.create_job("t1", "empty", "{}", NOW + 5).unwrap();
    store.create_job("t1", "finished", "{}", NOW + 1).unwrap();
    for (tenant, job) in [("t2", "later"), ("t1", "first"), ("t1", "finished")] {
        store
            .add_job_file(tenant, job, "a.mp4", "ha", "key-a")
            .unwrap();
    }
    store
        .add_job_file("t1", "finished", "b.mp4", "hb", "key-b")
        .unwrap();
    let done = FileOutcome::Done {
        result_json: "{}".into(),
    };
    let failed = FileOutcome::Failed {
        error: "truncated".into(),
    };
    store
        .complete_job_file("t1", "finished", "key-a", &done)
        .unwrap();
    store
        .complete_job_file("t1", "finished", "key-b", &failed)
        .unwrap();
    let open: Vec<(String, String, String)> = (store.open_jobs().unwrap().into_iter())
        .map(|j| (j.tenant, j.job_id, j.settings_json))
        .collect();
    assert_eq!(
        open,
        vec![
            ("t1".into(), "first".into(), r#"{"n":1}"#.into()),
            ("t2".into(), "later".into(), r#"{"n":2}"#.into()),
        ]
    );
}

/// What a starting node reads to tell a live namesake from its own dead predecessor:
/// the latest beat, never moved back by a late one.
pub fn a_nodes_last_heartbeat_is_its_latest(backend: &dyn Backend) {
    let store = backend.open();
    assert_eq!(store.last_heartbeat("node-a").unwrap(), None);
    store.heartbeat("node-a", NOW).unwrap();
    store.heartbeat("node-a", NOW + 5_000).unwrap();
    store.heartbeat("node-a", NOW + 1_000).unwrap();
    store.heartbeat("node-b", NOW + 9_000).unwrap();
    assert_eq!(store.last_heartbeat("node-a").unwrap(), Some(NOW + 5_000));
    assert!(matches!(
        store.last_heartbeat(""),
        Err(StoreError::Invalid(_))
    ));
}
